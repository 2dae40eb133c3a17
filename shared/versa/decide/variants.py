"""Enumerating every distinct design of a creative, exactly, by partitioning attributes at rule boundaries.

Each attribute the rules (or a copy slot's `vary_by`) read is cut into cells at the values and
thresholds the pack mentions; one representative per cell, plus an "anything else" value, covers the
attribute. Time is one joint dimension per time zone: the local timeline is cut at daypart starts,
time-of-day bounds, hour thresholds, midnights and rule windows, and segments with the same feature
signature are merged. The product of the cells is decided, and the distinct design keys are the
answer. Nothing is sampled, so the count is exact for the contexts the CDN can tell apart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from versa.context.attributes import CLIENTS, DEVICES, TIME_FEATURES
from versa.context.params import ParamSpec
from versa.context.timefeatures import local_features
from versa.context.visitor import BUCKETS, VISITOR_PARAM, visitor_bucket
from versa.decide.rules import Decision, decide_sizes, lookup_for
from versa.errors import VersaError
from versa.pack.conditions import Bucket, Compare, TimeOfDay, Window, bucket_percent
from versa.pack.model import Creative, PackModel, countdown_layers

MAX_COMBINATIONS = 250_000
REFERENCE = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; the year gives every season
TIME_ATTRS = frozenset({*TIME_FEATURES, "window", "tz"})
OTHER_COUNTRIES = ("US", "GB", "JP", "BR", "IN", "ZA", "CA", "AU")
OTHER_ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Europe/London")
SOUTH_ZONE = "Australia/Sydney"
OFFSET_ZONES = (
    *(f"Etc/GMT{-h:+d}" if h else "Etc/GMT" for h in range(-12, 15)),
    "Pacific/Marquesas",  # -09:30
    "America/St_Johns",  # -03:30 / -02:30
    "Asia/Tehran",  # +03:30
    "Asia/Kabul",  # +04:30
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Asia/Yangon",  # +06:30
    "Australia/Eucla",  # +08:45
    "Australia/Darwin",  # +09:30
    "Australia/Lord_Howe",  # +10:30 / +11:00
    "Pacific/Chatham",  # +12:45 / +13:45
)
"""One zone for every UTC offset in use (Etc/GMT-9 is UTC+9). A window fixed in one zone meets the
viewer's local clock at a different wall time for each offset, so every offset is tried near it."""


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class TooManyVariants(VersaError, ValueError):
    """Enumerating the creative's variants would decide more contexts than the caller allowed."""


