"""What a rule's `set:` may change, checked at load time and applied at decision time.

Keys are dotted paths:

    tokens.colors.NAME: "#0b0b0b"      tokens.fonts.NAME: sans-bold      tokens.spacing.NAME: 12
    layers.LAYER_ID.FIELD: value       (any field of that layer but type/id; `visible: false` hides it;
                                       a layer inside a container too, but not its box)
    copy.SLOT: "text" | {en: ..., de: ...}     copy.SLOT.LOCALE: "text"
    lang: de                           link: https://example.com/de

Both work on the typed keys `Rule.set_keys` (`versa.pack.setkeys`), parsed once when the rule validated.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from versa.pack.links import link_problem
from versa.pack.model import HEX_RE, ContainerLayer, Creative, Layer, PackModel
from versa.pack.paths import did_you_mean
from versa.pack.setkeys import (
    SET_ROOTS,
    MalformedKey,
    SetCopy,
    SetKey,
    SetLang,
    SetLayerField,
    SetLink,
    SetToken,
)

_LAYER_ADAPTER: TypeAdapter[Any] = TypeAdapter(Layer)


@dataclass
class Resolved:
    """Mutable working state while rules apply; frozen into a Decision afterwards."""

    colors: dict[str, str]
    fonts: dict[str, str]
    spacing: dict[str, int]
    layers: list[Any]
    copy_defaults: dict[str, dict[str, str]]
    lang: str | None
    link: str | None


def _layer_ids(creative: Creative) -> dict[str, tuple[int, ...]]:
    """Layer id -> its index path: (3,) for layers[3], (3, 1) for layers[3].children[1]."""
    ids: dict[str, tuple[int, ...]] = {}

    def walk(layers: Iterable[Any], prefix: tuple[int, ...]) -> None:
        for i, layer in enumerate(layers):
            if layer.id is not None:
                ids.setdefault(layer.id, (*prefix, i))
            if isinstance(layer, ContainerLayer):
                walk(layer.children, (*prefix, i))

    walk(creative.layers, ())
    return ids


def _layer_at(layers: list[Any], path: tuple[int, ...]) -> Any:
    layer = layers[path[0]]
    for i in path[1:]:
        layer = layer.children[i]
    return layer


def _replaced(layers: list[Any], path: tuple[int, ...], update: Callable[[Any], Any]) -> list[Any]:
    """`layers` with the layer at `path` replaced by `update(layer)` (its containers copied)."""
    out = list(layers)
    head, rest = path[0], path[1:]
    if not rest:
        out[head] = update(out[head])
    else:
        parent = out[head]
        children = _replaced(parent.children, rest, update)

        def copied() -> Any:
            return parent.model_copy(update={"children": children})

        out[head] = remember_layer(("children", id(parent), tuple(map(id, children))), parent, copied)
    return out


_MEMO: OrderedDict[Any, tuple[Any, Any]] = OrderedDict()
_KEPT = 4096
_MEMO_LOCK = threading.Lock()


def remember_layer(key: Any, layer: Any, make: Callable[[], Any]) -> Any:
    """`make()` for `layer` remembered under `key`, which holds `id(layer)` (and the ids of any new
    children, which the result keeps): the entry keeps the layer, so its id cannot be reused while
    remembered, and layers are frozen. The same override of the same layer then gives the same object
    on every decision, which is what the decision's own per-object memos (`versa.decide.rules`) and
    variant enumeration count on. The least recently used of `_KEPT` entries leaves first."""
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None and hit[0] is layer:
            _MEMO.move_to_end(key)
            return hit[1]
    value = make()
    with _MEMO_LOCK:
        _MEMO[key] = (layer, value)
        while len(_MEMO) > _KEPT:
            _MEMO.popitem(last=False)
    return value


def _updated(layer: Any, update: dict[str, Any]) -> Any:
    """`layer` with `update`'s fields set, each value as the model would hold it (tuples for boxes,
    nested models…); remembered per layer object and update."""

    def make() -> Any:
        validated = _LAYER_ADAPTER.validate_python({**layer.model_dump(), **update})
        return layer.model_copy(update={name: getattr(validated, name) for name in update})

    try:
        key = ("set", id(layer), repr(sorted(update.items())))
    except TypeError:  # values that do not sort or repr: not remembered
        return make()
    return remember_layer(key, layer, make)


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return str(err["msg"]).removeprefix("Value error, ")


def _field_problem(exc: ValidationError, field: str, value: Any) -> str:
    """The first problem of a value set on a layer field, naming the place inside the value when it is
    deeper (`flex.grow: ...`) and the value found there."""
    err = exc.errors(include_url=False)[0]
    loc = list(err["loc"])
    after = loc[loc.index(field) + 1 :] if field in loc else []
    # union members and validators (`literal['x']`, `function-after[...]`) name no field
    inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in after if isinstance(p, int) or ("[" not in p and "-" not in p))
    message = _validation_message(exc)
    if inner:
        return f"{inner.removeprefix('.')}: {message} (got {err.get('input')!r})"
    return f"{message} (got {value!r})"


def check_set(
    model: PackModel, creative: Creative, keys: Iterable[SetKey], *, font_families: frozenset[str]
) -> Iterator[tuple[str, str]]:
    """(key, message) for every `set:` entry that could not apply. `font_families` are the default
    families a rule may switch a font token to (besides the fonts the pack's tokens already load)."""
    ids = _layer_ids(creative)
    for item in keys:
        key, value = item.key, item.value
        if isinstance(item, MalformedKey):
            yield key, _malformed(model, creative, item)
        elif isinstance(item, SetLang):
            if value not in model.locales:
                yield key, f"{value!r} is not a declared locale (known: {', '.join(model.locales)})"
        elif isinstance(item, SetLink):
            problem = link_problem(value, allow_http=model.allow_http_links)
            if problem:
                yield key, problem
        elif isinstance(item, SetToken):
            table: dict[str, Any] = getattr(model.tokens, item.table)
            if item.name not in table:
                yield (
                    key,
                    f"unknown {item.table[:-1] if item.table != 'spacing' else 'spacing'} token {item.name!r}{did_you_mean(item.name, table)} (known: {', '.join(sorted(table)) or 'none'})",
                )
            elif item.table == "colors" and not (isinstance(value, str) and HEX_RE.match(value)):
                yield key, f"{value!r} is not #RGB, #RRGGBB or #RRGGBBAA"
            elif item.table == "fonts" and value not in model.tokens.fonts.values():
                if not (isinstance(value, str) and value in font_families):
                    yield (
                        key,
                        f"{value!r}{did_you_mean(str(value), {*font_families, *model.tokens.fonts.values()})}: a rule may "
                        "switch to a default family or a font the pack's tokens already load",
                    )
            elif item.table == "spacing" and not isinstance(value, int):
                yield key, f"{value!r} is not a whole number of pixels"
        elif isinstance(item, SetLayerField):
            if item.layer not in ids:
                yield (
                    key,
                    f"no layer with id {item.layer!r}{did_you_mean(item.layer, ids)} (ids: {', '.join(sorted(ids)) or 'none; add id: to a layer'})",
                )
                continue
            layer = _layer_at(creative.layers, ids[item.layer])
            if item.field == "box" and len(ids[item.layer]) > 1:
                yield key, "its container places it: set its flex instead"
                continue
            if item.field in ("type", "id") or item.field not in type(layer).model_fields:
                fields = sorted(set(type(layer).model_fields) - {"type", "id"})
                yield key, f"{layer.type} layers have no field {item.field!r}{did_you_mean(item.field, fields)} (fields: {', '.join(fields)})"
                continue
            try:
                _LAYER_ADAPTER.validate_python({**layer.model_dump(), item.field: value})
            except ValidationError as exc:
                yield key, _field_problem(exc, item.field, value)
        elif isinstance(item, SetCopy):
            if item.slot not in creative.copy_slots:
                yield key, _no_slot(creative, item.slot)
            elif item.locale is not None and item.locale not in model.locales:
                yield key, f"{item.locale!r} is not a declared locale"
            elif item.locale is not None and not isinstance(value, str):
                yield key, "needs a string"
            elif item.locale is None and isinstance(value, dict) and set(value) - set(model.locales):
                undeclared = ", ".join(repr(k) for k in value if k not in model.locales)
                yield key, f"{undeclared} is not a declared locale (known: {', '.join(model.locales)})"
            elif item.locale is None and not (
                isinstance(value, str) or (isinstance(value, dict) and all(isinstance(v, str) for v in value.values()))
            ):
                yield key, f"{value!r}: needs a string or a mapping of declared locale -> string"


def _no_slot(creative: Creative, slot: str) -> str:
    return f"no copy slot {slot!r}{did_you_mean(slot, creative.copy_slots)} (slots: {', '.join(sorted(creative.copy_slots)) or 'none'})"


def _malformed(model: PackModel, creative: Creative, item: MalformedKey) -> str:
    """The message for a key whose shape fits no target, in the terms of the root it starts with."""
    if item.root == "lang":
        return f"{item.value!r} is not a declared locale (known: {', '.join(model.locales)})"
    if item.root == "link":
        return f"{item.value!r} is not an http(s) URL"
    if item.root == "tokens":
        return "use tokens.colors.NAME, tokens.fonts.NAME or tokens.spacing.NAME"
    if item.root == "layers":
        return "use layers.LAYER_ID.FIELD (give the layer an id)"
    if item.root == "copy":
        return _no_slot(creative, item.parts[1] if len(item.parts) > 1 else "")
    return f"cannot set {item.key!r}: keys start with one of {', '.join(SET_ROOTS)}"


def apply_set(state: Resolved, creative: Creative, keys: Iterable[SetKey]) -> None:
    """Apply a checked rule's typed `set:` keys to the working state (later rules call this again and win)."""
    ids = _layer_ids(creative)
    fields: dict[str, dict[str, Any]] = {}  # layer id -> field -> value (later keys win), set at once below
    for item in keys:
        value = item.value
        if isinstance(item, SetLang):
            state.lang = value
        elif isinstance(item, SetLink):
            state.link = value
        elif isinstance(item, SetToken):
            getattr(state, item.table)[item.name] = value
        elif isinstance(item, SetLayerField):
            if item.field == "children":  # replaces layers other keys may address: keep the written order
                _set_fields(state, ids, fields)
                fields = {}
                _set_fields(state, ids, {item.layer: {"children": value}})
            else:
                fields.setdefault(item.layer, {})[item.field] = value
        elif isinstance(item, SetCopy):
            slot = state.copy_defaults.setdefault(item.slot, {})
            if item.locale is not None:
                slot[item.locale] = value
            elif isinstance(value, str):
                state.copy_defaults[item.slot] = {"*": value}
            else:
                slot.update(value)
    _set_fields(state, ids, fields)


def _set_fields(state: Resolved, ids: dict[str, tuple[int, ...]], fields: dict[str, dict[str, Any]]) -> None:
    """Set each layer's fields at once: one validation and one copy of its containers per layer, not
    per key (a size override sets a dozen). Fields of different layers commute (a container's copy
    keeps its children), so the result is that of applying the keys one by one."""
    for layer_id, update in fields.items():

        def updated(layer: Any, update: dict[str, Any] = update) -> Any:
            return _updated(layer, update)

        state.layers = _replaced(state.layers, ids[layer_id], updated)
