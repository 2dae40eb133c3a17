"""Deciding a variant: rules applied in order to a creative for one request context.

`decide` is pure: (pack, creative, context) in, `Decision` out. The decision carries the resolved
tokens, layers, copy references and link, a trace of every rule, the design key (a hash of what the
rules resolved, so two contexts with the same output share it) and `valid_until`, the next instant
the decision could change.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from versa.context.timefeatures import (
    next_daypart_boundary,
    next_local_midnight,
    next_month_start,
    next_offset_change,
    next_wall_time,
)
from versa.decide.visuals import aspect_class, slot_layers, visual_key
from versa.pack.conditions import Compare, Condition, TimeOfDay, Window
from versa.pack.model import (
    PLACED_BY_CONTAINER,
    BackgroundLayer,
    ButtonLayer,
    ContainerLayer,
    CountdownLayer,
    Creative,
    GenerateSpec,
    PackModel,
    ShapeLayer,
    TextLayer,
    Voice,
    color_token_name,
    countdown_layers,
)
from versa.pack.overrides import Resolved, apply_set
from versa.pack.sizes import Size, apply_size, size_of

if TYPE_CHECKING:
    from versa.context.model import ContextOptions

KEY_BYTES = 8
"""Design, copy and render keys are the first 8 bytes of a SHA-256, as 16 hex characters."""


class Context(Protocol):
    """What the rules engine needs of a request context (versa.context.RequestContext has it)."""

    @property
    def now(self) -> datetime: ...
    @property
    def tz(self) -> str: ...
    @property
    def lang(self) -> str: ...

    def attribute(self, name: str) -> Any: ...


@dataclass(frozen=True)
class RuleTrace:
    """One rule as `decide` saw it: whether it matched, why (readable), and what its `set` names."""

    rule: str
    matched: bool
    reason: str
    sets: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "matched": self.matched, "reason": self.reason, "sets": list(self.sets)}


@dataclass(frozen=True)
class CopyRef:
    """A copy slot as this decision needs it: the generated-copy key (if the slot generates) and the
    default text that stands in until generated copy exists."""

    slot: str
    key: str | None
    default: str
    vary: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"slot": self.slot, "key": self.key, "default": self.default, "vary": dict(self.vary)}


@dataclass(frozen=True)
class Decision:
    """What the rules resolved for one request: the locale, tokens, visible layers (colour references
    replaced by hex), copy references and link, the trace of every rule, the design key and the
    instant the decision may next change (`valid_until`, None when nothing time-based is read)."""

    brand: str
    creative: str
    locale: str
    colors: Mapping[str, str]
    fonts: Mapping[str, str]
    spacing: Mapping[str, int]
    layers: tuple[Any, ...]
    copy: Mapping[str, CopyRef]
    link: str | None
    trace: tuple[RuleTrace, ...]
    design_key: str
    valid_until: datetime | None
    size: Size
    """The size rendered (width, height): one of the creative's sizes, the first by default."""
    visuals: Mapping[str, CopyRef] = field(default_factory=dict)
    """Visual slots drawn at this size: the visual key (the aspect class is among the vary values) and the
    default image (a pack asset) that stands in until an approved scene exists."""

    @property
    def matched(self) -> tuple[str, ...]:
        return tuple(t.rule for t in self.trace if t.matched)

    @property
    def copy_keys(self) -> tuple[str, ...]:
        return tuple(ref.key for ref in self.copy.values() if ref.key is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "creative": self.creative,
            "design_key": self.design_key,
            "size": f"{self.size[0]}x{self.size[1]}",
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "locale": self.locale,
            "matched": list(self.matched),
            "trace": [t.to_json() for t in self.trace],
            "tokens": {"colors": dict(self.colors), "fonts": dict(self.fonts), "spacing": dict(self.spacing)},
            "layers": [layer.model_dump(mode="json", exclude_none=True) for layer in self.layers],
            "copy": {name: ref.to_json() for name, ref in self.copy.items()},
            **({"visuals": {name: ref.to_json() for name, ref in self.visuals.items()}} if self.visuals else {}),
            "link": self.link,
        }


