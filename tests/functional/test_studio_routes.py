"""The preview studio's routes over real HTTP, without a browser.

One `versa serve` (the real command, as `make run` starts it) serves the example packs on a free
loopback port with a temporary state directory; each test asks one studio route with good or bad input
and checks the status, the content type, the shape of the body and, for bad input, that the problem
names the input. The signed URLs the studio hands out are then fetched from the same server, so a
test fails if the studio signs something the render routes refuse.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from servers import running_versa

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"
PROBLEM = "application/problem+json"


# ------------------------------------------------------------------------------------------ server


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Studio:
    url: str

    def get(self, target: str, query: Mapping[str, str] | None = None) -> Reply:
        if query is not None:
            target += "?" + urlencode(query)
        host, port = self.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request("GET", target)
            resp = conn.getresponse()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    """`versa serve` over the example packs (local development key in a temporary state directory)."""
    with running_versa(EXAMPLES, state_dir=tmp_path_factory.mktemp("studio") / "state") as server:
        yield Studio(server.url)


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body[:300]
    assert reply.header("Content-Type") == PROBLEM
    doc: dict[str, Any] = reply.json()
    assert doc["status"] == status and doc["title"] and doc["detail"]
    return doc


WINTER = {"brand": "acme", "creative": "winter-sale"}
WELCOME = {"brand": "northwind", "creative": "welcome"}


# -------------------------------------------------------------------------------------------- page


class Fields(HTMLParser):
    """The names of form controls and the values of <option>s in each <datalist>/<select>."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: set[str] = set()
        self.options: dict[str, list[str]] = {}
        self._list: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select") and a.get("name"):
            self.controls.add(str(a["name"]))
        if tag in ("datalist", "select"):
            self._list = str(a.get("id") or a.get("name"))
            self.options.setdefault(self._list, [])
        if tag == "option" and self._list is not None:
            self.options[self._list].append(str(a.get("value")))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("datalist", "select"):
            self._list = None


def parse_page(reply: Reply) -> Fields:
    fields = Fields()
    fields.feed(reply.body.decode())
    return fields


@pytest.mark.parametrize("path", ["/", "/studio", "/studio/"])
def test_page_is_served_with_its_security_headers(studio: Studio, path: str) -> None:
    # WHEN the studio page is asked for
    reply = studio.get(path)
    # THEN it is HTML that is never cached, with a strict CSP, listing every brand
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("Cache-Control") == "no-store"
    assert "default-src 'none'" in reply.header("Content-Security-Policy")
    assert reply.header("X-Content-Type-Options") == "nosniff"
    page = parse_page(reply)
    assert page.options["f-brand"] == ["acme", "lumen", "northwind"]
    assert page.options["f-creative"] == ["winter-sale", "leaderboard"]  # acme's, the first brand


def test_page_for_a_creative_offers_its_parameters_and_the_countries_its_rules_mention(
    studio: Studio,
) -> None:
    # WHEN the page is asked for northwind's welcome creative
    page = parse_page(studio.get("/", WELCOME))
    # THEN its declared parameters are fields (prefixed, so they never clash with the studio's own)
    assert {"p.first_name", "country", "tz", "at", "device", "lang", "client", "fmt", "dpr"} <= page.controls
    # AND the country suggestions are those the rules mention (welcome's Spanish rule)
    assert {"ES", "MX"} <= set(page.options["countries"])
    acme = parse_page(studio.get("/", WINTER))
    assert {"DE", "AT", "CH", "FR"} <= set(acme.options["countries"])
    assert "p.first_name" not in acme.controls


def test_page_for_an_unknown_brand_falls_back_to_the_first(studio: Studio) -> None:
    reply = studio.get("/", {"brand": "<nope>"})
    assert reply.status == 200
    assert b"<nope>" not in reply.body  # never echoed unescaped


# -------------------------------------------------------------------------------------------- urls


def test_urls_are_signed_for_the_simulated_context_and_served(studio: Studio) -> None:
    # GIVEN a simulated German evening on a phone
    form = {**WINTER, "country": "DE", "tz": "Europe/Berlin", "at": "2026-12-01T19:30", "device": "mobile"}
    # WHEN the studio is asked for URLs
    reply = studio.get("/studio/urls", form)
    # THEN it answers JSON with every URL signed, the size, the dpr and the query it signed
    assert reply.status == 200, reply.body[:300]
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("Cache-Control") == "no-store"
    body = reply.json()
    assert set(body) == {
        "image_url", "decision_url", "click_url", "html_url", "size", "dpr", "query", "pack_version",
    }  # fmt: skip
    assert body["size"] == [600, 300] and body["dpr"] == 1.0
    assert body["query"] == {
        "country": "DE",
        "tz": "Europe/Berlin",
        "device": "mobile",
        "at": "2026-12-01T19:30:00+01:00",  # the local time, in the simulated zone
    }
    image = urlsplit(body["image_url"])
    assert image.path == "/v1/acme/winter-sale.png"
    assert "sig" in parse_qs(image.query)
    assert "scope" in parse_qs(urlsplit(body["decision_url"]).query)
    # AND the server serves what the studio signed
    png = studio.get(body["image_url"])
    assert (png.status, png.header("Content-Type")) == (200, "image/png"), png.body[:300]
    decision = studio.get(body["decision_url"])
    assert decision.status == 200, decision.body[:300]
    assert "dach" in json.dumps(decision.json())  # the German rule matched
    html = studio.get(body["html_url"])
    assert (html.status, html.header("Content-Type").split(";")[0]) == (200, "text/html")


