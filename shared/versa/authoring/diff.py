"""Two versions of a pack compared design by design: which designs a publish adds, removes and changes.

A design is what `versa variants` enumerates (`versa.decide.variants`): a design key at one size. The
comparison walks one partition of context cells that both versions agree on (the cells of a creative
whose rules are the old version's and the new one's together, so every value either version mentions
is cut), decides each cell with both versions, and classifies the pairs (old key, new key):

- **unchanged**: the same key before and after;
- **changed**: an old design that no longer exists, whose viewers now get a design that did not exist
  (a token, a layer, the copy or the link of that design changed);
- **added**: a new design whose viewers used to get a design that still exists (a new rule), or any
  design of a new creative or size;
- **removed**: an old design that no longer exists, whose viewers now get a design that already
  existed (a rule taken out), or any design of a creative or size that is gone.

Pure: reads pack models only.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from versa.decide.rules import Decision, decide_sizes, lookup_for
from versa.decide.variants import MAX_COMBINATIONS, SyntheticContext, _example, iter_contexts, visitor_arms
from versa.pack.model import Creative, PackModel

Kind = Literal["added", "removed", "changed"]
Size = tuple[int, int]


@dataclass
class DesignChange:
    """One design added, removed or changed, with the decision before and after for its viewers.

    `before` is what those viewers got from the old version (None for a new creative or size),
    `after` what they get from the new one (None for a creative or size that is gone); `contexts`
    counts the context cells behind the change and `example` is one of them; `parts` names what
    differs between `before` and `after` (locale, colors, fonts, spacing, layers, copy, link)."""

    kind: Kind
    creative: str
    size: Size
    before: Decision | None
    after: Decision | None
    contexts: int
    example: dict[str, Any]
    parts: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The design key the change is about: the new one, or the old one for a removal."""
        design = self.before if self.kind == "removed" else self.after
        assert design is not None
        return design.design_key

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules matched for the design the change is about."""
        design = self.before if self.kind == "removed" else self.after
        return design.matched if design is not None else ()


@dataclass
class CreativeDiff:
    """What changed in one creative; `status` says whether the creative itself is new or gone."""

    creative: str
    status: Literal["added", "removed", "kept"]
    changes: list[DesignChange] = field(default_factory=list)
    unchanged: int = 0
    rekeyed: int = 0
    """Of the unchanged designs, those with a new design key (a colour token they do not draw changed)."""

    def count(self, kind: Kind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


@dataclass
class PackDiff:
    """Every creative's changes between `old` and `new` versions of one brand's pack."""

    brand: str
    old_version: str
    new_version: str
    creatives: list[CreativeDiff]

    def count(self, kind: Kind) -> int:
        return sum(c.count(kind) for c in self.creatives)

    @property
    def empty(self) -> bool:
        """True when no design is added, removed or changed."""
        return not any(c.changes for c in self.creatives)

    def summary(self) -> list[str]:
        """The text summary: a line per creative, a line per change under it, and the totals."""
        lines = [f"{self.brand}: {self.old_version} -> {self.new_version}"]
        for c in self.creatives:
            head = {"added": "new creative", "removed": "creative removed", "kept": ""}[c.status]
            counts = ", ".join(f"{c.count(k)} {k}" for k in ("added", "removed", "changed"))
            same = f"{c.unchanged} unchanged" + (f" ({c.rekeyed} with a new key, same image)" if c.rekeyed else "")
            lines.append(f"{c.creative}: {head + ': ' if head else ''}{counts}, {same}")
            for ch in c.changes:
                lines.append("  " + describe(ch))
        totals = ", ".join(f"{self.count(k)} {k}" for k in ("added", "removed", "changed"))
        lines.append(f"total: {totals}" if not self.empty else "total: no design changed")
        return lines


def describe(change: DesignChange) -> str:
    """One line: the sign (+ added, - removed, ~ changed), key(s), size, rules and an example context."""
    size = f"{change.size[0]}x{change.size[1]}"
    where = " ".join(f"{k}={v}" for k, v in change.example.items() if k != "at")
    rules = ",".join(change.rules) or "(defaults)"
    if change.kind == "changed":
        assert change.before is not None and change.after is not None
        keys = f"{change.before.design_key} -> {change.after.design_key}"
        parts = f" [{', '.join(change.parts)}]" if change.parts else ""
        return f"~ {keys} {size} {rules}{parts} ({change.contexts} cell(s), e.g. {where})"
    sign = "+" if change.kind == "added" else "-"
    return f"{sign} {change.key} {size} {rules} ({change.contexts} cell(s), e.g. {where})"


# ------------------------------------------------------------------------------------------ compare


DECISION_PARTS = ("locale", "colors", "fonts", "spacing", "layers", "copy", "link")
UNDRAWN = frozenset({"colors"})
"""Parts whose difference alone changes no pixel: layers carry their colours resolved to hex, so a
colour token no layer uses changes the design key (it hashes every token) but not the image."""


def differing_parts(before: Decision, after: Decision) -> tuple[str, ...]:
    """Which parts of two decisions differ (layers compared by their JSON, colours resolved)."""
    a, b = before.to_json(), after.to_json()
    a.update(a.pop("tokens")), b.update(b.pop("tokens"))
    return tuple(p for p in DECISION_PARTS if a.get(p) != b.get(p))


def _merged(old: PackModel, new: PackModel, creative_id: str, base: PackModel) -> PackModel:
    """`base` with the creative's rules, params and copy slots of both versions, and the locales of
    both: its context cells cut every value either version's rules or briefs mention."""
    a, b = old.creatives[creative_id], new.creatives[creative_id]
    own = base.creatives[creative_id]
    joined: Creative = own.model_copy(update={
        "rules": [*a.rules, *b.rules],
        "params": {**a.params, **b.params},
        "copy_": {**{f"old__{k}": v for k, v in a.copy_.items()}, **{f"new__{k}": v for k, v in b.copy_.items()}},
    })  # fmt: skip
    locales = list(dict.fromkeys([*old.locales, *new.locales]))
    return base.model_copy(update={"creatives": {creative_id: joined}, "locales": locales})


