"""Locale rules from CLDR (through Babel): plural categories, digits, dates and times, punctuation.

What a creative says in the viewer's language besides its copy: which plural form a count takes
(Arabic has six categories, Polish four, Japanese one), which digits numbers are written in (Latin by
default; a pack may ask for the locale's native ones, e.g. Arabic-Indic for `ar`), how a date and time
read (`{deadline:medium}`, `{deadline:skeleton=MMMEdjm}`), and the comma that joins a merge value to
the text after it (`،` in Arabic, `、` in Japanese).

Babel's numbering systems cover the symbols of numbers, not their digits, and its dates are always
formatted with Latin digits, so `to_digits` maps the ten ASCII digits of any formatted text to the
numbering system's own (`DIGITS`) after Babel is done.

Pure: no IO besides Babel's packaged locale data (read once per locale and kept), no clock, no
environment. Babel is imported on first use, so importing this module costs nothing at cold start.
Unknown locale tags fall back to their language, then to CLDR's root locale (one plural form, Latin
digits), never to an error: a pack's locale is checked when it loads, not on the request path.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

if TYPE_CHECKING:
    from babel import Locale

PluralCategory = Literal["zero", "one", "two", "few", "many", "other"]
PLURAL_CATEGORIES: Final[tuple[PluralCategory, ...]] = get_args(PluralCategory)
"""CLDR's plural categories, in CLDR's order."""

DigitsMode = Literal["latn", "native"]
"""`latn`: 0-9 whatever the locale; `native`: the locale's native numbering system (Latin for most)."""
DigitsSetting = DigitsMode | dict[str, DigitsMode]
"""A digits mode for every locale, or per locale (`{ar: native}`; locales not named get `latn`)."""

COUNTED: Final = range(1000)
"""The counts a countdown cell shows (0-999): the plural categories a locale needs labels for are
those some count in this range takes."""

_ZEROS: Final = {
    "adlm": 0x1E950, "arab": 0x0660, "arabext": 0x06F0, "beng": 0x09E6, "cakm": 0x11136,
    "deva": 0x0966, "fullwide": 0xFF10, "gujr": 0x0AE6, "guru": 0x0A66, "hmnp": 0x1E140,
    "khmr": 0x17E0, "knda": 0x0CE6, "laoo": 0x0ED0, "latn": 0x0030, "mlym": 0x0D66,
    "mong": 0x1810, "mtei": 0xABF0, "mymr": 0x1040, "nkoo": 0x07C0, "olck": 0x1C50,
    "orya": 0x0B66, "tamldec": 0x0BE6, "telu": 0x0C66, "thai": 0x0E50, "tibt": 0x0F20,
    "vaii": 0xA620,
}  # fmt: skip
DIGITS: Final[Mapping[str, str]] = {
    **{system: "".join(chr(zero + i) for i in range(10)) for system, zero in _ZEROS.items()},
    "hanidec": "〇一二三四五六七八九",
}
"""The ten digits of each decimal numbering system some CLDR locale has as its native one (CLDR's
numberingSystems data, which Babel does not ship): all but `hanidec` are ten consecutive code points."""

DATE_FIELDS: Final = frozenset("GyYuUrQqMLlwWdDFgEec")
TIME_FIELDS: Final = frozenset("aBbhHkKjJCmsSA")
ZONE_FIELDS: Final = frozenset("zZOvVXx")
STYLES: Final = ("short", "medium", "long", "full")
DEFAULT_SKELETON: Final = "MMMEdjmz"
"""What `{deadline}` with no format shows: weekday, day and month, the time in the locale's clock
(12 or 24 hours) and the zone, e.g. "Fri, Dec 4, 11:59 PM CST" in en, "Fr., 4. Dez., 23:59 MEZ" in de."""


class LocaleFormatError(ValueError):
    """A date/time format a pack wrote that this module cannot apply (the message says what is allowed)."""


# ------------------------------------------------------------------------------------------ locales


