"""`versa lint`: what a valid pack may still get wrong, as errors and warnings with locations.

Errors: attributes the CDN does not key on, values an attribute can never take, rules that can never
match, `vary_by` over an open-ended attribute, copy without a default for a declared locale, fonts
lacking glyphs for a text some variant draws (`versa.authoring.glyphs`). Warnings: characters drawn
in a face of another weight than their font token's (`weight-fallback`), countdown labels missing a
plural category their locale's counts take (`_plural_labels`), rules whose every effect is always
overridden by later rules (shadowed), and what laying out every variant at every size with its
default copy and with each slot's `max_chars` probe finds (cut text,
text outside its container, layers colliding at a size, text failing WCAG AA contrast over fills,
images and gradients, images enlarged beyond their pixels, layers off the canvas, text that draws
nothing (blank or only zero-width characters): `_overflow`, with the drawn checks in
`versa.authoring.pixels`).
Overlap between rules is how a cascade works and is not reported.
"""

from __future__ import annotations

import itertools
import json
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from versa.authoring.contrast import aa_minimum, contrast_ratio, over
from versa.context.attributes import DEFAULT_KEYABLE, finite_values
from versa.context.locale import PLURAL_CATEGORIES, counted_categories
from versa.decide.rules import decide, lookup_for
from versa.decide.variants import (
    SyntheticContext,
    TooManyVariants,
    VariantReport,
    enumerate_variants,
    iter_contexts,
)
from versa.errors import Issue
from versa.pack.conditions import AllOf, Compare, Condition
from versa.pack.loader import PACK_FILE
from versa.pack.model import (
    BackgroundLayer,
    ButtonLayer,
    ContainerLayer,
    CountdownLayer,
    Creative,
    Pack,
    PackModel,
    ShapeLayer,
    TextLayer,
)
from versa.pack.paths import did_you_mean, item

_LINTED: dict[tuple[str, frozenset[str], tuple[str, ...]], tuple[Issue, ...]] = {}
"""The findings of the last few packs linted in this process, by content version (a hash of every file
of the pack), keyable attributes and font directories: linting is a pure function of those (and of this
code), and publishing lints the pack it was just asked to check."""
_LINTED_KEPT = 8


def lint(pack: Pack, *, keyable: Iterable[str] = DEFAULT_KEYABLE, font_dirs: Iterable[str] = ()) -> list[Issue]:
    """Every lint finding for the pack, errors first."""
    keyable = frozenset(keyable)
    font_dirs = tuple(font_dirs)
    key = (pack.version, keyable, font_dirs)
    found = _LINTED.get(key)
    if found is None:
        found = tuple(_lint(pack, keyable, font_dirs))
        while len(_LINTED) >= _LINTED_KEPT:
            del _LINTED[next(iter(_LINTED))]
        _LINTED[key] = found
    return list(found)


def _lint(pack: Pack, keyable: frozenset[str], font_dirs: tuple[str, ...]) -> list[Issue]:
    model = pack.model
    issues: list[Issue] = []
    for cid, creative in model.creatives.items():
        base = f"creatives.{cid}"
        issues += _keyable(creative, base, keyable)
        issues += _impossible_values(model, creative, base)
        issues += _vary_by(model, creative, base)
        issues += _copy_locales(model, creative, base)
        issues += _plural_labels(creative, base)
        report = _variants(model, cid)
        issues += _glyphs(pack, creative, base, tuple(font_dirs), report)
        issues += _reachability(model, cid, creative, base)
        issues += _overflow(pack, cid, creative, base, tuple(font_dirs), report)
    return sorted(issues, key=lambda i: (i.severity != "error", i.path))


