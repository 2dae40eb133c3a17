"""Attacks on the deployment's edges (issue 8, class 9): calling the API without CloudFront's origin
secret, or with a guessed, stale or disguised one, and reading the secret where it used to be kept.

The service is built by the real composition root with `VERSA_ORIGIN_SECRET_ID` pointing at a secret
in moto's standalone server (Secrets Manager over HTTP), and each attack is a real-shaped API Gateway
event (events/) sent through `versa.web.api.handle`, as a request that bypassed the CDN would arrive.
"""

from __future__ import annotations

import copy
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from services import keyed_settings
from versa.composition import build_service
from versa.web import api

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
PACKS = ROOT / "examples" / "packs"
HEADER = "x-versa-origin-secret"
CURRENT = "Cur" + "3kQ9" * 8
PREVIOUS = "Prv" + "7mZ2" * 8

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(scope="module")
def secrets(aws_client: Callable[..., Any], moto_endpoint: str) -> Any:
    return aws_client("secretsmanager", moto_endpoint)


def _secret(client: Any, current: str, previous: str | None = None) -> str:
    name = f"versa/origin-{uuid.uuid4().hex[:10]}"
    client.create_secret(Name=name, SecretString=json.dumps({"current": current, "previous": previous}))
    return name


def _install(tmp: Path, endpoint: str, secret_id: str, max_age: int = 300) -> None:
    settings = keyed_settings(tmp, packs=PACKS, origin_secret_id=secret_id, origin_secret_max_age=max_age,
                              aws_endpoint_url=endpoint)
    service = build_service(settings)
    api.configure(lambda: service)


@pytest.fixture
def rotating(secrets: Any, moto_endpoint: str, tmp_path: Path) -> Iterator[str]:
    """A deployed service mid-rotation: current and previous both set. Yields the secret's name."""
    name = _secret(secrets, CURRENT, PREVIOUS)
    _install(tmp_path, moto_endpoint, name)
    yield name
    api.configure(_no_service)


def _no_service() -> Any:
    raise AssertionError("no service installed")


def event(name: str = "decision-debug", **headers: str | list[str]) -> dict[str, Any]:
    """A sample event with extra headers (a list value sends the header several times)."""
    ev = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8")))
    for key, value in headers.items():
        key = key.replace("_", "-")
        values = value if isinstance(value, list) else [value]
        ev["headers"][key] = values[-1]
        ev["multiValueHeaders"][key] = values
    return ev


def status(ev: dict[str, Any]) -> int:
    return int(api.handle(ev, None)["statusCode"])


# ------------------------------------------------------------------------------------ the controls


def test_current_and_previous_secret_are_let_through(rotating: str) -> None:
    """Control, CloudFront's current value or the previous one mid-rotation → let through to the route (200)."""
    assert status(event(**{HEADER: CURRENT})) == 200
    assert status(event(**{HEADER: PREVIOUS})) == 200
    assert status(event(**{HEADER.upper(): CURRENT})) == 200  # header names are case-insensitive


# ------------------------------------------------------------------------------------- the attacks


def test_missing_origin_header_is_refused(rotating: str) -> None:
    """A request straight to the API Gateway URL, without the origin header → 403."""
    assert status(event()) == 403


@pytest.mark.parametrize("route", ["mobile-de-evening", "click", "decision-debug"])
def test_every_route_checks_the_origin(rotating: str, route: str) -> None:
    """Image, click and decision routes called around the CDN with a guessed secret → 403 on each."""
    assert status(event(route, **{HEADER: "guess-" + "0" * 20})) == 403


def test_wrong_secret_is_refused(rotating: str) -> None:
    """A well-formed but wrong secret (same length and alphabet as the real one) → 403."""
    assert status(event(**{HEADER: "Cur" + "3kQ8" * 8})) == 403


@pytest.mark.parametrize(
    "disguise",
    [f" {CURRENT}", f"{CURRENT} ", f"{CURRENT}\t", CURRENT.upper(), CURRENT.lower(), CURRENT[:-1],
     CURRENT + "x", f"{CURRENT},{PREVIOUS}", f"{PREVIOUS}{CURRENT}", CURRENT[:16], ""],
    ids=["leading-space", "trailing-space", "trailing-tab", "upper", "lower", "prefix", "suffix",
         "comma-list", "concatenated", "first-16", "empty"],
)
def test_disguised_secret_is_refused(rotating: str, disguise: str) -> None:
    """The secret with whitespace, changed case, cut short, extended or joined to another → 403."""
    assert status(event(**{HEADER: disguise})) == 403


def test_non_ascii_secret_is_refused_not_crashed(rotating: str) -> None:
    """A non-ASCII header value → compared as bytes: 403, not a 500 from the comparison."""
    assert status(event(**{HEADER: "é" + CURRENT[1:]})) == 403


def test_header_sent_twice_is_refused(rotating: str) -> None:
    """The header twice (a guess and the real value, or two spellings of its name) → 403."""
    assert status(event(**{HEADER: ["guess-" + "0" * 20, CURRENT]})) == 403
    ev = event(**{HEADER: CURRENT})
    ev["headers"]["X-Versa-Origin-Secret"] = "guess-" + "0" * 20
    assert status(ev) == 403


def test_previous_secret_after_rotation_is_refused(secrets: Any, moto_endpoint: str, tmp_path: Path) -> None:
    """The rotated-out value once a rotation completes → 403 (after the cache's max age)."""
    # GIVEN a rotation under way, cached for one second
    name = _secret(secrets, CURRENT, PREVIOUS)
    _install(tmp_path, moto_endpoint, name, max_age=1)
    try:
        assert status(event(**{HEADER: PREVIOUS})) == 200
        # WHEN the previous value is dropped
        secrets.put_secret_value(SecretId=name, SecretString=json.dumps({"current": CURRENT}))
        time.sleep(1.1)
        # THEN it no longer opens the API; the current one still does
        assert status(event(**{HEADER: PREVIOUS})) == 403
        assert status(event(**{HEADER: CURRENT})) == 200
    finally:
        api.configure(_no_service)


def test_secret_store_down_at_cold_start_answers_503_not_open(tmp_path: Path, aws_env: None) -> None:
    """Secret store unreachable at cold start → 503 (the CDN fails over to its fallback), never let through."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _install(tmp_path, f"http://127.0.0.1:{port}", "versa/origin")
    try:
        response = api.handle(event(**{HEADER: CURRENT}), None)
        assert response["statusCode"] == 503
        assert CURRENT not in json.dumps(response)
        assert status(event()) == 403  # no header at all: refused without asking the store
    finally:
        api.configure(_no_service)


def test_origin_secret_is_not_in_the_function_environment() -> None:
    """Reading the render function's environment (its configuration) → the secret's ARN only, never its value."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", lambda ld, suffix, node: {suffix: ld.construct_scalar(node)}
                                 if isinstance(node, yaml.ScalarNode) else None)
    env = yaml.load(text, Loader=loader)["Resources"]["RenderFunction"]["Properties"]["Environment"]
    assert env["Variables"]["VERSA_ORIGIN_SECRET_ID"] == {"Ref": "OriginSecret"}
    for name, value in env["Variables"].items():
        assert "resolve:" not in json.dumps(value), f"{name} resolves a secret into the environment"