def test_urls_at_another_size_name_it_in_the_path(studio: Studio) -> None:
    # GIVEN acme/winter-sale asked at its leaderboard size
    reply = studio.get("/studio/urls", {**WINTER, "size": "728x90", "country": "DE"})
    assert reply.status == 200, reply.body[:300]
    body = reply.json()
    # THEN the image, decision and HTML URLs name the size in their path; the query is unchanged
    assert body["size"] == [728, 90]
    assert urlsplit(body["image_url"]).path == "/v1/acme/winter-sale@728x90.png"
    assert urlsplit(body["decision_url"]).path == "/v1/acme/winter-sale@728x90/decision"
    assert urlsplit(body["html_url"]).path == "/v1/acme/winter-sale@728x90.html"
    assert body["query"] == {"country": "DE"}
    # AND the server renders that size for them
    png = studio.get(body["image_url"])
    assert png.status == 200 and png.body[16:24] == (728).to_bytes(4, "big") + (90).to_bytes(4, "big")
    assert "728x90" in json.dumps(studio.get(body["decision_url"]).json())
    # AND the first size keeps the plain path, as published
    first = studio.get("/studio/urls", {**WINTER, "size": "600x300"}).json()
    assert urlsplit(first["image_url"]).path == "/v1/acme/winter-sale.png" and first["size"] == [600, 300]


def test_urls_carry_declared_parameters_and_formats(studio: Studio) -> None:
    reply = studio.get("/studio/urls", {**WELCOME, "p.first_name": "Søren", "fmt": "webp", "dpr": "2"})
    assert reply.status == 200, reply.body[:300]
    body = reply.json()
    assert body["query"] == {"first_name": "Søren", "dpr": "2"}
    assert body["dpr"] == 2.0 and body["size"] == [600, 200]
    assert urlsplit(body["image_url"]).path == "/v1/northwind/welcome.webp"
    assert body["html_url"] is None  # welcome has no HTML template
    image = studio.get(body["image_url"])
    assert (image.status, image.header("Content-Type")) == (200, "image/webp"), image.body[:300]


@pytest.mark.parametrize(
    ("change", "parameter", "field"),
    [
        ({"fmt": "bmp"}, "fmt", "fmt"),
        ({"tz": "Mars/Olympus"}, "tz", "tz"),
        ({"at": "yesterday"}, "at", "at"),
        ({"dpr": "9"}, "dpr", "dpr"),
        ({"country": "Germany"}, "country", "country"),
        ({"device": "fridge"}, "device", "device"),
        ({"p.first_name": "A" * 40}, "first_name", "p.first_name"),
        ({"size": "728x90"}, "size", "size"),  # a size, but not one welcome comes in
    ],
)
def test_urls_name_the_bad_input(studio: Studio, change: dict[str, str], parameter: str, field: str) -> None:
    # WHEN one input is bad
    reply = studio.get("/studio/urls", {**WELCOME, **change})
    # THEN a 400 problem names it (its query name and its form field), its value and what is allowed
    doc = assert_problem(reply, 400)
    assert doc["parameter"] == parameter
    assert doc["field"] == field
    assert doc["allowed"]
    value = next(iter(change.values()))
    assert value in doc["detail"] or repr(value) in doc["detail"]


@pytest.mark.parametrize("route", ["/studio/urls", "/studio/variants"])
@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"brand": "nobody", "creative": "winter-sale"}, "nobody"),
        ({"brand": "acme", "creative": "summer"}, "summer"),
        ({}, ""),
    ],
)
def test_unknown_brand_or_creative_is_404(studio: Studio, route: str, form: dict[str, str], named: str) -> None:
    doc = assert_problem(studio.get(route, form), 404)
    assert named in doc["detail"]


# ---------------------------------------------------------------------------------------- variants