def _keyable(creative: Creative, base: str, keyable: frozenset[str]) -> Iterator[Issue]:
    for r, rule in enumerate(creative.rules):
        for attr in sorted(rule.when.attributes()):
            if attr not in keyable and attr not in creative.params:
                yield Issue(
                    PACK_FILE,
                    f"{base}.rules{item(r, rule.id)}.when",
                    f"rule {rule.id!r} reads {attr!r}, which the CDN cache key does not carry: one viewer's "
                    f"variant would be served to others (keyable: {', '.join(sorted(keyable))}, or a declared "
                    "parameter)",
                )


def _impossible_values(model: PackModel, creative: Creative, base: str) -> Iterator[Issue]:
    dayparts = [d.name for d in model.dayparts]
    for r, rule in enumerate(creative.rules):
        for node in rule.when.walk():
            if not isinstance(node, Compare) or node.op not in ("eq", "in", "not_in"):
                continue
            if node.attr == "country" and "country" not in creative.params:
                values = node.value if isinstance(node.value, tuple) else (node.value,)
                for value in values:
                    problem = country_problem(value)
                    if problem:
                        yield Issue(PACK_FILE, f"{base}.rules{item(r, rule.id)}.when.country", f"rule {rule.id!r}: {problem}")
                continue
            allowed = _allowed(model, creative, node.attr, dayparts)
            if allowed is None:
                continue
            values = node.value if isinstance(node.value, tuple) else (node.value,)
            folded = {str(a).casefold() for a in allowed}
            for value in values:
                if str(value).casefold() not in folded:
                    yield Issue(
                        PACK_FILE,
                        f"{base}.rules{item(r, rule.id)}.when.{node.attr}",
                        f"{node.attr} is never {value!r}{did_you_mean(str(value), map(str, allowed))} "
                        f"(possible: {', '.join(str(a) for a in allowed)})",
                    )


_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR", "EN": "GB"}
"""Codes people write for a country that ISO 3166-1 spells otherwise."""


def country_problem(value: Any) -> str | None:
    """Why `value` can never be a viewer's country, or None: CloudFront (and Versa's own geo headers)
    give ISO 3166-1 alpha-2 codes, checked against CLDR's territories (through Babel)."""
    from babel.core import get_global

    code = str(value)
    territories = get_global("territory_languages")
    if len(code) == 2 and code.isascii() and code.upper() in territories and code.upper() != "ZZ":
        return None  # ZZ is CLDR's "unknown region"
    hint = _COUNTRY_ALIASES.get(code.upper())
    if hint:
        return f"country is never {code!r}: countries are ISO 3166-1 codes; did you mean {hint!r}?"
    return f"country is never {code!r}: not an ISO 3166-1 alpha-2 country code (e.g. 'GB', 'DE', 'US')"


def _allowed(model: PackModel, creative: Creative, attr: str, dayparts: list[str]) -> tuple[Any, ...] | None:
    if attr in creative.params:
        spec = creative.params[attr]
        if spec.type == "enum":
            return tuple(spec.values or ())
        return (True, False) if spec.type == "bool" else None
    values = finite_values(attr, locales=model.locales, dayparts=dayparts)
    if attr == "weekend" and values is not None:
        return (*values, "true", "false")
    return values


def _vary_by(model: PackModel, creative: Creative, base: str) -> Iterator[Issue]:
    dayparts = [d.name for d in model.dayparts]
    for name, vary_by in creative.vary_specs():  # copy slots, then visual slots (`visual:NAME`)
        where = f"{base}.visuals.{name.removeprefix('visual:')}" if name.startswith("visual:") else f"{base}.copy.{name}"
        for attr, spec in vary_by.items():
            if attr == "country" and isinstance(spec, dict) and "country" not in creative.params:
                for bucket, members in spec.items():
                    for value in members if members != "*" else ():
                        problem = country_problem(value)
                        if problem:
                            yield Issue(PACK_FILE, f"{where}.generate.vary_by.country.{bucket}", problem)
            if spec == "all" and _allowed(model, creative, attr, dayparts) is None:
                yield Issue(
                    PACK_FILE,
                    f"{where}.generate.vary_by.{attr}",
                    f"'all' needs a finite attribute; {attr!r} is open-ended: list buckets with an 'other': '*'",
                )


