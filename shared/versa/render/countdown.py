"""Countdown timers: a static frame at `now`, or an animated GIF of one-second frames from `now`.

A countdown shows the time left to its deadline (`layer.deadline`, or the datetime parameter named by
`deadline_param`) in unit cells (days, hours, minutes, seconds; the largest unit shown absorbs the
rest), each a rounded cell with a large number and a localized label under it: a plain label, or one
form per CLDR plural category picked for the cell's number by the locale's rules (`versa.context.locale`),
numbers in the digits the layer asks for (`digits: native`: Arabic-Indic for `ar`). After the deadline it
shows `ended[locale]`; for a prefetching proxy (Apple Mail Privacy Protection, `robust=True`) it shows
`robust[locale]` formatted with the deadline in the viewer's zone (`{deadline}`, `{deadline:medium}`,
`{deadline:skeleton=EEEjm}` in the locale's words, or strftime `{deadline:%a %H:%M}`), which stays true
whenever the mail is actually read.

Animation: the static part (cells, labels and every other layer) is drawn and quantized once; each
frame redraws only the digit area and pastes it into a copy of the quantized static frame. All frames
share one palette built from the decision's colours, anti-aliasing ramps between the digit and cell
colours, and the static frame, with no dithering, so colours never flicker between frames. The first
frame is the time left at `now` (Outlook desktop shows only the first frame); the GIF loops forever.

Cell order: the largest unit comes first in reading order, so in a right-to-left locale the cells are
reflected inside the countdown's box (days at the right, seconds at the left); `flex.mirror: false`
on the layer, or on a container holding it, keeps the left-to-right order. In a container a countdown
sizes itself with `countdown_size` where its `flex` leaves a size open.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image

from versa.budget import check_deadline
from versa.context.locale import DigitsMode, LocaleFormatError, format_deadline, plural_form, to_digits
from versa.errors import RenderError
from versa.pack.model import CountdownLabels, CountdownLayer
from versa.render.encode import flatten
from versa.render.fonts import FontStack
from versa.render.layer_text import layout
from versa.render.paint import Box, paint, rgba, round_mask, scale_box, scale_size
from versa.render.scene import Scene
from versa.render.text import TextLayout, draw_text

UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
FRAME_MS = 1000
RAMP_STEPS = 16
NEAR = 6
"""Adaptive palette colours this close (per channel) to a fixed colour are dropped (see build_palette)."""
"""Blends between the digit colour and the cell colour reserved in the GIF palette (anti-aliasing)."""


def deadline_of(layer: CountdownLayer, params: Mapping[str, Any]) -> datetime | None:
    """The layer's deadline: its own, or the aware datetime in its `deadline_param` (None if absent)."""
    if layer.deadline is not None:
        return layer.deadline
    value = params.get(layer.deadline_param or "")
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def seconds_left(deadline: datetime, now: datetime) -> int:
    return max(0, int((deadline - now).total_seconds()))


def split_units(left: int, units: Sequence[str]) -> list[int]:
    """`left` seconds as a value per unit (in `units` order); the largest unit absorbs the rest."""
    order = sorted(units, key=lambda u: -UNIT_SECONDS[u])
    values: dict[str, int] = {}
    rest = left
    for unit in order:
        values[unit], rest = divmod(rest, UNIT_SECONDS[unit])
    return [values[u] for u in units]


