"""Time features in the VIEWER's time zone, and DST-safe arithmetic on wall-clock times.

Everything here takes the instant ("now") as an argument; nothing reads the clock or the server's zone.
Local features (hour, weekday, daypart, season…) are what rules read; the `next_*` helpers tell the
rules engine the next UTC instant a time-based decision can change, so `Cache-Control` can last exactly
that long. They handle DST gaps (a wall time that does not exist that day), folds (a wall time that
happens twice), 30-minute DST (Australia/Lord_Howe), and whole skipped days (Pacific/Apia, 2011).

Pure: no IO, no environment, no clock.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Season = Literal["winter", "spring", "summer", "autumn"]
Hemisphere = Literal["north", "south"]

WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
"""Weekday names, Monday first (index = `date.weekday()`)."""
SEASONS: tuple[Season, ...] = get_args(Season)
DEFAULT_WEEKEND: frozenset[Weekday] = frozenset({"sat", "sun"})

_SLUG_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class Daypart(BaseModel):
    """A named part of the day that starts at a local wall time and lasts until the next one starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    start: time

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG_RE.fullmatch(value):
            raise ValueError("a daypart name is a slug: lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("start")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a daypart starts at a local wall time, without a zone or offset")
        return value.replace(fold=0)


def validate_dayparts(dayparts: Sequence[Daypart]) -> tuple[Daypart, ...]:
    """Return `dayparts` as a tuple if they form a valid day: at least one, unique names, strictly
    increasing start times. The last daypart wraps past midnight until the first one starts.
    Raises ValueError otherwise (so it also works as a pydantic validator)."""
    parts = tuple(dayparts)
    if not parts:
        raise ValueError("at least one daypart is needed")
    names = [p.name for p in parts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"daypart names must be unique; repeated: {', '.join(dupes)}")
    for before, after in pairwise(parts):
        if not before.start < after.start:
            raise ValueError(
                f"daypart starts must strictly increase: {after.name!r} ({after.start:%H:%M}) "
                f"does not start after {before.name!r} ({before.start:%H:%M})"
            )
    return parts


Dayparts = Annotated[tuple[Daypart, ...], AfterValidator(validate_dayparts)]
"""A pydantic field type for a validated list of dayparts."""

DEFAULT_DAYPARTS: tuple[Daypart, ...] = validate_dayparts(
    (
        Daypart(name="morning", start=time(5, 0)),
        Daypart(name="afternoon", start=time(12, 0)),
        Daypart(name="evening", start=time(17, 0)),
        Daypart(name="night", start=time(22, 0)),
    )
)
"""morning 05:00, afternoon 12:00, evening 17:00, night 22:00 (until 05:00 the next day)."""


def daypart_of(local: time, dayparts: Sequence[Daypart] = DEFAULT_DAYPARTS) -> str:
    """The name of the daypart a local wall time falls in: the last one that has started, or — before
    the first start of the day — the last daypart of the list (it wraps past midnight)."""
    wall = local.replace(tzinfo=None, fold=0)
    current = dayparts[-1].name
    for part in dayparts:
        if part.start <= wall:
            current = part.name
        else:
            break
    return current


def season_of(local_date: date, hemisphere: Hemisphere) -> Season:
    """The meteorological season of a local date: Dec–Feb winter, Mar–May spring, Jun–Aug summer,
    Sep–Nov autumn in the north; shifted by half a year in the south."""
    index = (local_date.month % 12) // 3  # Dec/Jan/Feb -> 0, Mar-May -> 1, ...
    if hemisphere == "south":
        index = (index + 2) % 4
    return SEASONS[index]


