"""Attacks on the defences that already hold: signatures, traversal, templates, merge values, images.

Each test tries one attack as a hostile viewer, email proxy or pack author would, through the real
handler (`versa.web.api.handle`) on real-shaped API Gateway events: the raw request line is turned
into an event by `versa.web.server.to_event`, exactly as `versa serve` does. The service is the one
the composition root builds from settings, over copies of the example packs (made hostile where the
attack needs a hostile pack) and the fixed test keyring. Each docstring states the attack and the
safe outcome; docs/SECURITY.md's table is generated from them (scripts/attack_table.py).
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest
import yaml

from services import TEST_KEYRING as KEYRING
from services import install, keyed_settings
from services import signed_query as signed
from versa.composition import build_service
from versa.errors import SignatureInvalid
from versa.signing.signer import click_path, creative_path, decision_path, sign
from versa.web import api
from versa.web.server import LocalContext, from_result, to_event
from versa.web.service import BLANK_PNG

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
BROWSER = {"User-Agent": CHROME, "Accept": "image/avif,image/webp,image/*,*/*;q=0.8"}
PROXY = {"User-Agent": GMAIL}
AT = "2026-12-01T13:30:00Z"
MERGE = {"first_name": "Ana", "tier": "gold", "uid": "u7"}
PROBLEM = "application/problem+json"
INTERNALS = ("Traceback", "File \"", "/versa/", "site-packages", "Error(", "__class__", "<class ")


# ------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0]

    def problem(self, status: int) -> dict[str, Any]:
        assert (self.status, self.content_type) == (status, PROBLEM), (self.status, self.body[:300])
        doc: dict[str, Any] = json.loads(self.body)
        assert doc["status"] == status
        return doc

    def leaks_nothing(self) -> None:
        text = self.body.decode("utf-8", "replace")
        for marker in INTERNALS:
            assert marker not in text, (marker, text[:300])


Get = Callable[..., Answer]


def target(path: str, query: Mapping[str, str] | list[tuple[str, str]]) -> str:
    """The raw request target: path as given (already encoded), query percent-encoded."""
    items = list(query.items()) if isinstance(query, Mapping) else list(query)
    return path + ("?" + urlencode(items, quote_via=quote) if items else "")


def _serve_dir(tmp: Path, packs: Path, monkeypatch: pytest.MonkeyPatch) -> Get:
    install(build_service(keyed_settings(tmp, packs=packs, require_signature=True)), monkeypatch)

    def get(raw_target: str, headers: Mapping[str, str] | None = None) -> Answer:
        event = to_event("GET", raw_target, list((headers or BROWSER).items()), "198.51.100.7")
        status, pairs, body = from_result(api.handle(event, LocalContext("attack")))
        return Answer(status, {k.lower(): v for k, v in pairs}, body)

    return get


@pytest.fixture
def get(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Get]:
    """GET through the real handler over the example packs, signatures required."""
    yield _serve_dir(tmp_path, EXAMPLES, monkeypatch)


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Get]]:
    """`hostile(edit)`: copy the example packs, let `edit(northwind_dir, pack_doc)` change northwind
    (its pack.yaml is rewritten from the edited document), and serve the copy."""

    def make(edit: Callable[[Path, dict[str, Any]], None]) -> Get:
        packs = tmp_path / "packs"
        shutil.copytree(EXAMPLES, packs)
        root = packs / "northwind"
        doc = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
        edit(root, doc)
        (root / "pack.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return _serve_dir(tmp_path, packs, monkeypatch)

    yield make


def _cyber_week(doc: dict[str, Any]) -> dict[str, Any]:
    creative: dict[str, Any] = doc["creatives"]["cyber-week"]
    return creative


def refused_pack(get: Get) -> None:
    """The answers of a brand whose pack was refused: a blank pixel on its image route (for browsers and
    proxies alike: without a pack there is no fallback of its own), 503 on its page."""
    image = target(NW_IMAGE, signed(NW_IMAGE, {"at": AT}, merge=MERGE))
    for headers in (BROWSER, PROXY):
        answer = get(image, headers)
        assert (answer.status, answer.body, answer.header("X-Versa-Fallback")) == (200, BLANK_PNG, "pack-error")
    get(target(PAGE, signed(PAGE, {"at": AT}, merge=MERGE))).problem(503)


def _fallback(name: str) -> bytes:
    return (EXAMPLES / "northwind" / "assets" / name).read_bytes()


PAGE = creative_path("northwind", "cyber-week", "html")
IMAGE = creative_path("acme", "winter-sale", "png")
NW_IMAGE = creative_path("northwind", "cyber-week", "png")


# ------------------------------------------------------------------------------------ tampering


def test_signature_with_one_character_changed_is_refused(get: Get) -> None:
    """Signature tampering, one character of `sig` changed → 403 for a browser, the fallback image for an email proxy."""
    query = signed(IMAGE, {"at": AT})
    for position in (0, 21, 42):
        sig = query["sig"]
        flipped = sig[:position] + ("A" if sig[position] != "A" else "B") + sig[position + 1:]
        forged = target(IMAGE, {**query, "sig": flipped})
        get(forged).problem(403)
        proxy = get(forged, PROXY)
        assert (proxy.status, proxy.header("X-Versa-Fallback")) == (200, "bad-request")


def test_signed_value_swapped_is_refused(get: Get) -> None:
    """Signature tampering, a signed override's value swapped (country US to DE, `at` moved a day) → 403."""
    query = signed(IMAGE, {"at": AT, "country": "US"})
    assert get(target(IMAGE, query)).status == 200
    get(target(IMAGE, {**query, "country": "DE"})).problem(403)
    get(target(IMAGE, {**query, "at": "2026-12-02T13:30:00Z"})).problem(403)


