"""Trim Babel's locale data in the deps layer to what Versa formats (run by the deps layer's Makefile).

    python3.12 layers/deps/trim_babel.py <ARTIFACTS_DIR>/python

Babel ships CLDR for every locale (about 1,150 files, 35 MB unpacked): Versa keeps every locale, since
a pack may declare any, but only the parts of each that `versa.context.locale` reads (plural rules,
number symbols and patterns, numbering systems, list patterns, date and time names and formats, zone
names). The names of languages, territories, scripts, currencies and units, relative-date phrases,
compact and currency number formats and date intervals are dropped from every file, root included, so
nothing dropped is ever inherited from a parent in its place: a Babel function that needs them fails
loudly (KeyError) instead of answering with another locale's words. `tests/unit/test_babel_trim.py`
checks that trimmed data formats exactly as the full data does.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

DROPPED = frozenset(
    {
        "languages",
        "territories",
        "scripts",
        "variants",
        "currency_names",
        "currency_names_plural",
        "currency_symbols",
        "currency_formats",
        "currency_unit_patterns",
        "compact_currency_formats",
        "compact_decimal_formats",
        "unit_patterns",
        "unit_display_names",
        "compound_unit_patterns",
        "date_fields",
        "datetime_formats_relative",
        "interval_formats",
        "measurement_systems",
    }
)
"""Top-level keys of Babel's locale files that Versa never reads."""


def trim(locale_data: Path) -> tuple[int, int]:
    """Drop `DROPPED` from every `.dat` file under `locale_data`; (bytes before, bytes after)."""
    before = after = 0
    for path in sorted(locale_data.glob("*.dat")):
        raw = path.read_bytes()
        before += len(raw)
        data = pickle.loads(raw)  # Babel's own packaged data, read as Babel itself reads it
        for key in DROPPED & data.keys():
            del data[key]
        out = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        path.write_bytes(out)
        after += len(out)
    return before, after


def main(site: Path) -> int:
    locale_data = site / "babel" / "locale-data"
    if not locale_data.is_dir():
        print(f"trim_babel: no {locale_data}", file=sys.stderr)
        return 1
    before, after = trim(locale_data)
    print(f"deps layer: Babel locale data trimmed from {before / 1e6:.1f} MB to {after / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
