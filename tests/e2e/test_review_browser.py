"""Browser test: review in the studio. `versa serve` runs with a model (the local OpenAI-compatible
server) on a copy of the acme pack that requires review; a request generates copy that waits; the
studio's review panel shows it drawn in the creative at each size; clicking Approve makes the served
image change (new bytes and ETag) for the public URL and in the studio's own preview.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import E2E, READY_MS, ROOT, SHOTS

from openai_server import running_openai_server
from servers import running_versa

pytestmark = E2E

MODEL = "review-browser-model"
GENERATED = "30 % auf Winterjacken"


PIXELS = """() => {
  const img = document.getElementById('creative');
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  canvas.getContext('2d').drawImage(img, 0, 0);
  return canvas.toDataURL('image/png');
}"""
"""The studio's preview as it is displayed (its pixels, re-encoded)."""


def fetch(url: str) -> tuple[dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        return dict(resp.headers), bytes(resp.read())


def until(check: Any, what: str, seconds: float = 60) -> Any:
    """Poll `check()` until it answers something truthy (a generous bound; not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(0.1)
    pytest.fail(f"gave up waiting: {what}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`versa serve` (signatures off, so the public URL is plain) with a model and review required."""
    packs = tmp_path / "packs"
    shutil.copytree(ROOT / "examples" / "packs" / "acme", packs / "acme")
    pack_yaml = packs / "acme" / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text(encoding="utf-8").rstrip("\n") + "\nreview: true\n", encoding="utf-8")
    with running_openai_server() as fake:
        fake.script(MODEL, {"candidates": [GENERATED]})
        env = {"VERSA_COPY_MODEL": MODEL, "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key",
               "VERSA_RENDER_BUDGET_MS": "30000"}
        with running_versa(packs, state_dir=tmp_path / "state", extra_args=["--no-signatures"], env=env) as server:
            yield server.url


def test_approving_in_the_studio_changes_the_served_image(served: str, browser: Any) -> None:
    # GIVEN a first request: the default copy, and a generation that then waits for review
    public = f"{served}/v1/acme/winter-sale.png?country=DE"
    first_headers, first = fetch(public)
    assert first_headers.get("X-Versa-Copy") == "default"

    def waiting() -> int:
        _, body = fetch(f"{served}/studio/review?brand=acme")
        return int(json.loads(body)["count"])

    until(waiting, "the worker to store copy awaiting review")
    still_headers, still = fetch(public)
    assert still_headers.get("X-Versa-Copy") == "default" and still == first  # not served before approval

    # WHEN the studio opens on that viewer
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{served}/?brand=acme&creative=winter-sale&country=DE&device=desktop&client=browser")
        page.wait_for_function(
            "() => document.body.dataset.state !== 'loading' && document.getElementById('creative').complete",
            timeout=READY_MS,
        )
        if page.evaluate("document.body.dataset.state") != "ready":
            pytest.fail("the studio shows: " + page.inner_text("#error") + " / " + page.inner_text("#status"))
        before_etag = page.evaluate("document.getElementById('creative').dataset.etag")
        before_pixels = page.evaluate(PIXELS)
        # THEN the panel lists the copy, drawn in the creative at each of its sizes
        item = page.locator("#review-list li.review-item")
        assert item.count() == 1
        assert item.locator(".review-text").inner_text() == GENERATED
        page.wait_for_function("() => document.body.dataset.shots === 'loaded'", timeout=READY_MS * 3)
        assert page.evaluate(
            "() => [...document.querySelectorAll('.review-shots img')].every(i => i.complete && i.naturalWidth > 0)"
        ), "a preview did not load"
        shots = item.locator(".review-shots img")
        assert shots.count() >= 2
        assert "Serving now (default)" in item.inner_text() and "null" not in item.inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => { document.querySelector('header.top').style.position = 'static'; }")
        page.locator("#review").screenshot(path=str(SHOTS / "studio-review-panel.png"))
        page.evaluate("() => { document.querySelector('header.top').style.position = ''; }")

        approved_key = re.search(r"\b[0-9a-f]{16}\b", item.inner_text()).group(0)  # type: ignore[union-attr]
        # WHEN the reviewer names themself, comments and clicks Approve
        page.fill("#review-by", "dana")
        page.fill("#review-comment", "on brand")
        item.locator("button.approve").click()
        page.wait_for_function(
            "() => document.getElementById('review-result').textContent.startsWith('Approved 1 of 1')",
            timeout=READY_MS,
        )
        # THEN the studio's own preview shows the new image, and nothing awaits review
        page.wait_for_function(
            """prev => document.body.dataset.state === 'ready' && document.getElementById('creative').complete
                 && document.getElementById('creative').dataset.etag !== prev""",
            arg=before_etag,
            timeout=READY_MS,
        )
        assert page.evaluate(PIXELS) != before_pixels  # what the page shows, not only its headers
        # AND the approved copy leaves the list (the studio's other panels, "as seen by" among them, ask
        # as other viewers, whose copy may be generated meanwhile and wait in the list in its turn)
        assert approved_key not in page.inner_text("#review-list")
        page.screenshot(path=str(SHOTS / "studio-review-approved.png"), full_page=True)
    finally:
        page.close()
    assert not errors, errors
    # AND the public URL serves the generated copy: new bytes, new ETag, no default marker
    after_headers, after = fetch(public)
    assert "X-Versa-Copy" not in after_headers
    assert after != first and after_headers["ETag"] != first_headers["ETag"]