@functools.lru_cache(maxsize=256)
def babel_locale(tag: str) -> Locale:
    """Babel's locale for a BCP 47 tag (`pt-BR`, `zh-Hant`, `ar`): the tag, else its language, else
    CLDR's root locale."""
    from babel import Locale, UnknownLocaleError

    for candidate in (tag.replace("-", "_"), tag.replace("-", "_").split("_")[0]):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("root")


def known_locale(tag: str) -> bool:
    """True when CLDR has data for the tag's language (else it is formatted like the root locale)."""
    return babel_locale(tag).language != "root"


# ------------------------------------------------------------------------------------------ plurals


def plural_category(locale: str, count: int) -> PluralCategory:
    """The CLDR plural category of a whole `count` in `locale` (ar: 0 zero, 1 one, 2 two, 3 few,
    11 many, 100 other; pl: 1 one, 2 few, 5 many; ja: always other)."""
    return _category(babel_locale(locale).plural_form(abs(count)))


@functools.lru_cache(maxsize=256)
def counted_categories(locale: str) -> frozenset[PluralCategory]:
    """The plural categories the counts a countdown shows (`COUNTED`) take in `locale`: what its
    labels need a form for (pl: one, few, many; ar: all six; ja: other)."""
    rule = babel_locale(locale).plural_form
    return frozenset(_category(rule(n)) for n in COUNTED)


def _category(name: str) -> PluralCategory:
    return next((c for c in PLURAL_CATEGORIES if c == name), "other")


def plural_form(forms: Mapping[str, str], locale: str, count: int) -> str:
    """The form of `forms` (plural category → text) for `count`: its category's, else `other`, else
    the first one given."""
    category = plural_category(locale, count)
    if category in forms:
        return forms[category]
    return forms.get("other", next(iter(forms.values()), ""))


# ------------------------------------------------------------------------------------------- digits


def resolve_digits(*settings: DigitsSetting | None, locale: str) -> DigitsMode:
    """The digits mode for `locale` from the most specific setting given (layer, creative, pack): the
    first that is not None; a per-locale mapping that does not name the locale means `latn`."""
    for setting in settings:
        if setting is None:
            continue
        if isinstance(setting, str):
            return setting
        return setting.get(locale, setting.get(locale.split("-")[0], "latn"))
    return "latn"


def numbering_system(locale: str, digits: DigitsMode) -> str:
    """The CLDR numbering system `digits` means in `locale` (`latn`, or e.g. `arab` for native `ar`)."""
    if digits == "latn":
        return "latn"
    loc = babel_locale(locale)
    native = loc.other_numbering_systems.get("native") or loc.default_numbering_system
    return native if native in DIGITS else "latn"


def to_digits(text: str, locale: str, digits: DigitsMode) -> str:
    """`text` with its ASCII digits written in the numbering system `digits` means for `locale`."""
    system = numbering_system(locale, digits)
    return text if system == "latn" else text.translate(_digit_table(system))


@functools.lru_cache(maxsize=64)
def _digit_table(system: str) -> dict[int, str]:
    return {ord("0") + i: d for i, d in enumerate(DIGITS[system])}


def format_number(value: Any, locale: str, digits: DigitsMode = "latn", pattern: str | None = None) -> str:
    """A number as `locale` writes it (grouping and decimal symbols of the numbering system), in its
    digits; `pattern` is a CLDR number pattern such as `#,##0.00` (default: the locale's decimal)."""
    from babel.numbers import format_decimal

    loc = babel_locale(locale)
    system = numbering_system(locale, digits)
    symbols = system if system in loc.number_symbols else "latn"
    try:
        text = format_decimal(value, format=pattern, locale=loc, numbering_system=symbols)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise LocaleFormatError(
            f"cannot format {value!r} as a number with pattern {pattern!r}: {exc}"
        ) from exc
    return to_digits(text, locale, digits)


# -------------------------------------------------------------------------------------- punctuation


