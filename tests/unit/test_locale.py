"""Locale rules from CLDR: plural categories, digits, dates and times with their zone, punctuation, and
how countdowns, text templates, the loader and lint use them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from goldens import make_scene
from PIL import Image, ImageChops

from versa.authoring.lint import lint
from versa.context.locale import (
    DIGITS,
    LocaleFormatError,
    babel_locale,
    comma,
    counted_categories,
    format_datetime,
    format_list,
    format_number,
    plural_category,
    resolve_digits,
    to_digits,
)
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.model import CountdownLabels, CountdownLayer, Pack, TextLayer
from versa.render.checks import PACK_CHECKS
from versa.render.countdown import (
    CountdownPainter,
    animate,
    draw_countdown,
    label_forms,
    robust_text,
    unit_label,
)
from versa.render.layer_text import layer_text

DEADLINE = datetime(2026, 12, 4, 23, 59, tzinfo=ZoneInfo("Europe/Berlin"))
ARABIC_INDIC = set("٠١٢٣٤٥٦٧٨٩")

# Arabic labels for days, in each of the six categories (the forms differ so a wrong pick shows).
AR_DAYS = {"zero": "يوم-0", "one": "يوم", "two": "يومان", "few": "أيام", "many": "يومًا", "other": "يوم-x"}
PL_SECONDS = {"one": "sekunda", "few": "sekundy", "many": "sekund", "other": "sekundy-x"}


# ------------------------------------------------------------------------------------------ plurals


def test_arabic_counts_take_all_six_categories() -> None:
    # GIVEN the counts CLDR's Arabic rules put in each category
    # WHEN their category is asked for  THEN each is its own, and a label picks the matching form
    counts = {0: "zero", 1: "one", 2: "two", 3: "few", 11: "many", 100: "other"}
    assert {n: plural_category("ar", n) for n in counts} == counts
    labels = CountdownLabels(days=AR_DAYS)  # type: ignore[arg-type]
    assert [unit_label(labels, "days", n, "ar") for n in counts] == [AR_DAYS[c] for c in counts.values()]
    assert counted_categories("ar") == {"zero", "one", "two", "few", "many", "other"}


def test_polish_has_four_categories_and_counts_take_three() -> None:
    assert {n: plural_category("pl", n) for n in (1, 2, 4, 5, 12, 22, 25, 0, 101)} == {
        1: "one", 2: "few", 4: "few", 5: "many", 12: "many", 22: "few", 25: "many", 0: "many", 101: "many"
    }  # fmt: skip
    assert set(babel_locale("pl").plural_form.tags) | {"other"} == {"one", "few", "many", "other"}
    assert counted_categories("pl") == {"one", "few", "many"}  # `other` is for fractions only
    labels = CountdownLabels(seconds=PL_SECONDS)  # type: ignore[arg-type]
    assert [unit_label(labels, "seconds", n, "pl") for n in (1, 3, 5, 22)] == [
        "sekunda", "sekundy", "sekund", "sekundy"
    ]  # fmt: skip


def test_russian_and_japanese_categories() -> None:
    assert [plural_category("ru", n) for n in (1, 2, 5, 11, 21, 22, 25)] == [
        "one", "few", "many", "many", "one", "few", "many"
    ]  # fmt: skip
    assert {plural_category("ja", n) for n in range(200)} == {"other"}


def test_plain_labels_keep_their_singular() -> None:
    # The old form: one plural string per unit, with an optional singular for days and hours.
    labels = CountdownLabels(days="days", day="day", hours="hrs")
    assert [unit_label(labels, "days", n, "en") for n in (1, 2)] == ["day", "days"]
    assert [unit_label(labels, "hours", n, "en") for n in (1, 2)] == ["hrs", "hrs"]
    # and sizing a countdown makes room for every text a label can show
    assert label_forms(labels, "days") == ["days", "day"]
    assert label_forms(CountdownLabels(seconds=PL_SECONDS), "seconds") == list(PL_SECONDS.values())  # type: ignore[arg-type]


def test_a_missing_category_falls_back_to_other_then_the_first_form() -> None:
    labels = CountdownLabels(days={"one": "dzień", "other": "dni"})  # type: ignore[arg-type]
    assert unit_label(labels, "days", 5, "pl") == "dni"
    labels = CountdownLabels(days={"one": "dzień", "few": "dni"})  # type: ignore[arg-type]
    assert unit_label(labels, "days", 5, "pl") == "dzień"


def test_unknown_plural_categories_are_refused() -> None:
    with pytest.raises(ValueError, match="lots"):
        CountdownLabels(days={"lots": "dni"})  # type: ignore[dict-item]


# ------------------------------------------------------------------------------------------- digits


def test_native_digit_tables_are_the_unicode_digits() -> None:
    for system, digits in DIGITS.items():
        if system != "hanidec":
            assert [unicodedata.digit(d) for d in digits] == list(range(10)), system
    # every numbering system a CLDR locale calls native is one we can write
    from babel import localedata

    natives = {
        babel_locale(name).other_numbering_systems.get("native", "latn")
        for name in localedata.locale_identifiers()
    }
    assert natives <= set(DIGITS)


def test_numbers_in_latin_or_native_digits() -> None:
    assert format_number(1234.5, "ar") == "1,234.5"
    assert format_number(1234.5, "ar", "native") == "١٬٢٣٤٫٥"
    assert format_number(1234.5, "de") == format_number(1234.5, "de", "native") == "1.234,5"
    assert format_number(12, "fa", "native") == "۱۲"
    assert to_digits("12:05", "hi", "native") == "१२:०५"
    assert to_digits("12:05", "en", "native") == "12:05"


def test_digits_setting_layer_over_creative_over_pack() -> None:
    assert resolve_digits(None, None, "latn", locale="ar") == "latn"
    assert resolve_digits(None, "native", "latn", locale="ar") == "native"
    assert resolve_digits("latn", "native", "native", locale="ar") == "latn"
    assert resolve_digits({"ar": "native"}, locale="ar-AE") == "native"
    assert resolve_digits({"ar": "native"}, locale="en") == "latn"


def test_native_digits_in_a_date_and_a_time() -> None:
    text = format_datetime(DEADLINE, "medium", "ar", "native")
    assert ARABIC_INDIC & set(text) and not set("0123456789") & set(text)
    assert format_datetime(DEADLINE, "%H:%M", "ar", "native") == "٢٣:٥٩"  # strftime too
    assert format_datetime(DEADLINE, "time=short", "ar") == "11:59 م"


def test_native_digits_in_a_countdown() -> None:
    # GIVEN one Arabic countdown with native digits and one without
    scene = make_scene(locale="ar")
    layer = _ar_timer(digits="native")
    native = CountdownPainter(layer, scene, now=DEADLINE - timedelta(hours=5, minutes=3), tz="UTC")
    latin = CountdownPainter(_ar_timer(), scene, now=native.now, tz="UTC")
    # WHEN their numbers are drawn
    # THEN the native one writes Arabic-Indic digits, the default Latin ones, and the pixels differ
    assert [native.number_text(u, v) for u, v in (("hours", 5), ("minutes", 3), ("days", 12))] == [
        "٠٥",
        "٠٣",
        "١٢",
    ]
    assert latin.number_text("hours", 5) == "05"
    assert ImageChops.difference(_drawn(native), _drawn(latin)).getbbox() is not None


# ---------------------------------------------------------------------------------- dates and zones


def test_deadline_in_german_and_arabic_with_the_zone() -> None:
    utc = DEADLINE.astimezone(UTC)
    assert robust_text("Endet {deadline}", utc, "Europe/Berlin", "de") == "Endet Fr., 4. Dez., 23:59 MEZ"
    assert robust_text("Ends {deadline}", utc, "Europe/Berlin", "en") == "Ends Fri, Dec 4, 11:59 PM CET"
    assert (
        robust_text("ينتهي {deadline}", utc, "Asia/Dubai", "ar", "native")
        == "ينتهي السبت، ٥ ديسمبر، ٢:٥٩ ص غرينتش+٤"
    )
    assert robust_text("{deadline:skeleton=EEEHm}", utc, "Europe/Berlin", "de") == "Fr, 23:59"
    assert robust_text("{deadline:date=long}", utc, "Europe/Berlin", "de") == "4. Dezember 2026"
    assert robust_text("{deadline:zone}", utc, "America/Chicago", "en") == "CST"


def test_the_strftime_form_still_works() -> None:
    utc = DEADLINE.astimezone(UTC)
    assert (
        robust_text("Ends {deadline:%a %b %d, %H:%M}", utc, "America/Chicago", "en")
        == "Ends Fri Dec 04, 16:59"
    )


@pytest.mark.parametrize("spec", ["bogus", "date=tiny", "skeleton=y!", "skeleton=yMMMQ1"])
def test_unknown_date_formats_say_what_is_allowed(spec: str) -> None:
    with pytest.raises(LocaleFormatError, match=r"skeleton|allowed"):
        format_datetime(DEADLINE, spec, "en")


# ------------------------------------------------------------------------------------- punctuation


def test_the_locale_comma() -> None:
    assert [comma(loc) for loc in ("en", "ar", "ja", "zh", "fa")] == [", ", "، ", "、", "、", "،\u200f "]
    assert format_list(["A", "B", "C"], "en") == "A, B, and C"
    assert format_list(["A", "B"], "en", "or") == "A or B"


def test_an_arabic_name_is_followed_by_the_arabic_comma() -> None:
    # GIVEN a greeting template and a merge value, in an Arabic scene
    scene = make_scene(locale="ar", texts={"headline": "خصم ٣٠٪"}, params={"first_name": "علي"})
    filtered = _text("{{ first_name|comma }}{{ headline }}")
    helper = _text("{{ first_name }}{{ comma }}{{ headline }}")
    # WHEN the layers' texts are rendered  THEN the name is followed by `، ` (and no Latin comma)
    assert layer_text(filtered, scene) == layer_text(helper, scene) == "علي، خصم ٣٠٪"
    # and an empty merge value leaves no comma behind
    empty = make_scene(locale="ar", texts={"headline": "خصم"}, params={"first_name": ""})
    assert layer_text(filtered, empty) == "خصم"
    assert (
        layer_text(
            _text("{{ first_name|comma }}{{ headline }}"),
            make_scene(params={"first_name": "Ana"}, texts={"headline": "Sale"}),
        )
        == "Ana, Sale"
    )


def test_number_and_date_filters_follow_the_layer_digits() -> None:
    scene = make_scene(locale="ar", params={"price": 1499.5, "ends": DEADLINE})
    layer = _text("{{ price|number }} · {{ ends|datetime('date=short') }}", digits="native")
    assert layer_text(layer, scene) == "١٬٤٩٩٫٥ · ٤‏/١٢‏/٢٠٢٦"
    assert layer_text(_text("{{ price|number }}"), scene) == "1,499.5"


# ------------------------------------------------------------------------------ loader, lint, GIF


def test_lint_names_missing_plural_categories(
    make_pack: Callable[..., Path], small_pack: Callable[..., dict[str, Any]]
) -> None:
    # GIVEN a Polish countdown whose day labels lack `few` and whose hours are one plain label
    pack = _countdown_pack(
        make_pack, small_pack, {"pl": {"days": {"one": "dzień", "many": "dni"}, "hours": "godz."}}
    )
    # WHEN it is linted
    found = [str(i) for i in lint(pack) if "plural" in i.message]
    # THEN each is a warning naming the creative, the layer, the locale and the missing categories
    assert any("labels.pl.days" in f and "'timer'" in f and "'promo'" in f and "categories few" not in f
               and "category few;" in f for f in found), found  # fmt: skip
    assert any("labels.pl.hours" in f and "categories few, many" in f for f in found), found
    assert any("labels.pl.minutes" in f and "plain label" in f for f in found), found  # the default label
    complete = {"pl": {u: PL_SECONDS for u in ("days", "hours", "minutes", "seconds")}}
    assert not [
        i for i in lint(_countdown_pack(make_pack, small_pack, complete, "ok")) if "plural" in i.message
    ]


def test_loader_refuses_a_robust_text_it_cannot_format(
    make_pack: Callable[..., Path], small_pack: Callable[..., dict[str, Any]]
) -> None:
    with pytest.raises(PackError, match=r"robust\.en.*allowed"):
        _countdown_pack(make_pack, small_pack, {}, robust={"en": "Ends {deadline:sometime}"})


def test_polish_second_labels_change_with_every_frame() -> None:
    # GIVEN a Polish countdown whose seconds label has three forms, 25 s before a minute boundary
    scene = make_scene(locale="pl")
    layer = _ar_timer(
        labels={"pl": {"seconds": PL_SECONDS, "minutes": "min", "hours": "godz.", "days": "dni"}}
    )
    now = DEADLINE - timedelta(minutes=3, seconds=25)
    painter = CountdownPainter(layer, scene, now=now, tz="UTC")
    assert painter.ticking_labels == {"seconds"}
    # WHEN frames at 25 s (many), 24 s (few) and 22 s (few) are drawn
    # THEN the label area differs between "sekund" and "sekundy" and not between two "sekundy"
    label = painter.cells[3].label
    crop = (label[0], label[1], label[0] + label[2], label[1] + label[3])
    at = {
        s: _drawn(
            CountdownPainter(layer, scene, now=DEADLINE - timedelta(minutes=3, seconds=s), tz="UTC")
        ).crop(crop)
        for s in (25, 24, 22)
    }
    assert ImageChops.difference(at[25], at[24]).getbbox() is not None
    assert ImageChops.difference(at[24], at[22]).getbbox() is None
    # and the animated GIF redraws that label area with the digits
    x0, y0, x1, y1 = painter.digit_area
    assert x0 <= crop[0] and y0 <= crop[1] and x1 >= crop[2] and y1 >= crop[3]
    base = Image.new("RGBA", (320, 100), (255, 255, 255, 255))
    painter.draw_static(base)
    _, frames = animate(base, [painter], ["#ffffff"], now)
    assert frames > 1


# ---------------------------------------------------------------------------------------- helpers


def _ar_timer(**changes: Any) -> CountdownLayer:
    base = CountdownLayer(
        type="countdown", box=(10, 10, 300, 80), deadline=DEADLINE, font="arabic", size=(18, 30),
        color="#f0fdfa", fill="#134e4a", label_color="#99f6e4",
        labels={"ar": {"days": AR_DAYS, "hours": "ساعة", "minutes": "دقيقة", "seconds": "ثانية"}},
    )  # fmt: skip
    return (
        base.model_copy(update=changes)
        if "labels" not in changes
        else CountdownLayer.model_validate({**base.model_dump(), **changes})
    )


def _drawn(painter: CountdownPainter) -> Image.Image:
    image = Image.new("RGBA", (320, 100), (248, 245, 238, 255))
    draw_countdown(image, painter)
    return image.convert("RGB")


def _text(template: str, **changes: Any) -> TextLayer:
    return TextLayer(type="text", text=template, box=(0, 0, 300, 40), font="body", size=(14, 14), **changes)


def _countdown_pack(
    make_pack: Callable[..., Path],
    small_pack: Callable[..., dict[str, Any]],
    labels: dict[str, Any],
    name: str = "plurals",
    robust: dict[str, str] | None = None,
) -> Pack:
    data = small_pack([], locales=("en", "pl"))
    creative = data["creatives"]["promo"]
    timer = {"id": "timer", "type": "countdown", "box": [0, 0, 200, 60], "deadline": "2026-12-04T23:59:00+01:00",
             "font": next(iter(data["tokens"]["fonts"])), "labels": labels, "robust": robust or {}}  # fmt: skip
    creative["layers"].append(timer)
    return load_pack(make_pack(data, name=name), checks=PACK_CHECKS)