# Zones south of the equator. From the coordinates in tzdata's zone.tab/zone1970.tab, plus the
# backward-compatible names that link to them. Tropical zones count as their hemisphere.
_SOUTHERN_PREFIXES = ("Australia/", "Antarctica/", "America/Argentina/", "Brazil/", "Chile/")
_SOUTHERN_ZONES = frozenset(
    {
        # Africa
        "Africa/Blantyre", "Africa/Brazzaville", "Africa/Bujumbura", "Africa/Dar_es_Salaam",
        "Africa/Gaborone", "Africa/Harare", "Africa/Johannesburg", "Africa/Kigali", "Africa/Kinshasa",
        "Africa/Luanda", "Africa/Lubumbashi", "Africa/Lusaka", "Africa/Maputo", "Africa/Maseru",
        "Africa/Mbabane", "Africa/Nairobi", "Africa/Windhoek",
        # Americas
        "America/Araguaina", "America/Asuncion", "America/Bahia", "America/Belem",
        "America/Buenos_Aires", "America/Campo_Grande", "America/Catamarca", "America/Cordoba",
        "America/Coyhaique", "America/Cuiaba", "America/Eirunepe", "America/Fortaleza",
        "America/Guayaquil", "America/Jujuy", "America/La_Paz", "America/Lima", "America/Maceio",
        "America/Manaus", "America/Mendoza", "America/Montevideo", "America/Noronha",
        "America/Porto_Acre", "America/Porto_Velho", "America/Punta_Arenas", "America/Recife",
        "America/Rio_Branco", "America/Rosario", "America/Santarem", "America/Santiago",
        "America/Sao_Paulo",
        # Asia
        "Asia/Dili", "Asia/Jakarta", "Asia/Jayapura", "Asia/Makassar", "Asia/Pontianak",
        "Asia/Ujung_Pandang",
        # Atlantic and Indian oceans
        "Atlantic/South_Georgia", "Atlantic/St_Helena", "Atlantic/Stanley",
        "Indian/Antananarivo", "Indian/Chagos", "Indian/Christmas", "Indian/Cocos", "Indian/Comoro",
        "Indian/Kerguelen", "Indian/Mahe", "Indian/Mauritius", "Indian/Mayotte", "Indian/Reunion",
        # Pacific
        "Pacific/Apia", "Pacific/Auckland", "Pacific/Bougainville", "Pacific/Chatham",
        "Pacific/Easter", "Pacific/Efate", "Pacific/Enderbury", "Pacific/Fakaofo", "Pacific/Fiji",
        "Pacific/Funafuti", "Pacific/Galapagos", "Pacific/Gambier", "Pacific/Guadalcanal",
        "Pacific/Kanton", "Pacific/Marquesas", "Pacific/Nauru", "Pacific/Niue", "Pacific/Norfolk",
        "Pacific/Noumea", "Pacific/Pago_Pago", "Pacific/Pitcairn", "Pacific/Port_Moresby",
        "Pacific/Rarotonga", "Pacific/Samoa", "Pacific/Tahiti", "Pacific/Tongatapu",
        "Pacific/Wallis", "US/Samoa", "NZ", "NZ-CHAT",
    }
)  # fmt: skip
# Zone names under these areas are geographic: the table above decides them. Others (UTC, Etc/*,
# EST5EDT…) say nothing about the hemisphere, so the country decides.
_GEOGRAPHIC_AREAS = (
    "Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/",
    "Indian/", "Pacific/", "Brazil/", "Canada/", "Chile/", "Mexico/", "US/",
)  # fmt: skip
# ISO 3166 countries wholly or mostly south of the equator (by where most people live).
_SOUTHERN_COUNTRIES = frozenset(
    {
        "AO", "AQ", "AR", "AS", "AU", "BI", "BO", "BR", "BV", "BW", "CC", "CD", "CG", "CK", "CL",
        "CX", "EC", "FJ", "FK", "GS", "HM", "ID", "IO", "KE", "KM", "LS", "MG", "MU", "MW", "MZ",
        "NA", "NC", "NF", "NR", "NU", "NZ", "PE", "PF", "PG", "PN", "PY", "RE", "RW", "SB", "SC",
        "SH", "SZ", "TF", "TK", "TL", "TO", "TV", "TZ", "UY", "VU", "WF", "WS", "YT", "ZA", "ZM",
        "ZW",
    }
)  # fmt: skip


def hemisphere_of(tz_name: str, country: str | None = None) -> Hemisphere:
    """The hemisphere of a viewer: decided by a geographic zone name (e.g. Australia/Sydney,
    America/Santiago, Africa/Johannesburg are south) and, for a zone that names no place (UTC,
    Etc/GMT-3…), by the ISO country code. Tropical places count as their hemisphere. Default north."""
    if tz_name in _SOUTHERN_ZONES or tz_name.startswith(_SOUTHERN_PREFIXES):
        return "south"
    if tz_name.startswith(_GEOGRAPHIC_AREAS):
        return "north"
    if country is not None and country.upper() in _SOUTHERN_COUNTRIES:
        return "south"
    return "north"