@functools.lru_cache(maxsize=256)
def comma(locale: str) -> str:
    """The separator `locale` puts after an item it goes on from (with its trailing space, if any):
    ", " in en, "، " in ar, "、" in ja, " " in th. Taken from CLDR's list patterns: the first whose
    separator starts with punctuation (Arabic's standard list joins with "و", its unit list with "،"),
    else the standard list's separator."""
    patterns = babel_locale(locale).list_patterns
    separators = [
        _separator(pattern)
        for style in ("standard", "standard-short", "or", "unit", "unit-short", "unit-narrow")
        if style in patterns
        for key in ("start", "middle", "2", "end")
        if (pattern := patterns[style].get(key))
    ]
    for sep in separators:
        if sep and unicodedata.category(sep[0]).startswith("P"):
            end = 1
            while end < len(sep) and (sep[end].isspace() or unicodedata.category(sep[end]) == "Cf"):
                end += 1
            return sep[:end]
    return separators[0] if separators else ", "


def _separator(pattern: str) -> str:
    start = pattern.find("{0}")
    end = pattern.find("{1}")
    return pattern[start + 3 : end] if 0 <= start < end else ""


def format_list(items: Iterable[Any], locale: str, style: str = "standard") -> str:
    """Items joined as `locale` lists them ("A, B and C"; "A وB وC" in ar); `style` is a CLDR list
    style: standard, or, unit, standard-short, ..."""
    from babel.lists import format_list as babel_list

    values = [str(item) for item in items if item not in (None, "")]
    try:
        return babel_list(values, style=style, locale=babel_locale(locale))  # type: ignore[arg-type]
    except ValueError as exc:
        raise LocaleFormatError(f"list style {style!r}: {exc}") from exc


# --------------------------------------------------------------------------------- dates and times


def format_datetime(when: datetime, spec: str, locale: str, digits: DigitsMode = "latn") -> str:
    """An aware datetime written per `spec`, in its own zone, in `locale`'s words and digits.

    `spec` is one of: empty (`DEFAULT_SKELETON`); `short`, `medium`, `long`, `full` (CLDR's date-time
    formats); `date=<style>` or `time=<style>`; `skeleton=<fields>` (CLDR skeleton letters such as
    `yMMMEd`, `jm`, `z`: the locale picks order and punctuation; `j` is its usual hour, 12 or 24);
    `zone` (the zone's short name); or, when it holds a `%`, a strftime pattern (the old form, whose
    words are always English).
    """
    if when.tzinfo is None:
        raise LocaleFormatError("a date-time to format needs a time zone")
    if "%" in spec:
        return to_digits(when.strftime(spec), locale, digits)
    loc = babel_locale(locale)
    kind, _, arg = spec.partition("=")
    try:
        text = _format(when, loc, kind.strip(), arg.strip())
    except LocaleFormatError:
        raise
    except (KeyError, ValueError, AttributeError) as exc:
        raise LocaleFormatError(f"date format {spec!r} cannot be applied: {exc}") from exc
    return to_digits(text, locale, digits)


def _format(when: datetime, loc: Locale, kind: str, arg: str) -> str:
    from babel import dates

    tz = when.tzinfo
    if kind == "" or kind == "skeleton":
        return _skeleton(when, arg or DEFAULT_SKELETON, loc)
    if kind in STYLES and not arg:
        return dates.format_datetime(when, kind, tzinfo=tz, locale=loc)
    if kind == "date" and arg in STYLES:
        return dates.format_date(when, arg, locale=loc)
    if kind == "time" and arg in STYLES:
        return dates.format_time(when, arg, tzinfo=tz, locale=loc)
    if kind == "zone" and not arg:
        return zone_name(when, loc)
    raise LocaleFormatError(
        f"unknown date format {kind + ('=' + arg if arg else '')!r}; allowed: short, medium, long, full, "
        "date=<style>, time=<style>, skeleton=<CLDR skeleton>, zone, or a strftime pattern with %"
    )


