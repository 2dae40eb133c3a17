"""The `when:` language: every operator, time of day, windows, buckets, groups, parse errors, reasons."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from versa.pack.conditions import (
    ALWAYS,
    AllOf,
    AnyOf,
    Bucket,
    Compare,
    ConditionError,
    Not,
    TimeOfDay,
    Window,
    bucket_percent,
    parse_condition,
)


def check(when: Any, **values: Any) -> tuple[bool, str]:
    """Evaluate a `when:` (YAML text or data) against attribute values; absent names are None."""
    data = yaml.safe_load(when) if isinstance(when, str) else when
    return parse_condition(data).evaluate(lookup(values))


def holds(when: Any, **values: Any) -> bool:
    return check(when, **values)[0]


def lookup(values: Mapping[str, Any]) -> Any:
    return lambda name: values.get(name)


def parse_error(when: Any) -> ConditionError:
    data = yaml.safe_load(when) if isinstance(when, str) else when
    with pytest.raises(ConditionError) as caught:
        parse_condition(data)
    return caught.value


# ------------------------------------------------------------------------------------- operators


def test_equals_is_case_insensitive_for_text() -> None:
    # GIVEN a rule on one country
    when = "{country: de}"

    # WHEN / THEN it matches that country in any case, and nothing else
    assert holds(when, country="DE")
    assert holds(when, country="de")
    assert not holds(when, country="AT")
    assert not holds(when, country=None)


def test_explicit_eq_operator() -> None:
    assert holds("{device: {eq: mobile}}", device="mobile")
    assert not holds("{device: {eq: mobile}}", device="desktop")


def test_in_list() -> None:
    # GIVEN a rule on a list of countries
    when = "{country: [DE, AT, CH]}"

    # WHEN / THEN membership decides; an absent attribute is in no list
    assert [holds(when, country=c) for c in ("DE", "AT", "CH", "FR", None)] == [True, True, True, False, False]
    assert holds("{country: {in: [de, at]}}", country="AT")


def test_not_in_holds_for_an_absent_attribute() -> None:
    # GIVEN a rule excluding Outlook
    when = "{client: {not_in: [outlook, yahoo]}}"

    # WHEN / THEN other clients and an absent client pass, listed ones do not
    assert holds(when, client="browser")
    assert holds(when, client=None)
    assert not holds(when, client="Outlook")
    assert not holds(when, client="yahoo")


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("gt", [False, False, True]),
        ("gte", [False, True, True]),
        ("lt", [True, False, False]),
        ("lte", [True, True, False]),
    ],
)
def test_numeric_comparisons_at_the_boundary(op: str, expected: list[bool]) -> None:
    # GIVEN a comparison with 10
    when = {"visits": {op: 10}}

    # WHEN 9, 10 and 11 are compared
    got = [holds(when, visits=v) for v in (9, 10, 11)]

    # THEN the boundary is included exactly for gte and lte
    assert got == expected


def test_numeric_comparison_of_an_absent_or_non_number_value_is_false() -> None:
    assert not holds({"visits": {"gt": 1}}, visits=None)
    assert not holds({"visits": {"lt": 100}}, visits="12")
    assert not holds({"visits": {"lt": 100}}, visits=True)
    assert holds({"score": {"gte": 0.5}}, score=0.75)


def test_several_operators_all_hold() -> None:
    # GIVEN a range written as two operators on one attribute
    when = "{hour: {gte: 6, lt: 12}}"

    # WHEN / THEN it holds in [6, 12) only
    assert [holds(when, hour=h) for h in (5, 6, 11, 12)] == [False, True, True, False]


def test_present() -> None:
    assert holds("{first_name: {present: true}}", first_name="Ana")
    assert not holds("{first_name: {present: true}}", first_name=None)
    assert holds("{first_name: {present: false}}", first_name=None)
    assert not holds("{first_name: {present: false}}", first_name="Ana")


def test_booleans_match_their_yaml_and_text_spellings() -> None:
    # GIVEN rules on `weekend` written as a YAML boolean and as text
    # WHEN / THEN each matches the boolean value of the attribute
    assert holds("{weekend: true}", weekend=True)
    assert holds("{weekend: yes}", weekend=True)
    assert holds('{weekend: "true"}', weekend=True)
    assert holds('{weekend: "False"}', weekend=False)
    assert not holds('{weekend: "true"}', weekend=False)


def test_a_boolean_never_equals_a_number() -> None:
    # GIVEN a rule on hour 1 and one on weekend true (in Python, True == 1)
    # WHEN / THEN they do not confuse each other's values
    assert not holds("{hour: 1}", hour=True)
    assert not holds("{weekend: true}", weekend=1)


def test_date_equals_and_in() -> None:
    # GIVEN rules on the local date, quoted and unquoted (YAML reads the latter as a date)
    christmas = date(2026, 12, 24)

    # WHEN / THEN both forms match the local date
    assert holds('{date: "2026-12-24"}', date=christmas)
    assert holds("{date: 2026-12-24}", date=christmas)
    assert holds("{date: [2026-12-24, 2026-12-25]}", date=christmas)
    assert not holds("{date: 2026-12-25}", date=christmas)


# ----------------------------------------------------------------------------------- time of day


@pytest.mark.parametrize(
    ("now", "expected"),
    [(time(8, 59), False), (time(9, 0), True), (time(12, 30), True), (time(16, 59, 59), True), (time(17, 0), False)],
)
def test_time_of_day_range(now: time, expected: bool) -> None:
    # GIVEN office hours [09:00, 17:00)
    # WHEN / THEN the start is included and the end is not
    assert holds('{local_time: {from: "09:00", to: "17:00"}}', local_time=now) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (time(21, 59), False),
        (time(22, 0), True),
        (time(23, 59, 59), True),
        (time(0, 0), True),
        (time(5, 59), True),
        (time(6, 0), False),
        (time(12, 0), False),
    ],
)
def test_time_of_day_wraps_past_midnight(now: time, expected: bool) -> None:
    # GIVEN a night range [22:00, 06:00)
    # WHEN / THEN it holds from 22:00 through midnight until 06:00
    assert holds('{local_time: {from: "22:00", to: "06:00"}}', local_time=now) is expected


def test_time_of_day_without_a_clock_is_false() -> None:
    assert not holds('{local_time: {from: "22:00", to: "06:00"}}', local_time=None)


def test_unquoted_yaml_times_are_read_as_the_time_meant() -> None:
    # GIVEN YAML 1.1, which reads an unquoted 22:00 as the sexagesimal integer 1320 (and 06:00 as text)
    data = yaml.safe_load("{local_time: {from: 22:00, to: 06:00}}")
    assert data["local_time"]["from"] == 1320

    # WHEN parsed
    cond = parse_condition(data)

    # THEN it is the range written
    assert cond == TimeOfDay(time(22, 0), time(6, 0))
    assert parse_condition(yaml.safe_load("{local_time: {from: 7:30, to: 9:05}}")) == TimeOfDay(time(7, 30), time(9, 5))


def test_single_digit_hours_in_quotes_are_times_too() -> None:
    assert parse_condition({"local_time": {"from": "7:30", "to": "9:05"}}) == TimeOfDay(time(7, 30), time(9, 5))


@pytest.mark.parametrize("text", ["{from: 25:00, to: 06:00}", "{from: 24:00, to: 06:00}", "{from: 1:02:03, to: 06:00}"])
def test_unquoted_times_out_of_range_are_errors_not_wrapped(text: str) -> None:
    # GIVEN an unquoted time that is not a time of day (YAML makes it a large integer)
    # WHEN parsed
    err = parse_error("{local_time: " + text + "}")

    # THEN it is refused at its place rather than silently wrapped into another hour
    assert err.path == "when.local_time.from"
    assert "is not a time of day" in err.message


def test_equal_bounds_are_an_empty_range() -> None:
    err = parse_error('{local_time: {from: "10:00", to: "10:00"}}')
    assert err.path == "when.local_time"


# --------------------------------------------------------------------------------------- windows


def test_window_with_an_explicit_zone() -> None:
    # GIVEN December 1-24 in Berlin's wall time
    when = '{window: {from: "2026-12-01T00:00", to: "2026-12-24T00:00", tz: Europe/Berlin}}'
    start = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # midnight in Berlin (UTC+1)
    end = datetime(2026, 12, 23, 23, 0, tzinfo=UTC)

    # WHEN / THEN the viewer's own zone does not matter, the start is included and the end is not
    for viewer in ("America/Los_Angeles", "Asia/Tokyo"):
        assert not holds(when, now=start - timedelta(seconds=1), tz=viewer)
        assert holds(when, now=start, tz=viewer)
        assert holds(when, now=end - timedelta(seconds=1), tz=viewer)
        assert not holds(when, now=end, tz=viewer)


def test_window_in_the_viewers_zone() -> None:
    # GIVEN a window without a zone: its wall times are each viewer's own
    when = '{window: {from: "2026-12-01T00:00"}}'
    instant = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)

    # WHEN the same instant is seen from Berlin (00:30 on Dec 1) and London (23:30 on Nov 30)
    berlin, london = holds(when, now=instant, tz="Europe/Berlin"), holds(when, now=instant, tz="Europe/London")

    # THEN it has started for the Berlin viewer only
    assert (berlin, london) == (True, False)


def test_window_with_an_offset_ignores_zones() -> None:
    when = '{window: {to: "2026-12-05T00:00:00-06:00"}}'
    assert holds(when, now=datetime(2026, 12, 5, 5, 59, tzinfo=UTC), tz="Asia/Tokyo")
    assert not holds(when, now=datetime(2026, 12, 5, 6, 0, tzinfo=UTC), tz="Asia/Tokyo")


def test_window_bounds_may_be_yaml_dates_and_timestamps() -> None:
    # GIVEN unquoted dates and timestamps (YAML turns them into date and datetime objects)
    cond = parse_condition(yaml.safe_load("{window: {from: 2026-12-01, to: 2026-12-24 12:00:00, tz: UTC}}"))

    # WHEN / THEN a date means its midnight
    assert cond == Window(datetime(2026, 12, 1), datetime(2026, 12, 24, 12), "UTC")


@pytest.mark.parametrize(
    ("when", "path"),
    [
        ('{window: {from: "2026-12-24", to: "2026-12-01"}}', "when.window"),
        ('{window: {from: "2026-12-01", tz: Mars/Olympus}}', "when.window.tz"),
        ('{window: {from: "soon"}}', "when.window.from"),
        ("{window: {tz: UTC}}", "when.window"),
        ('{window: {from: "2026-12-01", until: "2026-12-02"}}', "when.window.until"),
    ],
)
def test_window_parse_errors(when: str, path: str) -> None:
    assert parse_error(when).path == path


# ---------------------------------------------------------------------------------------- buckets


def test_bucket_is_deterministic_and_pinned() -> None:
    # GIVEN a salted bucket over a subscriber id
    # WHEN the same value is bucketed again
    # THEN it lands in the same place, today and in every release (copy and A/B results depend on it)
    assert bucket_percent("cyber-cta-2026", "u1") == bucket_percent("cyber-cta-2026", "u1") == 6.04
    assert bucket_percent("cyber-cta-2026", "u2") == 90.19
    assert bucket_percent("xmas", 42) == bucket_percent("xmas", "42") == 19.87


def test_bucket_is_stable_across_processes() -> None:
    # GIVEN two fresh interpreters with different hash seeds
    code = "from versa.pack.conditions import bucket_percent as b; print([b('s', f'u{i}') for i in range(50)])"
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed}
        ).stdout
        for seed in ("1", "2")
    ]

    # WHEN / THEN they bucket every id identically, and as this process does
    assert runs[0] == runs[1]
    assert runs[0].strip() == str([bucket_percent("s", f"u{i}") for i in range(50)])


def test_bucket_splits_about_half_and_complements_exactly() -> None:
    # GIVEN a 50 % bucket and its complement
    a = parse_condition({"bucket": {"key": "uid", "salt": "test", "pct": [0, 50]}})
    b = parse_condition({"bucket": {"key": "uid", "salt": "test", "pct": [50, 100]}})

    # WHEN 10 000 ids are evaluated
    in_a = [a.evaluate(lookup({"uid": f"user-{i}"}))[0] for i in range(10_000)]
    in_b = [b.evaluate(lookup({"uid": f"user-{i}"}))[0] for i in range(10_000)]

    # THEN about half land in each, and every id lands in exactly one
    assert 4_800 <= sum(in_a) <= 5_200
    assert all(x != y for x, y in zip(in_a, in_b, strict=True))


def test_bucket_salts_are_independent() -> None:
    # GIVEN two 50 % buckets with different salts
    one = [bucket_percent("one", f"u{i}") < 50 for i in range(4_000)]
    two = [bucket_percent("two", f"u{i}") < 50 for i in range(4_000)]

    # WHEN / THEN knowing one says nothing about the other (agreement near 50 %)
    agree = sum(x == y for x, y in zip(one, two, strict=True))
    assert 1_800 <= agree <= 2_200


def test_bucket_without_a_value_is_false() -> None:
    ok, reason = check({"bucket": {"key": "uid", "salt": "s", "pct": [0, 100]}}, uid=None)
    assert not ok
    assert reason == "bucket over uid [0.0, 100.0) (uid absent)"


@given(st.text(min_size=1, max_size=30), st.text(max_size=30))
def test_bucket_percent_is_in_range(salt: str, value: str) -> None:
    pct = bucket_percent(salt, value)
    assert 0 <= pct < 100
    assert round(pct, 2) == pct


@pytest.mark.parametrize(
    ("bucket", "path"),
    [
        ({"key": "uid", "salt": "s", "pct": [50, 50]}, "when.bucket.pct"),
        ({"key": "uid", "salt": "s", "pct": [0, 101]}, "when.bucket.pct"),
        ({"key": "uid", "salt": "s", "pct": [0, "half"]}, "when.bucket.pct[1]"),
        ({"key": "uid", "pct": [0, 50]}, "when.bucket"),
    ],
)
def test_bucket_parse_errors(bucket: dict[str, Any], path: str) -> None:
    assert parse_error({"bucket": bucket}).path == path


# ----------------------------------------------------------------------------------------- groups


def test_mapping_keys_must_all_hold() -> None:
    when = "{country: DE, device: mobile}"
    assert holds(when, country="DE", device="mobile")
    assert not holds(when, country="DE", device="desktop")


def test_all_any_not() -> None:
    # GIVEN nested groups: (US or English) and not mobile
    when = "{all: [{any: [{country: US}, {lang: en}]}, {not: {device: mobile}}]}"

    # WHEN / THEN
    assert holds(when, country="US", lang="de", device="desktop")
    assert holds(when, country="FR", lang="en", device="tablet")
    assert not holds(when, country="FR", lang="fr", device="desktop")
    assert not holds(when, country="US", lang="en", device="mobile")


def test_empty_when_always_holds() -> None:
    assert parse_condition(None) is ALWAYS
    assert parse_condition({}) is ALWAYS
    assert ALWAYS.evaluate(lookup({})) == (True, "always")


def test_groups_parse_to_nodes() -> None:
    cond = parse_condition(yaml.safe_load("{any: [{country: US}, {not: {device: mobile}}]}"))
    assert cond == AnyOf((Compare("country", "eq", "US"), Not(Compare("device", "eq", "mobile"))))
    assert cond.attributes() == {"country", "device"}


@pytest.mark.parametrize(
    "when",
    [
        "{country: [DE, AT], device: {not_in: [tv]}, hour: {gte: 6, lt: 12}}",
        '{local_time: {from: "22:00", to: "06:00"}, weekend: true}',
        '{window: {from: "2026-12-01T00:00", to: "2026-12-24T00:00", tz: Europe/Berlin}}',
        "{bucket: {key: uid, salt: s, pct: [0, 50]}, tier: {present: true}}",
        "{any: [{country: US}, {all: [{country: DE}, {lang: de}]}], not: {client: outlook}}",
    ],
)
def test_conditions_round_trip_through_their_data_form(when: str) -> None:
    # GIVEN a parsed condition
    cond = parse_condition(yaml.safe_load(when))

    # WHEN it is written back to data and parsed again
    again = parse_condition(cond.to_data())

    # THEN it is the same condition
    assert again == cond


# ----------------------------------------------------------------------------------- parse errors


@pytest.mark.parametrize(
    ("when", "path", "message"),
    [
        ("{hour: {between: [1, 2]}}", "when.hour.between", "unknown operator 'between'"),
        ("{any: [{country: US}, {hour: {gte: soon}}]}", "when.any[1].hour.gte", "'soon' is not a number"),
        (
            "{all: [{not: {local_time: {from: '25:00', to: '06:00'}}}]}",
            "when.all[0].not.local_time.from",
            "'25:00' is not a time of day",
        ),
        ("{country: []}", "when.country", "an empty list can never match"),
        ("{country: {in: []}}", "when.country.in", "needs a non-empty list"),
        ("{any: []}", "when.any", "needs a non-empty list of conditions"),
        ("{first_name: {present: maybe}}", "when.first_name.present", "needs true or false"),
        ("{country: {}}", "when.country", "needs at least one operator"),
        ("{country: [[DE]]}", "when.country", "is not a single value"),
        ("[country, DE]", "when", "expected a mapping of conditions, got list"),
        ("{local_time: {from: '22:00'}}", "when.local_time", "needs {from: 'HH:MM', to: 'HH:MM'}"),
    ],
)
def test_parse_errors_name_the_path_inside_when(when: str, path: str, message: str) -> None:
    # GIVEN a malformed condition
    # WHEN parsed
    err = parse_error(when)

    # THEN the error says where inside `when` and what is wrong
    assert err.path == path
    assert message in err.message
    assert str(err) == f"{path}: {err.message}"


# ----------------------------------------------------------------------------------- trace reasons


@pytest.mark.parametrize(
    ("when", "values", "expected"),
    [
        ("{country: [DE, AT]}", {"country": "DE"}, (True, "country in [DE, AT] (country=DE)")),
        ("{country: [DE, AT]}", {}, (False, "country in [DE, AT] (country=absent)")),
        ("{device: mobile}", {"device": "tv"}, (False, "device = mobile (device=tv)")),
        ("{client: {not_in: [outlook]}}", {"client": "gmail"}, (True, "client not in [outlook] (client=gmail)")),
        ("{hour: {gte: 6}}", {"hour": 5}, (False, "hour >= 6 (hour=5)")),
        ("{first_name: {present: true}}", {"first_name": "Ana"}, (True, "first_name present (first_name=Ana)")),
        ("{weekend: true}", {"weekend": False}, (False, "weekend = true (weekend=false)")),
        (
            '{local_time: {from: "22:00", to: "06:00"}}',
            {"local_time": time(23, 15)},
            (True, "local_time in [22:00, 06:00) (local_time=23:15)"),
        ),
        (
            "{any: [{country: US}, {lang: en}]}",
            {"country": "FR", "lang": "fr"},
            (False, "none of: country = US (country=FR) | lang = en (lang=fr)"),
        ),
        ("{not: {device: mobile}}", {"device": "mobile"}, (False, "not (device = mobile (device=mobile))")),
        (
            "{country: DE, device: mobile}",
            {"country": "DE", "device": "tv"},
            (False, "device = mobile (device=tv)"),
        ),
        (
            "{country: DE, device: mobile}",
            {"country": "DE", "device": "mobile"},
            (True, "country = DE (country=DE); device = mobile (device=mobile)"),
        ),
    ],
)
def test_reasons_name_the_deciding_condition_and_the_value(
    when: str, values: dict[str, Any], expected: tuple[bool, str]
) -> None:
    assert check(when, **values) == expected


def test_window_and_bucket_reasons() -> None:
    # GIVEN a window in Berlin and a bucket
    window = '{window: {from: "2026-12-01T00:00", tz: Europe/Berlin}}'
    bucket = {"bucket": {"key": "uid", "salt": "cyber-cta-2026", "pct": [50, 100]}}

    # WHEN evaluated
    w_ok, w_reason = check(window, now=datetime(2026, 12, 2, 12, tzinfo=UTC), tz="UTC")
    b_ok, b_reason = check(bucket, uid="u1")

    # THEN the reasons show the bounds, the zone, the clock and the computed bucket
    assert w_ok
    assert w_reason == "window [2026-12-01T00:00:00+01:00, …) in Europe/Berlin (now=2026-12-02T12:00+00:00)"
    assert not b_ok
    assert b_reason == "bucket over uid in [50.0, 100.0) (bucket=6.04)"


def test_node_types() -> None:
    # GIVEN the YAML forms of each node
    # WHEN parsed
    # THEN each becomes the node that evaluates it
    assert isinstance(parse_condition({"country": "DE"}), Compare)
    assert isinstance(parse_condition({"country": "DE", "lang": "de"}), AllOf)
    assert isinstance(parse_condition({"bucket": {"key": "k", "salt": "s", "pct": [0, 1]}}), Bucket)
    assert isinstance(parse_condition({"local_time": {"from": "01:00", "to": "02:00"}}), TimeOfDay)
    assert isinstance(parse_condition({"window": {"from": "2026-01-01T00:00"}}), Window)
