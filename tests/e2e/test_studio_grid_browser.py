"""Browser tests of the studio's grid, time travel and "as seen by", in headless Chromium.

`versa serve` (the real command) serves the example packs on a free loopback port; the page is driven
as a designer would: type a matrix, tick "every distinct design", step the clock, and read what each
email client is served. Screenshots land in tests/output/screenshots/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from chromium import E2E, READY_MS, ROOT, SHOTS

from servers import running_versa

pytestmark = E2E


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("versa-state")
    with running_versa(ROOT / "examples" / "packs", state_dir=state, env={"VERSA_RENDER_BUDGET_MS": "30000"}) as served:
        yield served.url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    tab.close()
    assert not errors, errors


def wait_all(page: Any) -> None:
    """Until the preview, the grid (thumbnails loaded) and "as seen by" are all shown."""
    page.wait_for_function(
        """() => ['ready', 'error'].includes(document.body.dataset.state)
               && ['ready', 'error'].includes(document.body.dataset.grid)
               && ['ready', 'error'].includes(document.body.dataset.seen)""",
        timeout=READY_MS * 3,
    )
    assert page.evaluate("document.body.dataset.state") == "ready", page.inner_text("#error")


def cells(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(
        """() => [...document.querySelectorAll('#grid-cells li')].map(li => ({
             ctx: li.querySelector('.ctx').textContent, rules: li.querySelector('.rules').textContent,
             key: li.dataset.key, daypart: li.dataset.daypart,
             loaded: li.querySelector('img').complete && li.querySelector('img').naturalWidth > 0}))"""
    ))  # fmt: skip


def seen(page: Any) -> dict[str, dict[str, Any]]:
    return dict(page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#seen-list li')].map(li => [li.dataset.client, {
             type: li.dataset.type, frames: Number(li.dataset.frames), shown: li.dataset.shown,
             variant: li.dataset.variant, src: li.querySelector('img').src.slice(0, 22),
             text: li.textContent}]))"""
    ))  # fmt: skip


def step(page: Any, selector: str, *, moment_was: str) -> None:
    """Click a time-travel button and wait until the new moment is shown everywhere."""
    page.click(selector)
    page.wait_for_function("prev => document.body.dataset.moment !== prev", arg=moment_was, timeout=READY_MS)
    page.wait_for_function("() => document.body.dataset.grid === 'loading' || document.body.dataset.grid === 'ready'")
    wait_all(page)


def variant_count(brand: str, creative: str) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "versa.cli", "variants", str(ROOT / "examples" / "packs" / brand), creative, "--json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(json.loads(out.stdout)[0]["count"])


def test_grid_of_a_matrix_and_of_every_design(server_url: str, page: Any) -> None:
    # GIVEN the studio on acme/winter-sale for a New York viewer on a Tuesday evening
    form = {"brand": "acme", "creative": "winter-sale", "tz": "America/New_York", "at": "2026-12-01T19:30", "fmt": "png"}
    page.goto(f"{server_url}/?{urlencode(form)}")
    wait_all(page)
    # WHEN a 3 x 2 matrix is asked for
    page.fill("#grid-matrix", "country=US,DE,JP device=mobile,desktop")
    page.click("#grid-run")
    page.wait_for_function("() => document.querySelectorAll('#grid-cells li').length === 6")
    wait_all(page)
    grid = cells(page)
    # THEN six thumbnails, loaded, labelled with their context and the rules that fired
    assert [c["ctx"] for c in grid][:3] == [
        "country=US · device=mobile", "country=US · device=desktop", "country=DE · device=mobile"
    ]
    assert all(c["loaded"] for c in grid)
    assert "dach" in grid[2]["rules"] and "dach" not in grid[0]["rules"]
    assert all("evening-dark" in c["rules"] for c in grid)
    assert len({c["key"] for c in grid}) == 6
    page.locator("#grid").screenshot(path=str(SHOTS / "studio-grid-matrix.png"))

    # WHEN the matrix names a value no device has
    page.fill("#grid-matrix", "device=phone")
    page.click("#grid-run")
    page.wait_for_function("() => document.body.dataset.grid === 'error'")
    # THEN the note says what is allowed
    assert "device=phone: not allowed (allowed: mobile, tablet, desktop, tv)" in page.inner_text("#grid-note")

    # WHEN every distinct design is asked for on a creative with few enough of them
    page.goto(f"{server_url}/?{urlencode({'brand': 'northwind', 'creative': 'welcome'})}")
    wait_all(page)
    page.check("#grid-all")
    page.wait_for_function("() => document.getElementById('grid-note').textContent.includes('every design')")
    wait_all(page)
    # THEN one cell per variant that `versa variants` counts
    grid = cells(page)
    assert len(grid) == variant_count("northwind", "welcome") == len({c["key"] for c in grid})
    assert all(c["loaded"] for c in grid)
    page.locator("#grid").screenshot(path=str(SHOTS / "studio-grid-all.png"))


