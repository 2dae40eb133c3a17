"""A rule's `set:` keys in typed form: parsed once, when the rule validates, for the loader's
cross-check and for applying the rule (`versa.pack.overrides`).

Keys are dotted paths (see `versa.pack.overrides` for what each may change). Parsing never fails: a
key of the wrong shape becomes a `MalformedKey`, which the loader reports with a message that can name
what the pack declares (a pack with one never loads, so it is never applied).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

SET_ROOTS = ("tokens", "layers", "copy", "lang", "link")
TOKEN_TABLES = ("colors", "fonts", "spacing")

TokenTable = Literal["colors", "fonts", "spacing"]


@dataclass(frozen=True)
class SetLang:
    """`lang: de`: the locale the variant renders in."""

    key: str
    value: Any


@dataclass(frozen=True)
class SetLink:
    """`link: https://…`: where the creative links to."""

    key: str
    value: Any


@dataclass(frozen=True)
class SetToken:
    """`tokens.TABLE.NAME: value`: a colour, font or spacing token."""

    key: str
    table: TokenTable
    name: str
    value: Any


@dataclass(frozen=True)
class SetLayerField:
    """`layers.LAYER_ID.FIELD: value`: one field of the layer with that id."""

    key: str
    layer: str
    field: str
    value: Any


@dataclass(frozen=True)
class SetCopy:
    """`copy.SLOT: text | {locale: text}` (locale None) or `copy.SLOT.LOCALE: text`."""

    key: str
    slot: str
    locale: str | None
    value: Any


@dataclass(frozen=True)
class MalformedKey:
    """A key whose shape fits no target: `root` is its first part, `parts` all of them."""

    key: str
    root: str
    parts: tuple[str, ...]
    value: Any


SetKey = SetLang | SetLink | SetToken | SetLayerField | SetCopy | MalformedKey


def parse_key(key: str, value: Any) -> SetKey:
    """One `set:` entry in typed form (a `MalformedKey` when its shape fits no target)."""
    parts = tuple(key.split("."))
    root = parts[0]
    if root == "lang" and len(parts) == 1:
        return SetLang(key, value)
    if root == "link" and len(parts) == 1:
        return SetLink(key, value)
    if root == "tokens" and len(parts) == 3 and parts[1] in TOKEN_TABLES:
        table: TokenTable = "colors" if parts[1] == "colors" else "fonts" if parts[1] == "fonts" else "spacing"
        return SetToken(key, table, parts[2], value)
    if root == "layers" and len(parts) == 3:
        return SetLayerField(key, parts[1], parts[2], value)
    if root == "copy" and len(parts) in (2, 3):
        return SetCopy(key, parts[1], parts[2] if len(parts) == 3 else None, value)
    return MalformedKey(key, root, parts, value)


def parse_set(overrides: Mapping[str, Any]) -> tuple[SetKey, ...]:
    """Every entry of a `set:` mapping in typed form, in the order written (later entries win)."""
    return tuple(parse_key(key, value) for key, value in overrides.items())


__all__ = [
    "SET_ROOTS",
    "TOKEN_TABLES",
    "MalformedKey",
    "SetCopy",
    "SetKey",
    "SetLang",
    "SetLayerField",
    "SetLink",
    "SetToken",
    "TokenTable",
    "parse_key",
    "parse_set",
]