def countdown_state(
    layer: CountdownLayer, now: datetime, params: Mapping[str, Any], *, robust: bool = False, tz: str = "UTC"
) -> dict[str, Any]:
    """What of the countdown changes the bytes, for the render key: the time left at the resolution
    of its smallest unit, `"ended"`, `"unknown"` (no deadline), or the robust text's instant and zone."""
    deadline = deadline_of(layer, params)
    if deadline is None:
        return {"left": "unknown"}
    if now >= deadline:
        return {"left": "ended"}
    if robust and layer.robust:  # without robust text the ticking timer is drawn after all
        return {"robust": deadline.astimezone(ZoneInfo(tz)).isoformat()}
    step = min(UNIT_SECONDS[u] for u in layer.units)
    return {"left": seconds_left(deadline, now) // step * step}


def robust_text(template: str, deadline: datetime, tz: str, locale: str = "en", digits: DigitsMode = "latn") -> str:
    """`template` with `{deadline...}` filled in the viewer's zone, `locale` and digits."""
    try:
        return format_deadline(template, deadline, ZoneInfo(tz), locale, digits)
    except LocaleFormatError as exc:
        raise RenderError(f"countdown robust text {template!r}: {exc}") from exc


def label_forms(labels: CountdownLabels, unit: str) -> list[str]:
    """Every text the label of `unit` can show (its plural forms, or its plain label and singular):
    what sizing a countdown must make room for."""
    forms = getattr(labels, unit)
    if isinstance(forms, dict):
        return list(forms.values())
    one = {"days": labels.day, "hours": labels.hour}.get(unit)
    return [forms, one] if one else [forms]


def unit_label(labels: CountdownLabels, unit: str, count: int, locale: str) -> str:
    """The label under a cell showing `count` of `unit`: the plural form `locale` takes for it, or a
    plain label (its singular `day`/`hour` when `count` is 1)."""
    forms = getattr(labels, unit)
    if isinstance(forms, dict):
        return plural_form(forms, locale, count)
    one = {"days": labels.day, "hours": labels.hour}.get(unit)
    return one if one and count == 1 else forms


def localized(values: Mapping[str, Any], locale: str, fallback: Any) -> Any:
    """A countdown's per-locale value (labels, ended, robust) for `locale`: its own, else the first
    written, else `fallback`."""
    if locale in values:
        return values[locale]
    return next(iter(values.values()), fallback)


@dataclass(frozen=True)
class _Cell:
    box: Box
    number: Box
    label: Box


def _reflect(box: Box, x0: int, width: int) -> Box:
    x, y, w, h = box
    return (2 * x0 + width - x - w, y, w, h)


def reflect_cells(cells: Sequence[_Cell], box: Box) -> list[_Cell]:
    """`cells` reflected left to right inside `box` (x, y, w, h): the right-to-left order. Applied
    twice it gives the cells back."""
    x0, _, width, _ = box
    return [_Cell(_reflect(c.box, x0, width), _reflect(c.number, x0, width), _reflect(c.label, x0, width)) for c in cells]


def mirrors(layer: CountdownLayer, rtl: bool) -> bool:
    """True when the countdown's cells read right to left: a right-to-left locale, not opted out."""
    return rtl and (layer.flex is None or layer.flex.mirror)


NUMBER_SHARE = 0.54
"""Of a countdown's height, what the number area gets (`CountdownPainter._cells`: 0.62 less padding)."""
LABEL_SHARE = 0.30
"""Of a countdown's height, what the label area gets (0.38 less padding)."""
LABEL_SCALE = 0.42
"""A label's largest font size as a share of the number size."""


def countdown_size(
    layer: CountdownLayer, stack: FontStack, lang: str, max_width: float, max_height: float
) -> tuple[int, int]:
    """The size (creative pixels) a countdown takes in a container where `flex` leaves it open: each
    cell as wide as two digits at `size` max or its widest label (plus a quarter of the size at each
    side), the whole as tall as the number area needs for those digits and the label area for its
    labels; scaled down together (keeping that shape) to fit `max_width` x `max_height`."""
    hi = layer.size[1]
    free = (10 * hi, 10 * hi)
    digits = layout("88", stack, (hi, hi), free, lang, max_lines=1)
    label_hi = max(1, round(hi * LABEL_SCALE))
    labels: CountdownLabels = localized(layer.labels, lang, CountdownLabels())
    texts = [form for u in layer.units for form in label_forms(labels, u)]
    label_lays = [layout(t, stack, (label_hi, label_hi), (20 * hi, 10 * hi), lang, max_lines=1) for t in texts]
    cell = max([digits.width] + [lay.width for lay in label_lays]) + hi // 2
    n = len(layer.units)
    gap = max(1, round(min(n * cell * 0.03, 12)))
    width = n * cell + (n - 1) * gap
    height = math.ceil(max(digits.height / NUMBER_SHARE, max(lay.height for lay in label_lays) / LABEL_SHARE))
    k = min(1.0, max_width / width, max_height / height)
    return max(1, math.floor(width * k)), max(1, math.floor(height * k))


class CountdownPainter:
    """Draws one countdown layer for one render: `draw_static` (cells and labels, or the ended/robust
    panel) once, then `draw_digits` for each instant."""

    def __init__(
        self, layer: CountdownLayer, scene: Scene, *, now: datetime, tz: str, robust: bool = False
    ) -> None:
        self.layer, self.scene, self.now = layer, scene, now
        self.deadline = deadline_of(layer, scene.params)
        self.ended = self.deadline is not None and now >= self.deadline
        self.message: str | None = None
        if self.deadline is not None and self.ended:
            self.message = localized(layer.ended, scene.lang, "")
        elif self.deadline is not None and robust and layer.robust:
            template = localized(layer.robust, scene.lang, "")
            self.message = robust_text(template, self.deadline, tz, scene.lang, scene.digits(layer.digits))
        self.digits = scene.digits(layer.digits)
        self.labels: CountdownLabels = localized(layer.labels, scene.lang, CountdownLabels())
        self.ticking_labels = {  # plural forms that differ may change between frames: drawn with the digits
            u
            for u in layer.units
            if isinstance(getattr(self.labels, u), dict) and len(set(label_forms(self.labels, u))) > 1
        }
        self.box = scale_box(layer.box, scene.scale)
        self.stack = scene.stack(layer.font)
        self.mirrored = mirrors(layer, scene.rtl)
        self.cells = reflect_cells(self._cells(), self.box) if self.mirrored else self._cells()
        self.number_size = self._number_size()

    @property
    def animated(self) -> bool:
        """True when frames differ: a known deadline still ahead, shown as a ticking timer."""
        return self.deadline is not None and self.message is None

    @property
    def frames(self) -> int:
        return self.layer.frames if self.animated else 1

    @property
    def digit_area(self) -> Box:
        """The part of the canvas `draw_digits` touches (x0, y0, x1, y1)."""
        boxes = [c.number for c in self.cells]
        boxes += [c.label for u, c in zip(self.layer.units, self.cells, strict=True) if u in self.ticking_labels]
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[0] + b[2] for b in boxes)
        y1 = max(b[1] + b[3] for b in boxes)
        return x0, y0, x1, y1

    def left_at(self, when: datetime) -> int:
        return 0 if self.deadline is None else seconds_left(self.deadline, when)

    def _cells(self) -> list[_Cell]:
        x, y, w, h = self.box
        n = len(self.layer.units)
        gap = max(1, round(min(w * 0.03, 12 * self.scene.scale)))
        cw = (w - gap * (n - 1)) // n
        pad = max(1, round(h * 0.08))
        split = round(h * 0.62)
        cells = []
        for i in range(n):
            cx = x + i * (cw + gap)
            number = (cx, y + pad, cw, split - pad)
            label = (cx, y + split, cw, max(1, h - split - pad))
            cells.append(_Cell((cx, y, cw, h), number, label))
        return cells

    def _number_size(self) -> int:
        """One digit size for every cell and frame (widest case: the days cell may need 3 digits)."""
        lo, hi = scale_size(self.layer.size, self.scene.scale)
        cell = self.cells[0].number
        days = (
            split_units(self.left_at(self.now), self.layer.units)[0] if self.layer.units[0] == "days" else 0
        )
        sample = to_digits("8" * max(2, len(str(days))), self.scene.lang, self.digits)
        fit = layout(sample, self.stack, (lo, hi), (cell[2], cell[3]), self.scene.lang, max_lines=1)
        return fit.size

    def _digit_layout(self, text: str, box: Box) -> TextLayout:
        size = (self.number_size, self.number_size)
        return layout(text, self.stack, size, (box[2], box[3]), self.scene.lang, max_lines=1)

    def draw_static(self, canvas: Image.Image) -> None:
        """Cells and labels (or the ended / robust panel): everything that does not tick."""
        layer, s = self.layer, self.scene.scale
        color = rgba(layer.color)
        if self.deadline is None:
            return
        if self.message is not None:
            x, y, w, h = self.box
            if layer.fill is not None:
                paint(canvas, (x, y), round_mask(w, h, round(10 * s)), rgba(layer.fill))
            pad = round(min(w, h) * 0.12)
            inner = (max(1, w - 2 * pad), max(1, h - 2 * pad))
            lay = layout(
                self.message, self.stack, scale_size(layer.size, s), inner, self.scene.lang, max_lines=2
            )
            draw_text(
                canvas, lay, box=(x + pad, y + pad, *inner), align="center", valign="middle", color=color
            )
            return
        # Plain labels are static across the loop: days and hours cannot change within it (but at a
        # boundary), so their singular follows the first frame, the one every client shows; labels in
        # plural forms that differ are drawn with each frame's digits (`ticking_labels`).
        values = dict(zip(layer.units, split_units(self.left_at(self.now), layer.units), strict=True))
        for unit, cell in zip(layer.units, self.cells, strict=True):
            if layer.fill is not None:
                radius = round(min(cell.box[2], cell.box[3]) * 0.14)
                paint(canvas, cell.box[:2], round_mask(cell.box[2], cell.box[3], radius), rgba(layer.fill))
            if unit not in self.ticking_labels:
                self._draw_label(canvas, unit, values[unit], cell.label)

    def _draw_label(self, canvas: Image.Image, unit: str, count: int, box: Box) -> None:
        layer, s = self.layer, self.scene.scale
        label_color = rgba(layer.label_color or layer.color)
        label_hi = max(1, round(self.number_size * 0.42))
        label_size = (min(label_hi, max(1, round(9 * s))), label_hi)
        text = unit_label(self.labels, unit, count, self.scene.lang)
        lay = layout(text, self.stack, label_size, (box[2], box[3]), self.scene.lang, max_lines=1)
        draw_text(canvas, lay, box=box, align="center", valign="top", color=label_color)

    def number_text(self, unit: str, value: int) -> str:
        """A cell's number as drawn: days as they are, other units on two digits, in the layer's digits."""
        return to_digits(str(value) if unit == "days" else f"{value:02d}", self.scene.lang, self.digits)

    def draw_digits(self, canvas: Image.Image, left: int, origin: tuple[int, int] = (0, 0)) -> None:
        """The numbers for `left` seconds; `origin` is where `canvas` sits on the full canvas."""
        if not self.animated:
            return
        color = rgba(self.layer.color)
        for unit, value, cell in zip(
            self.layer.units, split_units(left, self.layer.units), self.cells, strict=True
        ):
            text = self.number_text(unit, value)
            x, y, w, h = cell.number
            box = (x - origin[0], y - origin[1], w, h)
            draw_text(
                canvas, self._digit_layout(text, box), box=box, align="center", valign="middle", color=color
            )
            if unit in self.ticking_labels:
                lx, ly, lw, lh = cell.label
                self._draw_label(canvas, unit, value, (lx - origin[0], ly - origin[1], lw, lh))

    def palette_colors(self) -> list[tuple[int, int, int]]:
        """Colours the GIF palette must hold exactly: the layer's colours and the ramp between digit
        and cell colour that anti-aliased digit edges use."""
        ink = rgba(self.layer.color)[:3]
        ground = rgba(self.layer.fill)[:3] if self.layer.fill else None
        out = [ink] + ([ground] if ground else [])
        if self.layer.label_color:
            out.append(rgba(self.layer.label_color)[:3])
        if ground:
            out += [
                tuple(round(g + (i - g) * k / RAMP_STEPS) for i, g in zip(ink, ground, strict=True))  # type: ignore[misc]
                for k in range(1, RAMP_STEPS)
            ]
        return out


