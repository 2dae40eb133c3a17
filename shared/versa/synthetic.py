"""The synthetic check: fetch one signed creative per brand through the CDN and tell a real render from
a fallback.

CloudFront fails over to the S3 fallback images when the render API answers 5xx, and the function
itself answers an email proxy with a fallback image (status 200) when it cannot render: either way a
viewer sees a picture and nothing fails loudly. This check asks as an email proxy would (Gmail's image
proxy User-Agent, so every failure is an image, never a problem document) and classifies the answer:

- `rendered`: status 200 with the function's `X-Versa-Variant` and no `X-Versa-Fallback`;
- `fallback:<reason>`: the function answered `X-Versa-Fallback: <reason>`;
- `failover`: S3 answered (`x-amz-meta-version` on a published fallback, or `Server: AmazonS3`): the
  origin failed and CloudFront failed over;
- `error`: any other status, or no answer at all.

Each URL carries a fresh `exp` (now + `ttl`, a new cache key), so the answer comes from the origin and
not from an edge cache holding an earlier good render. Nothing here touches AWS: the scheduled function
(functions/synthetic/app.py) passes the keyring and the targets, and publishes the outcome as metrics.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from versa.signing.signer import Keyring, creative_path, sign

PROXY_USER_AGENT = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
"""Gmail's image proxy: the function answers it with an image whatever fails (the failure contract)."""

Fetch = Callable[[str, Mapping[str, str], float], tuple[int, dict[str, str]]]
"""(url, request headers, timeout seconds) -> (status, response headers with lower-case names)."""


@dataclass(frozen=True)
class Target:
    """One creative to probe: `brand/creative`, as an image of `ext`."""

    brand: str
    creative: str
    ext: str = "png"

    @classmethod
    def parse(cls, text: str) -> Target:
        """`brand/creative` (optionally `brand/creative.ext`); raises ValueError naming the value."""
        brand, sep, rest = text.strip().partition("/")
        creative, _, ext = rest.partition(".")
        if not sep or not brand or not creative or "/" in rest:
            raise ValueError(f"synthetic target {text!r}: expected BRAND/CREATIVE or BRAND/CREATIVE.EXT")
        return cls(brand, creative, ext or "png")


@dataclass(frozen=True)
class Outcome:
    """What one probe got back."""

    target: Target
    status: int
    verdict: str
    """`rendered`, `fallback:<reason>`, `failover` or `error`."""
    ms: float

    @property
    def healthy(self) -> bool:
        return self.verdict == "rendered"


def classify(status: int, headers: Mapping[str, str]) -> str:
    """The verdict for an answer (`headers` with lower-case names); see the module docstring."""
    fallback = headers.get("x-versa-fallback")
    if fallback is not None:
        return f"fallback:{fallback or 'unknown'}"
    if "x-amz-meta-version" in headers or headers.get("server", "").lower() == "amazons3":
        return "failover"
    if status == 200 and "x-versa-variant" in headers:
        return "rendered"
    return "error"


def probe_url(base_url: str, target: Target, keyring: Keyring, *, now: datetime, ttl: timedelta) -> str:
    """The signed URL of `target` under `base_url`, expiring at now + ttl (a cache key of its own)."""
    path = creative_path(target.brand, target.creative, target.ext)
    query = sign(path, {}, keyring, expires=now + ttl)
    return f"{base_url.rstrip('/')}{path}?{urlencode(query)}"


def http_fetch(url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, dict[str, str]]:
    """GET `url` with urllib; the status and headers of any HTTP answer (errors included), body drained."""
    request = urllib.request.Request(url, headers=dict(headers), method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def run_checks(
    base_url: str,
    targets: Iterable[Target],
    keyring: Keyring,
    *,
    now: datetime,
    ttl: timedelta = timedelta(minutes=10),
    timeout: float = 10.0,
    fetch: Fetch = http_fetch,
) -> list[Outcome]:
    """Probe every target in turn; a target that cannot be reached at all is an `error` (status 0).
    Never raises for a failing target: one broken brand must not hide the others."""
    outcomes = []
    for target in targets:
        url = probe_url(base_url, target, keyring, now=now, ttl=ttl)
        start = time.perf_counter()
        try:
            status, headers = fetch(url, {"User-Agent": PROXY_USER_AGENT, "Accept": "image/*"}, timeout)
            verdict = classify(status, headers)
        except (OSError, ValueError):
            status, verdict = 0, "error"
        outcomes.append(Outcome(target, status, verdict, (time.perf_counter() - start) * 1000))
    return outcomes


__all__ = ["PROXY_USER_AGENT", "Fetch", "Outcome", "Target", "classify", "http_fetch", "probe_url", "run_checks"]