@dataclass(frozen=True)
class SyntheticContext:
    """A context built from attribute values directly (what enumeration and previews need)."""

    values: Mapping[str, Any]
    now: datetime
    tz: str
    lang: str

    def attribute(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        raise KeyError(name)


@dataclass
class Variant:
    design_key: str
    count: int
    example: dict[str, Any]
    decision: Decision
    matched: tuple[str, ...]
    visitor_id: str | None = None
    """For a split creative: a visitor id in the example's arm ("" for the no-id example)."""

    def to_json(self) -> dict[str, Any]:
        extra = {} if self.visitor_id is None else {"visitor_id": self.visitor_id}
        return {
            **extra,
            "design_key": self.design_key,
            "size": f"{self.decision.size[0]}x{self.decision.size[1]}",
            "contexts": self.count,
            "matched": list(self.matched),
            "example": self.example,
            "locale": self.decision.locale,
        }


@dataclass(frozen=True)
class Arm:
    """One arm of a creative's visitor splits: the rules whose `bucket:` over `vid` holds for it (its
    name; `default` when none does) and the visitor buckets in it (so its share in percent)."""

    name: str
    buckets: tuple[int, ...]
    example_id: str = ""
    """A visitor id that lands in this arm (`visitor-N`, the smallest N), for previews."""

    @property
    def share(self) -> int:
        return len(self.buckets)

    def label(self) -> str:
        """How an example shows the arm, e.g. `cta-b (50%)`."""
        return f"{self.name} ({self.share}%)"


NO_VISITOR_ARM = "no id (default arm)"
"""How an example without a visitor id shows `vid`."""


def visitor_arms(creative: Creative) -> list[Arm]:
    """The arms of the creative's splits over `vid`, in the order of their first bucket; empty when
    nothing splits on it. Buckets with the same answer from every split form one arm."""
    splits = [
        (rule.id, node)
        for rule in creative.rules
        for node in rule.when.walk()
        if isinstance(node, Bucket) and node.key == VISITOR_PARAM
    ]
    if not splits:
        return []
    groups: dict[tuple[bool, ...], list[int]] = {}
    for bucket in range(BUCKETS):
        groups.setdefault(tuple(node.holds_for_visitor(bucket) for _, node in splits), []).append(bucket)
    arms: list[Arm] = []
    taken: set[str] = set()
    for signature, buckets in groups.items():
        name = "+".join(dict.fromkeys(rid for (rid, _), held in zip(splits, signature, strict=True) if held))
        name = name or "default"
        while name in taken:
            name += "'"
        taken.add(name)
        arms.append(Arm(name, tuple(buckets), _example_id(frozenset(buckets))))
    return arms


def _example_id(buckets: frozenset[int]) -> str:
    return next(f"visitor-{n}" for n in itertools.count() if visitor_bucket(f"visitor-{n}") in buckets)


@dataclass
class VariantReport:
    """The creative's variants: one per distinct design at each of its sizes (a design key includes
    the size), so `count` is designs × sizes; `combinations` counts the context cells of one size."""

    creative: str
    attributes: list[str]
    combinations: int
    variants: list[Variant] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    arms: list[Arm] = field(default_factory=list)

    def designs_per_size(self) -> dict[str, int]:
        """Size ('WxH') -> how many distinct designs it has, in the creative's size order."""
        out = dict.fromkeys(self.sizes, 0)
        for v in self.variants:
            out[f"{v.decision.size[0]}x{v.decision.size[1]}"] += 1
        return out

    def summary(self) -> str:
        """'N variant(s): D design(s) × S size(s) (…)': the count first, then how it is made up."""
        per = self.designs_per_size()
        counts = set(per.values())
        if len(counts) == 1:
            made = f"{counts.pop()} design(s) × {len(per)} size(s) ({', '.join(per)})"
        else:
            made = "designs per size: " + ", ".join(f"{k}: {v}" for k, v in per.items())
        return f"{len(self.variants)} variant(s): {made}"

    def to_json(self) -> dict[str, Any]:
        return {
            "creative": self.creative,
            "attributes": self.attributes,
            "combinations": self.combinations,
            "count": len(self.variants),
            "sizes": self.designs_per_size(),
            "arms": [{"name": a.name, "share": a.share, "example_id": a.example_id} for a in self.arms],
            "variants": [v.to_json() for v in self.variants],
        }


# ----------------------------------------------------------------------------------- what is read


def attributes_read(creative: Creative) -> set[str]:
    """Every attribute or parameter the creative's rules and its copy and visual slots' `vary_by` read."""
    names: set[str] = set()
    for rule in creative.rules:
        names |= rule.when.attributes()
    for _, vary_by in creative.vary_specs():
        names |= set(vary_by)
    return names


def splits_on_visitor(creative: Creative) -> bool:
    """Whether a rule of the creative splits on `vid` (a `bucket:` over it, or an optimized rule, whose
    arms the allocation deals out by visitor bucket): only such a creative's URLs carry `vid` (and so
    get a visitor bucket at the edge)."""
    return any(rule.optimize is not None for rule in creative.rules) or any(
        isinstance(node, Bucket) and node.key == VISITOR_PARAM for rule in creative.rules for node in rule.when.walk()
    )


def _compares(creative: Creative, attr: str) -> Iterator[Compare]:
    for rule in creative.rules:
        for node in rule.when.walk():
            if isinstance(node, Compare) and node.attr == attr:
                yield node


@dataclass(frozen=True)
class Mention:
    """A value the pack names for an attribute, and who names it: a rule id, or `slot:bucket` for a
    copy slot's `vary_by` bucket."""

    value: Any
    by: str


def mentions(creative: Creative, attr: str, *, window_zones: bool = False) -> Iterator[Mention]:
    """Every value the creative's rules compare `attr` against (eq, in, not_in) and every member of a
    `vary_by` bucket for it, in pack order (rules first), repeats included; with `window_zones`, for
    `tz` also the zones rule windows are stated in. The cells of the variant partition and the studio's
    suggestions both come from here."""
    for rule in creative.rules:
        for node in rule.when.walk():
            if isinstance(node, Compare) and node.attr == attr and node.op in ("eq", "in", "not_in"):
                for value in node.value if isinstance(node.value, tuple) else (node.value,):
                    yield Mention(value, rule.id)
            elif window_zones and attr == "tz" and isinstance(node, Window) and node.tz:
                yield Mention(node.tz, rule.id)
    for slot_name, vary_by in creative.vary_specs():
        spec = vary_by.get(attr)
        if isinstance(spec, dict):
            for bucket, members in spec.items():
                if members != "*":
                    for value in members:
                        yield Mention(value, f"{slot_name}:{bucket}")


def _windows(creative: Creative) -> list[Window]:
    return [n for r in creative.rules for n in r.when.walk() if isinstance(n, Window)]


def _mentioned(creative: Creative, attr: str) -> list[Any]:
    seen: dict[str, Any] = {}
    for mention in mentions(creative, attr):
        seen.setdefault(str(mention.value).casefold(), mention.value)
    return list(seen.values())


def _thresholds(creative: Creative, attr: str) -> list[float]:
    out: list[float] = []
    for node in _compares(creative, attr):
        if node.op in ("gt", "gte", "lt", "lte"):
            out.append(float(node.value))
        elif node.op in ("eq", "in", "not_in"):
            vals = node.value if isinstance(node.value, tuple) else (node.value,)
            out += [float(v) for v in vals if isinstance(v, int | float) and not isinstance(v, bool)]
    return sorted(set(out))


# --------------------------------------------------------------------------------- non-time cells


def _numeric_cells(thresholds: list[float], spec: ParamSpec | None, integer: bool) -> list[Any]:
    lo = spec.min if spec and spec.min is not None else -math.inf
    hi = spec.max if spec and spec.max is not None else math.inf
    cands: set[float] = set()
    points = thresholds or [0.0]
    for t in points:
        cands |= {t, t - 1, t + 1} if integer else {t, t - 0.5, t + 0.5}
    for a, b in itertools.pairwise(points):
        cands.add((a + b) / 2)
    out = sorted(c for c in cands if lo <= c <= hi)
    if integer:
        out = sorted({math.floor(c) for c in out} | {math.ceil(c) for c in out})
        out = [c for c in out if lo <= c <= hi]
    return out or ([int(lo)] if integer and lo > -math.inf else [lo if lo > -math.inf else 0])


def _bucket_cells(creative: Creative, key: str, base: list[Any]) -> list[Any]:
    buckets = [
        node for rule in creative.rules for node in rule.when.walk() if isinstance(node, Bucket) and node.key == key
    ]
    if not buckets:
        return base
    seen: dict[tuple[bool, ...], str] = {}
    n_cells = len({b.lo for b in buckets} | {b.hi for b in buckets}) + 1
    for i in range(20000):
        value = f"u{i}"
        sig = tuple(b.lo <= bucket_percent(b.salt, value) < b.hi for b in buckets)
        seen.setdefault(sig, value)
        if len(seen) >= 2 ** len(buckets) or len(seen) >= n_cells * n_cells:
            break
    return [*base, *seen.values()]


def _other(pool: Iterable[str], taken: Iterable[Any]) -> str:
    used = {str(t).casefold() for t in taken}
    return next(v for v in pool if v.casefold() not in used)


def attribute_cells(pack: PackModel, creative: Creative, attr: str) -> list[Any]:
    """Representative values of one non-time attribute, one per cell of its partition."""
    mentioned = _mentioned(creative, attr)
    if attr == "country":
        pool = itertools.chain(OTHER_COUNTRIES, (a + b for a in _LETTERS for b in _LETTERS))
        return [*mentioned, _other(pool, mentioned), None]
    if attr == "device":
        return list(DEVICES)
    if attr == "client":
        return list(CLIENTS)
    if attr == "lang":
        return list(pack.locales)
    if attr == "theme":
        return ["light", "dark", None]
    if attr == VISITOR_PARAM:
        return [*(arm.buckets[0] for arm in visitor_arms(creative)), None]
    if attr in creative.params:
        spec = creative.params[attr]
        absent = [] if spec.default is not None else [None]
        if spec.type == "enum":
            return [*(spec.values or []), *absent]
        if spec.type == "bool":
            return [True, False, *absent]
        if spec.type in ("int", "number"):
            return [*_numeric_cells(_thresholds(creative, attr), spec, spec.type == "int"), *absent]
        base = [*mentioned, _other((f"other{i}" for i in range(99)), mentioned), *absent]
        return _bucket_cells(creative, attr, base)
    # region, city, os, asn, latitude, longitude: what the rules mention, and something else
    if attr in ("latitude", "longitude", "asn"):
        return [*_numeric_cells(_thresholds(creative, attr), None, attr == "asn"), None]
    return [*mentioned, _other((f"other{i}" for i in range(99)), mentioned), None]


# ------------------------------------------------------------------------------------- time cells


def _zones(creative: Creative, pack: PackModel, read: set[str]) -> list[str]:
    zones = [str(z) for z in _mentioned(creative, "tz")]
    zones.append(pack.default_tz)
    if read & {"season", "hemisphere"}:
        zones.append(SOUTH_ZONE)
    if "tz" in read:
        zones.append(_other(itertools.chain(OTHER_ZONES, OFFSET_ZONES), zones))
    return list(dict.fromkeys(zones))


def _wall_boundaries(pack: PackModel, creative: Creative, read: set[str]) -> list[time]:
    walls: set[time] = {time(0)}
    if "daypart" in read:
        walls |= {d.start for d in pack.dayparts}
    if "hour" in read:
        walls |= {time(int(h) % 24) for t in _thresholds(creative, "hour") for h in (math.floor(t), math.ceil(t), math.floor(t) + 1)}
    if "minute" in read:
        walls |= {time(h, int(m) % 60) for h in range(24) for t in _thresholds(creative, "minute") for m in (math.floor(t), math.floor(t) + 1)}
    for rule in creative.rules:
        for node in rule.when.walk():
            if isinstance(node, TimeOfDay):
                walls |= {node.start, node.end}
    return sorted(walls)


def _fixed_windows(windows: list[Window]) -> list[Window]:
    """Windows whose bounds are instants (a zone or an offset given), not each viewer's wall times."""
    return [
        w for w in windows if w.tz or any(b is not None and b.tzinfo is not None for b in (w.start, w.end))
    ]


def _dates(creative: Creative) -> list[date]:
    """The local dates rules (or vary_by buckets) name."""
    out: set[date] = set()
    for value in _mentioned(creative, "date"):
        try:
            out.add(date.fromisoformat(str(value)))
        except ValueError:
            continue
    return sorted(out)


def reference_for(creative: Creative) -> datetime:
    """Where the sampled timeline starts: a week before the creative's first rule window or countdown
    deadline (so example contexts fall near its campaign), else a fixed Monday."""
    moments: list[datetime] = []
    for w in _windows(creative):
        moments += [b if b.tzinfo else b.replace(tzinfo=UTC) for b in (w.start, w.end) if b is not None]
    moments += [layer.deadline for layer in countdown_layers(creative.layers) if layer.deadline]
    if not moments:
        return REFERENCE
    first = min(moments).astimezone(UTC) - timedelta(days=7)
    return first.replace(hour=0, minute=0, second=0, microsecond=0)


def time_cells(pack: PackModel, creative: Creative, read: set[str]) -> list[tuple[str, datetime]]:
    """(zone, UTC instant) representatives: one per distinct signature of the time features read."""
    zones = _zones(creative, pack, read)
    time_read = read & (TIME_ATTRS - {"tz"})
    reference = reference_for(creative)
    if not time_read:
        return [(z, reference + timedelta(hours=12)) for z in zones]
    walls = _wall_boundaries(pack, creative, read)
    windows = _windows(creative)
    dates = _dates(creative) if "date" in time_read else []
    span_days = 1
    if time_read & {"weekday", "weekend", "date"}:
        span_days = 7
    if time_read & {"season", "hemisphere"}:
        span_days = 366
    fixed = _fixed_windows(windows)
    # Near a window fixed in one zone, each UTC offset sees other local times: try them all there.
    offset_zones = [z for z in OFFSET_ZONES if z not in zones] if fixed and time_read - {"window"} else []
    out: list[tuple[str, datetime]] = []
    for zone_name in [*zones, *offset_zones]:
        zone = ZoneInfo(zone_name)
        bounds = [b for w in windows for b in w.bounds(zone) if b is not None]
        ranges: list[tuple[date, int]]
        if zone_name in offset_zones:
            fixed_bounds = [b for w in fixed for b in w.bounds(zone) if b is not None]
            ranges = [((b - timedelta(days=2)).astimezone(zone).date(), 5) for b in fixed_bounds]
        else:
            ranges = [(reference.astimezone(zone).date(), span_days + 1)]
            ranges += [
                ((b - timedelta(days=span_days)).astimezone(zone).date(), 3 * span_days + 1) for b in bounds
            ]
            ranges += [(d - timedelta(days=1), 3) for d in dates]
        points: set[datetime] = set(bounds)
        for first, days in ranges:
            for d in range(days):
                day = first + timedelta(days=d)
                for wall in walls:
                    points.add(datetime.combine(day, wall, zone).astimezone(UTC))
        ordered = sorted(points)
        seen: set[tuple[Any, ...]] = set()
        for a, b in itertools.pairwise(ordered):
            mid = a + (b - a) / 2
            sig = _time_signature(pack, creative, zone_name, mid, time_read, walls, windows, dates)
            if sig not in seen:
                seen.add(sig)
                out.append((zone_name, mid))
    return out


def _time_signature(
    pack: PackModel,
    creative: Creative,
    zone: str,
    instant: datetime,
    read: set[str],
    walls: list[time],
    windows: list[Window],
    dates: list[date],
) -> tuple[Any, ...]:
    f = local_features(instant, ZoneInfo(zone), dayparts=pack.dayparts, weekend_days=frozenset(pack.weekend), country=None)
    sig: list[Any] = [zone]
    for name in sorted(read - {"window", "local_time", "minute", "date"}):
        sig.append(getattr(f, name))
    if "local_time" in read or "minute" in read:
        sig.append(sum(1 for w in walls if w <= f.time))
    if "date" in read:
        sig.append(tuple(f.date == d for d in dates))
    tz = ZoneInfo(zone)
    for w in windows:
        start, end = w.bounds(tz)
        sig.append((start is None or instant >= start) and (end is None or instant < end))
    return tuple(sig)


def _time_values(pack: PackModel, zone: str, instant: datetime, country: Any) -> dict[str, Any]:
    f = local_features(
        instant, ZoneInfo(zone), dayparts=pack.dayparts, weekend_days=frozenset(pack.weekend), country=country
    )
    return {
        "tz": zone,
        "daypart": f.daypart,
        "weekday": f.weekday,
        "weekend": f.weekend,
        "season": f.season,
        "hemisphere": f.hemisphere,
        "hour": f.hour,
        "minute": f.minute,
        "local_time": f.time,
        "date": f.date,
        "local": f.local,
    }


# ------------------------------------------------------------------------------------------- count


def iter_contexts(pack: PackModel, creative_id: str, *, limit: int = MAX_COMBINATIONS) -> tuple[int, list[str], Iterator[SyntheticContext]]:
    """(count, attributes read, contexts): one context per cell of the creative's partition."""
    creative = pack.creative(creative_id)
    read = attributes_read(creative)
    plain = sorted(a for a in read if a not in TIME_ATTRS)
    cells = {a: attribute_cells(pack, creative, a) for a in plain}
    # The negotiated locale shapes every design even when no rule reads it.
    cells["lang"] = list(pack.locales)
    times = time_cells(pack, creative, read)
    total = len(times) * math.prod(len(v) for v in cells.values())
    if total > limit:
        sizes = ", ".join(f"{a}: {len(v)}" for a, v in cells.items())
        raise TooManyVariants(
            f"{creative_id}: {total} combinations to decide (time: {len(times)}, {sizes}); the limit is {limit}. "
            "Narrow the rules or raise the limit."
        )
    names = list(cells)

    def generate() -> Iterator[SyntheticContext]:
        for zone, instant in times:
            for combo in itertools.product(*(cells[n] for n in names)):
                values = dict(zip(names, combo, strict=True))
                values.update(_time_values(pack, zone, instant, values.get("country")))
                yield SyntheticContext(values, instant, zone, str(values["lang"]))

    return total, sorted(read), generate()


def enumerate_variants(
    pack: PackModel,
    creative_id: str,
    *,
    limit: int = MAX_COMBINATIONS,
    sizes: Sequence[tuple[int, int]] | None = None,
) -> VariantReport:
    """Every distinct design key of the creative at each of its sizes (or at `sizes`, some of its
    declared ones), with one representative context each (sorted by size, then most contexts first).

    A matched optimized rule multiplies its contexts by its arms and by "no arm" (its own `set` alone,
    what a request without an allocation gets): every version the relevance loop may serve is listed,
    its example naming the arms (`arms: rule=arm,...`)."""
    total, read, contexts = iter_contexts(pack, creative_id, limit=limit)
    declared = pack.creative(creative_id).all_sizes
    chosen = declared if sizes is None else [s for s in declared if s in set(sizes)]
    creative = pack.creative(creative_id)
    arms = visitor_arms(creative)
    report = VariantReport(creative_id, read, total, sizes=[f"{w}x{h}" for w, h in chosen], arms=arms)
    arm_of = {bucket: arm for arm in arms for bucket in arm.buckets}
    by_key: dict[str, Variant] = {}
    varied = sorted({a for _, vary_by in creative.vary_specs() for a in vary_by} - {"lang"})
    # A decision is a function of which rules match, the context's language and the vary_by values its
    # copy keys read (`decide` reads nothing else of the context when it skips valid_until): contexts
    # with the same signature have the same design at every size, so each signature is decided once.
    decided: dict[tuple[Any, ...], list[str]] = {}
    for ctx in contexts:
        lookup = lookup_for(ctx)
        signature = (
            tuple(rule.when.evaluate(lookup)[0] for rule in creative.rules),
            ctx.lang,
            tuple(lookup(a) for a in varied),
        )
        keys = decided.get(signature)
        if keys is not None:
            for key in keys:
                by_key[key].count += 1
            continue
        keys = decided[signature] = []
        for chosen_arms in _arm_choices(creative, signature[0]):
            for decision in decide_sizes(pack, creative_id, ctx, chosen, arms=chosen_arms):
                keys.append(decision.design_key)
                variant = by_key.get(decision.design_key)
                if variant is None:
                    bucket = ctx.values.get(VISITOR_PARAM)
                    example = _example(ctx, set(read), arm_of)
                    if chosen_arms:
                        example["arms"] = ",".join(f"{rule}={arm}" for rule, arm in chosen_arms.items())
                    by_key[decision.design_key] = Variant(
                        decision.design_key, 1, example, decision, decision.matched,
                        (arm_of[bucket].example_id if bucket is not None else "") if arms else None,
                    )
                else:
                    variant.count += 1
    order = {size: i for i, size in enumerate(chosen)}
    report.variants = sorted(by_key.values(), key=lambda v: (order[v.decision.size], -v.count, v.design_key))
    return report


def _arm_choices(creative: Any, matched: Sequence[bool]) -> Iterator[dict[str, str]]:
    """Every combination of arms of the matched optimized rules, "no arm" included (one empty choice
    when none matched)."""
    rules = [rule for rule, hit in zip(creative.rules, matched, strict=True) if hit and rule.optimize]
    options = [[None, *(arm.id for arm in rule.arms)] for rule in rules]
    for combo in itertools.product(*options):
        yield {rule.id: arm for rule, arm in zip(rules, combo, strict=True) if arm is not None}


def _example(ctx: SyntheticContext, read: set[str], arm_of: Mapping[int, Arm]) -> dict[str, Any]:
    values, instant, zone = dict(ctx.values), ctx.now, ctx.tz
    if VISITOR_PARAM in values:  # a visitor bucket says nothing to a reader: its arm does
        bucket = values[VISITOR_PARAM]
        values[VISITOR_PARAM] = NO_VISITOR_ARM if bucket is None else arm_of[bucket].label()
    shown = {k: v for k, v in values.items() if (k in read or k == "lang") and k not in ("local", "local_time", "date")}
    shown["tz"] = zone
    shown["at"] = instant.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat()
    out: dict[str, Any] = {}
    for k, v in sorted(shown.items()):
        out[k] = v.isoformat() if isinstance(v, date | time) else v
    return out