def draw_countdown(canvas: Image.Image, painter: CountdownPainter) -> None:
    """The whole countdown as it stands at the painter's `now` (static formats, and the GIF's first frame)."""
    painter.draw_static(canvas)
    painter.draw_digits(canvas, painter.left_at(painter.now))


def build_palette(static: Image.Image, required: Iterable[tuple[int, int, int]]) -> Image.Image:
    """A 256-colour palette image: the `required` colours first, then the static frame's own colours."""
    colors: list[tuple[int, int, int]] = []
    for c in required:
        if c not in colors:
            colors.append(c)
    colors = colors[:200]
    fixed = list(colors)
    room = 256 - len(colors)
    adaptive = static.quantize(colors=room, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    flat = adaptive.getpalette() or []
    for _, i in sorted(adaptive.getcolors(256) or [], key=lambda ci: -ci[0]):
        if not isinstance(i, int):
            continue
        c = (flat[3 * i], flat[3 * i + 1], flat[3 * i + 2])
        # Pillow maps a pixel to the palette entry nearest the corner of its 4x4x4 colour box, so an
        # adaptive colour next to a fixed one would steal that fixed colour's exact pixels.
        near = any(
            abs(c[0] - f[0]) <= NEAR and abs(c[1] - f[1]) <= NEAR and abs(c[2] - f[2]) <= NEAR for f in fixed
        )
        if c not in colors and not near:
            colors.append(c)
    greys = ((k, k, k) for k in range(256))
    while len(colors) < 256:  # pad with distinct colours: duplicates would confuse the GIF writer
        grey = next(greys)
        if grey not in colors:
            colors.append(grey)
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for c in colors[:256] for v in c])
    return palette


