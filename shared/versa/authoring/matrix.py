"""The cells of a contact sheet: a matrix of simulated viewers, or every distinct design.

A matrix is a list of axes (`country=US,DE,JP`, `device=mobile,desktop`, ...); its cells are the
cartesian product of the axes' values, each laid on top of a base query (the viewer the caller
simulates, by default none: the creative's default context). Each cell is the query a signed preview
URL would carry, resolved and decided exactly as a request with that URL is, so a cell's design is the
one its URL serves. `variant_cells` gives one cell per distinct design instead, from the exact
enumeration behind `versa variants` (`versa.decide.variants.enumerate_variants`).

What an axis may name: the signed send-time overrides (`country`, `tz`, `device`, `lang`, `client`,
`at`), `daypart` (the middle of that daypart on the base date, in the cell's zone), `size` (one of the
creative's sizes) and the creative's declared parameters. A bad name or value raises `MatrixError`
saying which axis, which value and what is allowed; a product over the cap raises it before anything is
decided.

Pure: no IO, no environment, no clock (the base instant is an argument).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from versa.context.attributes import CLIENTS, DEVICES
from versa.context.headers import COUNTRY_RE
from versa.context.model import SIGNED_OVERRIDES, RequestContext
from versa.context.resolve import resolve
from versa.decide.rules import Decision, context_options, decide
from versa.decide.variants import MAX_COMBINATIONS, enumerate_variants
from versa.errors import ParamError, VersaError
from versa.pack.model import Creative, PackModel, parse_size, size_name

DEFAULT_MAX_CELLS = 120
"""How many cells a sheet draws unless the caller raises it (each cell is one render)."""
AXES = ("country", "tz", "device", "lang", "client", "at", "daypart", "size")
"""What a matrix axis may name besides the creative's declared parameters."""


class MatrixError(VersaError, ValueError):
    """A matrix axis names an attribute or value that is not allowed, or the sheet has too many cells."""


@dataclass(frozen=True)
class Axis:
    """One `--matrix` argument: an attribute and the values it takes, in the order given."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    """One cell of a sheet: what it shows (`label`: attribute → value), the query a preview URL signs
    for it, its size, and the context and decision a request with that query gets."""

    label: Mapping[str, str]
    query: Mapping[str, str]
    size: tuple[int, int]
    context: RequestContext
    decision: Decision
    contexts: int = 1
    """For a design of `--all`: how many enumerated contexts share it (1 for a matrix cell)."""

    @property
    def size_name(self) -> str:
        return size_name(self.size)


# ------------------------------------------------------------------------------------------ parsing


def allowed_axes(creative: Creative) -> list[str]:
    """Every name an axis may take for this creative: the built-in ones, then its parameters."""
    return [*AXES, *creative.params]


def parse_matrix(specs: Sequence[str], model: PackModel, creative_id: str) -> tuple[Axis, ...]:
    """`NAME=V1,V2,...` arguments as axes, every value checked (see the module docstring); raises
    MatrixError naming the argument, the value and what is allowed."""
    creative = model.creative(creative_id)
    axes: list[Axis] = []
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise MatrixError(f"--matrix {spec!r}: write NAME=VALUE,VALUE (e.g. country=US,DE,JP)")
        allowed = allowed_axes(creative)
        if name not in allowed:
            raise MatrixError(
                f"--matrix {name}: not an attribute a sheet can vary for {creative_id} (allowed: {', '.join(allowed)})"
            )
        if any(a.name == name for a in axes):
            raise MatrixError(f"--matrix {name}: given twice; list every value in one argument")
        values = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
        if not values:
            raise MatrixError(f"--matrix {name}: no values (write {name}=VALUE,VALUE)")
        axes.append(Axis(name, tuple(check_value(model, creative_id, name, v) for v in values)))
    names = {a.name for a in axes}
    if {"at", "daypart"} <= names:
        raise MatrixError("--matrix: give either at= or daypart= (both set the clock)")
    return tuple(axes)


def check_value(model: PackModel, creative_id: str, name: str, value: str) -> str:
    """`value` normalized for axis `name`, or MatrixError saying what the axis allows."""
    creative = model.creative(creative_id)
    finite: dict[str, Sequence[str]] = {
        "device": DEVICES,
        "client": CLIENTS,
        "lang": model.locales,
        "daypart": [d.name for d in model.dayparts],
        "size": [size_name(s) for s in creative.all_sizes],
    }
    if name == "size":
        with contextlib.suppress(ValueError):  # not WxH: refused below with the sizes allowed
            value = size_name(parse_size(value))
    if name in finite:
        if value not in finite[name]:
            raise MatrixError(f"--matrix {name}={value}: not allowed (allowed: {', '.join(finite[name])})")
        return value
    if name == "country":
        if not COUNTRY_RE.fullmatch(value):
            raise MatrixError(f"--matrix country={value}: not allowed (allowed: two-letter ISO 3166 codes, e.g. US)")
        return value.upper()
    if name == "tz":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise MatrixError(f"--matrix tz={value}: not allowed (allowed: IANA time zones, e.g. Europe/Berlin)") from None
        return value
    if name == "at":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise MatrixError(
                f"--matrix at={value}: not allowed (allowed: local or zoned date-times, e.g. 2026-12-01T19:30)"
            ) from None
        return value
    options = context_options(model, creative_id, signed_names=frozenset({name}))
    try:  # a declared parameter: judged by the very coercion a request's value gets
        resolve({}, {name: value}, datetime(2026, 1, 1, tzinfo=UTC), options)
    except ParamError as exc:
        raise MatrixError(f"--matrix {name}={value}: not allowed ({exc.allowed})") from None
    return value


def count_cells(axes: Sequence[Axis]) -> int:
    """The number of cells: the product of the axes' value counts (1 for no axis)."""
    return math.prod(len(a.values) for a in axes)