def _for(pack: PackModel, ctx: SyntheticContext) -> SyntheticContext:
    """`ctx` as `pack` sees it: a language the pack does not declare negotiates to its default."""
    if ctx.lang in pack.locales:
        return ctx
    return dataclasses.replace(ctx, values={**ctx.values, "lang": pack.default_locale}, lang=pack.default_locale)


@dataclass
class _Pair:
    before: Decision
    after: Decision
    contexts: int
    example: dict[str, Any]


def _pairs(old: PackModel, new: PackModel, creative_id: str, sizes: list[Size], limit: int) -> dict[tuple[str, str], _Pair]:
    """(old design key, new design key) → the pair, for every context cell at every size both have."""
    a, b = old.creatives[creative_id], new.creatives[creative_id]
    merged = [_merged(old, new, creative_id, base) for base in (old, new)]
    varied = sorted(
        {attr for c in (a, b) for s in c.copy_slots.values() if s.generate for attr in s.generate.vary_by} - {"lang"}
    )
    streams: list[Iterator[SyntheticContext]] = []
    read: set[str] = set()
    for m in merged:
        _, attrs, contexts = iter_contexts(m, creative_id, limit=limit)
        streams.append(contexts)
        read |= set(attrs)
    # a visitor bucket is shown as the arm it falls in (the new version's split, else the old one's)
    arm_of = {bucket: arm for c in (a, b) for arm in visitor_arms(c) for bucket in arm.buckets}
    pairs: dict[tuple[str, str], _Pair] = {}
    decided: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    seen: set[tuple[Any, ...]] = set()  # the two partitions mostly coincide: count each cell once
    for ctx in itertools.chain(*streams):
        cell = (ctx.tz, ctx.now, tuple(sorted((k, str(v)) for k, v in ctx.values.items() if k in read or k == "lang")))
        if cell in seen:
            continue
        seen.add(cell)
        lookup = lookup_for(ctx)
        signature = (
            tuple(rule.when.evaluate(lookup)[0] for rule in (*a.rules, *b.rules)),
            ctx.lang,
            tuple(lookup(attr) for attr in varied),
        )
        known = decided.get(signature)
        if known is not None:
            for pair_key in known:
                pairs[pair_key].contexts += 1
            continue
        before = decide_sizes(old, creative_id, _for(old, ctx), sizes)
        after = decide_sizes(new, creative_id, _for(new, ctx), sizes)
        keys = decided[signature] = []
        for d_old, d_new in zip(before, after, strict=True):
            pair_key = (d_old.design_key, d_new.design_key)
            keys.append(pair_key)
            if pair_key in pairs:
                pairs[pair_key].contexts += 1
            else:
                pairs[pair_key] = _Pair(d_old, d_new, 1, _example(ctx, read, arm_of))
    return pairs