def short_hash(payload: Any) -> str:
    """A stable 16-hex-character hash of a JSON-serialisable value."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[: KEY_BYTES * 2]


def lookup_for(ctx: Context) -> Any:
    """The attribute lookup conditions evaluate with: `ctx`'s attributes (and `now`), None for a name
    the context does not know."""
    def lookup(name: str) -> Any:
        if name == "now":
            return ctx.now
        try:
            return ctx.attribute(name)
        except KeyError:
            return None

    return lookup


# ------------------------------------------------------------------------------------------- copy


def vary_value(attr: str, spec: Any, value: Any) -> str:
    """The vary_by bucket a context value falls in: the value itself for `all`, else a bucket name."""
    if spec == "all":
        return "" if value is None else str(value).casefold()
    for bucket, members in spec.items():
        if (
            members != "*"
            and value is not None
            and str(value).casefold() in {str(m).casefold() for m in members}
        ):
            return str(bucket)
    return "other"


_KEYED_WHEN_SET = frozenset({"tone_by", "candidates", "temperature", "patterns", "allow_links"})
"""GenerateSpec fields added after copy keys were first issued: hashed only when they differ from their
default, so the keys of a pack that does not use them stay what they were."""


def copy_key(
    brand: str, slot: str, locale: str, generate: GenerateSpec, vary: Mapping[str, str], voice: Voice | None = None
) -> str:
    """Hash of what determines generated copy: the brief, its constraints, the brand's voice and the
    vary_by values (plus brand, slot and locale). Not the pack version: a publish that keeps the brief
    keeps its copy. The model that writes is added by `versa.decide.keys.generation_key`."""
    # `review` decides what serves, not what is written: never keyed, so turning it on keeps the copy.
    brief = generate.model_dump(mode="json", exclude={"vary_by", "ttl", "review", *_KEYED_WHEN_SET})
    brief.update(generate.model_dump(mode="json", include=set(_KEYED_WHEN_SET), exclude_defaults=True))
    payload: dict[str, Any] = {"brand": brand, "slot": slot, "locale": locale, "brief": brief, "vary": dict(vary)}
    if voice is not None:
        payload["voice"] = voice.model_dump(mode="json")
    return short_hash(payload)


def default_text(defaults: Mapping[str, str], locale: str, fallback_locale: str) -> str:
    """A copy slot's default for `locale`, else its `*` entry, else the pack's default locale's, else ""."""
    return defaults.get(locale) or defaults.get("*") or defaults.get(fallback_locale) or ""


# ---------------------------------------------------------------------------------------- deciding


def decide(
    pack: PackModel,
    creative_id: str,
    ctx: Context,
    *,
    size: Size | None = None,
    with_valid_until: bool = True,
    arms: Mapping[str, str] | None = None,
    no_arm: Mapping[str, str] | None = None,
) -> Decision:
    """Apply the creative's rules in order (later wins), then bring the layers to `size` (one of the
    creative's sizes, None for its first: boxes scaled, `by_size` overrides applied; see
    `versa.pack.sizes`) and return the resolved decision. Raises UnknownSize for a size not declared.

    `with_valid_until=False` skips computing when the decision expires (enumeration does not need it).
    `arms` maps an optimized rule's id to the arm this request shows (`versa.relevance.assignment_for`
    chose it): a matched rule applies its own `set`, then the arm's; the caller caps the response's
    lifetime at the allocation's `valid_until`. Without an entry the rule's own `set` applies alone;
    `no_arm` may say why (`{rule_id: reason}`), and a matched rule's trace then gives that reason.
    """
    creative = pack.creative(creative_id)
    size = size_of(pack.brand, creative_id, creative, size)
    lookup = lookup_for(ctx)
    state, trace = _apply_rules(pack, creative, lookup, arms, no_arm)
    return _at_size(
        pack, creative_id, creative, state, trace, size, ctx, lookup,
        valid=valid_until(pack, creative, ctx) if with_valid_until else None,
    )


def decide_sizes(
    pack: PackModel,
    creative_id: str,
    ctx: Context,
    sizes: Iterable[Size],
    *,
    arms: Mapping[str, str] | None = None,
) -> list[Decision]:
    """`decide(pack, creative_id, ctx, size=s, with_valid_until=False, arms=arms)` for each of `sizes`,
    with the rules applied once (what enumerating every size of a creative needs)."""
    creative = pack.creative(creative_id)
    lookup = lookup_for(ctx)
    state, trace = _apply_rules(pack, creative, lookup, arms)
    out = []
    for size in sizes:
        size = size_of(pack.brand, creative_id, creative, size)
        copied = replace(
            state,
            colors=dict(state.colors),
            fonts=dict(state.fonts),
            spacing=dict(state.spacing),
            layers=list(state.layers),
            copy_defaults={k: dict(v) for k, v in state.copy_defaults.items()},
        )
        out.append(_at_size(pack, creative_id, creative, copied, trace, size, ctx, lookup, valid=None))
    return out