def test_parameter_added_after_signing_is_refused(get: Get) -> None:
    """Signature tampering, a parameter added to a signed URL (`country=DE`, a second `at`) → 403, never honoured."""
    query = signed(IMAGE, {"at": AT})
    get(target(IMAGE, {**query, "country": "DE"})).problem(403)
    get(target(IMAGE, [*query.items(), ("at", "2027-01-01T00:00:00Z")])).problem(403)


def test_signature_moved_to_another_path_is_refused(get: Get) -> None:
    """Signature tampering, a valid query moved to another brand's or creative's path → 403."""
    query = signed(IMAGE, {"at": AT})
    get(target(creative_path("northwind", "welcome", "png"), query)).problem(403)
    get(target(creative_path("acme", "winter-sale", "gif"), query)).problem(403)


def test_merge_list_widened_to_free_a_fixed_value_is_refused(get: Get) -> None:
    """Template-signature tampering, `m` widened to make a signed override (`country`) a free merge value → 403."""
    query = signed(NW_IMAGE, {"at": AT, "country": "US"}, merge=MERGE)
    assert get(target(NW_IMAGE, query)).status == 200
    get(target(NW_IMAGE, {**query, "m": query["m"] + ",country", "country": "DE"})).problem(403)


def test_unknown_or_repeated_key_id_is_refused(get: Get) -> None:
    """Key-id tampering, an unknown `kid` or a repeated signing parameter → 403, not a crash or a fallback key."""
    query = signed(IMAGE, {"at": AT})
    get(target(IMAGE, {**query, "kid": "k9"})).problem(403)
    get(target(IMAGE, [*query.items(), ("kid", query["kid"])])).problem(403)
    get(target(IMAGE, [*query.items(), ("sig", query["sig"])])).problem(403)


# ------------------------------------------------------------------------------------ replay


def test_replay_of_an_expired_url_is_refused(get: Get) -> None:
    """Replay of a URL past its `exp` → 410 for a browser, the fallback image (reason `expired`) for an email proxy."""
    query = signed(IMAGE, {"at": AT}, expires=datetime.now(UTC) - timedelta(seconds=1))
    get(target(IMAGE, query)).problem(410)
    proxy = get(target(IMAGE, query), PROXY)
    assert (proxy.status, proxy.header("X-Versa-Fallback")) == (200, "expired")
    assert proxy.body == (EXAMPLES / "acme" / "assets" / "fallback-winter-sale.png").read_bytes()


def test_expiry_pushed_later_is_refused(get: Get) -> None:
    """Replay with `exp` moved into the future (or removed) on an expired URL → 403: the expiry is signed."""
    query = signed(IMAGE, {"at": AT}, expires=datetime.now(UTC) - timedelta(seconds=1))
    later = str(int(datetime.now(UTC).timestamp()) + 86_400)
    get(target(IMAGE, {**query, "exp": later})).problem(403)
    get(target(IMAGE, {k: v for k, v in query.items() if k != "exp"})).problem(403)


# ------------------------------------------------------------------------------------- scope


