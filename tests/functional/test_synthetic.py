"""The synthetic check against `versa serve`: a healthy brand reads `rendered`; a brand whose pack
is broken reads as the fallback it is served; an origin that does not answer reads `error`; an answer
from the S3 failover origin reads `failover`."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from servers import free_port, running_versa
from services import TEST_KEYRING, write_test_keys
from versa.synthetic import Target, classify, run_checks

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("synthetic")
    packs = tmp / "packs"
    shutil.copytree(EXAMPLES / "acme", packs / "acme")
    shutil.copytree(EXAMPLES / "northwind", packs / "northwind")
    yaml = packs / "northwind" / "pack.yaml"  # northwind's pack no longer loads: no pack, no render
    yaml.write_text(yaml.read_text(encoding="utf-8") + "\n  : : not yaml [\n", encoding="utf-8")
    with running_versa(packs, state_dir=write_test_keys(tmp / "state")) as srv:
        yield srv


def test_healthy_brand_is_rendered_and_broken_one_is_a_fallback(server) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a server with a healthy brand (acme) and one whose pack no longer loads (northwind)
    targets = [Target("acme", "winter-sale"), Target("northwind", "cyber-week")]
    # WHEN the check probes both through it
    outcomes = run_checks(server.url, targets, TEST_KEYRING, now=datetime.now(UTC))
    # THEN acme is a real render and northwind is recognized as a fallback, with the function's reason
    by_brand = {o.target.brand: o for o in outcomes}
    assert by_brand["acme"].verdict == "rendered" and by_brand["acme"].status == 200
    assert by_brand["northwind"].status == 200  # what a viewer sees: an image, nothing failing loudly
    assert by_brand["northwind"].verdict.startswith("fallback:"), by_brand["northwind"].verdict
    assert not by_brand["northwind"].healthy


def test_an_origin_that_does_not_answer_is_an_error() -> None:
    outcomes = run_checks(f"http://127.0.0.1:{free_port()}", [Target("acme", "winter-sale")], TEST_KEYRING,
                          now=datetime.now(UTC), timeout=2)
    assert [(o.status, o.verdict) for o in outcomes] == [(0, "error")]


@pytest.mark.parametrize(
    ("status", "headers", "verdict"),
    [
        (200, {"x-versa-variant": "abc"}, "rendered"),
        (200, {"x-versa-variant": "abc", "x-versa-fallback": "render-timeout"}, "fallback:render-timeout"),
        (200, {"server": "AmazonS3", "x-amz-meta-version": "v1"}, "failover"),
        (200, {"server": "AmazonS3"}, "failover"),
        (403, {"content-type": "application/problem+json"}, "error"),
        (200, {}, "error"),
    ],
)
def test_classify(status: int, headers: dict[str, str], verdict: str) -> None:
    assert classify(status, headers) == verdict


def test_target_parse_names_the_bad_value() -> None:
    assert Target.parse("acme/winter-sale.gif") == Target("acme", "winter-sale", "gif")
    with pytest.raises(ValueError, match="'acme'"):
        Target.parse("acme")
