"""What a rule's `set:` may change, checked at load time and applied at decision time.

Keys are dotted paths:

    tokens.colors.NAME: "#0b0b0b"      tokens.fonts.NAME: sans-bold      tokens.spacing.NAME: 12
    layers.LAYER_ID.FIELD: value       (any field of that layer but type/id; `visible: false` hides it)
    copy.SLOT: "text" | {en: ..., de: ...}     copy.SLOT.LOCALE: "text"
    lang: de                           link: https://example.com/de
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from versa.pack.links import link_problem
from versa.pack.model import HEX_RE, Creative, Layer, PackModel

_LAYER_ADAPTER: TypeAdapter[Any] = TypeAdapter(Layer)
SET_ROOTS = ("tokens", "layers", "copy", "lang", "link")


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


def _layer_ids(creative: Creative) -> dict[str, int]:
    return {layer.id: i for i, layer in enumerate(creative.layers) if layer.id is not None}


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return str(err["msg"]).removeprefix("Value error, ")


def check_set(
    model: PackModel, creative: Creative, overrides: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """(key, message) for every `set:` entry that could not apply."""
    ids = _layer_ids(creative)
    for key, value in overrides.items():
        parts = key.split(".")
        root = parts[0]
        if root == "lang":
            if len(parts) != 1 or value not in model.locales:
                yield key, f"{value!r} is not a declared locale (known: {', '.join(model.locales)})"
        elif root == "link":
            problem = "use 'link', not a sub-key" if len(parts) != 1 else link_problem(
                value, allow_http=model.allow_http_links
            )
            if problem:
                yield key, problem
        elif root == "tokens":
            if len(parts) != 3 or parts[1] not in ("colors", "fonts", "spacing"):
                yield key, "use tokens.colors.NAME, tokens.fonts.NAME or tokens.spacing.NAME"
                continue
            table: dict[str, Any] = getattr(model.tokens, parts[1])
            if parts[2] not in table:
                yield (
                    key,
                    f"unknown {parts[1][:-1] if parts[1] != 'spacing' else 'spacing'} token {parts[2]!r} (known: {', '.join(sorted(table)) or 'none'})",
                )
            elif parts[1] == "colors" and not (isinstance(value, str) and HEX_RE.match(value)):
                yield key, f"{value!r} is not #RGB, #RRGGBB or #RRGGBBAA"
            elif parts[1] == "fonts" and value not in model.tokens.fonts.values():
                from versa.pack.loader import _default_families

                if not (isinstance(value, str) and value in _default_families()):
                    yield (
                        key,
                        f"{value!r}: a rule may switch to a default family or a font the pack's tokens already load",
                    )
            elif parts[1] == "spacing" and not isinstance(value, int):
                yield key, f"{value!r} is not a whole number of pixels"
        elif root == "layers":
            if len(parts) != 3:
                yield key, "use layers.LAYER_ID.FIELD (give the layer an id)"
                continue
            if parts[1] not in ids:
                yield (
                    key,
                    f"no layer with id {parts[1]!r} (ids: {', '.join(sorted(ids)) or 'none; add id: to a layer'})",
                )
                continue
            layer = creative.layers[ids[parts[1]]]
            if parts[2] in ("type", "id") or parts[2] not in type(layer).model_fields:
                fields = sorted(set(type(layer).model_fields) - {"type", "id"})
                yield key, f"{layer.type} layers have no field {parts[2]!r} (fields: {', '.join(fields)})"
                continue
            try:
                _LAYER_ADAPTER.validate_python({**layer.model_dump(), parts[2]: value})
            except ValidationError as exc:
                yield key, f"{_validation_message(exc)} (got {value!r})"
        elif root == "copy":
            if len(parts) not in (2, 3) or parts[1] not in creative.copy_slots:
                yield (
                    key,
                    f"no copy slot {parts[1] if len(parts) > 1 else ''!r} (slots: {', '.join(sorted(creative.copy_slots)) or 'none'})",
                )
            elif len(parts) == 3 and parts[2] not in model.locales:
                yield key, f"{parts[2]!r} is not a declared locale"
            elif len(parts) == 3 and not isinstance(value, str):
                yield key, "needs a string"
            elif len(parts) == 2 and isinstance(value, dict) and set(value) - set(model.locales):
                undeclared = ", ".join(repr(k) for k in value if k not in model.locales)
                yield key, f"{undeclared} is not a declared locale (known: {', '.join(model.locales)})"
            elif len(parts) == 2 and not (
                isinstance(value, str) or (isinstance(value, dict) and all(isinstance(v, str) for v in value.values()))
            ):
                yield key, f"{value!r}: needs a string or a mapping of declared locale -> string"
        else:
            yield key, f"cannot set {key!r}: keys start with one of {', '.join(SET_ROOTS)}"


def apply_set(state: Resolved, creative: Creative, overrides: Mapping[str, Any]) -> None:
    """Apply a checked `set:` mapping to the working state (later rules call this again and win)."""
    ids = _layer_ids(creative)
    for key, value in overrides.items():
        parts = key.split(".")
        root = parts[0]
        if root == "lang":
            state.lang = value
        elif root == "link":
            state.link = value
        elif root == "tokens":
            getattr(state, parts[1])[parts[2]] = value
        elif root == "layers":
            i = ids[parts[1]]
            state.layers[i] = state.layers[i].model_copy(
                update={parts[2]: _coerce_field(state.layers[i], parts[2], value)}
            )
        elif root == "copy":
            slot = state.copy_defaults.setdefault(parts[1], {})
            if len(parts) == 3:
                slot[parts[2]] = value
            elif isinstance(value, str):
                state.copy_defaults[parts[1]] = {"*": value}
            else:
                slot.update(value)


def _coerce_field(layer: Any, name: str, value: Any) -> Any:
    """The field value as the model would hold it (tuples for boxes, nested models…)."""
    validated = _LAYER_ADAPTER.validate_python({**layer.model_dump(), name: value})
    return getattr(validated, name)