def test_render_signature_on_the_decision_endpoint_is_refused(get: Get) -> None:
    """Re-scoping, a render URL's signature used on the debug decision endpoint → 403; rules and salts stay hidden."""
    query = signed(IMAGE, {"at": AT})
    path = decision_path("acme", "winter-sale")
    answer = get(target(path, query))
    answer.problem(403)
    assert b"matched" not in answer.body and b"salt" not in answer.body
    unscoped = signed(path, {"at": AT})
    get(target(path, unscoped)).problem(403)
    get(target(path, {**unscoped, "scope": "debug"})).problem(403)
    assert get(target(path, signed(path, {"at": AT}, scope="debug"))).status == 200


def test_debug_signature_of_one_creative_on_another_is_refused(get: Get) -> None:
    """Re-scoping, a debug-scoped signature of one creative replayed on another creative's decision → 403."""
    query = signed(decision_path("acme", "winter-sale"), {"at": AT}, scope="debug")
    get(target(decision_path("northwind", "cyber-week"), query)).problem(403)
    get(target(click_path("acme", "winter-sale"), query)).problem(403)


# --------------------------------------------------------------------------------- traversal

ROUTE_TRAVERSALS = {
    "dot-dot": "/v1/acme/../acme/winter-sale.png",
    "percent-encoded": "/v1/acme/%2e%2e/%2e%2e/pack.yaml",
    "double-encoded": "/v1/%252e%252e/winter-sale.png",
    "encoded-slash": "/v1/acme/..%2f..%2fpack.yaml",
    "backslash": "/v1/acme/..%5c..%5cpack.yaml",
    "raw-backslash": "/v1/acme\\..\\northwind/cyber-week.png",
    "overlong-utf8": "/v1/%c0%ae%c0%ae/winter-sale.png",
    "overlong-slash": "/v1/acme/%c0%af..%c0%afpack.yaml",
    "nul": "/v1/acme/winter-sale.png%00.html",
}


@pytest.mark.parametrize("name", sorted(ROUTE_TRAVERSALS))
def test_path_traversal_in_route_paths_reaches_no_file(get: Get, name: str) -> None:
    """Path traversal on route paths (`..`, %2e%2e, double-encoded, %2f, backslash, overlong UTF-8, NUL) → 403/404 problem or the neutral not-found pixel, no file read."""
    raw = ROUTE_TRAVERSALS[name]
    answer = get(raw)
    if answer.status == 200:  # an unroutable path that looks like an image: the neutral pixel, no brand's
        assert answer.headers["x-versa-fallback"] == "not-found"
        assert answer.body == BLANK_PNG
    else:
        assert answer.status in (400, 403, 404), (answer.status, answer.body[:200])
        answer.problem(answer.status)
    assert b"brand:" not in answer.body and b"creatives" not in answer.body  # no pack.yaml content
    # AND a path that decodes to a traversal cannot even be signed: no key holder can mint a URL for
    # it (overlong UTF-8 never decodes to '.' or '/', so those are only names that do not exist)
    decoded = unquote(raw)
    if not name.startswith("overlong"):
        with pytest.raises(SignatureInvalid, match="path"):
            sign(decoded, {}, KEYRING)
    else:
        assert decoded.count("/") == raw.count("/") and ".." not in decoded.split("/")


ASSET_TRAVERSALS = {
    "dot-dot": "assets/../../acme/pack.yaml",
    "absolute": "/etc/hostname",
    "percent-encoded": "assets/%2e%2e/%2e%2e/acme/assets/logo.png",
    "double-encoded": "assets/%252e%252e/%252e%252e/acme/assets/logo.png",
    "backslash": "assets\\..\\..\\acme\\assets\\logo.png",
    "overlong-utf8": "assets/%c0%ae%c0%ae/%c0%ae%c0%ae/acme/assets/logo.png",
    "home": "~/.aws/credentials",
}


@pytest.mark.parametrize("name", sorted(ASSET_TRAVERSALS))
def test_path_traversal_in_pack_asset_references_is_refused(hostile: Callable[..., Get], name: str) -> None:
    """Path traversal in a pack's asset reference (every encoding) → the pack is refused: a blank pixel on its image route, 503 on its page."""

    def edit(root: Path, doc: dict[str, Any]) -> None:
        _cyber_week(doc)["fallback"] = ASSET_TRAVERSALS[name]

    get = hostile(edit)
    refused_pack(get)
    # AND the other brand is untouched
    assert get(target(IMAGE, signed(IMAGE, {"at": AT}))).status == 200


