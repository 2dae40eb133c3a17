"""HTTP tests: the render handler served on a free loopback port and spoken to over real HTTP.

Two ways of serving, both through `versa.web.server` (HTTP request -> API Gateway event -> handler):

- `versa serve` itself, as a subprocess, configured only by its command line and `VERSA_*`
  environment (the signing key is the test keyring, written as the state directory's key file). Used
  for caching, errors, email proxies, and the faults that settings or files can cause: a render over
  its time budget, an output over the size cap, a pack asset that becomes unreadable after load, and
  a SQLite copy store whose files are overwritten while the server runs.
- the same server in-process (`versa.server.serve` with `versa.api.lambda_handler`) around a service
  wired by hand, for the adapters `versa serve` cannot select from settings yet: the S3 pack store and
  the DynamoDB copy store, pointed at a closed loopback port (real clients, real refused connections).

Every fault is caused in the real adapter or the real files, never by raising inside the handler.
"""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import yaml
from PIL import Image

from servers import Server, free_port, running_versa
from services import TEST_KEYRING as KEYRING
from services import in_process, install, signed_query, write_test_keys
from versa.ports import CopyStore, PackStore
from versa.render.checks import PACK_CHECKS
from versa.settings import Settings
from versa.signing.signer import click_path, creative_path, decision_path
from versa.web import api
from versa.web.service import BLANK_PNG, RenderService, ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
APPLE_MPP = "Mozilla/5.0"
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
BROWSER = {"User-Agent": CHROME, "Accept": "image/avif,image/webp,image/*,*/*;q=0.8"}
US_MORNING = "2026-12-01T13:30:00Z"  # Tue 08:30 in New York
MERGE = {"first_name": "Ana", "tier": "gold", "uid": "u7"}
EXPIRED = datetime(2026, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------ helpers


def signed(
    path: str,
    query: Mapping[str, str] | None = None,
    *,
    merge: Mapping[str, str] | None = None,
    scope: str | None = None,
    expires: datetime | None = None,
    tamper: bool = False,
) -> str:
    """`path?query` signed with the test keyring; merge values filled in after a template signature."""
    full = signed_query(path, query, merge=merge, scope=scope, expires=expires)
    if tamper:
        full["sig"] = ("A" if full["sig"][0] != "A" else "B") + full["sig"][1:]
    return path + "?" + urlencode(sorted(full.items()), quote_via=quote)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    def image(self) -> Image.Image:
        import io

        image = Image.open(io.BytesIO(self.body))
        image.load()
        return image


def get(base: str, target: str, headers: Mapping[str, str] | None = None) -> Reply:
    """One GET over a fresh HTTP/1.1 connection."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", target, headers=dict(headers or {}))
        resp = conn.getresponse()
        body = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body[:300]
    assert reply.header("Content-Type") == "application/problem+json"
    assert reply.header("Cache-Control") == ("no-store" if status >= 500 else "public, max-age=60")
    doc = reply.json()
    assert doc["status"] == status and doc["title"] and doc["detail"]
    return dict(doc)


def assert_fallback(reply: Reply, reason: str, *, expected_body: bytes | None = None) -> None:
    assert reply.status == 200, reply.body[:300]
    assert reply.header("X-Versa-Fallback") == reason
    assert reply.header("Content-Type") == "image/png"
    assert reply.header("ETag") is None
    cache = reply.header("Cache-Control") or ""
    assert cache.startswith("public, max-age=60"), cache
    if expected_body is not None:
        assert reply.body == expected_body
    assert reply.image().format == "PNG"


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused at once)."""
    return f"http://127.0.0.1:{free_port()}"


def fallback_of(brand: str, creative: str, packs: Path = EXAMPLES) -> bytes:
    """The bytes of the fallback image a pack declares for a creative."""
    doc = yaml.safe_load((packs / brand / "pack.yaml").read_text(encoding="utf-8"))
    return (packs / brand / doc["creatives"][creative]["fallback"]).read_bytes()


# ------------------------------------------------------------------------- `versa serve` processes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`versa serve` over the example packs with default settings (signatures required)."""
    state = tmp_path_factory.mktemp("serve") / "state"
    write_test_keys(state)
    with running_versa(EXAMPLES, state_dir=state) as served:
        yield served


@pytest.fixture
def serve_with(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a `versa serve` of its own (stopped after the test)."""
    with ExitStack() as stack:
        started: list[Server] = []

        def start(*, packs: Path = EXAMPLES, env: Mapping[str, str] | None = None) -> Server:
            state = tmp_path / f"serve{len(started)}" / "state"
            write_test_keys(state)
            started.append(stack.enter_context(running_versa(packs, state_dir=state, env=env)))
            return started[-1]

        yield start


# ------------------------------------------------------------------------- in-process servers


@pytest.fixture
def serve_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[RenderService], str]]:
    """Serve a hand-wired service through `versa.server.serve` and the real handler; returns its URL."""
    with ExitStack() as stack:

        def start(service: RenderService) -> str:
            install(service, monkeypatch)
            return str(stack.enter_context(in_process(api.lambda_handler)).url)

        yield start


def wire(packs: PackStore, copy: CopyStore) -> RenderService:
    """The local wiring of versa.composition, with the given stores and the test keyring."""
    from versa.composition import build_queue, build_renderer
    from versa.render.html import HtmlPages

    renderer = build_renderer(Settings())
    return RenderService(
        packs, copy, build_queue(Settings(), copy, packs, renderer.fonts), renderer, KEYRING,
        config=ServiceConfig.from_settings(Settings(require_signature=True)), html=HtmlPages(KEYRING),
    )


def sqlite_copy(tmp: Path) -> CopyStore:
    from versa.adapters.sqlite_copy import SQLiteCopyStore

    return SQLiteCopyStore(tmp / "copy.sqlite3")


# -------------------------------------------------------------------------------- caching


def test_etag_if_none_match_304_round_trip(server: Server) -> None:
    # GIVEN a creative fetched by a browser
    target = signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING})
    first = get(server.url, target, BROWSER)
    assert first.status == 200
    assert first.image().size == (600, 300)
    etag = first.header("ETag")
    assert etag is not None and etag.startswith('"')

    # WHEN it revalidates with the ETag
    again = get(server.url, target, {**BROWSER, "If-None-Match": etag})

    # THEN 304 with no body, the same validator and fresh caching headers
    assert again.status == 304
    assert again.body == b""
    assert again.header("ETag") == etag
    assert again.header("X-Versa-Variant") == first.header("X-Versa-Variant")
    assert "max-age=" in (again.header("Cache-Control") or "")

    # AND another validator, or none, gets the image again
    other = get(server.url, target, {**BROWSER, "If-None-Match": '"0123456789abcdef"'})
    assert other.status == 200 and other.body == first.body


def test_auto_varies_on_accept_only(server: Server) -> None:
    auto = signed(creative_path("acme", "winter-sale", "auto"), {"at": US_MORNING})
    webp = get(server.url, auto, {"User-Agent": CHROME, "Accept": "image/webp,image/*;q=0.8"})
    png = get(server.url, auto, {"User-Agent": CHROME, "Accept": "*/*"})
    assert (webp.header("Content-Type"), webp.header("Vary")) == ("image/webp", "Accept")
    assert (png.header("Content-Type"), png.header("Vary")) == ("image/png", "Accept")
    assert webp.header("ETag") != png.header("ETag")
    fixed = get(server.url, signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING}), BROWSER)
    assert fixed.header("Vary") is None


# --------------------------------------------------------------------------------- errors


ERROR_CASES: dict[str, tuple[str, int]] = {
    "unknown-brand": (signed(creative_path("globex", "spring-sale", "png"), {"at": US_MORNING}), 404),
    "unknown-creative": (signed(creative_path("acme", "summer-sale", "png"), {"at": US_MORNING}), 404),
    "bad-param": (signed(creative_path("northwind", "cyber-week", "png"), {"at": US_MORNING},
                         merge={**MERGE, "tier": "platinum"}), 400),
    "bad-width": (signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING, "w": "333"}), 400),
    "bad-signature": (signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING}, tamper=True), 403),
    "unsigned": (creative_path("acme", "winter-sale", "png") + "?at=" + quote(US_MORNING), 403),
    "expired-signature": (signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING},
                                 expires=EXPIRED), 410),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_browsers_get_problem_json(server: Server, case: str) -> None:
    target, status = ERROR_CASES[case]
    doc = assert_problem(get(server.url, target, BROWSER), status)
    if case == "bad-param":
        assert doc["parameter"] == "tier"
        assert doc["allowed"] == "one of: gold, silver, basic"
    if case == "bad-width":
        assert doc["parameter"] == "w"
        assert "300" in doc["allowed"] and "1200" in doc["allowed"]


def test_json_routes_get_problem_json(server: Server) -> None:
    no_debug = signed(decision_path("acme", "winter-sale"), {"at": US_MORNING})
    assert_problem(get(server.url, no_debug, {"Accept": "application/json"}), 403)
    click_unknown = signed(click_path("globex", "spring-sale"), {"at": US_MORNING})
    assert_problem(get(server.url, click_unknown, BROWSER), 404)
    assert_problem(get(server.url, "/v2/nothing/here", BROWSER), 404)


@pytest.mark.parametrize("user_agent", [GMAIL, APPLE_MPP, YAHOO], ids=["gmail", "apple-mpp", "yahoo"])
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_email_proxies_never_get_an_error_on_an_image_route(server: Server, user_agent: str, case: str) -> None:
    # GIVEN a broken image URL fetched by an email image proxy (which would cache an error for weeks)
    target, _ = ERROR_CASES[case]
    # WHEN it is fetched
    reply = get(server.url, target, {"User-Agent": user_agent})
    # THEN it gets an image with status 200: the creative's fallback, or a blank pixel without a pack
    assert reply.status == 200, reply.body[:300]
    assert reply.header("X-Versa-Fallback")
    assert reply.header("Content-Type") == "image/png"
    if case in ("unknown-brand", "unknown-creative"):
        assert reply.body == BLANK_PNG
    elif case == "bad-param":
        assert reply.body == fallback_of("northwind", "cyber-week")
    else:
        assert reply.body == fallback_of("acme", "winter-sale")


# --------------------------------------------------------------------------------- faults


def test_render_over_its_time_budget_serves_the_fallback(serve_with: Callable[..., Server]) -> None:
    # GIVEN a server whose render budget (1 ms) no uncached render can meet
    served = serve_with(env={"VERSA_RENDER_BUDGET_MS": "1"})
    # WHEN a browser and Gmail ask for creatives nothing has rendered yet
    acme = get(served.url, signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING}), BROWSER)
    nw = get(served.url, signed(creative_path("northwind", "cyber-week", "gif"), {"at": US_MORNING}, merge=MERGE),
             {"User-Agent": GMAIL})
    # THEN each gets its creative's fallback, 200
    assert_fallback(acme, "render-timeout", expected_body=fallback_of("acme", "winter-sale"))
    assert_fallback(nw, "render-timeout", expected_body=fallback_of("northwind", "cyber-week"))


def test_output_over_the_size_cap_serves_the_fallback(serve_with: Callable[..., Server]) -> None:
    # GIVEN a server whose output cap (2000 bytes) every rendered creative exceeds
    served = serve_with(env={"VERSA_MAX_OUTPUT_BYTES": "2000"})
    for fmt in ("png", "webp", "jpg"):
        reply = get(served.url, signed(creative_path("acme", "winter-sale", fmt), {"at": US_MORNING}), BROWSER)
        assert_fallback(reply, "too-large", expected_body=fallback_of("acme", "winter-sale"))


def test_asset_unreadable_after_load_serves_the_fallback(
    serve_with: Callable[..., Server], tmp_path: Path
) -> None:
    # GIVEN a server over a copy of the packs, with acme loaded (the leaderboard does not use peaks.png)
    packs = tmp_path / "packs"
    shutil.copytree(EXAMPLES, packs)
    served = serve_with(packs=packs)
    warm = get(served.url, signed(creative_path("acme", "leaderboard", "png"), {"at": US_MORNING}), BROWSER)
    assert warm.status == 200 and warm.header("X-Versa-Fallback") is None

    # WHEN the banner's art asset is corrupted on disk
    art = packs / "acme" / "assets" / "peaks.png"
    art.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\xa5" * 512)

    # THEN rendering it fails and both a browser and Gmail get the creative's fallback, 200
    target = signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING})
    fallback = fallback_of("acme", "winter-sale", packs)
    assert_fallback(get(served.url, target, BROWSER), "render-error", expected_body=fallback)
    assert_fallback(get(served.url, target, {"User-Agent": GMAIL}), "render-error", expected_body=fallback)
    # AND the pack itself, which does not read that file, still renders
    time.sleep(1.1)  # past the directory store's recheck interval: it notices the edit
    still = get(served.url, signed(creative_path("acme", "leaderboard", "png"), {"at": "2026-12-01T18:00:00Z"}),
                BROWSER)
    assert still.status == 200 and still.header("X-Versa-Fallback") is None


def test_unreadable_sqlite_copy_store_renders_copy_defaults(serve_with: Callable[..., Server]) -> None:
    # GIVEN a server whose SQLite copy store works: a first render stores generated copy (the request
    # memo off: a remembered answer keeps the copy it was drawn with, and this test is about renders)
    served = serve_with(env={"VERSA_REQUEST_MEMO_ITEMS": "0"})
    morning = signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING})
    assert get(served.url, morning, BROWSER).header("X-Versa-Copy") == "default"
    stored = get(served.url, morning, BROWSER)
    assert stored.header("X-Versa-Copy") is None
    assert stored.header("Cache-Control") == "public, max-age=12600, s-maxage=12600, stale-if-error=86400"

    # WHEN its database files are overwritten while the server runs
    files = sorted(served.state.glob("copy.sqlite3*"))
    assert served.state / "copy.sqlite3" in files
    for path in files:
        path.write_bytes(b"\xa5" * path.stat().st_size)

    # THEN renders go on with the pack's default copy (not a fallback), briefly cached
    for target in (morning, signed(creative_path("acme", "winter-sale", "png"), {"at": "2026-12-01T23:00:00Z"})):
        for headers in (BROWSER, {"User-Agent": GMAIL}):
            reply = get(served.url, target, headers)
            assert reply.status == 200
            assert reply.header("X-Versa-Fallback") is None
            assert reply.header("X-Versa-Copy") == "default"
            assert reply.header("Content-Type") == "image/png"
            assert reply.image().size == (600, 300)
    assert get(served.url, morning, BROWSER).header("Cache-Control") == (
        "public, max-age=300, s-maxage=300, stale-if-error=86400"
    )


def test_unreachable_dynamodb_copy_store_renders_copy_defaults(
    serve_service: Callable[[RenderService], str], aws_client: Callable[..., Any], tmp_path: Path
) -> None:
    from botocore.config import Config

    from versa.adapters.directory import DirectoryPackStore
    from versa.adapters.dynamo_copy import DynamoCopyStore

    # GIVEN the DynamoDB copy store with a real client pointed at a closed loopback port
    client = aws_client("dynamodb", closed_port_url(),
                        Config(connect_timeout=0.3, read_timeout=0.5, retries={"total_max_attempts": 1}))
    url = serve_service(wire(DirectoryPackStore(EXAMPLES, checks=PACK_CHECKS), DynamoCopyStore("versa-copy", client=client)))
    # WHEN creatives with generated copy slots are fetched
    for headers in (BROWSER, {"User-Agent": GMAIL}):
        reply = get(url, signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING}), headers)
        # THEN they render with the default copy, 200, no fallback
        assert reply.status == 200
        assert reply.header("X-Versa-Copy") == "default"
        assert reply.header("X-Versa-Fallback") is None
        assert reply.image().size == (600, 300)


def test_unreachable_s3_pack_store_serves_a_fallback(
    serve_service: Callable[[RenderService], str], aws_client: Callable[..., Any], tmp_path: Path
) -> None:
    from botocore.config import Config

    from versa.adapters.s3_packs import S3PackStore

    # GIVEN the S3 pack store with a real client pointed at a closed loopback port (a cold container
    # with S3 unreachable: no last good pack to keep serving)
    client = aws_client("s3", closed_port_url(),
                        Config(connect_timeout=0.3, read_timeout=0.5, retries={"total_max_attempts": 1}))
    packs = S3PackStore("versa-packs", checks=PACK_CHECKS, client=client, cache_dir=tmp_path / "cache")
    url = serve_service(wire(packs, sqlite_copy(tmp_path)))
    target = signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING})
    # WHEN a browser and email proxies ask for a creative
    for headers in (BROWSER, {"User-Agent": GMAIL}, {"User-Agent": APPLE_MPP}):
        # THEN each gets 200 and the blank fallback (the creative's own needs the pack), briefly cached
        assert_fallback(get(url, target, headers), "pack-store", expected_body=BLANK_PNG)
    # AND a JSON route says so precisely, never cached
    debug = signed(decision_path("acme", "winter-sale"), {"at": US_MORNING}, scope="debug")
    assert_problem(get(url, debug, {"Accept": "application/json"}), 503)


def test_pack_that_fails_to_load_serves_a_fallback(
    serve_service: Callable[[RenderService], str], tmp_path: Path
) -> None:
    from versa.adapters.directory import DirectoryPackStore

    # GIVEN a pack directory whose acme pack.yaml is broken before it was ever loaded
    packs = tmp_path / "packs"
    shutil.copytree(EXAMPLES, packs)
    pack_yaml = packs / "acme" / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text() + "\n  - this: [is not, valid\n")
    url = serve_service(wire(DirectoryPackStore(packs, checks=PACK_CHECKS), sqlite_copy(tmp_path)))
    target = signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING})
    # THEN image requests get 200 with the blank fallback; other brands are unaffected
    for headers in (BROWSER, {"User-Agent": GMAIL}):
        assert_fallback(get(url, target, headers), "pack-error", expected_body=BLANK_PNG)
    other = get(url, signed(creative_path("northwind", "welcome", "png"), {"at": US_MORNING}), BROWSER)
    assert other.status == 200 and other.header("X-Versa-Fallback") is None


def test_directory_store_keeps_the_last_good_pack(
    serve_service: Callable[[RenderService], str], tmp_path: Path
) -> None:
    from versa.adapters.directory import DirectoryPackStore

    # GIVEN a served pack
    packs = tmp_path / "packs"
    shutil.copytree(EXAMPLES, packs)
    store = DirectoryPackStore(packs, checks=PACK_CHECKS, recheck=0.0)
    url = serve_service(wire(store, sqlite_copy(tmp_path)))
    first = get(url, signed(creative_path("acme", "winter-sale", "png"), {"at": US_MORNING}), BROWSER)
    assert first.status == 200
    # WHEN its pack.yaml is broken while serving
    pack_yaml = packs / "acme" / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text() + "\n  - this: [is not, valid\n")
    # THEN the last good pack keeps rendering (no fallback), and the store reports the error
    evening = get(url, signed(creative_path("acme", "winter-sale", "png"), {"at": "2026-12-01T23:00:00Z"}), BROWSER)
    assert evening.status == 200
    assert evening.header("X-Versa-Fallback") is None
    assert evening.header("X-Versa-Variant") != first.header("X-Versa-Variant")
    assert store.last_error("acme") is not None


def test_versa_serve_answers_with_what_api_gateway_would_return(server: Server) -> None:
    # The body a browser gets is the decoded image (the server undoes the base64 of the Lambda result).
    target = signed(creative_path("northwind", "welcome", "jpg"), {"at": US_MORNING})
    reply = get(server.url, target, BROWSER)
    assert reply.status == 200 and reply.body[:2] == b"\xff\xd8"
    assert reply.header("Content-Length") == str(len(reply.body))
    with pytest.raises(ValueError):
        base64.b64decode(reply.body, validate=True)
