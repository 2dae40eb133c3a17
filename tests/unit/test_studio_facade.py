"""The studio needs only its small facade (`StudioBackend`: brands, a brand's current pack, signing), not
the service's internals: here it runs on a backend that is no RenderService at all."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from versa.adapters.directory import DirectoryPackStore
from versa.pack.model import Pack
from versa.render.checks import PACK_CHECKS
from versa.web.studio import Studio, StudioBackend

PACKS = Path(__file__).resolve().parents[2] / "examples" / "packs"
NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)


class RecordingBackend:
    """Packs from the examples; 'signs' by spelling out what it was asked to sign."""

    def __init__(self) -> None:
        self.store = DirectoryPackStore(PACKS, checks=PACK_CHECKS)
        self.signed: list[tuple[str, dict[str, str], str | None]] = []

    def brands(self) -> list[str]:
        return self.store.brands()

    def current_pack(self, brand: str) -> Pack:
        return self.store.current(brand)

    def sign(self, path: str, query: Mapping[str, str], *, scope: str | None = None) -> str:
        self.signed.append((path, dict(query), scope))
        return f"signed:{path}:{scope or ''}"


def test_the_studio_signs_through_its_backend() -> None:
    # GIVEN the studio on a backend that only offers the facade
    backend = RecordingBackend()
    facade: StudioBackend = backend
    studio = Studio(facade, clock=lambda: NOW)
    form = {"brand": "acme", "creative": "winter-sale", "country": "DE", "fmt": "webp"}

    # WHEN the page asks for the simulated context's URLs
    status, _, body = studio.handle("/studio/urls?" + urlencode(form))

    # THEN every URL was signed by the backend with the simulated context, the decision URL with the
    # debug scope, and the pack version is the backend's pack's
    urls = json.loads(body)
    assert status == 200, urls
    assert urls["image_url"] == "signed:/v1/acme/winter-sale.webp:"
    assert urls["decision_url"] == "signed:/v1/acme/winter-sale/decision:debug"
    assert urls["pack_version"] == backend.current_pack("acme").version
    assert {query["country"] for _, query, _ in backend.signed} == {"DE"}


def test_the_page_lists_the_backends_brands() -> None:
    # GIVEN the studio on the facade-only backend / WHEN the page is served
    status, _, body = Studio(RecordingBackend(), clock=lambda: NOW).handle("/")
    # THEN it offers every brand the backend knows
    page = body.decode()
    assert status == 200
    assert all(f'value="{brand}"' in page for brand in RecordingBackend().brands())
