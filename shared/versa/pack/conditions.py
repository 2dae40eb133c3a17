"""Rule conditions: the small language of `when:` and how a condition evaluates against a context.

A `when:` mapping reads like a sentence; every key must hold for the rule to match:

    when:
      country: [DE, AT, CH]             # in
      device: mobile                    # equals
      client: {not_in: [outlook]}
      hour: {gte: 6, lt: 12}            # numeric range
      local_time: {from: "22:00", to: "06:00"}   # time of day in the viewer's zone, wraps past midnight
      window: {from: "2026-12-01T00:00", to: "2026-12-24T00:00", tz: Europe/Berlin}
      bucket: {key: user_id, salt: xmas, pct: [0, 50]}   # deterministic percentage bucket
      bucket: {salt: cta-test, pct: [0, 50]}             # the same over the built-in visitor id `vid`
      first_name: {present: true}
      any: [{country: US}, {lang: en}]  # also all: [...] and not: {...}

Evaluation is pure: `evaluate(lookup)` takes a function from attribute name to value (None when the
request carries no such attribute) and returns whether the condition holds and a one-line reason.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from versa.context.visitor import BUCKETS, VISITOR_PARAM

Lookup = Callable[[str], Any]
"""Attribute name -> value (None when absent). Unknown names raise KeyError."""

COMPARE_OPS = ("eq", "in", "not_in", "gt", "gte", "lt", "lte", "present")
_OP_SYMBOLS = {"eq": "=", "in": "in", "not_in": "not in", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class ConditionError(ValueError):
    """A `when:` clause is malformed; `path` says where inside it."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple | frozenset | set):
        items = sorted(value, key=str) if isinstance(value, frozenset | set) else value
        return "[" + ", ".join(_fmt(v) for v in items) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


