"""The size in the path, end to end through the Lambda handler: `/v1/acme/winter-sale@728x90.png`.

Events are built the way events/make_events.py builds the sample events (real-shaped API Gateway REST
proxy events, signed with the test keyring); the service is the composition root's over examples/packs.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

from versa.composition import build_service
from versa.settings import Settings
from versa.signing.devkeys import keyring_to_json
from versa.signing.urls import creative_path, decision_path
from versa.web import api

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "examples" / "packs"
AT = {"at": "2026-12-01T13:30:00Z"}

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


test_keys = _load("versa_test_keys", ROOT / "tests" / "keys.py")
make_events = _load("versa_make_events", ROOT / "events" / "make_events.py")


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    state = tmp_path / "state"
    state.mkdir()
    (state / "keys.json").write_text(keyring_to_json(test_keys.TEST_KEYRING), encoding="utf-8")
    svc = build_service(Settings(packs_dir=PACKS, state_dir=state, require_signature=True))
    monkeypatch.setattr(api, "_factory", None)
    monkeypatch.setattr(api, "_service", None)
    api.configure(lambda: svc)

    def run(path: str, *, viewer: Any = make_events.DESKTOP_US, sign: bool = True, tamper: bool = False,
            sign_path: str | None = None) -> dict[str, Any]:
        spec = make_events.Spec("size-test", sign_path or path, viewer, dict(AT), sign=sign, tamper=tamper)
        event = make_events.build_event(spec, test_keys.TEST_KEYRING)
        event["path"] = path
        event["pathParameters"] = {"proxy": path.lstrip("/")}
        return api.handle(event, None)

    yield run


def body(result: dict[str, Any]) -> bytes:
    raw = result.get("body") or ""
    return base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()


def headers(result: dict[str, Any]) -> dict[str, str]:
    out = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    out.update({k: str(v[0]) for k, v in (result.get("multiValueHeaders") or {}).items()})
    return out


def image_size(result: dict[str, Any]) -> tuple[int, int]:
    with Image.open(io.BytesIO(body(result))) as image:
        return image.size


@pytest.mark.parametrize("size", [(728, 90), (160, 600), (320, 50)])
def test_a_declared_size_renders_that_size(handler: Any, size: tuple[int, int]) -> None:
    # GIVEN a signed URL naming one of winter-sale's sizes
    path = creative_path("acme", "winter-sale", "png", size)
    assert path == f"/v1/acme/winter-sale@{size[0]}x{size[1]}.png"

    # WHEN it is requested
    result = handler(path)

    # THEN the image has that size, and its variant (design key) is not the default size's
    assert result["statusCode"] == 200, body(result)
    assert image_size(result) == size
    default = handler(creative_path("acme", "winter-sale", "png"))
    assert image_size(default) == (600, 300)
    assert headers(result)["X-Versa-Variant"] != headers(default)["X-Versa-Variant"]
    assert headers(result)["ETag"] != headers(default)["ETag"]


def test_the_first_size_named_or_not_is_the_same_design(handler: Any) -> None:
    plain = handler(creative_path("acme", "winter-sale", "png"))
    named = handler(creative_path("acme", "winter-sale", "png", (600, 300)))
    assert named["statusCode"] == plain["statusCode"] == 200
    assert headers(named)["X-Versa-Variant"] == headers(plain)["X-Versa-Variant"]
    assert body(named) == body(plain)


def test_an_undeclared_size_is_a_404_naming_the_sizes(handler: Any) -> None:
    # GIVEN a correctly signed URL for a size winter-sale does not come in
    result = handler("/v1/acme/winter-sale@250x250.png")

    # THEN a 404 problem that names the size and the creative's sizes
    assert result["statusCode"] == 404
    doc = json.loads(body(result))
    assert doc["title"] == "Unknown size"
    assert "250x250" in doc["detail"]
    assert doc["sizes"] == [
        "600x300", "300x250", "728x90", "160x600", "320x50", "970x250", "300x600", "1080x1080", "1200x628", "1080x1920",
        "600x200",
    ]


def test_an_undeclared_size_gives_an_email_proxy_the_fallback(handler: Any) -> None:
    result = handler("/v1/acme/winter-sale@250x250.png", viewer=make_events.GMAIL_PROXY)
    assert result["statusCode"] == 200
    assert headers(result)["X-Versa-Fallback"] == "unknown-size"
    assert image_size(result) == (600, 300)  # the first size's fallback: no size of 250x250 exists


def test_a_creative_without_sizes_has_only_its_size(handler: Any) -> None:
    assert handler("/v1/acme/leaderboard@728x90.png")["statusCode"] == 200
    assert handler("/v1/acme/leaderboard@300x250.png")["statusCode"] == 404


@pytest.mark.parametrize(
    "file", ["winter-sale@728x.png", "winter-sale@x90.png", "winter-sale@0728x90.png", "winter-sale@728X90.png",
             "winter-sale@728x90x2.png", "winter-sale@.png", "winter-sale@728x90"],
)
def test_a_malformed_size_is_a_400_naming_the_form(handler: Any, file: str) -> None:
    result = handler(f"/v1/acme/{file}")
    assert result["statusCode"] == 400
    doc = json.loads(body(result))
    assert doc["parameter"] == "path"
    assert "CREATIVE@SIZE.EXT" in doc["allowed"] and "WIDTHxHEIGHT" in doc["allowed"]


def test_the_signature_covers_the_size(handler: Any) -> None:
    # GIVEN a URL signed for one size, requested with another
    result = handler("/v1/acme/winter-sale@728x90.png", sign_path="/v1/acme/winter-sale@300x250.png")
    # THEN it is refused like any other changed path
    assert result["statusCode"] == 403


def test_unsigned_and_tampered_sized_urls_are_refused(handler: Any) -> None:
    assert handler("/v1/acme/winter-sale@728x90.png", sign=False)["statusCode"] == 403
    assert handler("/v1/acme/winter-sale@728x90.png", tamper=True)["statusCode"] == 403


def test_a_failed_render_of_a_size_serves_that_size_fallback(handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a renderer that fails
    svc = api.service()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk on fire")

    monkeypatch.setattr(svc.renderer, "render", broken)

    # WHEN a size is asked for
    result = handler(creative_path("acme", "winter-sale", "png", (160, 600)))

    # THEN the fallback comes in that size
    assert result["statusCode"] == 200
    assert headers(result)["X-Versa-Fallback"] == "render-error"
    assert image_size(result) == (160, 600)


def test_the_html_page_of_a_size_links_that_size(handler: Any) -> None:
    result = handler(creative_path("acme", "winter-sale", "html", (300, 250)))
    assert result["statusCode"] == 200, body(result)
    page = body(result).decode()
    assert "/v1/acme/winter-sale@300x250.png?" in page
    assert 'width="300"' in page


def test_the_decision_of_a_size_names_it(handler: Any) -> None:
    # GIVEN debug-signed decision URLs, with and without a size
    def decision(path: str) -> dict[str, Any]:
        spec = make_events.Spec("size-decision", path, make_events.DESKTOP_US, dict(AT), scope="debug")
        return api.handle(make_events.build_event(spec, test_keys.TEST_KEYRING), None)

    sized = decision(decision_path("acme", "winter-sale", (728, 90)))
    plain = decision(decision_path("acme", "winter-sale"))
    # THEN each names its size, with its own design key; an undeclared size is a 404
    assert sized["statusCode"] == plain["statusCode"] == 200
    assert json.loads(body(sized))["size"] == "728x90" and json.loads(body(plain))["size"] == "600x300"
    assert json.loads(body(sized))["design_key"] != json.loads(body(plain))["design_key"]
    assert decision("/v1/acme/winter-sale@250x250/decision")["statusCode"] == 404