def test_variants_list_each_design_with_an_example(studio: Studio) -> None:
    # WHEN the studio lists acme/winter-sale's variants
    reply = studio.get("/studio/variants", WINTER)
    # THEN JSON with the exact count, every variant listed with its key and an example context
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    body = reply.json()
    assert isinstance(body["count"], int) and body["count"] > 1
    assert body["listed"] == len(body["variants"]) == min(body["count"], 400)
    keys = [variant["design_key"] for variant in body["variants"]]
    assert len(set(keys)) == len(keys)
    assert all(set(v) >= {"design_key", "contexts", "matched", "example", "locale"} for v in body["variants"])
    # AND the studio (which previews the first size) lists that size's designs, covering each context
    # cell once, and says how many there are with every size (designs x sizes)
    first, per = next(iter(body["sizes"].items()))
    assert body["size"] == first and body["count"] == per
    assert {v["size"] for v in body["variants"]} == {first}
    assert sum(v["contexts"] for v in body["variants"]) == body["combinations"]
    assert body["all_count"] == sum(body["sizes"].values()) > body["count"] and len(body["sizes"]) == 11
    # AND asking again answers the same (cached per pack version)
    assert studio.get("/studio/variants", WINTER).json() == body
    # AND at another size, that size's designs (each context cell once again)
    other, per_other = list(body["sizes"].items())[2]
    at_other = studio.get("/studio/variants", {**WINTER, "size": other}).json()
    assert at_other["size"] == other and at_other["count"] == per_other
    assert {v["size"] for v in at_other["variants"]} == {other}
    assert sum(v["contexts"] for v in at_other["variants"]) == at_other["combinations"]
    assert at_other["all_count"] == body["all_count"]
    assert not {v["design_key"] for v in at_other["variants"]} & set(keys)  # the size is in the design key


def test_variants_name_a_size_the_creative_lacks(studio: Studio) -> None:
    doc = assert_problem(studio.get("/studio/variants", {**WELCOME, "size": "300x250"}), 400)
    assert doc["parameter"] == "size" and doc["field"] == "size" and "600x200" in doc["allowed"]


# ------------------------------------------------------------------------------------------ assets


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("studio.css", "text/css; charset=utf-8"), ("studio.js", "text/javascript; charset=utf-8")],
)
def test_assets_are_served_with_their_type(studio: Studio, name: str, content_type: str) -> None:
    reply = studio.get(f"/studio/assets/{name}")
    assert (reply.status, reply.header("Content-Type")) == (200, content_type)
    assert len(reply.body) > 100


@pytest.mark.parametrize(
    "path",
    ["/studio/assets/studio.html", "/studio/assets/../studio.html", "/studio/assets/%2e%2e%2fkeys.json"],
)
def test_only_the_listed_assets_are_served(studio: Studio, path: str) -> None:
    doc = assert_problem(studio.get(path), 404)
    assert "asset" in doc["detail"] or "route" in doc["detail"]


def test_unknown_studio_route_is_a_404_naming_the_path(studio: Studio) -> None:
    doc = assert_problem(studio.get("/studio/nope"), 404)
    assert "/studio/nope" in doc["detail"]


def test_page_boot_data_cannot_close_its_script(studio: Studio) -> None:
    # The boot JSON sits in a <script>: a value with '</script>' must not end it early.
    reply = studio.get("/", {**WINTER, "creative": "</script><script>alert(1)</script>"})
    assert reply.status == 200
    assert reply.body.count(b"</script>") == reply.body.count(b"<script")


# ------------------------------------------------------------------------------------------ lint


def test_lint_lists_what_versa_lint_finds_per_creative(studio: Studio) -> None:
    from versa.authoring.lint import lint
    from versa.pack.loader import load_pack, locate_in_pack
    from versa.render.checks import PACK_CHECKS

    # GIVEN what `versa lint` finds in northwind, located
    pack = load_pack(EXAMPLES / "northwind", checks=PACK_CHECKS)
    expected = locate_in_pack(pack.root, lint(pack))

    # WHEN the studio's lint route is asked for the brand
    reply = studio.get("/studio/lint", {"brand": "northwind"})

    # THEN it lists the same findings, each under its creative with its line and column
    assert reply.status == 200 and reply.header("Cache-Control") == "no-store"
    report = reply.json()
    shown = [
        (f["path"], f["message"], f["severity"], f["line"], f["column"])
        for group in report["creatives"]
        for f in group["findings"]
    ]
    assert sorted(shown, key=str) == sorted(((i.path, i.message, i.severity, i.line, i.column) for i in expected), key=str)
    assert [g["creative"] for g in report["creatives"]][: len(pack.model.creatives)] == list(pack.model.creatives)
    assert report["version"] == pack.version
    assert (report["errors"], report["warnings"]) == (
        sum(i.severity == "error" for i in expected),
        sum(i.severity != "error" for i in expected),
    )


def test_lint_of_an_unknown_brand_is_404(studio: Studio) -> None:
    doc = assert_problem(studio.get("/studio/lint", {"brand": "nobody"}), 404)
    assert "nobody" in doc["detail"]