@dataclass(frozen=True)
class Condition:
    """Base of every condition node."""

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        raise NotImplementedError

    def children(self) -> Sequence[Condition]:
        return ()

    def walk(self) -> Iterator[Condition]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def attributes(self) -> set[str]:
        """Every context attribute (or parameter) this condition reads."""
        names: set[str] = set()
        for node in self.walk():
            names |= node.own_attributes()
        return names

    def own_attributes(self) -> set[str]:
        return set()

    def to_data(self) -> Any:
        """Back to the YAML form (used for JSON output and the schema round trip)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Compare(Condition):
    attr: str
    op: str
    value: Any

    def own_attributes(self) -> set[str]:
        return {self.attr}

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        actual = lookup(self.attr)
        ok = self.holds(actual)
        return ok, f"{self.describe()} ({self.attr}={_fmt(actual) if actual is not None else 'absent'})"

    def holds(self, actual: Any) -> bool:
        op, want = self.op, self.value
        if op == "present":
            return (actual is not None) == bool(want)
        if actual is None:
            return op == "not_in"
        if op == "eq":
            return bool(_norm(actual) == _norm(want))
        if op == "in":
            return _norm(actual) in {_norm(v) for v in want}
        if op == "not_in":
            return _norm(actual) not in {_norm(v) for v in want}
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        if op == "gt":
            return bool(actual > want)
        if op == "gte":
            return bool(actual >= want)
        if op == "lt":
            return bool(actual < want)
        return bool(actual <= want)  # lte

    def describe(self) -> str:
        """The comparison as a trace shows it, e.g. `hour >= 18` (formatted once per condition)."""
        return self._description

    @functools.cached_property
    def _description(self) -> str:
        if self.op == "present":
            return f"{self.attr} {'present' if self.value else 'absent'}"
        return f"{self.attr} {_OP_SYMBOLS[self.op]} {_fmt(self.value)}"

    def to_data(self) -> Any:
        if self.op == "eq":
            return {self.attr: self.value}
        if self.op == "in":
            return {self.attr: list(self.value)}
        return {self.attr: {self.op: list(self.value) if self.op == "not_in" else self.value}}


def _norm(value: Any) -> Any:
    """The form values are compared in: text case-folded, booleans as 'true'/'false' (so `weekend: "true"`
    matches and True never equals 1), dates as ISO text (a rule's dates arrive as text or YAML dates)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value.casefold() if isinstance(value, str) else value


@dataclass(frozen=True)
class TimeOfDay(Condition):
    """Local time of day in [start, end); wraps past midnight when end <= start."""

    start: time
    end: time

    def own_attributes(self) -> set[str]:
        return {"local_time"}

    def holds(self, now: time) -> bool:
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        now = lookup("local_time")
        ok = now is not None and self.holds(now)
        return ok, f"local_time in [{_fmt(self.start)}, {_fmt(self.end)}) (local_time={_fmt(now)})"

    def to_data(self) -> Any:
        return {"local_time": {"from": _fmt(self.start), "to": _fmt(self.end)}}


@dataclass(frozen=True)
class Window(Condition):
    """An instant window [start, end). Naive bounds are wall times in `tz`, or in the viewer's zone."""

    start: datetime | None
    end: datetime | None
    tz: str | None

    def own_attributes(self) -> set[str]:
        return {"window"}

    def bounds(self, viewer_tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        zone = ZoneInfo(self.tz) if self.tz else viewer_tz

        def absolute(value: datetime | None) -> datetime | None:
            if value is None:
                return None
            return value if value.tzinfo is not None else value.replace(tzinfo=zone)

        return absolute(self.start), absolute(self.end)

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        now: datetime = lookup("now")
        start, end = self.bounds(ZoneInfo(lookup("tz")))
        ok = (start is None or now >= start) and (end is None or now < end)
        zone = self.tz or "viewer's zone"
        return ok, (
            f"window [{start.isoformat() if start else '…'}, {end.isoformat() if end else '…'}) in {zone}"
            f" (now={now.isoformat(timespec='minutes')})"
        )

    def to_data(self) -> Any:
        data: dict[str, Any] = {}
        if self.start is not None:
            data["from"] = self.start.isoformat()
        if self.end is not None:
            data["to"] = self.end.isoformat()
        if self.tz:
            data["tz"] = self.tz
        return {"window": data}


def bucket_percent(salt: str, value: Any) -> float:
    """A stable percentage in [0, 100) for a value: the first 8 bytes of SHA-256(salt:value)."""
    digest = hashlib.sha256(f"{salt}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000 / 100


@functools.lru_cache(maxsize=256)
def visitor_positions(salt: str) -> tuple[int, ...]:
    """Visitor bucket -> its position (0..99) in the split salted `salt`: the buckets ordered by
    SHA-256(salt:bucket). A permutation, so [lo, hi) holds exactly hi - lo buckets (the declared share)
    and splits with different salts cut the visitors independently of each other."""
    ranked = sorted(range(BUCKETS), key=lambda b: hashlib.sha256(f"{salt}:{b}".encode()).digest())
    positions = [0] * BUCKETS
    for position, bucket in enumerate(ranked):
        positions[bucket] = position
    return tuple(positions)


NO_VISITOR_REASON = "no visitor id (vid empty or absent, no cookie): the default arm"
"""Why a split over `vid` does not hold for a request without a visitor id."""


@dataclass(frozen=True)
class Bucket(Condition):
    """A deterministic percentage bucket: pct in [lo, hi). Over a declared parameter, the value's
    salted hash; over `vid` (the built-in visitor id, whose value here is the visitor's bucket 0..99
    the edge computed), the bucket's position in the salt's permutation (`visitor_positions`)."""

    key: str
    salt: str
    lo: float
    hi: float

    def own_attributes(self) -> set[str]:
        return {self.key}

    def holds_for_visitor(self, bucket: int) -> bool:
        """Whether visitor bucket `bucket` falls in this split (for `key: vid`)."""
        return self.lo <= visitor_positions(self.salt)[bucket] < self.hi

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        value = lookup(self.key)
        if self.key == VISITOR_PARAM:
            if value is None:
                return False, f"bucket over vid [{self.lo:g}, {self.hi:g}): {NO_VISITOR_REASON}"
            position = visitor_positions(self.salt)[value]
            ok = self.lo <= position < self.hi
            return ok, (
                f"bucket over vid in [{self.lo:g}, {self.hi:g}) (visitor bucket {value}, position {position})"
            )
        if value is None:
            return False, f"bucket over {self.key} [{self.lo}, {self.hi}) ({self.key} absent)"
        pct = bucket_percent(self.salt, value)
        ok = self.lo <= pct < self.hi
        return ok, f"bucket over {self.key} in [{self.lo}, {self.hi}) (bucket={pct:.2f})"

    def to_data(self) -> Any:
        if self.key == VISITOR_PARAM:
            return {"bucket": {"salt": self.salt, "pct": [int(self.lo), int(self.hi)]}}
        return {"bucket": {"key": self.key, "salt": self.salt, "pct": [self.lo, self.hi]}}


@dataclass(frozen=True)
class AllOf(Condition):
    items: tuple[Condition, ...]
    kind: ClassVar[str] = "all"

    def children(self) -> Sequence[Condition]:
        return self.items

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        reasons = []
        for item in self.items:
            ok, reason = item.evaluate(lookup)
            if not ok:
                return False, reason
            reasons.append(reason)
        return True, "; ".join(reasons) if reasons else "always"

    def to_data(self) -> Any:
        merged: dict[str, Any] = {}
        for item in self.items:
            data = item.to_data()
            if set(data) & set(merged):
                return {"all": [i.to_data() for i in self.items]}
            merged.update(data)
        return merged


@dataclass(frozen=True)
class AnyOf(Condition):
    items: tuple[Condition, ...]

    def children(self) -> Sequence[Condition]:
        return self.items

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        reasons = []
        for item in self.items:
            ok, reason = item.evaluate(lookup)
            if ok:
                return True, reason
            reasons.append(reason)
        return False, "none of: " + " | ".join(reasons)

    def to_data(self) -> Any:
        return {"any": [i.to_data() for i in self.items]}


@dataclass(frozen=True)
class Not(Condition):
    item: Condition

    def children(self) -> Sequence[Condition]:
        return (self.item,)

    def evaluate(self, lookup: Lookup) -> tuple[bool, str]:
        ok, reason = self.item.evaluate(lookup)
        return not ok, f"not ({reason})"

    def to_data(self) -> Any:
        return {"not": self.item.to_data()}


ALWAYS = AllOf(())


# ------------------------------------------------------------------------------------------- parsing


_HH_MM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")


def _parse_time(value: Any, path: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 22:00 as a sexagesimal integer (1320): accept it. Larger values
        # (25:00, 1:02:03) are no time of day and are refused rather than wrapped.
        return time(value // 60, value % 60)
    if isinstance(value, str):
        match = _HH_MM.fullmatch(value.strip())
        if match:
            return time(int(match[1]), int(match[2]), int(match[3] or 0))
    raise ConditionError(path, f"{value!r} is not a time of day like '22:00' (00:00 to 23:59; quote it)")


def _parse_datetime(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):  # YAML reads an unquoted 2026-12-01 as a date: its midnight
        return datetime.combine(value, time())
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ConditionError(path, f"{value!r} is not a date-time like '2026-12-01T00:00'")


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConditionError(path, f"{value!r} is not a number")
    return value


def _scalar(value: Any, path: str) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):  # an unquoted YAML date
        return value.isoformat()
    raise ConditionError(path, f"{value!r} is not a single value (string, number or boolean)")


def _parse_ops(attr: str, spec: dict[str, Any], path: str) -> Condition:
    nodes: list[Condition] = []
    for op, value in spec.items():
        where = f"{path}.{op}"
        if op not in COMPARE_OPS:
            raise ConditionError(where, f"unknown operator {op!r}{_did_you_mean(op, COMPARE_OPS)} (known: {', '.join(COMPARE_OPS)})")
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                raise ConditionError(where, "needs a non-empty list")
            nodes.append(Compare(attr, op, tuple(_scalar(v, where) for v in value)))
        elif op == "present":
            if not isinstance(value, bool):
                raise ConditionError(where, "needs true or false")
            nodes.append(Compare(attr, op, value))
        elif op == "eq":
            nodes.append(Compare(attr, op, _scalar(value, where)))
        else:
            nodes.append(Compare(attr, op, _number(value, where)))
    if not nodes:
        raise ConditionError(path, "needs at least one operator")
    return nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes))


def _parse_entry(key: str, value: Any, path: str) -> Condition:
    where = f"{path}.{key}"
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ConditionError(where, "needs a non-empty list of conditions")
        items = tuple(parse_condition(v, f"{where}[{i}]") for i, v in enumerate(value))
        return AllOf(items) if key == "all" else AnyOf(items)
    if key == "not":
        return Not(parse_condition(value, where))
    if key == "local_time":
        _check_keys(value, where, {"from", "to"}, {"from", "to"}, "{from: 'HH:MM', to: 'HH:MM'}")
        if not isinstance(value, dict) or set(value) != {"from", "to"}:
            raise ConditionError(where, "needs {from: 'HH:MM', to: 'HH:MM'}")
        start, end = _parse_time(value["from"], f"{where}.from"), _parse_time(value["to"], f"{where}.to")
        if start == end:
            raise ConditionError(where, "from and to are equal: the range would be empty")
        return TimeOfDay(start, end)
    if key == "window":
        _check_keys(value, where, {"from", "to", "tz"}, set(), "{from: DATETIME, to: DATETIME, tz: ZONE}")
        if (
            not isinstance(value, dict)
            or not set(value) <= {"from", "to", "tz"}
            or not ({"from", "to"} & set(value))
        ):
            raise ConditionError(
                where, "needs {from: DATETIME, to: DATETIME, tz: ZONE} (from or to, tz optional)"
            )
        tz = value.get("tz")
        if tz is not None:
            try:
                ZoneInfo(str(tz))
            except (ZoneInfoNotFoundError, ValueError):
                raise ConditionError(f"{where}.tz", f"unknown time zone {tz!r}") from None
        since = _parse_datetime(value["from"], f"{where}.from") if "from" in value else None
        until = _parse_datetime(value["to"], f"{where}.to") if "to" in value else None
        if since and until and (since.tzinfo is None) == (until.tzinfo is None) and since >= until:
            raise ConditionError(where, "from must be before to")
        return Window(since, until, str(tz) if tz else None)
    if key == "bucket":
        form = "{salt: TEXT, pct: [FROM, TO]} and, to split on a declared parameter, key: PARAM"
        _check_keys(value, where, {"key", "salt", "pct"}, {"salt", "pct"}, form)
        if not isinstance(value, dict) or not {"salt", "pct"} <= set(value) <= {"key", "salt", "pct"}:
            raise ConditionError(where, "needs " + form)
        key = str(value.get("key", VISITOR_PARAM))
        pct = value["pct"]
        if not (isinstance(pct, list) and len(pct) == 2):
            raise ConditionError(f"{where}.pct", "needs [from, to] percentages")
        lo, hi = _number(pct[0], f"{where}.pct[0]"), _number(pct[1], f"{where}.pct[1]")
        if not 0 <= lo < hi <= 100:
            raise ConditionError(f"{where}.pct", f"{pct} must satisfy 0 <= from < to <= 100")
        if key == VISITOR_PARAM and not (float(lo).is_integer() and float(hi).is_integer()):
            raise ConditionError(
                f"{where}.pct", f"{pct}: a split over vid is in whole percent (visitors fall in 100 buckets)"
            )
        return Bucket(key, str(value["salt"]), float(lo), float(hi))
    if isinstance(value, dict):
        return _parse_ops(key, value, where)
    if isinstance(value, list):
        if not value:
            raise ConditionError(where, "an empty list can never match")
        return Compare(key, "in", tuple(_scalar(v, where) for v in value))
    return Compare(key, "eq", _scalar(value, where))


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_keys(value: Any, where: str, allowed: set[str], required: set[str], form: str) -> None:
    """One error for a special condition's keys: the first unknown one (with the nearest allowed key
    it may be a typo of), else the missing ones."""
    if not isinstance(value, dict):
        return
    for key in value:
        if str(key) not in allowed:
            hint = _did_you_mean(str(key), allowed - set(map(str, value)))
            raise ConditionError(f"{where}.{key}", f"unknown field{hint} ({where.rsplit('.', 1)[-1]} takes {form})")
    missing = sorted(required - set(value))
    if missing:
        raise ConditionError(where, f"{', '.join(missing)} missing: needs {form}")


def parse_condition(data: Any, path: str = "when") -> Condition:
    """Parse the YAML form of a condition; raises ConditionError naming the place inside it."""
    if isinstance(data, Condition):
        return data
    if data is None or data == {}:
        return ALWAYS
    if not isinstance(data, dict):
        raise ConditionError(path, f"expected a mapping of conditions, got {type(data).__name__}")
    items = tuple(_parse_entry(str(k), v, path) for k, v in data.items())
    return items[0] if len(items) == 1 else AllOf(items)


CONDITION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Conditions that must all hold. Keys are context attributes (country, tz, device, client, lang, "
        "daypart, weekday, weekend, season, hour, ...) or declared parameters, with a value (equals), a "
        "list (in) or operators {eq, in, not_in, gt, gte, lt, lte, present}; or the special keys "
        "local_time {from, to}, window {from, to, tz}, bucket {key, salt, pct} (key defaults to vid, the "
        "built-in visitor id), all [...], any [...], not {...}."
    ),
    "properties": {
        "all": {"type": "array", "items": {"type": "object"}},
        "any": {"type": "array", "items": {"type": "object"}},
        "not": {"type": "object"},
        "local_time": {
            "type": "object",
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
            "required": ["from", "to"],
        },
        "window": {
            "type": "object",
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "tz": {"type": "string"}},
        },
        "bucket": {
            "type": "object",
            "properties": {
                "key": {"type": "string", "description": "The declared parameter split on; default: vid."},
                "salt": {"type": "string"},
                "pct": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
            "required": ["salt", "pct"],
        },
    },
    "additionalProperties": True,
}