def _apply_rules(
    pack: PackModel, creative: Creative, lookup: Any, arms: Mapping[str, str] | None = None,
    no_arm: Mapping[str, str] | None = None,
) -> tuple[Resolved, tuple[RuleTrace, ...]]:
    state = Resolved(
        colors=dict(pack.tokens.colors),
        fonts=dict(pack.tokens.fonts),
        spacing=dict(pack.tokens.spacing),
        layers=list(creative.layers),
        copy_defaults={name: dict(slot.default) for name, slot in creative.copy_slots.items()},
        lang=None,
        link=creative.link,
    )
    trace = []
    for rule in creative.rules:
        matched, reason = rule.when.evaluate(lookup)
        sets = tuple(rule.set)
        if matched:
            apply_set(state, creative, rule.set_keys)
            chosen = arms.get(rule.id) if arms and rule.optimize else None
            arm = next((a for a in rule.arms if a.id == chosen), None)
            if arm is not None:
                apply_set(state, creative, arm.set_keys)
                reason, sets = f"{reason}; arm {arm.id}", sets + tuple(arm.set)
            elif chosen is not None:
                reason = f"{reason}; arm {chosen!r} is not one of this rule's arms: none shown"
            elif rule.optimize and no_arm and rule.id in no_arm:
                reason = f"{reason}; no arm: {no_arm[rule.id]}"
        trace.append(RuleTrace(rule.id, matched, reason, sets))
    return state, tuple(trace)


def _at_size(
    pack: PackModel,
    creative_id: str,
    creative: Creative,
    state: Resolved,
    trace: tuple[RuleTrace, ...],
    size: Size,
    ctx: Context,
    lookup: Any,
    *,
    valid: datetime | None,
) -> Decision:
    apply_size(state, creative, size)
    locale = state.lang or ctx.lang or pack.default_locale
    if locale not in pack.locales:
        locale = pack.default_locale
    palette = tuple(state.colors.items())
    layers = tuple(_resolved(layer, state.colors, palette) for layer in state.layers if layer.visible)
    copy = _copy_refs(pack, creative, state, locale, lookup)
    visuals = _visual_refs(pack, creative, layers, size, locale, lookup) if creative.visuals else {}
    payload: dict[str, Any] = {
        "brand": pack.brand,
        "creative": creative_id,
        "size": list(size),
        "locale": locale,
        "tokens": [state.colors, state.fonts, state.spacing],
        "copy": {name: [ref.key, ref.default] for name, ref in copy.items()},
        "link": state.link,
    }
    if visuals:  # hashed only when a creative has visual slots: other design keys stay as they were
        payload["visuals"] = {name: [ref.key, ref.default] for name, ref in visuals.items()}
    design_key = _design_key(payload, layers)
    return Decision(
        brand=pack.brand,
        creative=creative_id,
        locale=locale,
        colors=state.colors,
        fonts=state.fonts,
        spacing=state.spacing,
        layers=layers,
        copy=copy,
        link=state.link,
        trace=trace,
        design_key=design_key,
        valid_until=valid,
        size=size,
        visuals=visuals,
    )


def _copy_refs(
    pack: PackModel, creative: Creative, state: Resolved, locale: str, lookup: Any
) -> dict[str, CopyRef]:
    refs = {}
    for name, slot in creative.copy_slots.items():
        text = default_text(state.copy_defaults.get(name, {}), locale, pack.default_locale)
        if slot.generate is None:
            refs[name] = CopyRef(name, None, text)
            continue
        # `lang` is the locale decided (a rule may switch it), which is the language the copy is written in.
        vary = {
            attr: vary_value(attr, spec, locale if attr == "lang" else lookup(attr))
            for attr, spec in sorted(slot.generate.vary_by.items())
        }
        refs[name] = CopyRef(name, copy_key(pack.brand, name, locale, slot.generate, vary, pack.voice), text, vary)
    return refs


