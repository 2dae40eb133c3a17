"""Time features in the viewer's zone and DST-safe wall-clock arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from versa.context.timefeatures import (
    DEFAULT_DAYPARTS,
    Daypart,
    Dayparts,
    daypart_of,
    hemisphere_of,
    local_features,
    next_daypart_boundary,
    next_local_midnight,
    next_month_start,
    next_offset_change,
    next_wall_time,
    season_of,
    to_utc,
    validate_dayparts,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")
APIA = ZoneInfo("Pacific/Apia")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- dayparts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (time(0, 0), "night"),
        (time(4, 59, 59), "night"),
        (time(5, 0), "morning"),
        (time(11, 59), "morning"),
        (time(12, 0), "afternoon"),
        (time(16, 59), "afternoon"),
        (time(17, 0), "evening"),
        (time(21, 59, 59, 999999), "evening"),
        (time(22, 0), "night"),
        (time(23, 59), "night"),
    ],
)
def test_default_dayparts_wrap_past_midnight(wall: time, expected: str) -> None:
    assert daypart_of(wall) == expected
    assert daypart_of(wall, DEFAULT_DAYPARTS) == expected


def test_dayparts_parse_from_yaml_like_values() -> None:
    # GIVEN dayparts as a pack declares them
    parts = TypeAdapter(Dayparts).validate_python(
        [{"name": "breakfast", "start": "06:30"}, {"name": "rest-of-day", "start": "10:00"}]
    )

    # THEN they are validated and ordered
    assert parts[0].start == time(6, 30)
    assert daypart_of(time(3, 0), parts) == "rest-of-day"
    assert daypart_of(time(7, 0), parts) == "breakfast"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "at least one"),
        ([{"name": "a", "start": "05:00"}, {"name": "a", "start": "06:00"}], "unique"),
        ([{"name": "a", "start": "05:00"}, {"name": "b", "start": "05:00"}], "strictly increase"),
        ([{"name": "a", "start": "12:00"}, {"name": "b", "start": "05:00"}], "strictly increase"),
        ([{"name": "Morning", "start": "05:00"}], "slug"),
        ([{"name": "a", "start": "25:00"}], "start"),
        ([{"name": "a", "start": "05:00", "end": "06:00"}], "Extra inputs"),
    ],
)
def test_invalid_daypart_lists_are_refused(parts: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(Dayparts).validate_python(parts)


def test_validate_dayparts_raises_value_error_directly() -> None:
    with pytest.raises(ValueError, match="at least one"):
        validate_dayparts([])


# -- seasons and hemispheres --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "north", "south"),
    [
        (12, "winter", "summer"),
        (1, "winter", "summer"),
        (2, "winter", "summer"),
        (3, "spring", "autumn"),
        (5, "spring", "autumn"),
        (6, "summer", "winter"),
        (8, "summer", "winter"),
        (9, "autumn", "spring"),
        (11, "autumn", "spring"),
    ],
)
def test_meteorological_seasons_swap_in_the_south(month: int, north: str, south: str) -> None:
    assert season_of(date(2025, month, 15), "north") == north
    assert season_of(date(2025, month, 15), "south") == south


@pytest.mark.parametrize(
    ("tz", "country", "expected"),
    [
        ("Australia/Sydney", None, "south"),
        ("Australia/Lord_Howe", "AU", "south"),
        ("Pacific/Auckland", None, "south"),
        ("Antarctica/McMurdo", None, "south"),
        ("America/Argentina/Buenos_Aires", None, "south"),
        ("America/Buenos_Aires", None, "south"),  # backward-compatible link
        ("America/Santiago", None, "south"),
        ("America/Sao_Paulo", None, "south"),
        ("America/Montevideo", None, "south"),
        ("America/Asuncion", None, "south"),
        ("Africa/Johannesburg", None, "south"),
        ("Africa/Maputo", None, "south"),
        ("Pacific/Pago_Pago", None, "south"),
        ("Pacific/Kiritimati", None, "north"),
        ("Europe/Berlin", None, "north"),
        ("America/New_York", None, "north"),
        ("Asia/Kolkata", None, "north"),
        ("Europe/Berlin", "AU", "north"),  # a geographic zone decides
        ("UTC", "AU", "south"),  # a zone that names no place: the country decides
        ("Etc/GMT-10", "nz", "south"),
        ("UTC", "DE", "north"),
        ("UTC", None, "north"),
    ],
)
def test_hemisphere_from_zone_then_country(tz: str, country: str | None, expected: str) -> None:
    assert hemisphere_of(tz, country) == expected


# -- local features -----------------------------------------------------------------------------------


def test_local_features_are_computed_in_the_viewers_zone() -> None:
    # GIVEN one instant: 21:00 UTC on Monday 1 July 2024
    now = utc(2024, 7, 1, 21, 0)

    # WHEN features are computed for a viewer in Sydney
    feats = local_features(now, ZoneInfo("Australia/Sydney"), country="AU")

    # THEN they describe Sydney's Tuesday morning in the southern winter
    assert feats.local == now
    assert feats.local.utcoffset() == timedelta(hours=10)
    assert (feats.date, feats.time, feats.hour, feats.minute) == (date(2024, 7, 2), time(7, 0), 7, 0)
    assert (feats.weekday, feats.weekend, feats.daypart) == ("tue", False, "morning")
    assert (feats.season, feats.hemisphere) == ("winter", "south")


def test_half_hour_zone_gives_local_minutes() -> None:
    feats = local_features(utc(2025, 3, 14, 6, 45), KOLKATA)
    assert (feats.hour, feats.minute, feats.daypart, feats.season) == (12, 15, "afternoon", "spring")


def test_date_line_neighbours_live_on_different_days() -> None:
    # GIVEN one instant, Saturday 10:00 UTC
    now = utc(2025, 1, 4, 10, 0)

    # WHEN it is seen from Kiritimati (UTC+14) and Pago Pago (UTC-11), 25 hours apart
    east = local_features(now, KIRITIMATI)
    west = local_features(now, PAGO_PAGO)

    # THEN Kiritimati is already on Sunday, Pago Pago still on Friday night
    assert (east.date, east.weekday, east.time) == (date(2025, 1, 5), "sun", time(0, 0))
    assert (west.date, west.weekday, west.time) == (date(2025, 1, 3), "fri", time(23, 0))
    assert (east.season, east.hemisphere) == ("winter", "north")
    assert (west.season, west.hemisphere) == ("summer", "south")


def test_weekend_days_are_configurable() -> None:
    friday = utc(2025, 5, 2, 9, 0)
    riyadh = ZoneInfo("Asia/Riyadh")
    assert local_features(friday, riyadh, weekend_days={"fri", "sat"}).weekend is True
    assert local_features(friday, riyadh).weekend is False


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_features(datetime(2025, 1, 1), BERLIN)


# -- next_wall_time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "after", "wall", "expected"),
    [
        # ordinary days
        (BERLIN, utc(2025, 1, 10, 12, 0), time(17, 0), utc(2025, 1, 10, 16, 0)),
        (BERLIN, utc(2025, 1, 10, 16, 0), time(17, 0), utc(2025, 1, 11, 16, 0)),  # strictly after
        (KOLKATA, utc(2025, 1, 10, 0, 0), time(5, 0), utc(2025, 1, 10, 23, 30)),
        # Berlin spring forward 2025-03-30: 02:00 CET -> 03:00 CEST at 01:00 UTC; 02:30 never happens
        (BERLIN, utc(2025, 3, 29, 12, 0), time(2, 30), utc(2025, 3, 30, 1, 0)),
        (BERLIN, utc(2025, 3, 29, 12, 0), time(3, 0), utc(2025, 3, 30, 1, 0)),
        (BERLIN, utc(2025, 3, 29, 12, 0), time(5, 0), utc(2025, 3, 30, 3, 0)),
        # Berlin fall back 2025-10-26: 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:30 happens twice
        (BERLIN, utc(2025, 10, 25, 12, 0), time(2, 30), utc(2025, 10, 26, 0, 30)),
        (BERLIN, utc(2025, 10, 26, 0, 30), time(2, 30), utc(2025, 10, 26, 1, 30)),  # the second one
        (BERLIN, utc(2025, 10, 26, 1, 30), time(2, 30), utc(2025, 10, 27, 1, 30)),
        (BERLIN, utc(2025, 10, 25, 12, 0), time(5, 0), utc(2025, 10, 26, 4, 0)),
        # New York spring forward 2025-03-09: 02:00 EST -> 03:00 EDT at 07:00 UTC
        (NEW_YORK, utc(2025, 3, 8, 12, 0), time(2, 15), utc(2025, 3, 9, 7, 0)),
        (NEW_YORK, utc(2025, 3, 8, 12, 0), time(5, 0), utc(2025, 3, 9, 9, 0)),
        # New York fall back 2025-11-02: 02:00 EDT -> 01:00 EST at 06:00 UTC
        (NEW_YORK, utc(2025, 11, 1, 12, 0), time(1, 30), utc(2025, 11, 2, 5, 30)),
        (NEW_YORK, utc(2025, 11, 2, 5, 45), time(1, 30), utc(2025, 11, 2, 6, 30)),
        (NEW_YORK, utc(2025, 11, 1, 12, 0), time(22, 0), utc(2025, 11, 2, 2, 0)),
        (NEW_YORK, utc(2025, 11, 2, 12, 0), time(22, 0), utc(2025, 11, 3, 3, 0)),
        # Lord Howe: 30-minute DST. 2025-10-05 02:00 +10:30 -> 02:30 +11 (15:30 UTC on the 4th)
        (LORD_HOWE, utc(2025, 10, 4, 0, 0), time(2, 15), utc(2025, 10, 4, 15, 30)),
        (LORD_HOWE, utc(2025, 10, 4, 0, 0), time(2, 30), utc(2025, 10, 4, 15, 30)),
        # Lord Howe 2025-04-06 02:00 +11 -> 01:30 +10:30 (15:00 UTC on the 5th); 01:45 twice
        (LORD_HOWE, utc(2025, 4, 5, 0, 0), time(1, 45), utc(2025, 4, 5, 14, 45)),
        (LORD_HOWE, utc(2025, 4, 5, 14, 45), time(1, 45), utc(2025, 4, 5, 15, 15)),
        # Date line: Kiritimati (+14) and Pago Pago (-11)
        (KIRITIMATI, utc(2025, 1, 4, 9, 0), time(0, 0), utc(2025, 1, 4, 10, 0)),
        (PAGO_PAGO, utc(2025, 1, 4, 9, 0), time(0, 0), utc(2025, 1, 4, 11, 0)),
        # Samoa skipped 30 December 2011: the clock jumped from Dec 29 24:00 (-10) to Dec 31 00:00 (+14)
        (APIA, utc(2011, 12, 29, 12, 0), time(9, 0), utc(2011, 12, 29, 19, 0)),
        (APIA, utc(2011, 12, 29, 20, 0), time(9, 0), utc(2011, 12, 30, 10, 0)),
    ],
)
def test_next_wall_time(tz: ZoneInfo, after: datetime, wall: time, expected: datetime) -> None:
    # WHEN the next time the local clock reads `wall` is asked for
    result = next_wall_time(after, tz, wall)

    # THEN it is the expected UTC instant, strictly later, expressed in UTC
    assert result == expected
    assert result > after
    assert result.utcoffset() == timedelta(0)


def test_next_wall_time_accepts_any_aware_input_and_refuses_naive() -> None:
    after = datetime(2025, 1, 10, 13, 0, tzinfo=BERLIN)
    assert next_wall_time(after, BERLIN, time(17, 0)) == utc(2025, 1, 10, 16, 0)
    with pytest.raises(ValueError, match="aware"):
        next_wall_time(datetime(2025, 1, 10), BERLIN, time(17, 0))


def test_next_local_midnight() -> None:
    assert next_local_midnight(utc(2025, 1, 10, 12, 0), BERLIN) == utc(2025, 1, 10, 23, 0)
    assert next_local_midnight(utc(2025, 7, 10, 12, 0), BERLIN) == utc(2025, 7, 10, 22, 0)
    assert next_local_midnight(utc(2025, 1, 4, 9, 0), KIRITIMATI) == utc(2025, 1, 4, 10, 0)
    # Samoa's skipped day: the next new day starts when the clock jumps to Dec 31
    assert next_local_midnight(utc(2011, 12, 29, 12, 0), APIA) == utc(2011, 12, 30, 10, 0)


def test_next_month_start() -> None:
    # Berlin new year in winter time (+01:00)
    assert next_month_start(utc(2025, 12, 15, 12, 0), BERLIN) == utc(2025, 12, 31, 23, 0)
    # Berlin 1 April in summer time (+02:00)
    assert next_month_start(utc(2025, 3, 15, 12, 0), BERLIN) == utc(2025, 3, 31, 22, 0)
    # already 1 February in Kiritimati although still January in UTC
    assert next_month_start(utc(2024, 1, 31, 11, 0), KIRITIMATI) == utc(2024, 2, 29, 10, 0)
    # Pago Pago's February starts 11 hours after UTC's
    assert next_month_start(utc(2024, 1, 31, 23, 0), PAGO_PAGO) == utc(2024, 2, 1, 11, 0)


def test_to_utc_reads_naive_wall_times_in_the_zone() -> None:
    # plain
    assert to_utc(datetime(2025, 1, 10, 17, 0), BERLIN) == utc(2025, 1, 10, 16, 0)
    # fall-back fold: first occurrence by default, the second with fold=1
    assert to_utc(datetime(2025, 11, 2, 1, 30), NEW_YORK) == utc(2025, 11, 2, 5, 30)
    assert to_utc(datetime(2025, 11, 2, 1, 30, fold=1), NEW_YORK) == utc(2025, 11, 2, 6, 30)
    # spring-forward gap: the instant the clock jumps past it
    assert to_utc(datetime(2025, 3, 9, 2, 30), NEW_YORK) == utc(2025, 3, 9, 7, 0)
    # aware values keep their own offset
    assert to_utc(datetime(2025, 1, 10, 17, 0, tzinfo=KOLKATA), BERLIN) == utc(2025, 1, 10, 11, 30)


def test_next_daypart_boundary() -> None:
    # 16:30 in Berlin (winter): evening starts at 17:00
    assert next_daypart_boundary(utc(2025, 1, 10, 15, 30), BERLIN) == utc(2025, 1, 10, 16, 0)
    # 23:00 in Berlin: morning starts at 05:00
    assert next_daypart_boundary(utc(2025, 1, 10, 22, 0), BERLIN) == utc(2025, 1, 11, 4, 0)


def test_next_offset_change() -> None:
    assert next_offset_change(utc(2025, 3, 1), BERLIN, utc(2025, 4, 1)) == utc(2025, 3, 30, 1, 0)
    assert next_offset_change(utc(2025, 6, 1), BERLIN, utc(2025, 7, 1)) is None
    assert next_offset_change(utc(2025, 4, 1), LORD_HOWE, utc(2025, 4, 30)) == utc(2025, 4, 5, 15, 0)
    assert next_offset_change(utc(2025, 1, 1), KOLKATA, utc(2025, 12, 31)) is None
    # the bound is inclusive, the start exclusive
    assert next_offset_change(utc(2025, 3, 30, 1, 0), BERLIN, utc(2025, 4, 1)) is None
    assert next_offset_change(utc(2025, 3, 30), BERLIN, utc(2025, 3, 30, 1, 0)) == utc(2025, 3, 30, 1, 0)


# -- properties ---------------------------------------------------------------------------------------

ZONES = [BERLIN, NEW_YORK, LORD_HOWE, KOLKATA, KIRITIMATI, PAGO_PAGO, APIA, ZoneInfo("America/Santiago")]
MINUTE = timedelta(minutes=1)


def _reference_next_wall_time(after: datetime, tz: ZoneInfo, wall: time) -> datetime:
    """Brute force, minute by minute: the first instant the local clock moves forward onto or past a
    local date-time whose time is `wall`."""
    step = after
    before = step.astimezone(tz).replace(tzinfo=None)
    while True:
        step += MINUTE
        now = step.astimezone(tz).replace(tzinfo=None)
        if before < now:
            day = before.date()
            while datetime.combine(day, time.min) <= now:
                target = datetime.combine(day, wall)
                if before < target <= now:
                    return step
                day += timedelta(days=1)
        before = now


@settings(max_examples=60, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    after=st.datetimes(min_value=datetime(1996, 1, 1), max_value=datetime(2037, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    ),
    wall=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_next_wall_time_matches_a_minute_by_minute_walk(tz: ZoneInfo, after: datetime, wall: time) -> None:
    # WHEN the next wall time is computed
    result = next_wall_time(after, tz, wall)

    # THEN it is later, the local clock reads `wall` there or has just jumped past it,
    # and no earlier minute qualifies
    assert result > after
    local = result.astimezone(tz)
    if local.time() != wall:
        just_before = (result - timedelta(seconds=1)).astimezone(tz)
        assert just_before.utcoffset() != local.utcoffset()
    assert result == _reference_next_wall_time(after, tz, wall)


@settings(max_examples=80, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    after=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
    ),
)
def test_next_month_start_is_a_local_first_of_month(tz: ZoneInfo, after: datetime) -> None:
    result = next_month_start(after, tz)
    assert after < result <= after + timedelta(days=33)
    local = result.astimezone(tz)
    assert local.day == 1 or local.month != (result - timedelta(seconds=1)).astimezone(tz).month
    assert local.time() == time(0, 0) or (result - timedelta(seconds=1)).astimezone(tz).utcoffset() != (
        local.utcoffset()
    )


@settings(max_examples=80, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    after=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
    ),
    parts=st.sampled_from([DEFAULT_DAYPARTS, (Daypart(name="all-day", start=time(0, 0)),)]),
)
def test_daypart_is_constant_until_the_next_boundary_or_offset_change(
    tz: ZoneInfo, after: datetime, parts: tuple[Daypart, ...]
) -> None:
    # GIVEN the next boundary, tightened by any offset change before it
    boundary = next_daypart_boundary(after, tz, parts)
    change = next_offset_change(after, tz, boundary)
    until = change or boundary
    # THEN the daypart just before it is the daypart now
    before = until - timedelta(microseconds=1)
    assert daypart_of(before.astimezone(tz).time(), parts) == daypart_of(after.astimezone(tz).time(), parts)