def check_cap(count: int, max_cells: int, what: str) -> None:
    """MatrixError when `count` cells would be drawn but at most `max_cells` may be."""
    if count > max_cells:
        raise MatrixError(
            f"{what} makes {count} cells, over the cap of {max_cells}: narrow it (fewer values, one --size) "
            f"or raise --max-cells"
        )


# ------------------------------------------------------------------------------------------- cells


def daypart_middle(model: PackModel, name: str) -> time:
    """The local wall time in the middle of daypart `name` (dayparts wrap past midnight)."""
    parts = list(model.dayparts)
    index = next(i for i, p in enumerate(parts) if p.name == name)
    start = datetime.combine(date(2000, 1, 1), parts[index].start)
    nxt = datetime.combine(date(2000, 1, 1), parts[(index + 1) % len(parts)].start)
    if nxt <= start:
        nxt += timedelta(days=1)
    return (start + (nxt - start) / 2).time()


def decide_query(
    model: PackModel, creative_id: str, query: Mapping[str, str], now: datetime, size: tuple[int, int]
) -> tuple[RequestContext, Decision]:
    """Resolve `query` as a signed preview URL's (its names signed) and decide it at `size`."""
    signed = frozenset(query) | SIGNED_OVERRIDES
    ctx = resolve({}, dict(query), now, context_options(model, creative_id, signed_names=signed))
    return ctx, decide(model, creative_id, ctx, size=size)


def matrix_cells(
    model: PackModel,
    creative_id: str,
    axes: Sequence[Axis],
    base: Mapping[str, str],
    now: datetime,
    *,
    size: tuple[int, int] | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> list[Cell]:
    """One cell per combination of the axes' values (the first axis varies slowest), each on top of
    the `base` query (a `size` axis wins over `size`, the creative's first size by default); `now` is
    the clock when neither the base nor an axis gives `at`."""
    creative = model.creative(creative_id)
    check_cap(count_cells(axes), max_cells, "the matrix " + " × ".join(f"{a.name}: {len(a.values)}" for a in axes))
    cells: list[Cell] = []
    for combo in itertools.product(*(a.values for a in axes)):
        label = dict(zip((a.name for a in axes), combo, strict=True))
        query = dict(base)
        cell_size = size or creative.size
        for name, value in label.items():
            if name == "size":
                cell_size = parse_size(value)
            elif name == "daypart":
                zone = ZoneInfo(label.get("tz") or query.get("tz") or model.default_tz)
                clock = datetime.fromisoformat(query["at"]) if "at" in query else now
                day = clock.astimezone(zone).date()
                query["at"] = datetime.combine(day, daypart_middle(model, value), zone).isoformat()
            elif name == "at":
                at = datetime.fromisoformat(value)
                if at.tzinfo is None:
                    at = at.replace(tzinfo=ZoneInfo(label.get("tz") or query.get("tz") or model.default_tz))
                query["at"] = at.astimezone(UTC).isoformat()
            else:
                query[name] = value
        ctx, decision = decide_query(model, creative_id, query, now, cell_size)
        cells.append(Cell(label, query, cell_size, ctx, decision))
    return cells


def example_query(example: Mapping[str, Any], creative: Creative) -> dict[str, str]:
    """The signed query that asks for a variant's example context: its overrides and parameters
    (attributes no URL can set, such as `region`, are left out; the time features follow from `at`)."""
    query: dict[str, str] = {}
    for name, value in example.items():
        if value is None or (name not in SIGNED_OVERRIDES and name not in creative.params):
            continue
        query[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return query


def variant_cells(
    model: PackModel,
    creative_id: str,
    *,
    sizes: Sequence[tuple[int, int]] | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
    limit: int = MAX_COMBINATIONS,
) -> list[Cell]:
    """One cell per distinct design of the creative at each of `sizes` (default: all it declares), in
    `enumerate_variants` order; the cell's query asks for the design's example context. A design
    whose example cannot be asked for by URL alone keeps the enumerated decision (its label says so)."""
    creative = model.creative(creative_id)
    report = enumerate_variants(model, creative_id, limit=limit, sizes=sizes)
    check_cap(len(report.variants), max_cells, f"--all ({report.summary()})")
    cells: list[Cell] = []
    for variant in report.variants:
        query = example_query(variant.example, creative)
        now = datetime.fromisoformat(str(variant.example["at"])).astimezone(UTC)
        ctx, decision = decide_query(model, creative_id, query, now, variant.decision.size)
        label = {k: _shown(v) for k, v in variant.example.items() if k not in ("tz", "at")}
        label["at"] = f"{str(variant.example['at'])[:16]} {variant.example['tz']}"
        if decision.design_key != variant.design_key:
            label["note"] = "its URL cannot carry every attribute read"
            decision = variant.decision
        cells.append(Cell(label, query, variant.decision.size, ctx, decision, variant.count))
    return cells


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = [
    "AXES",
    "DEFAULT_MAX_CELLS",
    "Axis",
    "Cell",
    "MatrixError",
    "allowed_axes",
    "check_cap",
    "check_value",
    "count_cells",
    "daypart_middle",
    "decide_query",
    "example_query",
    "matrix_cells",
    "parse_matrix",
    "variant_cells",
]
