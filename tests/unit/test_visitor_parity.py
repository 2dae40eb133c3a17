"""The visitor bucket at the edge (cdn/viewer-request.js under Node) and in Python
(`versa.context.visitor`) agree, id for id, and so do the whole edge steps (the bucket header, the
blanked query, the cookie), so `versa serve` splits visitors exactly as CloudFront does.

The JavaScript receives what CloudFront hands a function (the query value as the viewer wrote it,
percent-encoded); Python receives what the gateway hands the origin (decoded).
"""

from __future__ import annotations

import json
import random
import shutil
import string
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from versa.context.visitor import (
    BUCKETS,
    X_VISITOR_BUCKET,
    canonical_id,
    cookie_header_for,
    edge_query,
    minted_id,
    visitor_bucket,
    visitor_hash,
)

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "cdn" / "test" / "harness.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="`node` is not on PATH: the CloudFront Function runs under Node")


def node(*args: str, payload: Any) -> Any:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HARNESS), *args], input=json.dumps(payload), capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


def _ids() -> list[str]:
    rng = random.Random(20261204)
    alphabet = string.ascii_letters + string.digits + "._~@:+-"
    ids = [f"u{i}" for i in range(3000)]
    ids += [f"user{i}+news@example.com" for i in range(500)]
    ids += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 128))) for _ in range(1500)]
    ids += ["a b", "a+b", "", " ", "é", "x" * 128, "x" * 129, "a<b", "a/b", "%", "中文", "a\tb"]
    return ids


def test_the_bucket_of_every_id_is_the_same_under_node_and_python() -> None:
    ids = _ids()
    js = node("--bucket", payload=[quote(i, safe="") for i in ids])
    py = [visitor_bucket(i) for i in ids]
    mismatches = [(i, a, b) for i, a, b in zip(ids, js, py, strict=True) if a != b]
    assert mismatches == []
    # not vacuous: both say "no id" for the unusable ones and spread the rest over every bucket
    assert {b for b in py if b is not None} == set(range(BUCKETS))
    unusable = ["", "é", "x" * 129, "a<b", "a/b", "%", "中文", "a\tb"]  # " " is a "+" form decoding spaced
    assert [i for i, b in zip(ids, py, strict=True) if b is None] == unusable


def test_a_plus_read_as_a_space_and_its_encodings_are_one_visitor() -> None:
    assert canonical_id("a b@x.com") == canonical_id("a+b@x.com") == "a+b@x.com"
    assert node("--bucket", payload=["a+b%40x.com", "a%2Bb%40x.com", "a%20b@x.com"]) == [visitor_bucket("a+b@x.com")] * 3


def test_the_hash_is_fnv1a_then_murmur_finalizer() -> None:
    # Known FNV-1a values (32-bit) of "" and "a", then the MurmurHash3 finalizer, computed by hand here
    def fmix(h: int) -> int:
        h ^= h >> 16
        h = (h * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & 0xFFFFFFFF
        return h ^ (h >> 16)

    assert visitor_hash("") == fmix(0x811C9DC5)
    assert visitor_hash("a") == fmix(0xE40C292C)


def _cf_event(query: dict[str, str], cookie: str | None, request_id: str) -> dict[str, Any]:
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "requestId": request_id},
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": "GET",
            "uri": "/v1/splitco/hero.png",
            "querystring": {k: {"value": quote(v, safe="")} for k, v in query.items()},
            "headers": {"user-agent": {"value": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"}},
            "cookies": {} if cookie is None else {"versa_vid": {"value": cookie}},
        },
    }


CASES: list[tuple[dict[str, str], str | None]] = [
    ({}, None),
    ({}, "known"),
    ({"vid": "r-42", "kid": "dev"}, None),
    ({"vid": "r-42"}, "known"),
    ({"vid": ""}, None),
    ({"vid": ""}, "known"),
    ({"vid": ""}, "bad<cookie>"),
    ({"vid": "not an id <>"}, "known"),
]


@pytest.mark.parametrize("cookie_on", [False, True])
def test_the_edge_step_is_the_same_under_node_and_python(cookie_on: bool) -> None:
    request_id = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
    events = [_cf_event(q, c, request_id) for q, c in CASES]
    results = node("--stdin", "--cookie", "on" if cookie_on else "off", payload=events)
    for (query, cookie), result in zip(CASES, results, strict=True):
        pairs, visitor = edge_query(
            sorted(query.items()),
            None if cookie is None else f"versa_vid={cookie}",
            cookie_on=cookie_on,
            request_id=request_id,
        )
        header = result["headers"].get(X_VISITOR_BUCKET)
        assert (header and int(header["value"])) == visitor.bucket, (query, cookie)
        assert (result["querystring"] or "") == "&".join(f"{k}={v}" for k, v in pairs), (query, cookie)
    assert minted_id(request_id) == "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ"


def test_the_local_cookie_is_the_one_viewer_response_js_sets() -> None:
    request_id = "abc-123"
    _, visitor = edge_query([("vid", "")], None, cookie_on=True, request_id=request_id)
    assert cookie_header_for(visitor, None, cookie_on=True) == (
        "versa_vid=abc-123; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=31536000"
    )
    assert cookie_header_for(visitor, "versa_vid=old", cookie_on=False) == (
        "versa_vid=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    )
    code = (ROOT / "cdn" / "viewer-response.js").read_text(encoding="utf-8")
    assert 'ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax"' in code
