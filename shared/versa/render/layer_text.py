"""The text of text and button layers: what they show (a copy slot, a parameter or a sandboxed
template) and its layout at the scene's scale, remembered per process.

Templates are compiled once per process; layouts are kept in a bounded LRU keyed by everything that
shapes them (`clear_layouts` forgets them for benchmarks).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jinja2 import Template, TemplateError, meta

from versa.context.locale import DigitsMode, comma, to_digits
from versa.errors import RenderError
from versa.pack.model import ButtonLayer, ContainerLayer, TextLayer, TextSource
from versa.pack.sandbox import BoundedSandbox
from versa.render.fonts import FontStack
from versa.render.paint import LRU, scale_box, scale_size
from versa.render.text import TextLayout, layout_text

if TYPE_CHECKING:
    from versa.render.scene import Scene


def _finalize(value: Any) -> Any:
    return "" if value is None else value


_ENV = BoundedSandbox(autoescape=False, finalize=_finalize, keep_trailing_newline=False)


@functools.lru_cache(maxsize=512)
def compiled(source: str) -> Template:
    """A text template compiled once per process (sandboxed, no autoescape: the output is pixels)."""
    return _ENV.from_string(source)


@functools.lru_cache(maxsize=512)
def _template_names(source: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(_ENV.parse(source)))


def params_read(layers: Sequence[Any]) -> frozenset[str]:
    """Names that the layers' texts and countdowns may read from the parameters (a superset: template
    variables include copy slots and globals). Only these belong in a render key, so a parameter no
    layer draws (a bucket id, say) does not split the memo or the CDN cache."""
    names: set[str] = set()
    for layer in layers:
        if isinstance(layer, ContainerLayer):
            names |= params_read(layer.children)
        if isinstance(layer, TextSource):
            if layer.param is not None:
                names.add(layer.param)
            if layer.text is not None:
                names |= _template_names(layer.text)
        names.add(getattr(layer, "deadline_param", None) or "")
    return frozenset(names - {""})


def template_vars(scene: Scene, digits: DigitsMode | None = None) -> dict[str, Any]:
    """What a text template sees: lang/locale, brand, creative, tokens and the locale's `comma`, then
    the copy texts and the parameters (a later name wins over an earlier one); `_digits` tells the
    locale filters which digits to write (default: the creative's or the pack's setting)."""
    d = scene.decision
    tokens = {"colors": dict(d.colors), "fonts": dict(d.fonts), "spacing": dict(d.spacing)}
    base = {
        "lang": d.locale,
        "locale": d.locale,
        "brand": d.brand,
        "creative": d.creative,
        "tokens": tokens,
        "comma": comma(d.locale),
    }
    return {**base, **scene.texts, **scene.params, "_digits": digits or scene.digits()}


_SHOWN = threading.local()
"""Per thread, the last scene's rendered templates (`(scene, {(template, digits): text})`): a container
measures its texts and then draws them, and the drawn copies of its layers should not render them
again. The entry holds the scene, so its id cannot be reused by another while remembered."""


def layer_text(layer: TextSource, scene: Scene) -> str:
    """The text a text or button layer shows: its copy slot, its parameter, or its template."""
    if layer.slot is not None:
        return scene.texts.get(layer.slot, "")
    if layer.param is not None:
        value = scene.params.get(layer.param)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return to_digits(str(value), scene.lang, scene.digits(layer.digits))
        return "" if value is None else str(value)
    source = layer.text or ""
    shown: tuple[Scene, dict[tuple[str, DigitsMode], str]] | None = getattr(_SHOWN, "last", None)
    if shown is None or shown[0] is not scene:
        shown = _SHOWN.last = (scene, {})
    digits = scene.digits(layer.digits)
    text = shown[1].get((source, digits))
    if text is None:
        try:
            text = shown[1][(source, digits)] = compiled(source).render(template_vars(scene, digits)).strip()
        except TemplateError as exc:
            raise RenderError(f"text template of layer {layer.id or '?'}: {exc}") from exc
    return text


_LAYOUTS: LRU[tuple[Any, ...], TextLayout] = LRU(1024)


def layout(
    text: str,
    stack: FontStack,
    size: tuple[int, int],
    box: tuple[int, int],
    lang: str | None,
    *,
    max_lines: int | None = None,
    line_height: float = 1.2,
) -> TextLayout:
    """`layout_text`, remembered: a layout is a pure function of its inputs, and most texts of a
    variant (CTA, sublines, labels) repeat across requests while personal ones do not."""
    key = (text, stack.faces_key, size, box, lang, max_lines, line_height)
    hit = _LAYOUTS.get(key)
    if hit is None:
        wide = (text, stack.faces_key, size, box[0], lang, max_lines, line_height)
        taller = _TALLER.get(wide) if size[0] == size[1] else None
        if taller is not None and taller[1].height <= box[1] <= taller[0]:
            hit = taller[1]
        else:
            hit = layout_text(
                text, stack, size=size, box=box, lang=lang, max_lines=max_lines, line_height=line_height
            )
            if size[0] == size[1] and hit.fits and (taller is None or box[1] > taller[0]):
                _TALLER.put(wide, (box[1], hit))
        _LAYOUTS.put(key, hit)
    return hit


_TALLER: LRU[tuple[Any, ...], tuple[int, TextLayout]] = LRU(1024)
"""For a text at one fixed size and box width: the tallest box height it was laid out in and fitted,
with that layout. A container measures a text in a box as tall as it likes and then draws it in the
box its lines need. At one size, the lines of a text depend on the box height only through the line
cap (`height // pitch + 1`) and the fit test, and a text that fitted in a box needs fewer lines than
the cap of any box at least as tall as its block, so in every box from its block height up to the
remembered height it breaks into the same lines and fits again: `layout` answers such a box from
here instead of laying the text out again (tests/unit/test_layout_reuse.py checks the equality)."""


def text_layout(layer: TextLayer | ButtonLayer, scene: Scene) -> TextLayout | None:
    """The layout a text layer (in its box) or a button (its label, inside the padding) draws, at the
    scene's scale; None when the text is empty. `fits=False` means the text was cut with an ellipsis.

    The size is chosen at the creative's own scale and then multiplied, so a dpr-2 or wider render
    breaks lines where the 1x render does (fitting at the finer scaled range could pick another size).
    """
    text = layer_text(layer, scene)
    if not text.strip():
        return None
    size = layer.size
    if scene.scale != 1 and size[0] != size[1]:
        base = _layout_at(layer, text, scene, 1.0, size)
        top = max(1, round(base.size * scene.scale))
        # Let rounding shave a little off if the exact multiple overflows, never below the scaled minimum.
        low = (
            max(scale_size(size, scene.scale)[0], math.floor(base.size * scene.scale * 0.9))
            if base.fits
            else top
        )
        return _layout_at(layer, text, scene, scene.scale, (min(low, top), top))
    return _layout_at(layer, text, scene, scene.scale, scale_size(size, scene.scale))


def _layout_at(
    layer: TextLayer | ButtonLayer, text: str, scene: Scene, s: float, size: tuple[int, int]
) -> TextLayout:
    _, _, w, h = scale_box(layer.box, s)
    stack = scene.stack(layer.font)
    if isinstance(layer, ButtonLayer):
        px, py = round(layer.padding[0] * s), round(layer.padding[1] * s)
        return layout(text, stack, size, (max(1, w - 2 * px), max(1, h - 2 * py)), scene.lang, max_lines=1)
    return layout(
        text, stack, size, (w, h), scene.lang, max_lines=layer.max_lines, line_height=layer.line_height
    )


_UNBOUNDED = 4000
"""The largest box side a creative has: what "as large as it likes" means for measuring text."""


def measure(
    layer: TextLayer | ButtonLayer, scene: Scene, max_width: float, max_height: float, text: str | None = None
) -> tuple[int, int]:
    """The size (creative pixels) a text or button layer needs when it may be at most `max_width` x
    `max_height` (`math.inf` for unbounded): its text laid out as drawn (auto-fit size, max_lines,
    ellipsis), plus a button's padding. (0, 0) for empty text. `text` is `layer_text(layer, scene)`
    when the caller has it already."""
    if text is None:
        text = layer_text(layer, scene)
    if not text.strip():
        return 0, 0
    w = max(1, math.floor(min(max_width, _UNBOUNDED)))
    h = max(1, math.floor(min(max_height, _UNBOUNDED)))
    stack = scene.stack(layer.font)
    if isinstance(layer, ButtonLayer):
        px, py = layer.padding
        lay = layout(text, stack, layer.size, (max(1, w - 2 * px), max(1, h - 2 * py)), scene.lang, max_lines=1)
        return min(w, lay.width + 2 * px), lay.height + 2 * py
    lay = layout(
        text, stack, layer.size, (w, h), scene.lang, max_lines=layer.max_lines, line_height=layer.line_height
    )
    return min(w, lay.width), min(h, lay.height)


def clear_layouts() -> None:
    """Forget remembered text layouts (benchmarks that must lay every text out again)."""
    _LAYOUTS.clear()
    _TALLER.clear()


__all__ = [
    "clear_layouts",
    "compiled",
    "layer_text",
    "layout",
    "measure",
    "params_read",
    "template_vars",
    "text_layout",
]