def test_time_travel_steps_through_dayparts_and_the_deadline(server_url: str, page: Any) -> None:
    # GIVEN the studio on acme/winter-sale in New York on a Tuesday morning
    form = {"brand": "acme", "creative": "winter-sale", "country": "US", "tz": "America/New_York",
            "at": "2026-12-01T08:30", "fmt": "png", "device": "desktop"}  # fmt: skip
    page.goto(f"{server_url}/?{urlencode(form)}")
    wait_all(page)
    assert page.inner_text("#tt-now") == "Tue 2026-12-01 08:30 America/New_York · morning"
    morning = page.evaluate("document.body.dataset.variant")
    morning_keys = {c["key"] for c in cells(page)}
    assert {c["daypart"] for c in cells(page)} == {"morning"}

    # WHEN the clock steps to the next daypart, then the one after
    step(page, "#tt-next", moment_was="2026-12-01T08:30:00")
    # THEN the label, the form's time, the preview and every grid cell follow
    assert page.inner_text("#tt-now") == "Tue 2026-12-01 12:00 America/New_York · afternoon"
    assert page.input_value("#f-at").startswith("2026-12-01T12:00")
    afternoon = page.evaluate("document.body.dataset.variant")
    assert afternoon != morning
    assert {c["daypart"] for c in cells(page)} == {"afternoon"}
    assert {c["key"] for c in cells(page)}.isdisjoint(morning_keys)
    step(page, "#tt-next", moment_was="2026-12-01T12:00:00")
    assert page.inner_text("#tt-now").endswith("· evening")
    assert page.evaluate("document.body.dataset.variant") not in (morning, afternoon)
    assert all("evening-dark" in c["rules"] for c in cells(page))
    page.screenshot(path=str(SHOTS / "studio-time-travel-evening.png"), full_page=True)
    # AND stepping back returns to the afternoon
    step(page, "#tt-prev", moment_was=page.evaluate("document.body.dataset.moment"))
    assert page.inner_text("#tt-now").endswith("· afternoon")
    assert page.evaluate("document.body.dataset.variant") == afternoon

    # WHEN on the countdown creative the clock goes to just before, then just after, its deadline
    form = {"brand": "northwind", "creative": "cyber-week", "tz": "America/Chicago", "at": "2026-12-03T19:30",
            "fmt": "gif", "country": "US"}  # fmt: skip
    page.goto(f"{server_url}/?{urlencode(form)}")
    wait_all(page)
    step(page, "#tt-deadlines button[data-side=before]", moment_was="2026-12-03T19:30:00")
    before = seen(page)
    assert page.inner_text("#tt-now") == "Fri 2026-12-04 23:58 America/Chicago · night"
    step(page, "#tt-deadlines button[data-side=after]", moment_was="2026-12-04T23:58:00")
    after = seen(page)
    # THEN the browser's GIF ticks before the deadline and shows the ended state after it
    assert before["browser"]["frames"] > 1
    assert after["browser"]["frames"] == 1 and "ended" in after["browser"]["text"]
    assert after["browser"]["variant"] != before["browser"]["variant"]
    page.screenshot(path=str(SHOTS / "studio-time-travel-after-deadline.png"), full_page=True)


def test_as_seen_by_each_email_client(server_url: str, page: Any) -> None:
    # GIVEN the countdown email header as an animated GIF, two days before its deadline
    form = {"brand": "northwind", "creative": "cyber-week", "tz": "America/Chicago", "at": "2026-12-03T10:00",
            "fmt": "gif", "client": "browser"}  # fmt: skip
    page.goto(f"{server_url}/?{urlencode(form)}")
    wait_all(page)
    by = seen(page)
    # THEN each client is told from its own headers, not from the studio's client override
    assert {k: v["text"].split("seen as ")[1].split("200")[0] for k, v in by.items()} == {
        "browser": "browser", "gmail": "gmail", "apple_mpp": "apple_mpp", "outlook": "outlook"
    }
    # AND a browser gets a ticking GIF and shows it as served
    assert by["browser"]["type"] == "image/gif" and by["browser"]["frames"] > 1
    assert by["browser"]["shown"] == "served" and by["browser"]["src"] == "data:image/gif;base64,"
    # AND Outlook, which plays no animation, is shown the static first frame (a PNG), with its own rule
    assert by["outlook"]["type"] == "image/gif" and by["outlook"]["shown"] == "first-frame"
    assert by["outlook"]["src"] == "data:image/png;base64," and "outlook-solid" in by["outlook"]["text"]
    # AND Apple's prefetch gets the time-robust "Ends ..." text as one frame
    assert by["apple_mpp"]["frames"] == 1 and "apple-prefetch" in by["apple_mpp"]["text"]
    assert len({v["variant"] for v in by.values()}) == 3  # browser and gmail share a design
    page.locator("#seen").screenshot(path=str(SHOTS / "studio-as-seen-by.png"))