def _copy_locales(model: PackModel, creative: Creative, base: str) -> Iterator[Issue]:
    for name, slot in creative.copy_slots.items():
        if "*" in slot.default:
            continue
        for loc in model.locales:
            if loc not in slot.default:
                yield Issue(
                    PACK_FILE,
                    f"{base}.copy.{name}.default",
                    f"no default for declared locale {loc!r}: viewers in {loc} would see {model.default_locale} text",
                )


def _plural_labels(creative: Creative, base: str) -> Iterator[Issue]:
    """Countdown labels that lack a form for a plural category some count (0-999) takes in their
    locale: per-category labels missing one, or a plain label where the locale has more than one and
    other (Polish, Arabic, Russian: a singular and a plural cannot be right)."""
    for path, layer in _layer_paths_of(creative, base):
        if not isinstance(layer, CountdownLayer):
            continue
        for loc, labels in layer.labels.items():
            needed = counted_categories(loc)
            for unit in layer.units:
                forms = getattr(labels, unit)
                have = set(forms) if isinstance(forms, dict) else {"one", "other"}
                missing = [c for c in PLURAL_CATEGORIES if c in needed - have]
                if not missing:
                    continue
                where = f"layer {layer.id or path.rsplit('.', 1)[-1]!r} of creative {base.split('.', 1)[1]!r}"
                kind = "has no form" if isinstance(forms, dict) else "is one plain label, with no form"
                yield Issue(
                    PACK_FILE,
                    f"{path}.labels.{loc}.{unit}",
                    f"countdown label {unit} for locale {loc!r} ({where}) {kind} for plural "
                    f"categor{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}; {loc} counts take "
                    f"{', '.join(c for c in PLURAL_CATEGORIES if c in needed)}",
                    "warning",
                )


