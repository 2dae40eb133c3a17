"""A web split on the local server: `versa serve` spoken to over HTTP, a pack that declares nothing but
`bucket: {salt, pct}` over the built-in visitor id `vid`.

- many visitors see both arms in the declared proportion, within a tolerance computed from the
  binomial distribution (what a uniform visitor hash gives), and each visitor always the same arm;
- without an id the default arm is served and the decision trace says why;
- the server does the CDN's step (the id becomes `x-versa-vb`, the query value is blanked), so the
  visitor id never reaches the render: two ids in one bucket get the very same response;
- with the cookie on (the consent setting), an empty `vid` is given an id once, stored in the
  first-party cookie, and the next request lands in the same arm; with it off no cookie is set.
"""

from __future__ import annotations

import http.client
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlencode

import pytest

from servers import Server, running_versa
from services import signed_query, write_test_keys
from versa.context.visitor import visitor_bucket
from versa.pack.conditions import visitor_positions
from versa.signing.signer import creative_path, decision_path

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SHARE_B = 0.30  # the urgent arm's declared share
SALT = "hero-cta-2026"
PACK = f"""
brand: splitco
locales: [en]
default_tz: UTC
tokens:
  colors: {{paper: "#ffffff", accent: "#c2410c"}}
  fonts: {{display: sans-bold}}
creatives:
  hero:
    size: [200, 100]
    link: https://example.com/
    layers:
      - {{type: background, fill: paper}}
      - {{id: cta, type: button, slot: cta, box: [20, 30, 160, 40], font: display, size: 14, fill: accent,
          color: paper}}
    copy:
      cta: {{default: "Shop now"}}
    rules:
      - id: urgent
        when: {{bucket: {{salt: {SALT}, pct: [0, {round(SHARE_B * 100)}]}}}}
        set: {{copy.cta: "Ends tonight"}}
  plain:
    size: [200, 100]
    link: https://example.com/
    layers:
      - {{type: background, fill: accent}}
"""
HERO = creative_path("splitco", "hero", "png")
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"}


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("packs")
    (root / "splitco").mkdir()
    (root / "splitco" / "pack.yaml").write_text(PACK, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def served(packs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = write_test_keys(tmp_path_factory.mktemp("serve") / "state")
    with running_versa(packs, state_dir=state) as server:
        yield server


@pytest.fixture(scope="module")
def served_with_cookie(packs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = write_test_keys(tmp_path_factory.mktemp("serve-cookie") / "state")
    with running_versa(packs, state_dir=state, env={"VERSA_VISITOR_COOKIE": "true"}) as server:
        yield server


class Client:
    """One keep-alive connection to a server."""

    def __init__(self, server: Server) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def get(self, target: str, headers: Mapping[str, str] | None = None) -> http.client.HTTPResponse:
        self.conn.request("GET", target, headers={**BROWSER, **(headers or {})})
        resp = self.conn.getresponse()
        resp.body = resp.read()  # type: ignore[attr-defined]
        return resp


def image_url(vid: str | None, path: str = HERO) -> str:
    """The split creative's URL as a page fills it: template-signed, `vid` set after signing."""
    merge = {"vid": vid} if vid is not None else None
    return f"{path}?{urlencode(signed_query(path, merge=merge))}"


def binomial_bounds(n: int, p: float, alpha: float) -> tuple[int, int]:
    """The central interval [lo, hi] of Binomial(n, p) holding at least 1 - alpha of its mass (each
    tail at most alpha / 2), from the exact probability mass function."""
    pmf = [math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(p) + (n - k) * math.log1p(-p)) for k in range(n + 1)]  # fmt: skip
    lo, tail = 0, 0.0
    while tail + pmf[lo] <= alpha / 2:
        tail += pmf[lo]
        lo += 1
    hi, tail = n, 0.0
    while tail + pmf[hi] <= alpha / 2:
        tail += pmf[hi]
        hi -= 1
    return lo, hi


def test_the_binomial_bounds_are_the_exact_tails() -> None:
    # Binomial(10, 0.5): P(X <= 1) = 11/1024 ≈ 0.0107, P(X <= 2) = 56/1024 ≈ 0.0547
    assert binomial_bounds(10, 0.5, 0.05) == (2, 8)
    assert binomial_bounds(10, 0.5, 0.02) == (1, 9)


def test_many_visitors_see_both_arms_in_the_declared_share_and_each_always_the_same(served: Server) -> None:
    # GIVEN 2,000 visitors with their own ids
    n = 2000
    ids = [f"visitor-{i:05d}" for i in range(n)]
    client = Client(served)
    # WHEN each asks for the split creative
    seen: dict[str, str] = {}
    bodies: dict[str, bytes] = {}
    for vid in ids:
        resp = client.get(image_url(vid))
        assert resp.status == 200, resp.body  # type: ignore[attr-defined]
        seen[vid] = resp.getheader("X-Versa-Variant") or ""
        bodies.setdefault(seen[vid], resp.body)  # type: ignore[attr-defined]
    # THEN there are exactly two designs, the urgent one for the visitors whose bucket falls in it
    designs = set(seen.values())
    assert len(designs) == 2
    urgent_ids = {vid for vid in ids if visitor_positions(SALT)[visitor_bucket(vid) or 0] < SHARE_B * 100}
    urgent = {seen[vid] for vid in urgent_ids}
    assert len(urgent) == 1 and len({seen[v] for v in ids if v not in urgent_ids}) == 1
    # ... in the declared share, within the binomial's central 1 - 1e-6 (a uniform hash fails this
    # one time in a million; a biased one, or one arm for everybody, fails it for sure)
    lo, hi = binomial_bounds(n, SHARE_B, 1e-6)
    count = sum(1 for vid in ids if seen[vid] in urgent)
    assert lo <= count <= hi, f"{count} of {n} saw the {SHARE_B:.0%} arm; expected {lo}..{hi}"
    assert hi - lo < 0.12 * n  # the bound is a real constraint, not everything
    # ... and the same visitor always sees the same arm
    for vid in ids[:: n // 50]:
        assert client.get(image_url(vid)).getheader("X-Versa-Variant") == seen[vid]


def test_the_id_never_reaches_the_render_two_visitors_in_one_bucket_get_the_same_bytes(served: Server) -> None:
    ids = [f"visitor-{i:05d}" for i in range(400)]
    first = ids[0]
    twin = next(v for v in ids[1:] if visitor_bucket(v) == visitor_bucket(first))
    client = Client(served)
    a, b = client.get(image_url(first)), client.get(image_url(twin))
    assert a.getheader("ETag") == b.getheader("ETag")
    assert a.body == b.body  # type: ignore[attr-defined]


def test_without_an_id_the_default_arm_is_served_and_the_trace_says_why(served: Server) -> None:
    client = Client(served)
    default = next(
        v for v in (f"visitor-{i:05d}" for i in range(400)) if visitor_positions(SALT)[visitor_bucket(v) or 0] >= 30
    )
    expected = client.get(image_url(default)).getheader("X-Versa-Variant")
    for target in (image_url(None), image_url(""), image_url("not an id <>")):
        assert client.get(target).getheader("X-Versa-Variant") == expected, target
    path = decision_path("splitco", "hero")
    resp = client.get(f"{path}?{urlencode(signed_query(path, merge={'vid': ''}, scope='debug'))}")
    assert resp.status == 200
    body = json.loads(resp.body)  # type: ignore[attr-defined]
    [rule] = body["decision"]["trace"] if "decision" in body else body["trace"]
    assert rule["matched"] is False
    assert rule["reason"] == "bucket over vid [0, 30): no visitor id (vid empty or absent, no cookie): the default arm"
    assert body["context"]["vid"]["detail"] == "no visitor id: vid empty or absent and no cookie"


def test_with_an_id_the_trace_names_the_bucket_from_the_edge(served: Server) -> None:
    path = decision_path("splitco", "hero")
    resp = Client(served).get(f"{path}?{urlencode(signed_query(path, merge={'vid': 'visitor-00007'}, scope='debug'))}")
    body = json.loads(resp.body)  # type: ignore[attr-defined]
    bucket = visitor_bucket("visitor-00007")
    assert body["context"]["vid"] == {"value": bucket, "source": "cdn", "detail": "x-versa-vb"}
    [rule] = body["decision"]["trace"] if "decision" in body else body["trace"]
    assert f"visitor bucket {bucket}, position {visitor_positions(SALT)[bucket]}" in rule["reason"]


def test_cookie_off_sets_no_cookie(served: Server) -> None:
    resp = Client(served).get(image_url(""))
    assert resp.getheader("Set-Cookie") is None


def test_cookie_on_gives_an_empty_vid_an_id_once_and_keeps_its_arm(served_with_cookie: Server) -> None:
    client = Client(served_with_cookie)
    # GIVEN a first visit without an id
    first = client.get(image_url(""))
    cookie = first.getheader("Set-Cookie") or ""
    # THEN the response stores a visitor id in a first-party cookie
    assert cookie.startswith("versa_vid=") and "Secure" in cookie and "Max-Age=31536000" in cookie
    vid = cookie.split(";")[0].removeprefix("versa_vid=")
    assert visitor_bucket(vid) is not None
    # WHEN the same browser comes back with it
    again = client.get(image_url(""), {"Cookie": f"versa_vid={vid}"})
    # THEN it is in the same arm and gets no new cookie; its filled vid would win over the cookie
    assert again.getheader("X-Versa-Variant") == first.getheader("X-Versa-Variant")
    assert again.getheader("Set-Cookie") is None
    # a creative without a split never reads nor sets it
    plain = creative_path("splitco", "plain", "png")
    assert client.get(f"{plain}?{urlencode(signed_query(plain))}").getheader("Set-Cookie") is None