# -------------------------------------------------------------------------------------- SSTI


def _template(source: str) -> Callable[[Path, dict[str, Any]], None]:
    def edit(root: Path, doc: dict[str, Any]) -> None:
        (root / "templates" / "email.html").write_text(source, encoding="utf-8")

    return edit


@pytest.mark.parametrize("source", [
    "{{ ''|attr('__class__') }}",
    "{{ (''|attr('\\x5f\\x5fclass\\x5f\\x5f')) }}",
    "{{ params['__cl' ~ 'ass__'] }}",
    "{{ img|attr('__globals__') }}",
])
def test_ssti_in_a_pack_template_is_contained(hostile: Callable[..., Get], source: str) -> None:
    """SSTI in a pack template (attribute access built at run time) → the sandbox refuses it: the plain fallback fragment, 200, no internals."""
    get = hostile(_template(source))
    answer = get(target(PAGE, signed(PAGE, {"at": AT}, merge=MERGE)))
    assert answer.status == 200, answer.body[:300]
    assert answer.header("X-Versa-Fallback") == "template-error"
    assert answer.body.startswith(b'<a href="https://northwind.example/') and b'<img src="/v1/northwind/cyber-week.png?' in answer.body
    answer.leaks_nothing()


def test_ssti_with_underscore_attributes_is_refused_at_load(hostile: Callable[..., Get]) -> None:
    """SSTI in a pack template reaching for `__globals__` directly → refused when the pack loads: 503, no template runs."""
    get = hostile(_template("{{ cycler.__init__.__globals__.os.popen('id').read() }}"))
    answer = get(target(PAGE, signed(PAGE, {"at": AT}, merge=MERGE)))
    answer.problem(503)
    answer.leaks_nothing()


AMPLIFIERS = {
    "repeat": "{{ 'x' * 10**9 }}",
    "center": "{{ 'x'|center(10**9) }}",
    "printf": "{{ '%0999999999d'|format(1) }}",
    "printf-operator": "{{ '%0999999999d' % 1 }}",
    "str-format": "{{ '{:>999999999}'.format(1) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "power": "{{ 7 ** 1000000000 }}",
    "range": "{{ range(10**9)|list }}",
    "lipsum": "{{ lipsum(10**6) }}",
}


@pytest.mark.parametrize("name", sorted(AMPLIFIERS))
def test_ssti_amplifiers_in_a_pack_template_are_refused(hostile: Callable[..., Get], name: str) -> None:
    """SSTI as resource exhaustion in a pack template (`'x' * 10**9`, center/ljust/format widths, huge powers, ranges, lipsum) → refused before building: the fallback fragment, 200."""
    get = hostile(_template(AMPLIFIERS[name]))
    answer = get(target(PAGE, signed(PAGE, {"at": AT}, merge=MERGE)))
    assert (answer.status, answer.header("X-Versa-Fallback")) == (200, "template-error"), answer.body[:200]
    assert len(answer.body) < 2_000
    answer.leaks_nothing()


def test_ssti_amplifier_in_a_text_layer_is_refused(hostile: Callable[..., Get]) -> None:
    """SSTI as resource exhaustion in an image's text-layer template → refused by the bounded sandbox: the creative's fallback image, 200."""

    def edit(root: Path, doc: dict[str, Any]) -> None:
        for layer in doc["creatives"]["welcome"]["layers"]:
            if layer.get("id") == "hello":
                layer["text"] = "{{ 'x' * 10**9 }}"

    get = hostile(edit)
    path = creative_path("northwind", "welcome", "png")
    for headers in (BROWSER, PROXY):
        answer = get(target(path, signed(path, {"at": AT})), headers)
        assert (answer.status, answer.header("X-Versa-Fallback")) == (200, "render-error"), answer.body[:200]
        assert answer.body == _fallback("fallback-welcome.png")


def _permissive_first_name(root: Path, doc: dict[str, Any]) -> None:
    """A pack that lets `first_name` carry markup and braces, and prints it in its page."""
    _cyber_week(doc)["params"]["first_name"] = {
        "type": "text", "max_len": 120, "merge": True, "charset": "A-Za-z0-9 <>/\"'=(){}*;:.!%-",
    }
    (root / "templates" / "email.html").write_text(
        "<p>Hello {{ params.first_name }}</p><a href=\"{{ click_url }}\">{{ img(alt=alt, width=600) }}</a>",
        encoding="utf-8",
    )


