"""The studio's pure helpers: form parsing, local time in a zone, daypart shortcuts, the page's escaping.

The routes themselves are exercised over HTTP in tests/functional/test_studio_routes.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from versa.errors import ParamError
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.web.studio import Form, chosen_size, daypart_presets, local_to_instant, render_page, size_label

ROOT = Path(__file__).resolve().parents[2]
ACME = load_pack(ROOT / "examples" / "packs" / "acme", checks=PACK_CHECKS)
NORTHWIND = load_pack(ROOT / "examples" / "packs" / "northwind", checks=PACK_CHECKS)
NOW = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
ERROR_BOX = re.compile(r'<div id="error" class="error" role="alert" ?(hidden)?>')


# -------------------------------------------------------------------------------------------- form


def test_form_parse_keeps_the_last_value_strips_and_splits_parameters() -> None:
    # GIVEN a query as the page sends it, with a repeated name, padding and declared parameters
    form = Form.parse("brand=acme&creative=winter-sale&country=+DE+&country=AT&p.first_name=Ana&p.tier=&dpr=2")
    # THEN the studio's own fields and the parameters (prefix removed, blanks kept) are apart
    assert (form.brand, form.creative, form.country, form.dpr) == ("acme", "winter-sale", "AT", "2")
    assert dict(form.params) == {"first_name": "Ana", "tier": ""}
    assert form.fmt == "png" and form.tz == "" and form.at == ""


def test_form_parse_of_nothing_is_the_empty_form() -> None:
    assert Form.parse("") == Form()
    assert Form.parse("fmt=") == Form()  # an empty format means the default


def test_form_parse_does_not_let_a_parameter_shadow_a_field() -> None:
    form = Form.parse("country=DE&p.country=FR")
    assert form.country == "DE" and dict(form.params) == {"country": "FR"}


# ------------------------------------------------------------------------------------- local time


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        ("2026-12-01T19:30", "Europe/Berlin", "2026-12-01T19:30:00+01:00"),
        ("2026-07-01T19:30", "Europe/Berlin", "2026-07-01T19:30:00+02:00"),  # summer time
        ("2026-12-01T19:30:15", "America/New_York", "2026-12-01T19:30:15-05:00"),
        ("2026-12-01T19:30+09:00", "Europe/Berlin", "2026-12-01T19:30:00+09:00"),  # an offset wins
    ],
)
def test_local_to_instant(local: str, zone: str, expected: str) -> None:
    assert local_to_instant(local, zone).isoformat() == expected


@pytest.mark.parametrize(
    ("local", "zone", "name", "value"),
    [
        ("2026-12-01T19:30", "Mars/Olympus", "tz", "Mars/Olympus"),
        ("2026-12-01T19:30", "../../etc/passwd", "tz", "../../etc/passwd"),
        ("yesterday", "UTC", "at", "yesterday"),
        ("2026-13-01T19:30", "UTC", "at", "2026-13-01T19:30"),
    ],
)
def test_local_to_instant_names_the_bad_input(local: str, zone: str, name: str, value: str) -> None:
    with pytest.raises(ParamError) as err:
        local_to_instant(local, zone)
    assert (err.value.name, err.value.value) == (name, value)
    assert err.value.allowed


# ---------------------------------------------------------------------------------------- dayparts


def test_daypart_presets_sit_in_the_middle_of_each_daypart() -> None:
    # acme uses the default dayparts: morning 05:00, afternoon 12:00, evening 17:00, night 22:00
    presets = daypart_presets(ACME.model)
    assert presets == [
        ("morning", "08:30"),
        ("afternoon", "14:30"),
        ("evening", "19:30"),
        ("night", "01:30"),  # night wraps past midnight to the next morning
    ]


def test_each_preset_falls_in_its_own_daypart() -> None:
    parts = list(ACME.model.dayparts)
    for index, (name, hhmm) in enumerate(daypart_presets(ACME.model)):
        minutes = int(hhmm[:2]) * 60 + int(hhmm[3:])
        start = parts[index].start.hour * 60 + parts[index].start.minute
        end = parts[(index + 1) % len(parts)].start.hour * 60 + parts[(index + 1) % len(parts)].start.minute
        inside = start <= minutes < end if start < end else (minutes >= start or minutes < end)
        assert name == parts[index].name and inside, (name, hhmm)


# -------------------------------------------------------------------------------------------- page


def boot_data(page: str) -> dict[str, object]:
    match = re.search(r'<script id="studio-data" type="application/json">(.*?)</script>', page, re.S)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_page_boot_data_describes_the_chosen_creative() -> None:
    page = render_page(["acme", "northwind"], "northwind", NORTHWIND, Form(brand="northwind", creative="welcome"), NOW)
    assert boot_data(page) == {
        "brand": "northwind",
        "creative": "welcome",
        "size": [600, 200],
        "sizes": ["600x200"],
        "default_tz": NORTHWIND.model.default_tz,
        "params": {name: spec.type for name, spec in NORTHWIND.model.creatives["welcome"].params.items()},
        "has_template": False,
    }


def size_picker(page: str) -> list[tuple[str, str, bool]]:
    """The size picker's options: (value, label, selected)."""
    match = re.search(r'<select id="f-size" name="size" form="sim"[^>]*>(.*?)</select>', page, re.S)
    assert match is not None
    return [
        (value, label, bool(sel))
        for value, label, sel in re.findall(r'<option value="([^"]*)" label="([^"]*)"( selected)?>', match.group(1))
    ]


