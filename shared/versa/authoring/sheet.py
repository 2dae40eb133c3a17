"""Drawing a contact sheet: a labelled grid of a creative's cells as one PNG, or as an HTML page.

Each cell shows its image scaled to fit a thumbnail box (never enlarged) and three labels: the
context that makes it (the matrix values, or a design's example viewer), the rules that fired, and the
size with the design key. The PNG's labels are drawn in the renderer's default `sans` family (DejaVu
Sans) from the font book; the HTML page embeds each thumbnail and links it to its signed image URL and
its signed decision (the trace `versa decide` explains), with the trace itself written under it.

Pure given its inputs (images already rendered, URLs already signed); no IO.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from versa.authoring.matrix import Cell
from versa.render.fonts import get_font, resolve_family

THUMB_W, THUMB_H = 280, 200
"""The box a cell's image is scaled into (aspect kept, never enlarged)."""
PAD = 16
LABEL_SIZE = 13
TITLE_SIZE = 18
LINE = 17
INK, MUTED, RULES, PAPER, FRAME = "#111827", "#4b5563", "#1d4ed8", "#ffffff", "#d1d5db"


@dataclass(frozen=True)
class SheetCell:
    """A cell with what the sheet shows of it: its image and, for HTML, its signed URLs."""

    cell: Cell
    image: Image.Image
    image_url: str = ""
    decision_url: str = ""


def context_text(cell: Cell) -> str:
    """The cell's context as `name=value` pairs, or "default context" when the matrix is empty."""
    return " · ".join(f"{k}={v}" for k, v in cell.label.items()) or "default context"


def rules_text(cell: Cell) -> str:
    """The rules that fired, or that none did."""
    return "rules: " + (", ".join(cell.decision.matched) or "(none: defaults)")


def size_text(cell: Cell) -> str:
    """The size, the design key, and for a design of `--all` how many contexts share it."""
    w, h = cell.size
    shared = f" · {cell.contexts} contexts" if cell.contexts > 1 else ""
    return f"{w}×{h} · design {cell.decision.design_key}{shared}"


def columns_for(count: int, preferred: int | None = None) -> int:
    """Columns of the grid: `preferred` (e.g. the last axis's value count) when it is 2 to 6, else about
    a square, at most 6."""
    if preferred and 2 <= preferred <= 6:
        return min(preferred, count)
    return max(1, min(6, math.ceil(math.sqrt(count))))


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and font.getlength(trial) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return [*lines, current] if current else lines


def _thumb(image: Image.Image) -> Image.Image:
    frame = image.convert("RGBA")
    frame.thumbnail((THUMB_W, THUMB_H), Image.Resampling.LANCZOS)
    return frame


def draw_sheet(title: str, cells: Sequence[SheetCell], *, columns: int | None = None) -> Image.Image:
    """The sheet as one RGB image: a title line, then the cells in rows of `columns`, each its
    thumbnail over its labels (context, rules, size)."""
    regular = get_font(resolve_family("sans"), LABEL_SIZE)
    bold = get_font(resolve_family("sans-bold"), LABEL_SIZE)
    heading = get_font(resolve_family("sans-bold"), TITLE_SIZE)
    cols = columns or columns_for(len(cells))
    text_w = THUMB_W
    blocks = []
    for item in cells:
        lines = [
            *((line, bold, INK) for line in _wrap(context_text(item.cell), bold, text_w)),
            *((line, regular, RULES) for line in _wrap(rules_text(item.cell), regular, text_w)),
            *((line, regular, MUTED) for line in _wrap(size_text(item.cell), regular, text_w)),
        ]
        blocks.append((_thumb(item.image), lines))
    label_h = max((len(lines) for _, lines in blocks), default=1) * LINE
    cell_w, cell_h = THUMB_W + PAD, THUMB_H + 8 + label_h + PAD
    rows = math.ceil(len(blocks) / cols) if blocks else 0
    width = PAD + cols * cell_w
    titles = _wrap(title, heading, width - 2 * PAD)
    top = PAD + len(titles) * (TITLE_SIZE + 6) + PAD
    sheet = Image.new("RGB", (width, top + rows * cell_h), PAPER)
    draw = ImageDraw.Draw(sheet)
    for i, line in enumerate(titles):
        draw.text((PAD, PAD + i * (TITLE_SIZE + 6)), line, font=heading, fill=INK)
    for index, (thumb, lines) in enumerate(blocks):
        x = PAD + (index % cols) * cell_w
        y = top + (index // cols) * cell_h
        draw.rectangle((x - 1, y - 1, x + THUMB_W, y + THUMB_H), outline=FRAME)
        ox, oy = x + (THUMB_W - thumb.width) // 2, y + (THUMB_H - thumb.height) // 2
        sheet.paste(thumb, (ox, oy), thumb)
        ty = y + THUMB_H + 8
        for text, font, colour in lines:
            draw.text((x, ty), text, font=font, fill=colour)
            ty += LINE
    return sheet


def png_bytes(image: Image.Image) -> bytes:
    """`image` encoded as an optimized PNG."""
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def sheet_html(title: str, cells: Sequence[SheetCell], *, columns: int | None = None) -> str:
    """The sheet as a self-contained HTML page: each cell's thumbnail (embedded) links to its signed
    image URL, its labels to its signed decision, and its trace is written out under it."""
    e = html.escape
    cols = columns or columns_for(len(cells))
    figures = []
    for item in cells:
        cell = item.cell
        data = base64.b64encode(png_bytes(_thumb(item.image))).decode("ascii")
        trace = "".join(
            f'<li class="{"hit" if t.matched else "miss"}"><b>{"✓" if t.matched else "·"}</b> '
            f"<code>{e(t.rule)}</code> {e(t.reason)}</li>"
            for t in cell.decision.trace
        ) or "<li>no rules</li>"
        figures.append(
            f'<figure data-design="{e(cell.decision.design_key)}">'
            f'<a class="img" href="{e(item.image_url)}"><img src="data:image/png;base64,{data}" '
            f'alt="{e(context_text(cell))}"></a>'
            f"<figcaption><strong>{e(context_text(cell))}</strong>"
            f'<span class="rules">{e(rules_text(cell))}</span>'
            f'<span class="size">{e(size_text(cell))}</span>'
            f'<span class="links"><a href="{e(item.image_url)}">signed image</a> · '
            f'<a href="{e(item.decision_url)}">decision (trace)</a></span>'
            f"<details><summary>trace</summary><ol>{trace}</ol></details></figcaption></figure>"
        )
    style = (
        "body{font:14px/1.4 system-ui,sans-serif;color:#111827;margin:24px}"
        f".grid{{display:grid;grid-template-columns:repeat({cols},{THUMB_W + 16}px);gap:16px}}"
        "figure{margin:0}a.img{display:flex;align-items:center;justify-content:center;"
        f"width:{THUMB_W}px;height:{THUMB_H}px;border:1px solid #d1d5db;background:#f9fafb}}"
        "figcaption span{display:block}.rules{color:#1d4ed8}.size,.links{color:#4b5563}"
        "details ol{list-style:none;padding-left:0;margin:4px 0}li.miss{color:#6b7280}code{font-size:12px}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f'<meta name="referrer" content="no-referrer"><style>{style}</style></head>'
        f'<body><h1>{e(title)}</h1><div class="grid">{"".join(figures)}</div></body></html>\n'
    )


__all__ = [
    "THUMB_H",
    "THUMB_W",
    "SheetCell",
    "columns_for",
    "context_text",
    "draw_sheet",
    "png_bytes",
    "rules_text",
    "sheet_html",
    "size_text",
]