def animate(
    base: Image.Image, painters: Sequence[CountdownPainter], colors: Iterable[str], now: datetime
) -> tuple[bytes, int]:
    """An animated GIF (and its frame count): `base` is the canvas with every layer and every
    countdown's static part drawn; each frame adds the digits for `now + i` seconds."""
    ticking = [p for p in painters if p.animated]
    n = max((p.frames for p in ticking), default=1)
    static = flatten(base)
    first = static.copy()
    for p in ticking:
        p.draw_digits(first, p.left_at(now))
    fixed = [rgba(c)[:3] for c in colors] + [c for p in ticking for c in p.palette_colors()]
    palette = build_palette(first, fixed)
    static_p = static.quantize(palette=palette, dither=Image.Dither.NONE)
    frames: list[Image.Image] = []
    durations: list[int] = []
    last: tuple[int, ...] | None = None
    for i in range(n):
        check_deadline()  # an abandoned render stops within one frame
        when = now + timedelta(seconds=i)
        state = tuple(p.left_at(when) // min(UNIT_SECONDS[u] for u in p.layer.units) for p in ticking)
        if state == last:
            durations[-1] += FRAME_MS  # nothing visible changed: hold the previous frame longer
            continue
        last = state
        frame = static_p.copy()
        for p in ticking:
            x0, y0, x1, y1 = p.digit_area
            crop = static.crop((x0, y0, x1, y1))
            p.draw_digits(crop, p.left_at(when), origin=(x0, y0))
            frame.paste(crop.quantize(palette=palette, dither=Image.Dither.NONE), (x0, y0))
        frames.append(frame)
        durations.append(FRAME_MS)
    check_deadline()
    buf = io.BytesIO()
    frames[0].save(
        buf,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations if len(durations) > 1 else durations[0],
        loop=0,
        optimize=False,
        disposal=1,
    )
    return drop_local_tables(buf.getvalue()), len(frames)


def drop_local_tables(gif: bytes) -> bytes:
    """The GIF without per-frame colour tables that repeat the global one.

    Pillow writes a local table for every frame after the first unless it is handed a `palette`,
    and with one it remaps every frame through Python loops (about 1.5 ms a frame). The frames here
    all share the global palette, so their repeated tables (768 bytes each) are dropped instead.
    """
    flags = gif[10]
    start = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    table = gif[13:start]
    out, i = bytearray(gif[:start]), start
    while i < len(gif) and gif[i] != 0x3B:
        if gif[i] == 0x21:  # extension: introducer and label, then sub-blocks
            head = gif[i : i + 2]
        else:  # 0x2C image descriptor: 10 bytes, an optional local table, the LZW code size
            packed = gif[i + 9]
            size = 3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0
            local = gif[i + 10 : i + 10 + size]
            if size and local == table:
                head = gif[i : i + 9] + bytes([packed & 0x40]) + gif[i + 10 + size : i + 11 + size]
            else:
                head = gif[i : i + 11 + size]
            i += 11 + size - 2
        out += head
        i += 2
        while gif[i]:  # data sub-blocks up to the zero-length terminator
            out += gif[i : i + gif[i] + 1]
            i += gif[i] + 1
        out.append(0)
        i += 1
    out += b";"
    return bytes(out)


__all__ = [
    "CountdownPainter",
    "animate",
    "build_palette",
    "countdown_size",
    "countdown_state",
    "deadline_of",
    "draw_countdown",
    "drop_local_tables",
    "label_forms",
    "localized",
    "mirrors",
    "reflect_cells",
    "robust_text",
    "seconds_left",
    "split_units",
    "unit_label",
]