def _layer_paths_of(creative: Creative, base: str) -> Iterator[tuple[str, Any]]:
    """Every layer of the creative, containers' children too, depth first, with its pack.yaml path
    (items named by their ids, `versa.pack.paths`; a loaded pack's layer ids are unique)."""

    def walk(layers: Iterable[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for i, layer in enumerate(layers):
            path = f"{prefix}{item(i, layer.id)}"
            yield path, layer
            if isinstance(layer, ContainerLayer):
                yield from walk(layer.children, f"{path}.children")

    return walk(creative.layers, f"{base}.layers")


def _variants(model: PackModel, cid: str) -> VariantReport | None:
    try:
        return enumerate_variants(model, cid)
    except TooManyVariants:
        return None


def _params(creative: Creative) -> dict[str, Any]:
    """Declared parameters at their longest sample (else their default), to catch long merge values."""
    return {
        name: max((str(v) for v in spec.samples), key=len) if spec.samples else spec.default
        for name, spec in creative.params.items()
        if spec.samples or spec.default is not None
    }


def _glyphs(
    pack: Pack, creative: Creative, base: str, font_dirs: tuple[str, ...], report: VariantReport | None
) -> Iterator[Issue]:
    """Glyph coverage and `weight-fallback` of every text every variant draws (see
    `versa.authoring.glyphs`). When the creative has too many variants to enumerate (the
    reachability check says so), each locale at each size as decided for a context holding only
    the locale."""
    from versa.authoring.glyphs import GlyphCheck
    from versa.render.layers import FontBook  # the same stacks rendering uses

    paths = _layer_paths(creative, base)
    check = GlyphCheck(
        pack, base, FontBook(font_dirs), lambda layer: _path(layer, paths, base), _params(creative)
    )
    if report is not None:
        decisions = [variant.decision for variant in report.variants]
    else:
        model, cid = pack.model, base.split(".", 1)[1]
        now = datetime(2026, 1, 1, tzinfo=UTC)
        decisions = [
            decide(model, cid, SyntheticContext({"lang": loc}, now, model.default_tz, loc), size=size,
                   with_valid_until=False)
            for loc in model.locales
            for size in creative.all_sizes
        ]
    for decision in decisions:
        yield from check.variant(decision)


def _why_never(model: PackModel, cid: str, when: Condition) -> str:
    """Why a condition holds in no context: the part that never holds, or the two parts that never
    hold together (over the same cells the enumeration uses)."""
    parts = list(when.children()) if isinstance(when, AllOf) else [when]
    _, _, contexts = iter_contexts(model, cid)
    seen: set[tuple[bool, ...]] = set()
    for ctx in contexts:
        lookup = lookup_for(ctx)
        seen.add(tuple(part.evaluate(lookup)[0] for part in parts))
    shown = [json.dumps(part.to_data(), ensure_ascii=False, default=str) for part in parts]
    for i, text in enumerate(shown):
        if not any(truth[i] for truth in seen):
            return f"{text} is never true for any viewer"
    for i, j in itertools.combinations(range(len(parts)), 2):
        if not any(truth[i] and truth[j] for truth in seen):
            return f"{shown[i]} and {shown[j]} never hold together"
    return "its conditions hold separately but never all at once"


def _reachability(model: PackModel, cid: str, creative: Creative, base: str) -> Iterator[Issue]:
    if not creative.rules:
        return
    try:
        _, _, contexts = iter_contexts(model, cid)
    except TooManyVariants as exc:
        yield Issue(PACK_FILE, base, f"rules not checked for reachability: {exc}", "warning")
        return
    matched_ever: set[str] = set()
    effective: set[str] = set()
    sets = {rule.id: rule.set for rule in creative.rules}
    for ctx in contexts:
        decision = decide(model, cid, ctx, with_valid_until=False)
        hits = [t for t in decision.trace if t.matched]
        for n, trace in enumerate(hits):
            matched_ever.add(trace.rule)
            if trace.rule in effective:
                continue
            later = [item for t in hits[n + 1 :] for item in sets[t.rule].items()]
            if any(not _overridden(key, value, later) for key, value in sets[trace.rule].items()):
                effective.add(trace.rule)
    for r, rule in enumerate(creative.rules):
        if rule.id not in matched_ever:
            why = _why_never(model, cid, rule.when)
            yield Issue(PACK_FILE, f"{base}.rules{item(r, rule.id)}", f"rule {rule.id!r} can never match: {why}")
        elif rule.set and rule.id not in effective:
            yield Issue(
                PACK_FILE,
                f"{base}.rules{item(r, rule.id)}",
                f"rule {rule.id!r} is shadowed: whenever it matches, later rules override everything it sets",
                "warning",
            )


def _overridden(key: str, value: Any, later: list[tuple[str, Any]]) -> bool:
    """Whether a later `set:` entry replaces what `key: value` set: the same key or a prefix of it,
    except that a per-locale mapping for a copy slot (`copy.SLOT: {en: ...}`) replaces only the
    locales it names."""
    for k, v in later:
        merges = k.startswith("copy.") and k.count(".") == 1 and isinstance(v, dict)
        if k == key and (not merges or (isinstance(value, dict) and set(value) <= set(v))):
            return True
        if key.startswith(k + ".") and (not merges or key.rsplit(".", 1)[1] in v):
            return True
    return False


def _overflow(
    pack: Pack, cid: str, creative: Creative, base: str, font_dirs: tuple[str, ...], report: VariantReport | None
) -> Iterator[Issue]:
    """Lay out every variant (each design key, so every size and locale) with the longest copy each
    slot can hold: the variant's default (each locale's own, rule overrides applied) and, where a
    slot's `generate` sets `max_chars`, a second layout with that many wide glyphs ('W') in its place;
    a warning says which of the two overflowed. Declared parameters use their longest sample, to
    catch long merge values.
    Containers are laid out as the renderer lays them out (`versa.render.layers.placed`).

    Warns where text is cut (max_lines, ellipsis) or overflows its box or container (`text-overflow`),
    where two visible layers' boxes collide at a size when they did not at the first size
    (`layer-collision`), where text fails WCAG AA contrast (`low-contrast`: 4.5:1, or 3:1 for text of
    24 px and more, or bold of 18.66 px and more; bold is a font whose reference says "bold"), where
    an image is enlarged beyond its pixels at the largest output a request may ask for
    (`image-upscaled`: the largest allowed width at the highest dpr, see
    `versa.authoring.pixels.largest_output`), and where a layer's box runs past an edge of the
    canvas (`off-canvas`; the background is the one layer that bleeds).

    The colour beneath text is its button's fill, or the topmost opaque shape or background fill
    whose box covers the text's box (exact, read off the pack). Anything else (an image, a gradient,
    an ellipse, a translucent fill, a shape covering only part of the text) is sampled from the
    layers drawn beneath it: `versa.authoring.pixels.Sampler` renders them and compares the text
    colour with the worst region under its ink."""
    from versa.authoring.pixels import AssetSizes, Sampler
    from versa.render.layers import FontBook
    from versa.render.scene import Scene

    if report is None:
        return
    book = FontBook(font_dirs)
    params = _params(creative)
    paths = _layer_paths(creative, base)
    first = creative.all_sizes[0]
    seen: set[tuple[str, ...]] = set()
    collide_first: set[tuple[str, str]] = set()
    sampler, assets = Sampler(), AssetSizes(pack)
    found: set[tuple[Any, ...]] = set()
    later: list[tuple[Any, set[tuple[str, str]]]] = []
    for variant in report.variants:
        decision = variant.decision
        for copy, texts in _copy_probes(creative, decision):
            scene = Scene(pack, decision, texts, params, 1.0, book)
            where = f"{decision.size[0]}x{decision.size[1]} {decision.locale}"
            rules = ", ".join(variant.matched) or "no rules"
            boxes = list(_boxes(decision.layers, scene, paths, base))
            yield from _drawn_checks(boxes, scene, where, rules, copy, (seen, found), (sampler, assets))
            pairs = _collisions(boxes)
            if decision.size == first:
                collide_first |= pairs
            else:
                later.append((variant, pairs))
    for variant, pairs in later:
        decision = variant.decision
        for a, b in sorted(pairs - collide_first):
            pair = (a, b, str(decision.size))
            if pair in seen:
                continue
            seen.add(pair)
            yield Issue(
                PACK_FILE,
                a,
                f"layer-collision: at {decision.size[0]}x{decision.size[1]} ({decision.locale}) this layer's box "
                f"overlaps {b}, which it does not at {first[0]}x{first[1]} (variant {decision.design_key})",
                "warning",
            )


_Placed = tuple[Any, tuple[int, int, int, int], str, "tuple[int, int, int, int] | None"]
"""A drawn layer, its box, its path in pack.yaml and the box of the container it sits in (if any)."""


def _layer_paths(creative: Creative, base: str) -> dict[str, str]:
    """pack.yaml paths of the creative's layers by id, and by (type, slot) for layers without one."""
    out: dict[str, str] = {}
    for path, layer in _layer_paths_of(creative, base):
        out.setdefault(layer.id or f"{layer.type}:{getattr(layer, 'slot', None)}", path)
    return out


def _path(layer: Any, paths: dict[str, str], base: str) -> str:
    key = layer.id or f"{layer.type}:{getattr(layer, 'slot', None)}"
    return paths.get(key, f"{base}.layers")


def _copy_probes(creative: Creative, decision: Any) -> list[tuple[str, dict[str, str]]]:
    """(what, copy texts) to lay a variant out with: its defaults, then (when a slot's `generate`
    sets `max_chars`) the same with that many 'W's in each such slot."""
    defaults = {name: ref.default for name, ref in decision.copy.items()}
    probes = dict(defaults)
    named = []
    for name in defaults:
        slot = creative.copy_slots.get(name)
        gen = slot.generate if slot else None
        if gen is not None and gen.max_chars:
            probes[name] = "W" * gen.max_chars
            named.append(f"{name}: {gen.max_chars}×W")
    out = [("copy: the default", defaults)]
    if named:
        out.append((f"copy: the max_chars probe ({', '.join(named)})", probes))
    return out


def _drawn_checks(
    boxes: list[_Placed],
    scene: Any,
    where: str,
    rules: str,
    copy: str,
    seen: tuple[set[Any], set[Any]],
    tools: tuple[Any, Any],
) -> Iterator[Issue]:
    """The checks of one variant laid out with one set of copy texts, each finding once per lint run."""
    from versa.authoring.pixels import off_canvas, upscaled

    by_message, by_key = seen
    sampler, assets = tools
    decision = scene.decision
    creative = scene.pack.model.creatives[decision.creative]
    for issue in _fits(boxes, scene, where, rules, decision.design_key, copy):
        key = (issue.path, issue.message.split("variant ")[0])
        if key not in by_message:
            by_message.add(key)
            yield issue
    for issue in _contrast(boxes, scene, where, sampler):
        key = (issue.path, issue.message)
        if key not in by_message:
            by_message.add(key)
            yield issue
    for found_key, issue in (
        *upscaled(boxes, creative, decision.size, assets),
        *off_canvas(boxes, decision.size, where),
    ):
        if found_key not in by_key:
            by_key.add(found_key)
            yield issue


def _boxes(layers: Iterable[Any], scene: Any, paths: dict[str, str], base: str) -> Iterator[_Placed]:
    """Every drawn layer in drawing order with its box, container children at their laid-out boxes
    (`versa.render.fit.drawn_boxes`, which the copy guardrails measure with too)."""
    from versa.render.fit import drawn_boxes

    for layer, box, container in drawn_boxes(layers, scene):
        yield layer, box, _path(layer, paths, base), container


def _fits(boxes: list[_Placed], scene: Any, where: str, rules: str, key: str, copy: str) -> Iterator[Issue]:
    from versa.render.layer_text import text_layout

    for layer, box, path, container in boxes:
        if not isinstance(layer, TextLayer | ButtonLayer):
            continue
        name = f"layer {layer.id!r}" if layer.id else f"{layer.type} layer"
        nothing = _draws_nothing(layer, scene)
        if nothing is not None:
            yield Issue(
                PACK_FILE,
                path,
                f"draws-nothing: at {where} {name} {nothing} ({copy}; variant {key}: {rules})",
                "warning",
            )
            continue
        lay = text_layout(layer, scene)
        if lay is not None and not lay.fits:
            text = " / ".join(line.text.strip() for line in lay.lines)  # " / " where a line breaks
            yield Issue(
                PACK_FILE,
                path,
                f"{scene.decision.locale} text does not fit at {layer.size[0]}px and is cut to {text!r} "
                f"({name} at {where}, {copy}; variant {key}: {rules})",
                "warning",
            )
        if container is not None:
            cx, cy, cw, ch = container
            x, y, w, h = box
            if x < cx or y < cy or x + w > cx + cw or y + h > cy + ch:
                yield Issue(
                    PACK_FILE,
                    path,
                    f"text-overflow: at {where} {name} ({layer_text_of(layer, scene)!r}) lies at {list(box)}, "
                    f"outside its container {list(container)} ({copy}; variant {key}: {rules})",
                    "warning",
                )


_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"})
"""Unicode categories that draw no ink on their own: spaces, separators, controls, format characters
(zero-width space and joiners, the word joiner, the byte order mark, bidi marks) and combining marks."""


def _draws_nothing(layer: TextLayer | ButtonLayer, scene: Any) -> str | None:
    """Why the layer's text puts no ink on the canvas (it is empty, or only spaces and invisible
    characters), else None. A box too small for a line still draws one, cut (`does not fit`); text with
    no glyph in the font is the glyph check's (an error)."""
    from versa.render.layer_text import layer_text

    text: str = layer_text(layer, scene)
    if not text:
        return "has no text: its source resolves to ''"
    if all(unicodedata.category(c) in _INVISIBLE for c in text):
        named = ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in text))
        return f"has only spaces or zero-width characters ({named}): it draws nothing"
    return None


