"""Browser tests: the preview studio and pages that embed creatives, in headless Chromium.

A session fixture starts `versa serve` (the real CLI, as `make run` does) on a free loopback port with
the example packs and a temporary state directory, and stops it at the end. Chromium is the Debian
package at /usr/bin/chromium driven by Playwright (Playwright's own browser download is not used).
Screenshots land in tests/output/screenshots/ so a person can look at what the browser saw.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from chromium import E2E, READY_MS, ROOT, SHOTS

from servers import running_versa

pytestmark = E2E


# ------------------------------------------------------------------------------------------ server


@dataclass(frozen=True)
class Server:
    url: str
    state_dir: Path

    def sign(self, path: str, query: dict[str, str], scope: str | None = None) -> str:
        """An absolute signed URL, made with the server's own development key (as an email tool would)."""
        from versa.signing.devkeys import load_or_create_dev_keyring
        from versa.signing.signer import signed_url

        keyring = load_or_create_dev_keyring(self.state_dir)
        return self.url + signed_url(path, query, keyring, scope=scope)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`versa serve` on the example packs, on a free loopback port, state in a temporary directory. The
    render budget is generous: these tests are about the studio, and a first render on a busy machine
    (fonts, locale data) must not turn into the fallback the budget would serve."""
    state = tmp_path_factory.mktemp("versa-state")
    budget = {"VERSA_RENDER_BUDGET_MS": "30000"}
    with running_versa(ROOT / "examples" / "packs", state_dir=state, env=budget) as served:
        yield Server(served.url, state)


# ----------------------------------------------------------------------------------------- browser


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab; fails the test on any uncaught page error (a script bug, an injected script)."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_dialog(dialog: Any) -> None:  # an alert() would mean injected markup ran
        errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield tab
    tab.close()
    assert not errors, errors


def studio_url(server: Server, **form: str) -> str:
    return f"{server.url}/?{urlencode(form)}"


def wait_ready(page: Any, *, other_than: str | None = None) -> dict[str, Any]:
    """Wait until the studio shows a loaded image and its decision (a new variant, if `other_than`);
    return what it shows."""
    page.wait_for_function(
        """prev => document.body.dataset.state === 'error' || (document.body.dataset.state === 'ready'
               && document.body.dataset.variant !== prev && document.getElementById('creative').complete)""",
        arg=other_than,
        timeout=READY_MS,
    )
    if page.evaluate("document.body.dataset.state") == "error":
        pytest.fail("the studio shows an error: " + page.inner_text("#error"))
    shown: dict[str, Any] = page.evaluate(
        """() => {
          const img = document.getElementById('creative');
          const headers = {};
          const dl = [...document.querySelectorAll('#headers dt, #headers dd')];
          for (let i = 0; i + 1 < dl.length; i += 2) headers[dl[i].textContent] = dl[i + 1].textContent;
          return {
            src: img.currentSrc, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
            variant: document.body.dataset.variant, headers,
            trace: Object.fromEntries([...document.querySelectorAll('#trace li')].map(
              li => [li.querySelector('.rule').textContent, li.querySelector('.mark').textContent])),
            provenance: Object.fromEntries([...document.querySelectorAll('#provenance tbody tr')].map(
              tr => [tr.cells[0].textContent, tr.cells[2].querySelector('.src').textContent])),
          };
        }"""
    )
    return shown


def image_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return bytes(resp.read())


def shot(page: Any, name: str, *, full_page: bool = True, studio: bool = True) -> Path:
    """Save a screenshot (of a studio page once its variant list is in) under tests/output/screenshots."""
    if studio:
        page.wait_for_function("() => document.querySelectorAll('#variants li').length > 0", timeout=READY_MS)
    page.evaluate("() => window.scrollTo(0, 0)")  # sticky bars would otherwise be drawn mid-page
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# ------------------------------------------------------------------------------------------- tests


def test_studio_country_and_time_change_the_image(server: Server, page: Any) -> None:
    # GIVEN the studio on acme/winter-sale for a US desktop viewer on a Tuesday morning in New York
    page.goto(
        studio_url(
            server,
            brand="acme",
            creative="winter-sale",
            country="US",
            tz="America/New_York",
            at="2026-12-01T08:30",
            device="desktop",
            client="browser",
            fmt="png",
            dpr="1",
        )
    )
    us = wait_ready(page)
    shot(page, "studio-acme-us-morning")

    # THEN the creative image loaded at 1x, with the headers of its response
    assert (us["naturalWidth"], us["naturalHeight"]) == (600, 300)
    assert us["headers"]["Status"].startswith("200")
    assert us["headers"]["Content-Type"] == "image/png"
    assert "max-age=" in us["headers"]["Cache-Control"]
    assert us["headers"]["ETag"].startswith('"')
    assert us["headers"]["X-Versa-Variant"] == us["variant"]  # image route and decision route agree
    assert "X-Versa-Fallback" not in us["headers"]
    assert us["trace"]["morning-copy"] == "✓"
    assert us["trace"]["dach"] == "·"
    assert us["provenance"]["country"] == "signed"
    us_bytes = image_bytes(us["src"])

    # WHEN the simulated country changes to Germany
    page.fill("#f-country", "DE")
    de = wait_ready(page, other_than=us["variant"])
    shot(page, "studio-acme-de-morning")

    # THEN the dach rule matched and a different image (bytes, ETag, variant) is shown
    assert de["trace"]["dach"] == "✓"
    assert de["naturalWidth"] == 600
    assert de["headers"]["X-Versa-Variant"] == de["variant"] != us["variant"]
    assert de["headers"]["ETag"] != us["headers"]["ETag"]
    de_bytes = image_bytes(de["src"])
    assert de_bytes != us_bytes

    # WHEN the local time moves from morning to evening
    page.fill("#f-at", "2026-12-01T19:30")
    evening = wait_ready(page, other_than=de["variant"])
    shot(page, "studio-acme-de-evening")

    # THEN the evening rule matched and the image changed again
    assert evening["trace"]["evening-dark"] == "✓"
    assert evening["trace"]["morning-copy"] == "·"
    assert evening["trace"]["dach"] == "✓"
    assert evening["headers"]["ETag"] != de["headers"]["ETag"]
    assert image_bytes(evening["src"]) not in (de_bytes, us_bytes)
    # the page URL keeps the form, so a reload (or a shared link) shows the same viewer
    assert "country=DE" in page.url and "at=2026-12-01T19" in page.url


def test_studio_daypart_shortcut_and_dpr(server: Server, page: Any) -> None:
    # GIVEN the studio on the northwind welcome header for a viewer in Madrid at night
    page.goto(
        studio_url(
            server,
            brand="northwind",
            creative="welcome",
            country="ES",
            tz="Europe/Madrid",
            at="2026-12-02T23:30",
            device="desktop",
            client="browser",
            fmt="png",
        )
    )
    night = wait_ready(page)
    assert night["trace"]["spanish"] == "✓" and night["trace"]["morning"] == "·"

    # WHEN the "morning" shortcut is clicked and the DPR doubled
    page.click("button.chip:text-is('morning')")
    morning = wait_ready(page, other_than=night["variant"])
    assert morning["trace"]["morning"] == "✓"
    page.fill("#f-dpr", "2")
    page.wait_for_function(
        "() => document.getElementById('creative').naturalWidth === 1200", timeout=READY_MS
    )

    # THEN the 2x image is still shown at its 1x size (600 CSS px wide)
    box = page.locator("#creative").bounding_box()
    assert box is not None and round(box["width"]) == 600
    shot(page, "studio-northwind-welcome-morning-2x")


def test_studio_switches_creative_keeping_the_viewer(server: Server, page: Any) -> None:
    # GIVEN the studio on acme/winter-sale for a viewer in Germany
    page.goto(
        studio_url(
            server,
            brand="acme",
            creative="winter-sale",
            country="DE",
            tz="Europe/Berlin",
            at="2026-12-01T19:30",
            device="desktop",
            client="browser",
            fmt="png",
        )
    )
    wait_ready(page)
    shot(page, "studio-overview", full_page=False)  # the README's picture of the studio

    # WHEN the creative select changes to the leaderboard
    with page.expect_navigation():
        page.select_option("#f-creative", "leaderboard")
    leaderboard = wait_ready(page)

    # THEN the page reloads for it with the same simulated viewer, and its own rules decide
    assert (leaderboard["naturalWidth"], leaderboard["naturalHeight"]) == (728, 90)
    assert page.input_value("#f-country") == "DE" and page.input_value("#f-tz") == "Europe/Berlin"
    assert leaderboard["trace"] == {"dach": "✓", "gulf": "·", "japan": "·", "chinese": "·"}


def test_studio_size_picker_changes_the_preview_and_the_list(server: Server, page: Any) -> None:
    # GIVEN the studio on acme/winter-sale (several sizes) for a viewer in Germany, at its first size
    page.goto(studio_url(server, brand="acme", creative="winter-sale", country="DE", tz="Europe/Berlin",
                         at="2026-12-01T19:30", device="desktop", client="browser", fmt="png", dpr="1"))  # fmt: skip
    first = wait_ready(page)
    sizes = page.eval_on_selector_all("#f-size option", "options => options.map(o => [o.value, o.textContent])")
    assert len(sizes) > 2 and page.input_value("#f-size") == sizes[0][0]
    assert sizes[0][1].endswith("default")
    page.wait_for_function("() => document.body.dataset.variantsSize !== undefined", timeout=READY_MS)
    first_keys = page.eval_on_selector_all("#variants li", "items => items.map(li => li.dataset.key)")
    assert first["variant"] in first_keys

    # WHEN another size is picked
    value = sizes[2][0]
    width, height = (int(n) for n in value.split("x"))
    page.select_option("#f-size", value)
    picked = wait_ready(page, other_than=first["variant"])
    page.wait_for_function("size => document.body.dataset.variantsSize === size", arg=value, timeout=READY_MS)

    # THEN the preview is that size, from its @WxH path, and says so
    assert (picked["naturalWidth"], picked["naturalHeight"]) == (width, height)
    assert f"/v1/acme/winter-sale@{value}.png?" in picked["src"]
    assert picked["headers"]["X-Versa-Variant"] == picked["variant"] != first["variant"]
    assert page.inner_text("#meta").startswith(f"{width}×{height} at 1x")
    assert picked["trace"]["dach"] == "✓"  # the same viewer, decided again
    # AND the variant list is that size's designs (the size is part of a design key), the shown one current
    keys = page.eval_on_selector_all("#variants li", "items => items.map(li => li.dataset.key)")
    assert keys and not set(keys) & set(first_keys)
    assert int(page.inner_text("#variant-count")) == len(keys)
    assert f"at {width}×{height}" in page.inner_text("#variant-note")
    assert page.get_attribute(f'#variants li[data-key="{picked["variant"]}"]', "class") == "current"
    assert f"size={value}" in page.url  # a reload or a shared link keeps the size
    shot(page, "studio-acme-size-picker")

    # WHEN a variant of the list is picked, THEN it loads at the picked size
    other = next(i for i, key in enumerate(keys) if key != picked["variant"])
    page.click(f"#variants li:nth-child({other + 1}) button")
    jumped = wait_ready(page, other_than=picked["variant"])
    assert jumped["variant"] == keys[other]
    assert (jumped["naturalWidth"], jumped["naturalHeight"]) == (width, height)

    # WHEN the page is reloaded, THEN the size is still picked and previewed
    page.reload()
    again = wait_ready(page)
    assert page.input_value("#f-size") == value
    assert (again["naturalWidth"], again["naturalHeight"]) == (width, height)

    # WHEN another creative is chosen, THEN it opens at its own first size
    with page.expect_navigation():
        page.select_option("#f-creative", "leaderboard")
    leaderboard = wait_ready(page)
    leaderboard_sizes = page.eval_on_selector_all("#f-size option", "options => options.map(o => o.value)")
    assert page.input_value("#f-size") == leaderboard_sizes[0]
    assert "{}x{}".format(leaderboard["naturalWidth"], leaderboard["naturalHeight"]) == leaderboard_sizes[0]


def test_studio_names_a_bad_parameter_and_escapes_it(server: Server, page: Any) -> None:
    # GIVEN the studio on northwind/cyber-week, whose first_name is a merge parameter
    page.goto(
        studio_url(
            server,
            brand="northwind",
            creative="cyber-week",
            country="US",
            tz="America/Chicago",
            at="2026-12-01T10:00",
        )
    )
    wait_ready(page)

    # WHEN a designer types markup into it
    page.fill("#f-p\\.first_name", '<img src=x onerror="alert(1)">')

    # THEN a visible error names the parameter and what it allows; nothing of the value runs
    error = page.locator("#error")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "first_name" in text and "at most 24" in text
    assert page.get_attribute("#f-p\\.first_name", "aria-invalid") == "true"
    assert page.evaluate("document.body.dataset.state") == "error"
    assert page.locator("#error img").count() == 0
    shot(page, "studio-northwind-bad-parameter", full_page=False)

    # WHEN the value is fixed, the error goes away
    page.fill("#f-p\\.first_name", "Søren")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=READY_MS)
    assert not error.is_visible()


@pytest.mark.parametrize(
    ("brand", "creative", "picks"), [("acme", "winter-sale", 6), ("northwind", "cyber-week", 6)]
)
def test_studio_variant_jump_reproduces_each_variant(
    server: Server, page: Any, brand: str, creative: str, picks: int
) -> None:
    # GIVEN the studio and the creative's enumerated variants
    page.goto(studio_url(server, brand=brand, creative=creative))
    state = wait_ready(page)
    page.wait_for_selector("#variants li")
    keys = page.eval_on_selector_all("#variants li", "items => items.map(li => li.dataset.key)")
    count = int(page.inner_text("#variant-count"))
    assert count == len(keys) or len(keys) == 400
    # WHEN each of a spread of variants is picked, THEN the real request path lands on that design key
    step = max(1, len(keys) // picks)
    for index in range(0, len(keys), step)[:picks]:
        page.click(f"#variants li:nth-child({index + 1}) button")
        if keys[index] != state["variant"]:
            state = wait_ready(page, other_than=state["variant"])
        assert state["variant"] == keys[index], f"variant #{index} example decided differently"
        assert state["naturalWidth"] > 0
        assert page.locator(f"#variants li:nth-child({index + 1})").get_attribute("class") == "current"
    shot(page, f"studio-{brand}-{creative}-variant-jump")


def test_page_embedding_creatives_by_img_src_loads_them(server: Server, page: Any, tmp_path: Path) -> None:
    # GIVEN a plain HTML page on disk that embeds signed creative URLs, as a site or an email would
    us = server.sign(
        "/v1/acme/winter-sale.png",
        {"country": "US", "tz": "America/New_York", "at": "2026-12-01T08:30:00-05:00"},
    )
    de = server.sign(
        "/v1/acme/winter-sale.png",
        {"country": "DE", "tz": "Europe/Berlin", "at": "2026-12-01T19:30:00+01:00"},
    )
    email = server.sign(
        "/v1/northwind/cyber-week.gif",
        {"first_name": "Ana", "tier": "gold", "uid": "u7", "at": "2026-12-01T10:00:00-06:00"},
    )
    leaderboard = server.sign("/v1/acme/leaderboard.png", {})
    embeds = [
        ("us", us, 600, 300),
        ("de", de, 600, 300),
        ("email", email, 600, 240),
        ("leaderboard", leaderboard, 728, 90),
    ]
    tags = "".join(
        f'<p><img id="{name}" src="{escape(url)}" width="{w}" height="{h}" alt="{name}"></p>'
        for name, url, w, h in embeds
    )
    page_file = tmp_path / "embed.html"
    page_file.write_text(
        '<!doctype html><meta charset="utf-8"><title>Embeds</title>'
        '<body style="font-family:sans-serif;background:#eee;margin:24px">'
        f'<h1 style="font-size:16px">Creatives embedded with &lt;img src&gt;</h1>{tags}</body>'
    )

    # WHEN Chromium opens it from file://
    page.goto(page_file.as_uri())
    page.wait_for_function("() => [...document.images].every(img => img.complete)", timeout=READY_MS)
    shot(page, "embed-img-src", studio=False)

    # THEN every image loaded with its natural size
    sizes = page.evaluate(
        "Object.fromEntries([...document.images].map(i => [i.id, [i.naturalWidth, i.naturalHeight]]))"
    )
    assert sizes == {"us": [600, 300], "de": [600, 300], "email": [600, 240], "leaderboard": [728, 90]}
    assert image_bytes(us) != image_bytes(de)


@pytest.mark.parametrize(
    ("brand", "creative", "query"),
    [
        ("acme", "winter-sale", {"country": "DE", "tz": "Europe/Berlin", "at": "2026-12-01T19:30:00+01:00"}),
        (
            "northwind",
            "cyber-week",
            {"first_name": "Mei-Ling", "tier": "gold", "uid": "u2", "at": "2026-12-01T10:00:00-06:00"},
        ),
    ],
)
def test_html_route_renders_its_template_and_images(
    server: Server, page: Any, brand: str, creative: str, query: dict[str, str]
) -> None:
    # GIVEN the signed .html URL of a creative that has a template
    url = server.sign(f"/v1/{brand}/{creative}.html", query)

    # WHEN Chromium opens it
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert "default-src 'none'" in (response.headers.get("content-security-policy") or "")
    page.wait_for_function(
        "() => document.images.length > 0 && [...document.images].every(img => img.complete)",
        timeout=READY_MS,
    )
    shot(page, f"html-{brand}-{creative}", studio=False)

    # THEN its <picture>/<img> loaded (Chromium picked a source the server rendered)
    images = page.evaluate("[...document.images].map(i => ({src: i.currentSrc, w: i.naturalWidth}))")
    assert images and all(image["w"] > 0 for image in images), images
    for image in images:
        assert image["src"].startswith(f"{server.url}/v1/{brand}/{creative}.")
        assert image_bytes(image["src"])  # the chosen source answers 200 on its own, too