def _only(pack: PackModel, creative_id: str, sizes: list[Size], kind: Kind, limit: int) -> list[DesignChange]:
    """Every design of the creative at `sizes`, as added (new creative or size) or removed."""
    from versa.decide.variants import enumerate_variants

    report = enumerate_variants(pack, creative_id, limit=limit, sizes=sizes)
    return [
        DesignChange(kind, creative_id, v.decision.size, v.decision if kind == "removed" else None,
                     v.decision if kind == "added" else None, v.count, v.example)
        for v in report.variants
    ]  # fmt: skip


def _classify(creative_id: str, pairs: Mapping[tuple[str, str], _Pair]) -> tuple[list[DesignChange], int, int]:
    """(changes, unchanged designs, of which re-keyed): a new key whose design draws exactly what the
    old one did (only an undrawn token differs) stands for the old key, so it is neither a change nor
    does it turn the other designs' viewers into 'changed'."""
    parts = {pk: differing_parts(p.before, p.after) for pk, p in pairs.items() if pk[0] != pk[1]}
    alias = {k_new: k_old for (k_old, k_new), diff in parts.items() if set(diff) <= UNDRAWN}
    old_keys = {k for k, _ in pairs}
    new_keys = {alias.get(k, k) for _, k in pairs}
    grouped: dict[tuple[Kind, str, str], DesignChange] = {}
    unchanged: set[str] = set()
    rekeyed: set[str] = set()
    for (k_old, k_raw), pair in pairs.items():
        k_new = alias.get(k_raw, k_raw)
        if k_old == k_new:
            unchanged.add(k_old)
            if k_raw != k_old:
                rekeyed.add(k_old)
            continue
        if k_old not in new_keys and k_new not in old_keys:
            kind: Kind = "changed"
        elif k_new not in old_keys:
            kind = "added"
        elif k_old not in new_keys:
            kind = "removed"
        else:
            continue  # viewers moved between two designs both versions have: no design changed
        # an added design is one entry whatever it replaced; a removed one likewise
        ident = (kind, k_old if kind != "added" else "", k_new if kind != "removed" else "")
        change = grouped.get(ident)
        if change is None:
            grouped[ident] = DesignChange(
                kind, creative_id, pair.after.size, pair.before, pair.after, pair.contexts, pair.example,
                parts[(k_old, k_raw)],
            )
        else:
            change.contexts += pair.contexts
    order = {"added": 0, "removed": 1, "changed": 2}
    changes = sorted(grouped.values(), key=lambda c: (order[c.kind], c.size, -c.contexts, c.key))
    return changes, len(unchanged), len(rekeyed)


def diff_packs(old: PackModel, new: PackModel, creative: str | None = None, *, old_version: str = "old",
               new_version: str = "new", limit: int = MAX_COMBINATIONS) -> PackDiff:
    """Every creative's added, removed and changed designs from `old` to `new` (or only `creative`'s).
    Raises UnknownCreative when `creative` is in neither version, TooManyVariants past `limit`."""
    names = list(dict.fromkeys([*old.creatives, *new.creatives]))
    if creative is not None:
        if creative not in names:
            from versa.errors import UnknownCreative

            raise UnknownCreative(new.brand, creative, sorted(names))
        names = [creative]
    out: list[CreativeDiff] = []
    for cid in names:
        if cid not in new.creatives:
            out.append(CreativeDiff(cid, "removed", _only(old, cid, list(old.creatives[cid].all_sizes), "removed", limit)))
            continue
        if cid not in old.creatives:
            out.append(CreativeDiff(cid, "added", _only(new, cid, list(new.creatives[cid].all_sizes), "added", limit)))
            continue
        sizes_old, sizes_new = old.creatives[cid].all_sizes, new.creatives[cid].all_sizes
        common = [s for s in sizes_old if s in sizes_new]
        changes, unchanged, rekeyed = _classify(cid, _pairs(old, new, cid, common, limit)) if common else ([], 0, 0)
        gone = [s for s in sizes_old if s not in sizes_new]
        fresh = [s for s in sizes_new if s not in sizes_old]
        if gone:
            changes += _only(old, cid, gone, "removed", limit)
        if fresh:
            changes += _only(new, cid, fresh, "added", limit)
        out.append(CreativeDiff(cid, "kept", changes, unchanged, rekeyed))
    return PackDiff(new.brand, old_version, new_version, out)


__all__ = ["CreativeDiff", "DesignChange", "PackDiff", "describe", "diff_packs", "differing_parts"]