def layer_text_of(layer: Any, scene: Any) -> str:
    from versa.render.layer_text import layer_text

    text: str = layer_text(layer, scene)
    return text if len(text) <= 60 else text[:59] + "…"


def _collisions(boxes: list[_Placed]) -> set[tuple[str, str]]:
    items = [(path, box) for layer, box, path, _ in boxes if not isinstance(layer, BackgroundLayer)]
    out: set[tuple[str, str]] = set()
    for n, (pa, (ax, ay, aw, ah)) in enumerate(items):
        for pb, (bx, by, bw, bh) in items[n + 1 :]:
            if pa != pb and ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                out.add((pa, pb) if pa < pb else (pb, pa))
    return out


def _opaque(fill: Any) -> str | None:
    """`fill` when it is an opaque hex colour, else None."""
    if isinstance(fill, str) and fill.startswith("#") and len(fill.lstrip("#")) in (3, 6, 8):
        return fill if len(fill) != 9 or fill[7:].lower() == "ff" else None
    return None


def _beneath(boxes: list[_Placed], n: int) -> str | None:
    """The opaque solid colour under all of layer `n`'s box, or None when it takes sampling."""
    x, y, w, h = boxes[n][1]
    for layer, (bx, by, bw, bh), _, _ in reversed(boxes[:n]):
        if bx >= x + w or x >= bx + bw or by >= y + h or y >= by + bh:
            continue  # does not touch the text
        covers = bx <= x and by <= y and bx + bw >= x + w and by + bh >= y + h
        fill = getattr(layer, "fill", None)
        if isinstance(layer, BackgroundLayer | ButtonLayer) or (
            isinstance(layer, ShapeLayer) and layer.shape == "rect"
        ):
            if fill is None and isinstance(layer, ShapeLayer):
                continue  # an outline only
            return _opaque(fill) if covers else None
        if isinstance(layer, TextLayer):
            continue
        return None  # an image, an ellipse, a countdown: sampled
    return None


