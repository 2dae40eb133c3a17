"""Editing example packs' data in tests by layer id, wherever the layer sits (containers included), so a
test breaks a named layer rather than `layers[3]` and names it as the loader does (by its id)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def find_layer(data: dict[str, Any], creative: str, layer_id: str) -> tuple[dict[str, Any], str]:
    """The layer `layer_id` of `creative` in pack data, and its path as errors name it under the
    creative: by ids where layers have them (``layers['frame'].children['copy'].children['cta']``)."""

    def walk(layers: Iterable[dict[str, Any]], prefix: str) -> tuple[dict[str, Any], str] | None:
        for i, layer in enumerate(layers):
            path = f"{prefix}[{layer['id']!r}]" if layer.get("id") else f"{prefix}[{i}]"
            if layer.get("id") == layer_id:
                return layer, path
            found = walk(layer.get("children", ()), f"{path}.children")
            if found is not None:
                return found
        return None

    found = walk(data["creatives"][creative]["layers"], "layers")
    if found is None:
        raise KeyError(f"{creative} has no layer {layer_id!r}")
    return found


def layer_path(data: dict[str, Any], creative: str, layer_id: str) -> str:
    """`creatives.CREATIVE.layers[..]` of the layer `layer_id`, as the loader names it."""
    return f"creatives.{creative}.{find_layer(data, creative, layer_id)[1]}"


__all__ = ["find_layer", "layer_path"]

