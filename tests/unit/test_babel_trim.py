"""The deps layer trims Babel's locale data (layers/deps/trim_babel.py): what Versa formats must come
out exactly as it does with the full data, and the trim must actually shrink it."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import babel
import babel.localedata
import pytest

from versa.context import locale as cldr

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("en", "de", "ar", "pl", "ru", "ja", "zh", "fa", "hi", "th", "he", "en-GB", "pt-BR", "fr")
SPECS = ("", "short", "medium", "long", "full", "date=short", "date=full", "time=short", "time=full",
         "skeleton=yMMMEd", "skeleton=EEEjm", "skeleton=MMMMdHHmmz", "zone", "%a %d %H:%M")  # fmt: skip
INSTANTS = [
    datetime(2026, 12, 4, 23, 59, tzinfo=ZoneInfo(z))
    for z in ("Europe/Berlin", "America/Chicago", "Asia/Dubai")
]


def _trim_module() -> Any:
    spec = importlib.util.spec_from_file_location("trim_babel", ROOT / "layers" / "deps" / "trim_babel.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _forget() -> None:
    babel.localedata.clear_caches()
    for cached in (cldr.babel_locale, cldr.counted_categories, cldr.comma):
        cached.cache_clear()


def _everything() -> dict[str, Any]:
    """What Versa formats with Babel, for a spread of locales, formats and zones."""
    out: dict[str, Any] = {}
    for loc in LOCALES:
        out[loc] = {
            "plural": [cldr.plural_category(loc, n) for n in range(130)],
            "counted": sorted(cldr.counted_categories(loc)),
            "comma": cldr.comma(loc),
            "numbers": [cldr.format_number(1234567.891, loc, d) for d in ("latn", "native")],
            "lists": [cldr.format_list("ABC", loc, s) for s in ("standard", "or")],
            "dates": [cldr.format_datetime(t, s, loc, "native") for t in INSTANTS for s in SPECS],
        }
    return out


@pytest.fixture
def trimmed_data(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Babel pointed at a trimmed copy of its locale data for the test's duration."""
    original = Path(babel.localedata._dirname)
    copy = tmp_path / "babel" / "locale-data"
    shutil.copytree(original, copy)
    sizes: tuple[int, int] = _trim_module().trim(copy)
    babel.localedata._dirname = str(copy)
    _forget()
    try:
        yield sizes
    finally:
        babel.localedata._dirname = str(original)
        _forget()


def test_trimmed_locale_data_formats_exactly_like_the_full_data(trimmed_data: tuple[int, int]) -> None:
    # GIVEN what the full data gives (computed with Babel pointed back at its own directory)
    babel.localedata._dirname, trimmed_dir = (
        str(Path(babel.__file__).parent / "locale-data"),
        babel.localedata._dirname,
    )
    _forget()
    full = _everything()
    # WHEN the same is asked of the trimmed data
    babel.localedata._dirname = trimmed_dir
    _forget()
    assert "territories" not in cldr.babel_locale("de")._data  # this is the trimmed data
    trimmed = _everything()
    # THEN every answer is the same, and the data is less than a third of its size
    assert trimmed == full
    before, after = trimmed_data
    assert after < before / 3


def test_what_was_dropped_fails_loudly_rather_than_inheriting(trimmed_data: tuple[int, int]) -> None:
    # A dropped key is gone from root too, so no locale falls back to another's words.
    assert "languages" not in cldr.babel_locale("de")._data
    with pytest.raises(KeyError):
        cldr.babel_locale("de")._data["territories"]