def test_ssti_in_a_merge_value_is_printed_not_evaluated(hostile: Callable[..., Get]) -> None:
    """SSTI in a merge value (`{{7*7}}`, `{% ... %}`) reaching a template → printed as text, never evaluated."""
    get = hostile(_permissive_first_name)
    answer = get(target(PAGE, signed(PAGE, {"at": AT}, merge={**MERGE, "first_name": "{{7*7}}{%print(1)%}"})))
    assert answer.status == 200, answer.body[:300]
    assert b"<p>Hello {{7*7}}{%print(1)%}</p>" in answer.body
    assert b"49" not in answer.body.split(b"</p>")[0]


def test_ssti_in_a_merge_value_under_the_default_charset_is_refused(get: Get) -> None:
    """SSTI in a merge value under the default character set → 400 naming the parameter; an email proxy gets the fallback."""
    query = target(NW_IMAGE, signed(NW_IMAGE, {"at": AT}, merge={**MERGE, "first_name": "{{7*7}}"}))
    assert get(query).problem(400)["parameter"] == "first_name"
    proxy = get(query, PROXY)
    assert (proxy.status, proxy.body) == (200, _fallback("fallback-cyber-week.png"))


# --------------------------------------------------------------------------------------- XSS


def test_xss_in_a_merge_value_is_escaped_in_html(hostile: Callable[..., Get]) -> None:
    """XSS in a merge value reaching an HTML page → HTML-escaped by the sandbox's autoescape, under a CSP that forbids scripts."""
    get = hostile(_permissive_first_name)
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    answer = get(target(PAGE, signed(PAGE, {"at": AT}, merge={**MERGE, "first_name": payload})))
    assert answer.status == 200, answer.body[:300]
    assert b"<script" not in answer.body and b"<img src=x" not in answer.body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in answer.body
    csp = answer.header("Content-Security-Policy") or ""
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_xss_in_a_merge_value_is_encoded_in_page_urls(hostile: Callable[..., Get]) -> None:
    """XSS through a merge value carried into the page's signed image URLs (attribute breakout) → percent-encoded, no raw quote or bracket."""
    get = hostile(_permissive_first_name)
    answer = get(target(PAGE, signed(PAGE, {"at": AT}, merge={**MERGE, "first_name": "\"><svg onload=alert(1)>"})))
    assert answer.status == 200, answer.body[:300]
    urls = answer.body.split(b'src="', 1)[1].split(b'"', 1)[0]
    assert b"<" not in urls and b">" not in urls and b"%22%3E%3Csvg" in urls


# -------------------------------------------------------------------------------------- CRLF

CRLF = "x\r\nSet-Cookie: owned=1\r\nX-Injected: 1"


def test_crlf_in_parameters_never_reaches_a_header(get: Get) -> None:
    """CRLF in query values, merge values, path segments and conditional headers → no header gains a line break or a new header."""
    attempts = [
        target(NW_IMAGE, signed(NW_IMAGE, {"at": AT}, merge={**MERGE, "first_name": CRLF})),
        target(NW_IMAGE, signed(NW_IMAGE, {"at": AT}, merge={**MERGE, "uid": CRLF})),
        target(IMAGE, {**signed(IMAGE, {"at": AT}), "w": CRLF}),
        target(IMAGE, signed(IMAGE, {"at": AT, "tz": CRLF})),
        target(click_path("acme", "winter-sale"), signed(click_path("acme", "winter-sale"), {"at": AT, "lang": CRLF})),
        "/v1/acme/" + quote(CRLF) + ".png",
        "/v1/" + quote(CRLF) + "/winter-sale.png",
    ]
    for raw in attempts:
        for headers in (BROWSER, PROXY, {**BROWSER, "If-None-Match": CRLF}):
            answer = get(raw, headers)
            assert answer.status < 500, (raw, answer.status)
            for name, value in answer.headers.items():
                assert "\r" not in value and "\n" not in value, (raw, name, value)
            assert "set-cookie" not in answer.headers and "x-injected" not in answer.headers


# ------------------------------------------------------------------------------------- bombs