def _contrast(boxes: list[_Placed], scene: Any, where: str, sampler: Any) -> Iterator[Issue]:
    """`low-contrast` warnings: see `_overflow`; what cannot be read off the pack is sampled
    (`versa.authoring.pixels.Sampler`)."""
    from versa.render.layer_text import text_layout

    for n, (layer, _, path, _) in enumerate(boxes):
        if not isinstance(layer, TextLayer | ButtonLayer) or not layer.color.startswith("#"):
            continue
        bg = _opaque(layer.fill) if isinstance(layer, ButtonLayer) else _beneath(boxes, n)
        lay = text_layout(layer, scene)
        if lay is None:
            continue
        bold = "bold" in str(scene.decision.fonts.get(layer.font, "")).lower()
        need = aa_minimum(lay.size, bold)
        name = f"layer {layer.id!r}" if layer.id else f"{layer.type} layer"
        if bg is not None:
            ratio = contrast_ratio(over(layer.color, bg), bg)
            on = f"on {bg}"
        else:
            sampled = sampler.worst(boxes, n, scene, lay.size)
            if sampled is None:
                continue
            ratio, colour, cell, beneath = sampled
            on = f"over {beneath} (sampled: worst region {list(cell)} averages {colour})"
        if ratio < need:
            yield Issue(
                PACK_FILE,
                path,
                f"low-contrast: at {where} {name} ({layer_text_of(layer, scene)!r}) is {layer.color} {on}, "
                f"contrast {ratio:.2f}:1, below WCAG AA {need:g}:1 for {lay.size}px"
                f"{' bold' if bold else ''} text",
                "warning",
            )
