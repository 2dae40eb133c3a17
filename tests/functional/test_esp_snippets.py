"""`versa sign --esp`: each email tool's snippet, filled in the way that tool fills it, works against
`versa serve`.

For every tool the test prints the snippet with the real command, then plays the tool's part with a
tiny substitution of its own merge syntax and URL-encoding (Mailchimp `*|URL:F|*`, Klaviyo's Django
`urlencode`, Braze's `url_param_escape`, AMPscript's `URLEncode(…, 1, 1)`, HubL's `urlencode`,
Iterable's `#urlEncode`) for a recipient named "Zoë & Jo" (a non-ASCII letter, a space and an
ampersand, which would split the query if a tool did not encode it). The filled image URL must answer
200 with exactly the image a URL signed for that name directly gets (and not another name's), and the
filled click link must redirect to the creative's link with the pack's campaign tags.

What this proves is Versa's side: given each tool's documented filter, the URL survives. It cannot
prove the tool applies the filter (HubSpot's HubL reference says filters on contact tokens apply on
CMS pages, not in emails; `versa sign --esp hubspot` says so), which is what the last test is about.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit

import pytest

from servers import Server, running_versa
from services import run_cli, signed_query, write_test_keys

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"
NORTHWIND = EXAMPLES / "northwind"
FIXED = "country=US&at=2026-12-02T10:00:00-06:00"
"""Signed send-time values, so the countdown and the rules are the same on every request."""
PATH = "/v1/northwind/cyber-week.png"
NAME = "Zoë & Jo"
CHROME = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36", "Accept": "image/png"}

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


# ------------------------------------------------------------------ each tool's part, in miniature


def _sfmc_encode(value: str) -> str:
    """AMPscript URLEncode(value, 1, 1): every byte that is not an ASCII letter or digit as %xx."""
    return "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02x}" for b in value.encode())


TOOLS: dict[str, tuple[str, Callable[[str], str], str]] = {
    # tool: (its merge syntax as a pattern whose group 1 is the field, its URL encoding, the field)
    "mailchimp": (r"\*\|URL:([A-Z0-9_]+)\|\*", lambda v: quote(v, safe=""), "FNAME"),
    "klaviyo": (r"\{\{ ([\w.]+)\|urlencode \}\}", lambda v: quote(v, safe="/"), "first_name"),
    "braze": (r"\{\{(?:custom_attribute\.)?\$\{(\w+)\} \| url_param_escape\}\}", lambda v: quote(v, safe="*-._"),
              "first_name"),
    "salesforce": (r"%%=URLEncode\(AttributeValue\('(\w+)'\), 1, 1\)=%%", _sfmc_encode, "FirstName"),
    "hubspot": (r"\{\{ contact\.(\w+)\|urlencode \}\}", lambda v: quote_plus(v, safe="*"), "firstname"),
    "iterable": (r"\{\{#urlEncode\}\}\{\{(\w+)\}\}\{\{/urlEncode\}\}", lambda v: quote_plus(v, safe="*"), "firstName"),
}  # fmt: skip


def fill(snippet: str, tool: str, recipient: dict[str, str]) -> str:
    """The snippet as `tool` sends it to `recipient`: every merge expression replaced by the
    recipient's field, URL-encoded the tool's way; a field the recipient lacks fails the test."""
    pattern, encode, _ = TOOLS[tool]
    filled, count = re.subn(pattern, lambda m: encode(recipient[m.group(1)]), snippet)
    assert count == 2, f"{tool}: expected one merge expression in each of the two URLs, found {count}"
    return filled


class Links(HTMLParser):
    """The `href` of the first `<a>` and the `src` of the first `<img>`."""

    def __init__(self) -> None:
        super().__init__()
        self.href = self.src = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and not self.href:
            self.href = found.get("href") or ""
        if tag == "img" and not self.src:
            self.src = found.get("src") or ""


def links(html_text: str) -> tuple[str, str]:
    parser = Links()
    parser.feed(html_text)
    return parser.src, parser.href


def get(server: Server, url: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == server.url
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=30)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}", headers=CHROME)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = write_test_keys(tmp_path_factory.mktemp("esp") / "state")
    with running_versa(EXAMPLES, state_dir=state) as server:
        yield server


def directly_signed(server: Server, name: str) -> bytes:
    """The image a URL signed for `name` itself (no template) gets."""
    query = dict(parse_qsl(FIXED))
    status, headers, body = get(server, f"{server.url}{PATH}?{urlencode(signed_query(PATH, {**query, 'first_name': name}))}")
    assert status == 200 and "x-versa-fallback" not in headers
    return body


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_snippet_filled_by_the_tool_renders_the_recipient_and_clicks_with_utm(
    tool: str, served: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the snippet `versa sign --esp` prints for the tool
    _, _, field = TOOLS[tool]
    keys = served.state / "keys.json"
    code, out, err = run_cli(
        capsys, "sign", f"{PATH}?{FIXED}", "--merge", f"first_name={field}", "--esp", tool,
        "--keys", str(keys), "--base-url", served.url, "--pack", str(NORTHWIND),
    )  # fmt: skip
    assert code == 0, err
    assert "first_name <- " in err and field in err

    # WHEN the tool fills it for a recipient
    img, click = links(fill(out, tool, {field: NAME}))

    # THEN the image is the recipient's: the very bytes a URL signed for that name gets, not another's
    status, headers, body = get(served, img)
    assert status == 200, body[:300]
    assert headers["content-type"] == "image/png"
    assert "x-versa-fallback" not in headers
    assert body == directly_signed(served, NAME)
    assert body != directly_signed(served, "Ana")

    # AND the click redirects to the creative's link with the pack's and the creative's campaign tags
    status, headers, _ = get(served, click)
    assert status == 302
    location = urlsplit(headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://northwind.example/cyber"
    assert dict(parse_qsl(location.query)) == {
        "utm_source": "northwind-email", "utm_medium": "email",
        "utm_campaign": "cyber-week-2026", "utm_content": "header",
    }  # fmt: skip


def test_a_tool_that_did_not_encode_would_break_the_url(served: Server, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a Mailchimp snippet filled with the raw name (every character encoded but the ampersand)
    code, out, err = run_cli(
        capsys, "sign", f"{PATH}?{FIXED}", "--merge", "first_name=FNAME", "--esp", "mailchimp",
        "--keys", str(served.state / "keys.json"), "--base-url", served.url, "--pack", str(NORTHWIND),
    )  # fmt: skip
    assert code == 0, err
    img, _ = links(out.replace("*|URL:FNAME|*", quote(NAME, safe="&")))

    # WHEN it is fetched THEN the '&' split the value: the name is cut and an unsigned parameter was
    # added, so the signature fails (403 to a browser), which is why every snippet encodes
    status, _, _ = get(served, img)
    assert status == 403


def test_merge_parameter_the_creative_does_not_declare_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "sign", PATH, "--merge", "surname", "--esp", "braze", "--pack", str(NORTHWIND),
    )  # fmt: skip
    assert code == 1
    assert "'surname' is not a merge parameter of northwind/cyber-week" in err
    assert "first_name, tier, uid" in err


def test_field_that_could_break_the_template_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "sign", PATH, "--merge", "first_name=x}}<script>", "--esp", "klaviyo", "--pack", str(NORTHWIND),
    )  # fmt: skip
    assert code == 1
    assert "field 'x}}<script>' for Klaviyo" in err
