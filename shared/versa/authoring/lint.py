"""`versa lint`: what a valid pack may still get wrong, as errors and warnings with locations.

Errors: attributes the CDN does not key on, values an attribute can never take, rules that can never
match, `vary_by` over an open-ended attribute, copy without a default for a declared locale, fonts
lacking glyphs a locale needs. Warnings: rules whose every effect is always overridden by later rules
(shadowed). Overlap between rules is how a cascade works and is not reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from versa.context.attributes import DEFAULT_KEYABLE, finite_values
from versa.decide.rules import decide
from versa.decide.variants import TooManyVariants, enumerate_variants, iter_contexts
from versa.errors import Issue
from versa.pack.conditions import Compare
from versa.pack.loader import PACK_FILE
from versa.pack.model import ButtonLayer, CountdownLayer, Creative, Pack, PackModel, TextLayer


def lint(pack: Pack, *, keyable: Iterable[str] = DEFAULT_KEYABLE, font_dirs: Iterable[str] = ()) -> list[Issue]:
    """Every lint finding for the pack, errors first."""
    keyable = frozenset(keyable)
    model = pack.model
    issues: list[Issue] = []
    for cid, creative in model.creatives.items():
        base = f"creatives.{cid}"
        issues += _keyable(creative, base, keyable)
        issues += _impossible_values(model, creative, base)
        issues += _vary_by(model, creative, base)
        issues += _copy_locales(model, creative, base)
        issues += _glyphs(pack, creative, base, tuple(font_dirs))
        issues += _reachability(model, cid, creative, base)
        issues += _overflow(pack, cid, creative, base, tuple(font_dirs))
    return sorted(issues, key=lambda i: (i.severity != "error", i.path))


def _keyable(creative: Creative, base: str, keyable: frozenset[str]) -> Iterator[Issue]:
    for r, rule in enumerate(creative.rules):
        for attr in sorted(rule.when.attributes()):
            if attr not in keyable and attr not in creative.params:
                yield Issue(
                    PACK_FILE,
                    f"{base}.rules[{r}].when",
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
            allowed = _allowed(model, creative, node.attr, dayparts)
            if allowed is None:
                continue
            values = node.value if isinstance(node.value, tuple) else (node.value,)
            folded = {str(a).casefold() for a in allowed}
            for value in values:
                if str(value).casefold() not in folded:
                    yield Issue(
                        PACK_FILE,
                        f"{base}.rules[{r}].when.{node.attr}",
                        f"{node.attr} is never {value!r} (possible: {', '.join(str(a) for a in allowed)})",
                    )


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
    for name, slot in creative.copy_slots.items():
        if slot.generate is None:
            continue
        for attr, spec in slot.generate.vary_by.items():
            if spec == "all" and _allowed(model, creative, attr, dayparts) is None:
                yield Issue(
                    PACK_FILE,
                    f"{base}.copy.{name}.generate.vary_by.{attr}",
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


def ref_is_file(ref: str) -> bool:
    return ref.lower().endswith((".ttf", ".otf", ".ttc"))


def _glyphs(pack: Pack, creative: Creative, base: str, font_dirs: tuple[str, ...]) -> Iterator[Issue]:
    model = pack.model
    from versa.render.fonts import LOCALE_SAMPLES, FontStack, missing_glyphs
    from versa.render.layers import FontBook  # the same stacks rendering uses

    book = FontBook(font_dirs)

    for i, layer in enumerate(creative.layers):
        if not isinstance(layer, TextLayer | ButtonLayer | CountdownLayer):
            continue
        stack = book.stack(pack, model.tokens.fonts[layer.font])
        for loc in model.locales:
            texts = [LOCALE_SAMPLES.get(loc.split("-")[0], "")]
            slot = getattr(layer, "slot", None)
            if slot:
                texts.append(creative.copy_slots[slot].default.get(loc, ""))
            missing = sorted(set().union(*(missing_glyphs(stack, t) for t in texts if t)))
            if missing:
                yield Issue(
                    PACK_FILE,
                    f"{base}.layers[{i}].font",
                    f"font {layer.font!r} and its fallbacks lack glyphs for locale {loc!r}: {''.join(missing)[:40]}",
                )
            elif ref_is_file(model.tokens.fonts[layer.font]):
                primary = FontStack((stack.primary,))
                lacking = sorted(missing_glyphs(primary, texts[0]))
                if lacking:
                    yield Issue(
                        PACK_FILE,
                        f"{base}.layers[{i}].font",
                        f"font {layer.font!r} has no glyphs for locale {loc!r} ({''.join(lacking)[:20]}…); "
                        "a default family stands in for them",
                        "warning",
                    )


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
            yield Issue(PACK_FILE, f"{base}.rules[{r}]", f"rule {rule.id!r} can never match")
        elif rule.set and rule.id not in effective:
            yield Issue(
                PACK_FILE,
                f"{base}.rules[{r}]",
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


def _overflow(pack: Pack, cid: str, creative: Creative, base: str, font_dirs: tuple[str, ...]) -> Iterator[Issue]:
    """Warn where a variant's default copy does not fit its box even at the smallest size (it would be
    cut with an ellipsis). Declared parameters use their longest sample, to catch long merge values."""
    from versa.render.layer_text import text_layout
    from versa.render.layers import FontBook, Scene

    try:
        report = enumerate_variants(pack.model, cid)
    except TooManyVariants:
        return
    book = FontBook(font_dirs)
    params = {
        name: max((str(v) for v in spec.samples), key=len) if spec.samples else spec.default
        for name, spec in creative.params.items()
        if spec.samples or spec.default is not None
    }
    index = {id(layer): i for i, layer in enumerate(creative.layers)}
    ids = {layer.id: i for i, layer in enumerate(creative.layers) if layer.id}
    seen: set[tuple[int, str]] = set()
    for variant in report.variants:
        decision = variant.decision
        texts = {name: ref.default for name, ref in decision.copy.items()}
        scene = Scene(pack, decision, texts, params, 1.0, book)
        for layer in decision.layers:
            if not isinstance(layer, TextLayer | ButtonLayer):
                continue
            at = ids.get(layer.id) if layer.id else index.get(id(layer))
            lay = text_layout(layer, scene)
            if lay is None or lay.fits or at is None:
                continue
            text = "".join(line.text for line in lay.lines)
            if (at, decision.locale + text) in seen:
                continue
            seen.add((at, decision.locale + text))
            rules = ", ".join(variant.matched) or "no rules"
            yield Issue(
                PACK_FILE,
                f"{base}.layers[{at}]",
                f"{decision.locale} text does not fit at {layer.size[0]}px and is cut to {text!r} "
                f"(variant {decision.design_key}: {rules})",
                "warning",
            )