def _png(width: int, height: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def decompression_bomb() -> bytes:
    """A ~25 KB PNG that inflates to 5000x5000 pixels (25 MB): over the pack image limit."""
    width, height = 5000, 5000
    squeeze = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    return _png(width, height, data)


def pixel_bomb() -> bytes:
    """A 70-byte PNG that declares 60000x60000 pixels (3.6 gigapixels) with no real data."""
    return _png(60_000, 60_000, zlib.compress(b"\x00" * 64))


def gif_screen_bomb() -> bytes:
    """A GIF whose logical screen declares 65535x65535."""
    return (b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
            + b",\x00\x00\x00\x00" + struct.pack("<HH", 65535, 65535) + b"\x00\x02\x02D\x01\x00;")


@pytest.mark.parametrize("bomb", [decompression_bomb, pixel_bomb, gif_screen_bomb], ids=lambda f: f.__name__)
def test_image_bombs_in_pack_assets_are_refused(hostile: Callable[..., Get], bomb: Callable[[], bytes]) -> None:
    """Decompression and pixel bombs as pack image assets (PNG, GIF) → refused at load before decoding: blank pixel / 503, no memory spent."""

    def edit(root: Path, doc: dict[str, Any]) -> None:
        (root / "assets" / "logo.png").write_bytes(bomb())

    refused_pack(hostile(edit))


def test_bomb_as_a_fallback_image_is_refused(hostile: Callable[..., Get]) -> None:
    """A decompression bomb as the creative's fallback (served when all else fails) → the pack is refused; no proxy ever receives it."""

    def edit(root: Path, doc: dict[str, Any]) -> None:
        (root / "assets" / "fallback-cyber-week.png").write_bytes(decompression_bomb())

    get = hostile(edit)
    expired = signed(NW_IMAGE, {"at": AT}, merge=MERGE, expires=datetime(2026, 1, 1, tzinfo=UTC))
    proxy = get(target(NW_IMAGE, expired), PROXY)
    assert (proxy.status, proxy.body) == (200, BLANK_PNG)


# ---------------------------------------------------------------------------------- oversize

OVERSIZE = {
    "w": ["8192", "99999", "99999999999999999999999", "-600", "600.5", "1e3"],
    "dpr": ["3.01", "4", "1e308", "nan", "inf", "-1", "0"],
}


@pytest.mark.parametrize("name", sorted(OVERSIZE))
def test_oversize_dimensions_and_dpr_are_refused(get: Get, name: str) -> None:
    """Oversize or non-finite `w`/`dpr` (99999, 1e308, nan, inf) → 400 naming the parameter before any render; a proxy gets the fallback."""
    for value in OVERSIZE[name]:
        query = target(IMAGE, signed(IMAGE, {"at": AT, name: value}))
        assert get(query).problem(400)["parameter"] == name, value
        proxy = get(query, PROXY)
        assert (proxy.status, proxy.header("X-Versa-Fallback")) == (200, "bad-request"), value


def test_oversize_merge_value_is_refused_without_echo(get: Get) -> None:
    """A 100 KB merge value → 400 naming the parameter; the problem does not echo the value back."""
    huge = "A" * 100_000
    answer = get(target(NW_IMAGE, signed(NW_IMAGE, {"at": AT}, merge={**MERGE, "first_name": huge})))
    doc = answer.problem(400)
    assert doc["parameter"] == "first_name"
    assert len(answer.body) < 2_000


def test_oversize_width_on_the_page_is_refused(get: Get) -> None:
    """An oversize `w` on the HTML page (copied into its image URLs) → 400 before the template runs."""
    assert get(target(PAGE, signed(PAGE, {"at": AT, "w": "100000"}, merge=MERGE))).problem(400)["parameter"] == "w"


# -------------------------------------------------------------------------------------- bidi

BIDI = ["\u202eevil\u202c", "Ana\u2067gpj.exe\u2069", "\u200fAna", "Ana\u061c", "\u2066x\u2069"]


@pytest.mark.parametrize("value", BIDI, ids=["RLO", "RLI", "RLM", "ALM", "LRI"])
def test_bidi_override_characters_in_merge_values_are_refused(get: Get, value: str) -> None:
    """Bidi override/isolate/mark characters in a merge value (spoofed text direction) → 400 naming the parameter; a proxy gets the fallback."""
    query = target(NW_IMAGE, signed(NW_IMAGE, {"at": AT}, merge={**MERGE, "first_name": value}))
    assert get(query).problem(400)["parameter"] == "first_name"
    proxy = get(query, PROXY)
    assert (proxy.status, proxy.body) == (200, _fallback("fallback-cyber-week.png"))
