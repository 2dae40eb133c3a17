"""What `versa export` writes: one file per design × size × format, and the manifest that lists them.

The designs are exactly those of `versa variants` (`versa.decide.variants.enumerate_variants`): a
design key includes its size, so the variants of a creative are its designs × sizes, and the files
are those variants × the formats asked for. Each file is drawn from the variant's own decision, with
its copy defaults and the parameters of its example context (declared defaults for the rest), at
the example's instant (what a countdown shows). Pure: no files are read or written here; the command
(`versa.cli.export`) renders, writes, journals and writes the manifest these rows describe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from versa.decide.rules import Decision
from versa.decide.variants import MAX_COMBINATIONS, VariantReport, enumerate_variants
from versa.errors import VersaError
from versa.pack.budgets import weight_name
from versa.pack.model import Pack, parse_size, size_name
from versa.render.encode import ALIASES, CONTENT_TYPES, avif_supported

Size = tuple[int, int]


class ExportError(VersaError, ValueError):
    """What `versa export` was asked for cannot be exported; the message names the value and what is
    allowed."""


# -------------------------------------------------------------------------------------- the input


def image_formats(pack: Pack) -> list[str]:
    """The file formats this pack may be exported as: its `render.formats` that are images (not
    html), `jpeg` written `jpg`, avif only where this Pillow encodes it."""
    out = []
    for fmt in pack.model.render.formats:
        name = ALIASES.get(fmt, fmt)
        if name in CONTENT_TYPES and (name != "avif" or avif_supported()) and name not in out:
            out.append(name)
    return out


def parse_formats(pack: Pack, text: str) -> list[str]:
    """`png,jpg` as formats this pack exports, in the order given, each once; ExportError naming the
    value and the formats allowed."""
    allowed = image_formats(pack)
    out: list[str] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        name = ALIASES.get(name, name)
        if not name:
            raise ExportError(f"--formats: {text!r} has an empty format (e.g. png,jpg; allowed: {', '.join(allowed)})")
        if name not in allowed:
            why = " (an HTML page is not a file to export)" if name == "html" else ""
            raise ExportError(
                f"--formats: {raw.strip()!r} is not a format {pack.brand} exports{why} (allowed: {', '.join(allowed)})"
            )
        if name not in out:
            out.append(name)
    return out


def parse_sizes(pack: Pack, creative_ids: Sequence[str], text: str) -> list[Size]:
    """`300x250,728x90` as sizes at least one of `creative_ids` comes in (each of them, when one
    creative is named); ExportError naming the value and the sizes declared. Widths (`w`) are
    output scalings of a size, not sizes, and are refused like any size not declared."""
    declared: dict[Size, None] = {}
    for cid in creative_ids:
        declared.update(dict.fromkeys(pack.model.creative(cid).all_sizes))
    whose = creative_ids[0] if len(creative_ids) == 1 else f"any creative of {pack.brand}"
    names = ", ".join(map(size_name, declared))
    out: list[Size] = []
    for raw in text.split(","):
        try:
            size = parse_size(raw.strip())
        except ValueError as exc:
            raise ExportError(f"--sizes: {exc} (sizes of {whose}: {names})") from None
        if size not in declared:
            raise ExportError(f"--sizes: {raw.strip()} is not a size of {whose} (sizes: {names})")
        if size not in out:
            out.append(size)
    return out


# --------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class ExportFile:
    """One file to write: where (relative to the export directory), what to draw, and what the
    manifest says about it."""

    file: str
    creative: str
    fmt: str
    decision: Decision
    texts: Mapping[str, str]
    params: Mapping[str, Any]
    now: datetime
    tz: str
    attributes: Mapping[str, Any]
    """The selecting attributes: the example context's value of each attribute the creative's rules
    read, and the language (None: the request carries none)."""
    budget: tuple[str, int] | None
    """(channel, bytes) the file must stay within (`Budgets.budget_for`), None when it has none."""

    @property
    def design_key(self) -> str:
        return self.decision.design_key

    @property
    def size(self) -> Size:
        return self.decision.size


@dataclass
class ExportPlan:
    """Every file of an export, in order (creative, size, design as `versa variants` lists them,
    then format), and the variant reports they come from."""

    brand: str
    version: str
    formats: list[str]
    reports: list[VariantReport]
    files: list[ExportFile] = field(default_factory=list)

    @property
    def variants(self) -> int:
        """Designs × sizes over the creatives exported: the `count` of `versa variants --json`."""
        return sum(len(r.variants) for r in self.reports)


def file_name(creative: str, decision: Decision, fmt: str) -> str:
    """`winter-sale/winter-sale_300x250_<design key>.png`: unique within an export, and within a
    folder an ad platform flattens (the creative and size are in the name too)."""
    return f"{creative}/{creative}_{size_name(decision.size)}_{decision.design_key}.{fmt}"


def plan_export(
    pack: Pack,
    creative_ids: Sequence[str],
    formats: Sequence[str],
    sizes: Sequence[Size] | None = None,
    *,
    limit: int = MAX_COMBINATIONS,
) -> ExportPlan:
    """Every design × size × format of `creative_ids` once: their declared sizes (or those of `sizes`
    each creative has; a creative with none of them is left out). Raises UnknownCreative and
    TooManyVariants as `enumerate_variants` does."""
    plan = ExportPlan(pack.brand, pack.version, list(formats), [])
    for cid in creative_ids:
        creative = pack.model.creative(cid)
        chosen = None if sizes is None else [s for s in creative.all_sizes if s in set(sizes)]
        if chosen == []:
            continue
        report = enumerate_variants(pack.model, cid, limit=limit, sizes=chosen)
        plan.reports.append(report)
        read = set(report.attributes) | {"lang"}
        for variant in report.variants:
            decision = variant.decision
            example = variant.example
            params = {}
            for name, spec in creative.params.items():
                value = example.get(name)
                params[name] = value if value is not None else spec.default_value()
            shown = {k: v for k, v in example.items() if k in read}
            texts = {slot: ref.default for slot, ref in decision.copy.items()}
            now = datetime.fromisoformat(example["at"])
            budget = pack.model.budgets.budget_for(cid, decision.size)
            for fmt in formats:
                plan.files.append(ExportFile(
                    file_name(cid, decision, fmt), cid, fmt, decision, texts,
                    {k: v for k, v in params.items() if v is not None}, now, example["tz"], shown, budget,
                ))
    return plan


# ----------------------------------------------------------------------------------- the manifest


@dataclass(frozen=True)
class Written:
    """A file as written: its size in bytes and its SHA-256 (hex)."""

    file: str
    bytes: int
    sha256: str


def over_budget(item: ExportFile, written: Written) -> bool:
    """Whether the file weighs more than its budget allows."""
    return item.budget is not None and written.bytes > item.budget[1]


def manifest_record(item: ExportFile, written: Written) -> dict[str, Any]:
    """One manifest entry: what the file is, which context selects it, what it says, what it weighs."""
    d = item.decision
    return {
        "file": item.file,
        "brand": d.brand,
        "creative": item.creative,
        "design_key": d.design_key,
        "size": size_name(d.size),
        "width": d.size[0],
        "height": d.size[1],
        "format": item.fmt,
        "content_type": CONTENT_TYPES[item.fmt],
        "locale": d.locale,
        "attributes": dict(item.attributes),
        "rules": list(d.matched),
        "copy": dict(item.texts),
        "link": d.link,
        "bytes": written.bytes,
        "sha256": written.sha256,
        "channel": item.budget[0] if item.budget else None,
        "budget_bytes": item.budget[1] if item.budget else None,
        "over_budget": over_budget(item, written),
    }


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def manifest_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """The manifest as CSV, a header row and one row per file: selecting attributes as
    `country=DE; device=mobile`, rules fired joined by `; `, one `copy.<slot>` column per copy slot of
    any file (empty where a creative has no such slot)."""
    slots: dict[str, None] = {}
    for r in records:
        slots.update(dict.fromkeys(r["copy"]))
    head = ["file", "brand", "creative", "design_key", "size", "width", "height", "format", "content_type",
            "locale", "attributes", "rules", *(f"copy.{s}" for s in slots), "link", "bytes", "sha256",
            "channel", "budget_bytes", "over_budget"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    for r in records:
        attrs = "; ".join(f"{k}={'(none)' if v is None else v}" for k, v in r["attributes"].items())
        row = {**r, "attributes": attrs, "rules": "; ".join(r["rules"]),
               "over_budget": "yes" if r["over_budget"] else "no",
               **{f"copy.{s}": r["copy"].get(s) for s in slots}}
        writer.writerow([_cell(row[h]) for h in head])
    return out.getvalue()


def manifest_json(plan: ExportPlan, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The manifest as one JSON document: the pack, the counts, and every file's record."""
    return {
        "brand": plan.brand,
        "pack_version": plan.version,
        "formats": plan.formats,
        "variants": plan.variants,
        "count": len(records),
        "files": list(records),
    }


def budget_warnings(items: Iterable[tuple[ExportFile, Written]]) -> list[str]:
    """One line per file over its budget: the file, its weight, the channel and the budget."""
    out = []
    for item, written in items:
        if item.budget is not None and over_budget(item, written):
            channel, limit = item.budget
            out.append(f"{item.file}: {weight_name(written.bytes)} is over the {channel} budget of "
                       f"{weight_name(limit)} ({written.bytes:,} > {limit:,} bytes)")
    return out


__all__ = [
    "ExportError",
    "ExportFile",
    "ExportPlan",
    "Written",
    "budget_warnings",
    "file_name",
    "image_formats",
    "manifest_csv",
    "manifest_json",
    "manifest_record",
    "over_budget",
    "parse_formats",
    "parse_sizes",
    "plan_export",
]
