"""A creative at one of its sizes: which sizes it has, how its layers' boxes map to a size, and the
`by_size` overrides that apply there. Pure.

Boxes are written for the first (default) size. At another size every box is scaled per axis (x and
width by the ratio of widths, y and height by the ratio of heights; edges rounded, so adjacent boxes
stay adjacent); nothing else scales (font sizes, radii, padding keep their pixels: give text a
[min, max] size to let it fit a smaller box). Then the creative's `by_size` entries that match the size
apply in order, with `set:` keys written in the pixels of that size (a `box` there is used as given).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from versa.errors import UnknownSize
from versa.pack.model import Creative, PackModel, size_name
from versa.pack.overrides import Resolved, apply_set, check_set, remember_layer
from versa.pack.setkeys import SetKey, SetLang, SetLayerField, SetLink

Size = tuple[int, int]


def size_of(brand: str, creative_id: str, creative: Creative, size: Size | None) -> Size:
    """`size` when the creative declares it, its first size for None; raises UnknownSize otherwise."""
    if size is None:
        return creative.size
    if size not in creative.all_sizes:
        raise UnknownSize(brand, creative_id, size_name(size), [size_name(s) for s in creative.all_sizes])
    return size


def scale_box(box: tuple[int, int, int, int], src: Size, dst: Size) -> tuple[int, int, int, int]:
    """`box` (x, y, w, h in `src` pixels) in `dst` pixels: each edge scaled per axis and rounded;
    width and height stay at least 1."""
    sx, sy = dst[0] / src[0], dst[1] / src[1]
    x, y, w, h = box
    left, top = round(x * sx), round(y * sy)
    right, bottom = round((x + w) * sx), round((y + h) * sy)
    return (left, top, max(1, right - left), max(1, bottom - top))


def scale_layers(layers: Sequence[Any], src: Size, dst: Size) -> list[Any]:
    """Every layer with a `box` given it in `dst` pixels (layers unchanged when the sizes are equal)."""
    if src == dst:
        return list(layers)
    out = []
    for layer in layers:
        box = getattr(layer, "box", None)
        out.append(layer if box is None else remember_layer(("scaled", id(layer), src, dst), layer, _scaler(layer, box, src, dst)))
    return out


def _scaler(layer: Any, box: tuple[int, int, int, int], src: Size, dst: Size) -> Callable[[], Any]:
    return lambda: layer.model_copy(update={"box": scale_box(box, src, dst)})


def size_keys(creative: Creative, size: Size) -> Iterator[SetKey]:
    """The `set:` keys of every `by_size` entry matching `size`, in the order written."""
    for entry in creative.by_size:
        if entry.when.matches(size):
            yield from entry.set_keys


def apply_size(state: Resolved, creative: Creative, size: Size) -> None:
    """Bring the working state (the rules already applied) to `size`: boxes scaled, then the matching
    `by_size` overrides applied."""
    state.layers = scale_layers(state.layers, creative.size, size)
    if size != creative.size or creative.by_size:
        apply_set(state, creative, size_keys(creative, size))


def check_sizes(
    model: PackModel, creative: Creative, *, font_families: frozenset[str]
) -> Iterator[tuple[str, str]]:
    """(path under the creative, message) for every `by_size` problem: a size it names that the
    creative does not declare, an aspect range no declared size falls in, `lang` and `link` (a size
    changes the look, not the language or where a click goes), a `set:` key that cannot apply, and a box outside the size it is for."""
    declared = ", ".join(size_name(s) for s in creative.all_sizes)
    for i, entry in enumerate(creative.by_size):
        path = f"by_size[{i}]"
        matching = [s for s in creative.all_sizes if entry.when.matches(s)]
        if entry.when.size is not None and not matching:
            yield f"{path}.when.size", f"{size_name(entry.when.size)} is not a declared size (sizes: {declared})"
        elif not matching:
            yield f"{path}.when.aspect", f"{list(entry.when.aspect or ())} matches no declared size (sizes: {declared})"
        for item in entry.set_keys:
            if isinstance(item, SetLang):
                yield f"{path}.set.{item.key}", "a size cannot change the language (use a rule)"
            elif isinstance(item, SetLink):
                yield f"{path}.set.{item.key}", "a size cannot change the link (a click does not name the size; use a rule)"
        keys = [k for k in entry.set_keys if not isinstance(k, SetLang | SetLink)]
        for key, message in check_set(model, creative, keys, font_families=font_families):
            yield f"{path}.set.{key}", message
        for item in keys:
            if isinstance(item, SetLayerField) and item.field == "box" and isinstance(item.value, list | tuple):
                for size in matching:
                    if len(item.value) == 4 and all(isinstance(v, int) for v in item.value):
                        x, y, w, h = item.value
                        if x < 0 or y < 0 or x + w > size[0] or y + h > size[1]:
                            yield (
                                f"{path}.set.{item.key}",
                                f"{list(item.value)} extends outside the {size_name(size)} size it applies to",
                            )


__all__ = ["Size", "apply_size", "check_sizes", "scale_box", "scale_layers", "size_keys", "size_of"]