def _skeleton(when: datetime, skeleton: str, loc: Locale) -> str:
    """ICU-style flexible formatting: the date and time fields matched to the locale's available
    formats separately, joined by its date-time pattern, then the zone after the time."""
    from babel import dates

    unknown = set(skeleton) - DATE_FIELDS - TIME_FIELDS - ZONE_FIELDS
    if unknown or not skeleton.isalpha():
        raise LocaleFormatError(
            f"skeleton {skeleton!r} has letters that are not CLDR date fields: {''.join(sorted(unknown)) or skeleton}"
        )
    hour = "h" if "h" in loc.time_formats["short"].pattern else "H"
    date_part = "".join(c for c in skeleton if c in DATE_FIELDS)
    time_part = "".join(hour if c == "j" else c for c in skeleton if c in TIME_FIELDS)
    parts = [
        dates.format_skeleton(part, when, tzinfo=when.tzinfo, locale=loc) if part else ""
        for part in (date_part, time_part)
    ]
    if any(c in ZONE_FIELDS for c in skeleton):
        parts[1] = f"{parts[1]} {zone_name(when, loc)}".strip()
    date_text, time_text = parts
    if date_text and time_text:
        length = "full" if "EEEE" in date_part else "long" if "MMMM" in date_part else "medium"
        glue = str(loc.datetime_formats[length])
        return glue.replace("{1}", date_text).replace("{0}", time_text)
    return date_text or time_text


def zone_name(when: datetime, loc: Locale | str) -> str:
    """The short name of `when`'s zone at that instant: the locale's own (MEZ in de, CET in pl), else
    the zone database's abbreviation when it is a word (CET, CST, JST) and the locale writes "GMT" in
    Latin letters, else the localized GMT offset (GMT+4, غرينتش+١)."""
    from babel import dates

    loc = babel_locale(loc) if isinstance(loc, str) else loc
    name = dates.format_datetime(when, "z", tzinfo=when.tzinfo, locale=loc)
    if name[:1] not in "+-−":
        return name
    abbreviation = when.tzname() or ""
    latin_gmt = str(loc.zone_formats.get("gmt", "")).startswith("GMT")
    if latin_gmt and abbreviation.isalpha() and abbreviation.isascii():
        return abbreviation
    minutes = round((when.utcoffset() or timedelta()).total_seconds() / 60)
    hours, rest = divmod(abs(minutes), 60)
    offset = f"{'-' if minutes < 0 else '+'}{hours}{f':{rest:02d}' if rest else ''}" if minutes else ""
    return str(loc.zone_formats.get("gmt", "GMT%s")) % offset


class DeadlineFormatter(string.Formatter):
    """`str.format` for pack text that reads one date-time: `{deadline}` or `{deadline:<spec>}` (see
    `format_datetime`) and no other field, attribute or index."""

    def __init__(self, locale: str, digits: DigitsMode = "latn", field: str = "deadline") -> None:
        self.locale, self.digits, self.field = locale, digits, field

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if field_name != self.field:
            raise LocaleFormatError(
                f"only {{{self.field}}} or {{{self.field}:<format>}} may be used, not {{{field_name}}}"
            )
        return kwargs[self.field], field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, datetime):
            return format_datetime(value, format_spec, self.locale, self.digits)
        return str(super().format_field(value, format_spec))


def format_deadline(
    template: str, when: datetime, zone: tzinfo, locale: str, digits: DigitsMode = "latn"
) -> str:
    """`template` with its `{deadline:...}` fields filled with `when` in `zone` (raises
    LocaleFormatError naming what is wrong)."""
    try:
        return DeadlineFormatter(locale, digits).format(template, deadline=when.astimezone(zone))
    except LocaleFormatError:
        raise
    except (ValueError, KeyError, IndexError) as exc:
        raise LocaleFormatError(str(exc)) from exc


__all__ = [
    "COUNTED",
    "DEFAULT_SKELETON",
    "DIGITS",
    "PLURAL_CATEGORIES",
    "DeadlineFormatter",
    "DigitsMode",
    "DigitsSetting",
    "LocaleFormatError",
    "PluralCategory",
    "babel_locale",
    "comma",
    "counted_categories",
    "format_datetime",
    "format_deadline",
    "format_list",
    "format_number",
    "known_locale",
    "numbering_system",
    "plural_category",
    "plural_form",
    "resolve_digits",
    "to_digits",
    "zone_name",
]