def _visual_refs(
    pack: PackModel, creative: Creative, layers: tuple[Any, ...], size: Size, locale: str, lookup: Any
) -> dict[str, CopyRef]:
    """A reference per visual slot the visible `layers` draw at `size`: the visual key (None when the slot
    does not generate), the default image and the vary values with the aspect class (`aspect`) of the
    first layer drawing it (its box; a container's child: the creative size)."""
    refs: dict[str, CopyRef] = {}
    for layer in slot_layers(layers):
        name = layer.slot
        visual = creative.visuals.get(name or "")
        if name is None or visual is None or name in refs:
            continue
        if visual.generate is None:
            refs[name] = CopyRef(name, None, visual.default)
            continue
        box = (layer.box[2], layer.box[3]) if layer.box != PLACED_BY_CONTAINER else size
        vary = {
            attr: vary_value(attr, spec, locale if attr == "lang" else lookup(attr))
            for attr, spec in sorted(visual.generate.vary_by.items())
        }
        aspect = aspect_class(box)
        key = visual_key(pack.brand, name, visual.generate, pack.style, vary, aspect)
        refs[name] = CopyRef(name, key, visual.default, {**vary, "aspect": aspect})
    return refs


_COLOR_FIELDS: dict[type, tuple[str, ...]] = {
    BackgroundLayer: ("fill",),
    TextLayer: ("color",),
    ButtonLayer: ("fill", "color"),
    ShapeLayer: ("fill",),
    CountdownLayer: ("color", "fill", "label_color"),
}


def _hex(value: str | None, colors: Mapping[str, str]) -> str | None:
    if value is None:
        return None
    name = color_token_name(value)
    return value if name is None else colors[name]


_RESOLVED: OrderedDict[tuple[int, tuple[tuple[str, str], ...]], tuple[Any, Any]] = OrderedDict()
_KEPT = 512
_MEMO_LOCK = threading.Lock()


def _remember(memo: OrderedDict[Any, tuple[Any, Any]], key: Any, layer: Any, make: Any) -> Any:
    """`make()` for `layer`, remembered under `key` (which holds `id(layer)`): the entry keeps the
    layer, so the id cannot be reused while it is remembered, and layers are frozen. The least
    recently used of `_KEPT` entries leaves first."""
    with _MEMO_LOCK:
        hit = memo.get(key)
        if hit is not None and hit[0] is layer:
            memo.move_to_end(key)
            return hit[1]
    value = make()
    with _MEMO_LOCK:
        memo[key] = (layer, value)
        while len(memo) > _KEPT:
            memo.popitem(last=False)
    return value


def _resolved(layer: Any, colors: Mapping[str, str], palette: tuple[tuple[str, str], ...]) -> Any:
    """`_resolve_colors`, remembered per layer object and palette: a layer no rule or size changed is
    the pack's own object on every request, so it resolves to the same object (and `_layer_json` hits)."""
    return _remember(_RESOLVED, (id(layer), palette), layer, lambda: _resolve_colors(layer, colors))


def _design_key(payload: dict[str, Any], layers: Iterable[Any]) -> str:
    """`short_hash({**payload, "layers": [each layer dumped]})`, with each layer's JSON text remembered
    per layer object: the same text, so the same key, without encoding unchanged layers again."""
    parts = {key: _json(value) for key, value in payload.items()}
    parts["layers"] = "[" + ",".join(_layer_json(layer) for layer in layers) + "]"
    text = "{" + ",".join(f"{_json(key)}:{parts[key]}" for key in sorted(parts)) + "}"
    return hashlib.sha256(text.encode()).hexdigest()[: KEY_BYTES * 2]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


_LAYER_JSON: OrderedDict[int, tuple[Any, Any]] = OrderedDict()


def _layer_json(layer: Any) -> str:
    """The layer's JSON text for the design key, remembered per layer object."""
    return str(_remember(_LAYER_JSON, id(layer), layer, lambda: _json(layer.model_dump(mode="json"))))


def _resolve_colors(layer: Any, colors: Mapping[str, str]) -> Any:
    """The layer with every colour reference replaced by its hex value (inside containers too)."""
    update: dict[str, Any] = {}
    if isinstance(layer, ContainerLayer):
        update["children"] = [_resolve_colors(child, colors) for child in layer.children]
    for name in _COLOR_FIELDS.get(type(layer), ()):
        update[name] = _hex(getattr(layer, name), colors)
    if isinstance(layer, BackgroundLayer) and layer.gradient is not None:
        stops = [s.model_copy(update={"color": _hex(s.color, colors)}) for s in layer.gradient.stops]
        update["gradient"] = layer.gradient.model_copy(update={"stops": stops})
    if isinstance(layer, ShapeLayer) and layer.border is not None:
        update["border"] = layer.border.model_copy(update={"color": _hex(layer.border.color, colors)})
    return layer.model_copy(update=update) if update else layer