@dataclass(frozen=True, slots=True)
class LocalFeatures:
    """What the viewer's clock and calendar say at one instant."""

    local: datetime
    """The instant as an aware datetime in the viewer's zone."""
    date: date
    time: time
    """Local wall time, naive (no zone), to the microsecond."""
    hour: int
    minute: int
    weekday: Weekday
    weekend: bool
    daypart: str
    season: Season
    hemisphere: Hemisphere


def local_features(
    now_utc: datetime,
    tz: ZoneInfo,
    *,
    dayparts: Sequence[Daypart] = DEFAULT_DAYPARTS,
    weekend_days: Iterable[str] = DEFAULT_WEEKEND,
    country: str | None = None,
) -> LocalFeatures:
    """The local features of instant `now_utc` (aware; any offset) for a viewer in zone `tz`.
    `weekend_days` are weekday names ("sat", "sun"…); `country` helps decide the hemisphere when the
    zone name does not. Raises ValueError for a naive `now_utc`."""
    _require_aware(now_utc, "now_utc")
    local = now_utc.astimezone(tz)
    wall = local.time().replace(fold=0)
    weekday = WEEKDAYS[local.weekday()]
    hemisphere = hemisphere_of(tz.key, country)
    return LocalFeatures(
        local=local,
        date=local.date(),
        time=wall,
        hour=local.hour,
        minute=local.minute,
        weekday=weekday,
        weekend=weekday in frozenset(weekend_days),
        daypart=daypart_of(wall, dayparts),
        season=season_of(local.date(), hemisphere),
        hemisphere=hemisphere,
    )