def test_page_size_picker_lists_every_declared_size_and_selects_the_chosen_one() -> None:
    # GIVEN a creative with several sizes, asked at one of them
    creative = ACME.model.creatives["winter-sale"]
    assert len(creative.all_sizes) > 1
    second = creative.all_sizes[1]
    page = render_page(["acme"], "acme", ACME, Form(brand="acme", creative="winter-sale", size=f"{second[0]}x{second[1]}"), NOW)
    # THEN the picker offers each size in the pack's order (the first marked the default), that one selected
    options = size_picker(page)
    assert [value for value, _, _ in options] == [f"{w}x{h}" for w, h in creative.all_sizes]
    assert [value for value, _, selected in options if selected] == [f"{second[0]}x{second[1]}"]
    assert options[0][1].endswith("default")
    assert boot_data(page)["size"] == list(second)


def test_page_with_a_size_the_creative_lacks_shows_its_first() -> None:
    page = render_page(["northwind"], "northwind", NORTHWIND, Form(brand="northwind", creative="welcome", size="728x90"), NOW)
    assert size_picker(page) == [("600x200", "600×200 · default", True)]
    assert boot_data(page)["size"] == [600, 200]


def test_chosen_size_names_what_is_allowed() -> None:
    creative = ACME.model.creatives["winter-sale"]
    assert chosen_size(creative, "") == creative.size
    for bad in ("123x45", "wide", "0x0"):
        with pytest.raises(ParamError) as info:
            chosen_size(creative, bad)
        assert info.value.name == "size" and info.value.value == bad
        assert info.value.allowed.startswith("one of 600x300, ")


def test_size_label_says_the_standard_name() -> None:
    assert size_label((728, 90), first=False) == "728×90 · leaderboard"
    assert size_label((600, 300), first=True) == "600×300 · default"
    assert size_label((333, 111), first=False) == "333×111"


def test_page_prefills_the_local_time_in_the_pack_zone() -> None:
    page = render_page(["northwind"], "northwind", NORTHWIND, Form(brand="northwind"), NOW)
    zone_now = NOW.astimezone(ZoneInfo(NORTHWIND.model.default_tz))
    assert f'name="at" value="{zone_now.strftime("%Y-%m-%dT%H:%M")}"' in page


def test_page_escapes_every_value_it_echoes() -> None:
    # GIVEN form values and an error that carry markup
    evil = '"><img src=x onerror=alert(1)>'
    form = Form(brand="acme", creative="winter-sale", country=evil, tz=evil, at=evil, params={"x": evil})
    # WHEN the page is rendered
    page = render_page(["acme"], "acme", ACME, form, NOW, error=f"broken {evil}")
    # THEN none of it arrives as markup
    assert "<img src=x" not in page
    assert page.count("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") >= 3


def test_page_boot_json_cannot_end_its_script() -> None:
    page = render_page(["a</script>"], "a</script>", None, Form(), NOW)
    assert "a</script>" not in page
    assert boot_data(page)["brand"] == "a</script>"


def test_page_shows_an_error_only_when_there_is_one() -> None:
    broken = render_page([], "", None, Form(), NOW, error="pack.yaml: creatives: field required")
    assert boot_data(broken) == {"brand": "", "creative": None}
    fine = render_page(["acme"], "acme", ACME, Form(), NOW)
    shown, hidden = ERROR_BOX.search(broken), ERROR_BOX.search(fine)
    assert shown is not None and shown.group(1) is None and "creatives: field required" in broken
    assert hidden is not None and hidden.group(1) == "hidden"


def test_page_unknown_creative_shows_the_first() -> None:
    page = render_page(["acme"], "acme", ACME, Form(brand="acme", creative="nope"), NOW)
    assert boot_data(page)["creative"] == next(iter(ACME.model.creatives))


# ------------------------------------------------------------------------------------------ lint


def test_the_lint_panel_groups_findings_per_creative_with_their_place() -> None:
    from versa.errors import Issue
    from versa.web.lint_panel import grouped

    # GIVEN findings about two of acme's creatives and one about the pack as a whole
    issues = [
        Issue("pack.yaml", "creatives.leaderboard.layers['row']", "off-canvas: ...", "warning", 240, 9),
        Issue("pack.yaml", "creatives.winter-sale.rules['dach'].when.country", "rule 'dach': country is never 'UK'", "error", 180, 15),
        Issue("templates/x.html", "line 3", "template syntax error", "error"),
    ]

    # WHEN grouped for the panel
    report = grouped(ACME, issues)

    # THEN each creative has its group (in the pack's order), paths are relative to it, places kept
    assert (report["errors"], report["warnings"]) == (2, 1)
    groups = {g["creative"]: g["findings"] for g in report["creatives"]}
    assert list(groups) == [*ACME.model.creatives, ""]
    (dach,) = groups["winter-sale"]
    assert (dach["where"], dach["line"], dach["column"], dach["severity"]) == ("rules['dach'].when.country", 180, 15, "error")
    assert groups["leaderboard"][0]["where"] == "layers['row']"
    assert groups[""][0]["file"] == "templates/x.html" and groups[""][0]["where"] == "line 3"
