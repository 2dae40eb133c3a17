"""HTML pages write numbers, lists and the comma the viewer's way (the locale filters of the sandbox)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from versa.adapters.directory import DirectoryPackStore
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer
from versa.ports import NullQueue
from versa.render.checks import PACK_CHECKS
from versa.render.html import HtmlPages
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

PACKS = Path(__file__).resolve().parents[2] / "examples" / "packs"
KEYS = Keyring({"k1": b"k" * 32}, "k1")


@pytest.mark.parametrize(
    ("country", "expected"),
    [("DE", "[, ][1.234,5][a und b]"), ("AE", "[، ][1,234.5][a وb]"), ("US", "[, ][1,234.5][a and b]")],
)
def test_a_page_uses_the_locale_comma_and_number_signs(tmp_path: Path, country: str, expected: str) -> None:
    # GIVEN acme with a template that writes the comma, a number and a list
    packs = tmp_path / "packs"
    shutil.copytree(PACKS / "acme", packs / "acme")
    (packs / "acme" / "templates" / "banner.html").write_text(
        "<p>[{{ comma }}][{{ 1234.5|number }}][{{ ['a', 'b']|format_list }}]</p>", encoding="utf-8"
    )
    service = RenderService(
        DirectoryPackStore(packs, checks=PACK_CHECKS), SQLiteCopyStore(tmp_path / "copy.db"), NullQueue(),
        build_renderer(Settings(memo_items=0)), KEYS,
        config=ServiceConfig.from_settings(Settings(require_signature=False)), html=HtmlPages(KEYS),
    )  # fmt: skip
    now = datetime(2026, 12, 1, 15, tzinfo=UTC)
    req = CreativeRequest("acme", "winter-sale", "html", {}, {"country": country}, now, path="/v1/acme/winter-sale.html")
    # WHEN the page is requested  THEN it is written in the locale the rules chose (de, ar, en)
    resp = service.page(req)
    assert resp.status == 200 and "X-Versa-Fallback" not in resp.headers
    assert expected in resp.body.decode()
