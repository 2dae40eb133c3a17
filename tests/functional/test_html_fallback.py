"""The .html route keeps the failure contract: a template that fails at run time still yields a page."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from versa.adapters.directory import DirectoryPackStore
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer
from versa.ports import NullQueue
from versa.render.checks import PACK_CHECKS
from versa.render.html import HtmlPages
from versa.settings import Settings
from versa.signing.signer import Keyring, verify
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

PACKS = Path(__file__).resolve().parents[2] / "examples" / "packs"
KEYS = Keyring({"k1": b"k" * 32}, "k1")


def test_a_failing_template_serves_a_signed_image_fragment(tmp_path: Path) -> None:
    # GIVEN acme with a template that passes the load-time check but fails inside the sandbox
    packs = tmp_path / "packs"
    shutil.copytree(PACKS / "acme", packs / "acme")
    (packs / "acme" / "templates" / "banner.html").write_text('{{ picture|attr("_" ~ "_class__") }}', encoding="utf-8")
    service = RenderService(
        DirectoryPackStore(packs, checks=PACK_CHECKS), SQLiteCopyStore(tmp_path / "copy.db"), NullQueue(), build_renderer(Settings(memo_items=0)), KEYS,
        config=ServiceConfig.from_settings(Settings(require_signature=False)), html=HtmlPages(KEYS),
    )
    now = datetime(2026, 12, 1, 15, tzinfo=UTC)
    req = CreativeRequest("acme", "winter-sale", "html", {}, {"country": "DE"}, now, path="/v1/acme/winter-sale.html")
    # WHEN the page is requested
    resp = service.page(req)
    # THEN it is a 200 fallback fragment whose image URL is signed and carries the page's context
    body = resp.body.decode()
    assert resp.status == 200 and resp.headers["X-Versa-Fallback"] == "template-error"
    assert resp.content_type.startswith("text/html") and "Content-Security-Policy" in resp.headers
    src = body.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    path, _, query = src.partition("?")
    assert path == "/v1/acme/winter-sale.png"
    pairs = dict(p.split("=", 1) for p in query.split("&"))
    assert pairs["country"] == "DE"
    verify(path, {k: [v] for k, v in pairs.items()}, KEYS, now=now)
