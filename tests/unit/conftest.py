"""Shared unit-test fixtures: copies of the example packs, small synthetic packs, simulated requests."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from versa.context.resolve import SIGNED_OVERRIDES, RequestContext, resolve
from versa.decide.rules import context_options
from versa.pack.model import PackModel

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy an example pack into tmp_path, optionally editing its YAML (as data or as text)."""

    def copy(
        brand: str,
        edit: Callable[[dict[str, Any]], None] | None = None,
        *,
        text: Callable[[str], str] | None = None,
        name: str | None = None,
    ) -> Path:
        root = tmp_path / (name or brand)
        shutil.copytree(EXAMPLES / brand, root)
        pack_file = root / "pack.yaml"
        if edit is not None:
            data = yaml.safe_load(pack_file.read_text(encoding="utf-8"))
            edit(data)
            pack_file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        if text is not None:
            before = pack_file.read_text(encoding="utf-8")
            after = text(before)
            assert after != before, "the text edit changed nothing: the test would not test anything"
            pack_file.write_text(after, encoding="utf-8")
        return root

    return copy


def _small_pack(
    rules: list[dict[str, Any]] | None = None,
    *,
    locales: tuple[str, ...] = ("en", "de"),
    params: dict[str, Any] | None = None,
    copy: dict[str, Any] | None = None,
    layers: list[dict[str, Any]] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """The data of a one-creative pack (`promo`) small enough to reason about by hand."""
    creative: dict[str, Any] = {
        "size": [300, 100],
        "fallback": "assets/fallback.png",
        "link": "https://example.com/",
        "layers": layers
        or [
            {"id": "bg", "type": "background", "fill": "paper"},
            {"id": "badge", "type": "shape", "box": [10, 10, 40, 40], "fill": "accent"},
            {
                "id": "title",
                "type": "text",
                "slot": "title",
                "box": [60, 10, 230, 40],
                "font": "body",
                "size": 20,
                "color": "ink",
            },
            {"id": "cta", "type": "button", "slot": "cta", "box": [60, 55, 120, 36], "font": "body"},
        ],
        "copy": copy
        or {
            "title": {"default": {loc: f"title {loc}" for loc in locales}},
            "cta": {"default": {loc: f"go {loc}" for loc in locales}},
        },
        "rules": rules or [],
    }
    if params:
        creative["params"] = params
    data: dict[str, Any] = {
        "brand": "demo",
        "locales": list(locales),
        "default_tz": "UTC",
        "tokens": {
            "colors": {"ink": "#111111", "paper": "#ffffff", "accent": "#0000ff"},
            "fonts": {"body": "sans"},
        },
        "creatives": {"promo": creative},
    }
    data.update(top)
    return data


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., Path]:
    """Write pack data (see `small_pack`) to a pack directory with a fallback image; return the dir."""

    def make(data: Mapping[str, Any], name: str = "pack") -> Path:
        root = tmp_path / name
        (root / "assets").mkdir(parents=True)
        Image.new("RGB", (300, 100), "#336699").save(root / "assets" / "fallback.png")
        (root / "pack.yaml").write_text(
            yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        return root

    return make


def _simulate(
    model: PackModel,
    creative: str,
    at: datetime,
    *,
    headers: Mapping[str, str] | None = None,
    **signed: str | None,
) -> RequestContext:
    """Resolve a request the way `versa decide` does: the given values arrive as signed query values
    (country, tz, device, client, lang and declared parameters); `at` is the request clock."""
    query = {name: value for name, value in signed.items() if value is not None}
    names = frozenset(query) | SIGNED_OVERRIDES
    options = context_options(model, creative, signed_names=names)
    return resolve(dict(headers or {}), query, at, options)


@pytest.fixture(scope="session")
def small_pack() -> Callable[..., dict[str, Any]]:
    """Builder of a one-creative pack's data (`promo`, locales en and de, no rules by default)."""
    return _small_pack


@pytest.fixture(scope="session")
def simulate() -> Callable[..., RequestContext]:
    """Resolve a simulated request through `versa.context.resolve`, overrides signed (like the CLI)."""
    return _simulate