def to_utc(local: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of a local date-time.

    An aware `local` is simply converted (its own offset wins; `tz` is ignored). A naive one is read
    as a wall time in `tz`: a wall time that happens twice (fall-back) gives the first occurrence, or
    the second when `local.fold == 1`; a wall time that does not exist (spring-forward gap, skipped
    day) gives the instant the clock jumps past it.
    """
    if local.tzinfo is not None and local.utcoffset() is not None:
        return local.astimezone(UTC)
    occurrences = _occurrences(local.replace(tzinfo=None), tz)
    return occurrences[-1] if local.fold == 1 else occurrences[0]


def next_wall_time(after_utc: datetime, tz: tzinfo, wall: time) -> datetime:
    """The first UTC instant strictly after `after_utc` at which the local clock in `tz` reads `wall`.

    On a day when `wall` does not exist (spring-forward gap), the instant the clock jumps past it
    counts; across a fall-back day, its first occurrence after `after_utc` counts (so from between the
    two occurrences, the second one). Raises ValueError for a naive `after_utc`.
    """
    _require_aware(after_utc, "after_utc")
    wall = wall.replace(tzinfo=None, fold=0)
    start = after_utc.astimezone(tz).date()
    candidates = (
        _wall_candidates_memo(start, wall, tz) if _hashable(tz) else _wall_candidates(start, wall, tz)
    )
    i = bisect.bisect_right(candidates, after_utc)  # the first candidate strictly after after_utc
    if i == len(candidates):  # pragma: no cover - the candidate window always spans more than a day
        raise ValueError(f"no candidate instant after {after_utc.isoformat()}")
    return candidates[i]


def _wall_candidates(start: date, wall: time, tz: tzinfo) -> tuple[datetime, ...]:
    """Every UTC instant at which the clock in `tz` reads `wall` on the local dates from the day before
    `start` to three days after it, in order. A pure function of its arguments, so it is memoised per
    (zone, local date, wall time): each instant is still found by `_occurrences`, DST and all."""
    return tuple(
        sorted(
            instant
            for offset in range(-1, 4)
            for instant in _occurrences_of(datetime.combine(start + timedelta(days=offset), wall), tz)
        )
    )


def next_local_midnight(after_utc: datetime, tz: tzinfo) -> datetime:
    """The first UTC instant strictly after `after_utc` at which a new local day starts in `tz` (the
    clock reads 00:00, or jumps past it where midnight does not exist)."""
    return next_wall_time(after_utc, tz, time(0))


def next_month_start(after_utc: datetime, tz: tzinfo) -> datetime:
    """The first UTC instant strictly after `after_utc` at which a new local month starts in `tz`
    (00:00 on the 1st, or the instant the clock jumps past it)."""
    _require_aware(after_utc, "after_utc")
    local = after_utc.astimezone(tz)
    year, month = local.year, local.month
    firsts: list[datetime] = []
    for _ in range(3):
        firsts.append(datetime(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return _first_after((i for first in firsts for i in _occurrences_of(first, tz)), after_utc)


def next_daypart_boundary(
    after_utc: datetime, tz: tzinfo, dayparts: Sequence[Daypart] = DEFAULT_DAYPARTS
) -> datetime:
    """The first UTC instant strictly after `after_utc` at which a daypart starts in `tz`.

    Note that a fall-back transition can also change the daypart (the clock moves back across a
    start); combine with `next_offset_change` for an exact bound.
    """
    return min(next_wall_time(after_utc, tz, part.start) for part in dayparts)


def next_offset_change(after_utc: datetime, tz: tzinfo, until_utc: datetime) -> datetime | None:
    """The first UTC instant in (`after_utc`, `until_utc`] at which the UTC offset of `tz` changes,
    or None if it stays the same throughout. Assumes offset changes are at least 6 hours apart
    (true of every zone in tzdata)."""
    _require_aware(after_utc, "after_utc")
    _require_aware(until_utc, "until_utc")
    step = timedelta(hours=6)
    lo = after_utc.astimezone(UTC)
    end = until_utc.astimezone(UTC)
    base = _offset(lo, tz)
    while lo < end:
        hi = min(lo + step, end)
        if _offset(hi, tz) != base:
            return _transition(lo, hi, tz)
        lo = hi
    return None


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")


def _offset(instant: datetime, tz: tzinfo) -> timedelta | None:
    return instant.astimezone(tz).utcoffset()


def _transition(lo: datetime, hi: datetime, tz: tzinfo) -> datetime:
    """The first instant in (lo, hi] whose offset differs from lo's; assumes one change in between.
    Transitions fall on whole seconds."""
    base = _offset(lo, tz)
    low = int(lo.timestamp() // 1)  # offset(low) == base
    high = int(-(-hi.timestamp() // 1))  # offset(high) != base
    while high - low > 1:
        mid = (low + high) // 2
        if _offset(datetime.fromtimestamp(mid, UTC), tz) == base:
            low = mid
        else:
            high = mid
    return datetime.fromtimestamp(high, UTC)


def _occurrences(naive: datetime, tz: tzinfo) -> tuple[datetime, ...]:
    """The UTC instants at which the local clock in `tz` reads `naive`, in order: one normally, two in
    a fall-back fold, and for a wall time that does not exist, the one instant the clock jumps past it."""
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    early, late = min(first, second), max(first, second)
    exists = early.astimezone(tz).replace(tzinfo=None, fold=0) == naive.replace(fold=0)
    if exists:
        return (early,) if early == late else (early, late)
    return (_transition(early, late, tz),)


# `_occurrences` and `_wall_candidates` are pure functions of their arguments (a zone's rules do not
# change while the process runs), so they are memoised per process; a tzinfo that cannot be hashed
# is simply not memoised.
_occurrences_memo = functools.lru_cache(maxsize=4096)(_occurrences)
_wall_candidates_memo = functools.lru_cache(maxsize=4096)(_wall_candidates)


def _hashable(tz: tzinfo) -> bool:
    try:
        hash(tz)
    except TypeError:
        return False
    return True


def _occurrences_of(naive: datetime, tz: tzinfo) -> tuple[datetime, ...]:
    return _occurrences_memo(naive, tz) if _hashable(tz) else _occurrences(naive, tz)


def _first_after(candidates: Iterable[datetime], after_utc: datetime) -> datetime:
    later = [c for c in candidates if c > after_utc]
    if not later:  # pragma: no cover - the candidate window always spans more than a day
        raise ValueError(f"no candidate instant after {after_utc.isoformat()}")
    return min(later)


__all__ = [
    "DEFAULT_DAYPARTS",
    "DEFAULT_WEEKEND",
    "SEASONS",
    "WEEKDAYS",
    "Daypart",
    "Dayparts",
    "Hemisphere",
    "LocalFeatures",
    "Season",
    "Weekday",
    "daypart_of",
    "hemisphere_of",
    "local_features",
    "next_daypart_boundary",
    "next_local_midnight",
    "next_month_start",
    "next_offset_change",
    "next_wall_time",
    "season_of",
    "to_utc",
    "validate_dayparts",
]