# ------------------------------------------------------------------------------------- valid_until


def _hour_thresholds(node: Compare) -> Iterable[int]:
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        if node.op in ("eq", "in", "not_in"):
            yield int(v)
            yield int(v) + 1
        elif node.op in ("gte", "lt"):
            yield math.ceil(v)
        else:  # gt, lte
            yield math.floor(v) + 1


def _condition_nodes(creative: Creative) -> list[Condition]:
    """Every condition node of every rule of the creative (`valid_until` picks the time-based ones)."""
    nodes: list[Condition] = []
    for rule in creative.rules:
        nodes.extend(rule.when.walk())
    return nodes


def valid_until(pack: PackModel, creative: Creative, ctx: Context) -> datetime | None:
    """The first instant after ctx.now at which any time-based input of the decision can change, in
    the viewer's zone (daypart/time-of-day boundaries, midnight, season changes, rule windows, countdown
    deadlines). None when nothing the decision reads depends on time."""
    now = ctx.now
    zone = ZoneInfo(ctx.tz)
    candidates: list[datetime] = []
    wall_times: set[time] = set()
    attrs: set[str] = set()
    for node in _condition_nodes(creative):
        if isinstance(node, TimeOfDay):
            wall_times |= {node.start, node.end}
        elif isinstance(node, Window):
            start, end = node.bounds(zone)
            candidates += [b for b in (start, end) if b is not None and b > now]
        elif isinstance(node, Compare):
            attrs.add(node.attr)
            if node.attr == "hour":
                wall_times |= {time(h % 24) for h in _hour_thresholds(node)}
    for _, vary_by in creative.vary_specs():  # copy and visual slots: a scene per daypart changes with it
        attrs |= set(vary_by)
    uses_daypart = "daypart" in attrs
    midnight = bool(attrs & {"weekday", "weekend", "date"})
    month = bool(attrs & {"season"})
    minute = "minute" in attrs
    if "hour" in attrs and any("hour" in vary_by for _, vary_by in creative.vary_specs()):
        wall_times |= {time(h) for h in range(24)}

    if uses_daypart:
        candidates.append(next_daypart_boundary(now, zone, pack.dayparts))
    candidates += [next_wall_time(now, zone, wall) for wall in wall_times]
    if midnight:
        candidates.append(next_local_midnight(now, zone))
    if month:
        candidates.append(next_month_start(now, zone))
    if minute:
        candidates.append((now + timedelta(minutes=1)).replace(second=0, microsecond=0))
    for layer in countdown_layers(creative.layers):
        if layer.deadline is not None and layer.deadline > now:
            candidates.append(layer.deadline)
    if not candidates:
        return None
    first = min(candidates)
    if uses_daypart or wall_times:
        # A fall-back transition can move the local clock back across a boundary.
        shift = next_offset_change(now, zone, first)
        walls = wall_times | ({d.start for d in pack.dayparts} if uses_daypart else set())
        if shift is not None and _clock_moves_back_across(shift, zone, walls):
            first = min(first, shift)
    return first


def _clock_moves_back_across(shift: datetime, zone: ZoneInfo, walls: set[time]) -> bool:
    """Whether the local clock, at the offset change `shift`, moves back across one of `walls` (a
    forward jump is already covered: `next_wall_time` returns the jump for a wall time it skips)."""
    before = (shift - timedelta(microseconds=1)).astimezone(zone)
    after = shift.astimezone(zone)
    if after.replace(tzinfo=None) >= before.replace(tzinfo=None):
        return False
    if after.date() != before.date():
        return True
    return any(after.time() < wall <= before.time() for wall in walls)


def context_options(
    pack: PackModel, creative_id: str, signed_names: frozenset[str] = frozenset()
) -> ContextOptions:
    """The `ContextOptions` that resolving a request for this creative needs; raises UnknownCreative."""
    from versa.context.model import ContextOptions  # the rules engine itself only needs `Context`

    creative = pack.creative(creative_id)
    return ContextOptions(
        locales=tuple(pack.locales),
        params=dict(creative.params),
        dayparts=tuple(pack.dayparts),
        weekend_days=frozenset(pack.weekend),
        default_tz=pack.default_tz,
        signed_names=signed_names,
    )
