"""Browser test: the studio's lint panel shows the loaded pack's `versa lint` findings per creative,
each with its place in pack.yaml (a rule named by its id, line and column)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from chromium import E2E, READY_MS, SHOTS

from servers import running_versa
from versa.cli.init import pack_text

pytestmark = E2E


@pytest.fixture(scope="module")
def lint_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`versa serve` on one pack made by `versa init` with a rule for country 'UK' (not an ISO code,
    so it can never match): a known lint error."""
    packs = tmp_path_factory.mktemp("lint-packs")
    root = packs / "lintdemo"
    root.mkdir()
    text = pack_text("banner", "lintdemo", now=datetime(2026, 12, 1, tzinfo=UTC))
    rules = "    rules:"
    assert rules in text
    uk = (
        "\n      - id: uk-only\n        when: {country: UK}\n        set: {link: \"https://example.com/uk\"}"
    )
    index = text.index(rules) + len(rules)
    end = text.index("\n", index)
    (root / "pack.yaml").write_text(text[:end] + uk + text[end:], encoding="utf-8")
    with running_versa(packs, state_dir=tmp_path_factory.mktemp("lint-state")) as served:
        yield served.url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    tab.close()
    assert not errors, errors


def test_the_lint_panel_lists_the_packs_findings_with_their_place(lint_server: str, page: Any) -> None:
    # GIVEN the studio on a pack whose rule 'uk-only' names the country 'UK'
    page.goto(f"{lint_server}/?{urlencode({'brand': 'lintdemo', 'creative': 'launch'})}")

    # WHEN its lint has run
    page.wait_for_function("() => document.body.dataset.lint === 'ready'", timeout=READY_MS * 3)

    # THEN the panel names the creative, the rule by its id, its line and column, and the message
    group = page.locator(".lint-group[data-creative='launch']")
    items = group.locator(".lint-item.error")
    texts = [items.nth(i).inner_text() for i in range(items.count())]
    found = page.evaluate(
        """() => [...document.querySelectorAll('.lint-item')].map(li => ({
             sev: li.querySelector('.sev').textContent, where: li.querySelector('.where').textContent,
             at: li.querySelector('.at').textContent, msg: li.querySelector('.msg').textContent}))"""
    )
    country = [f for f in found if f["where"] == "rules['uk-only'].when.country"]
    assert country, found
    assert country[0]["sev"] == "error"
    assert country[0]["msg"] == (
        "rule 'uk-only': country is never 'UK': countries are ISO 3166-1 codes; did you mean 'GB'?"
    )
    assert country[0]["at"].startswith("pack.yaml line ") and ", column " in country[0]["at"]
    assert len(found) == 1 and len(texts) == 1, found
    assert page.inner_text("#lint-count") == "(1 error, 0 warnings)"
    assert group.locator("h3").inner_text().startswith("launch (")

    # AND it is there to look at
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky bar would otherwise cover the panel
    box = page.locator("#lint").bounding_box()
    page.screenshot(path=str(SHOTS / "studio-lint-panel.png"), full_page=True, clip=box)
    page.screenshot(path=str(SHOTS / "studio-lint-page.png"), full_page=False)
