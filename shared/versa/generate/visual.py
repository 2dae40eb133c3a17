"""Painting one visual slot's scene: check the request against the current pack, build the prompt from the
brief and the brand's style, ask the visual writer, guard the image, composite the product, and say what
came of it. Pure apart from the writer it is handed.

`generate_visual` is what the generation worker calls for a `GenerationRequest` of kind `visual`; the
worker stores `VisualOutcome.image` in the asset store and the asset key in the copy store. It never
raises for a bad answer (that is an outcome with `failure`), only `WriterUnavailable`.

The brief is a Jinja2 template in the pack sandbox that sees only the slot's `vary_by` values (each
checked against its declared, finite set) and `style` (palette, mood, banned): never a request's text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from PIL import Image, ImageStat

from versa.decide.keys import generation_key, lineage_key
from versa.decide.visuals import slot_focus, visual_key
from versa.errors import UnknownCreative
from versa.generate.brief import MAX_BRIEF_CHARS, BriefError, brief_names, vary_domain
from versa.pack.assets import AssetError, open_image, read_pack_file
from versa.pack.model import Pack, VisualSpec, VisualStyle
from versa.pack.sandbox import BoundedSandbox
from versa.ports import (
    ASPECTS,
    GenerationRequest,
    PaintFailed,
    Painting,
    PaintRequest,
    Rejection,
    VisualWriter,
)

PAINT_SIZES: Mapping[str, tuple[int, int]] = {
    "square": (1024, 1024),
    "landscape": (1536, 1024),
    "portrait": (1024, 1536),
}
"""The size painted for each aspect class: the sizes image models offer (1:1, 3:2, 2:3)."""
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
"""Formats a visual writer may answer in."""
MIN_SPREAD = 3.0
"""A scene whose luminance varies less than this (standard deviation, 0-255) is blank or nearly uniform."""
VISUAL_BRIEF_NAMES = frozenset({"style"})

_ENV = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class VisualOutcome:
    """What painting came to: the image to store (PNG bytes, the product composited in composite mode)
    when it `passed`, else `failure` says why and the slot keeps its default image."""

    key: str
    lineage: str
    image: bytes | None
    passed: bool
    generated: bool
    failure: str | None = None
    rejections: tuple[Rejection, ...] = ()
    painting: Painting | None = None
    prompt: str = ""
    focus: tuple[float, float] = (0.5, 0.5)
    notes: tuple[str, ...] = field(default=())

    def meta(self) -> dict[str, Any]:
        """What the copy store keeps beside the asset key (JSON-ready)."""
        p = self.painting
        return {
            "kind": "visual",
            "lineage": self.lineage,
            "generated": self.generated,
            "passed": self.passed,
            "failure": self.failure,
            "model": p.model if p else None,
            "size": list(p.size) if p and p.size else None,
            "quality": p.quality if p else None,
            "prompt": self.prompt,
            "focus": list(self.focus),
            "rejections": [r.to_json() for r in self.rejections],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class PreparedVisual:
    """A visual request checked against the pack: what to ask the writer and how to finish its answer."""

    paint: PaintRequest
    lineage: str
    spec: VisualSpec
    focus: tuple[float, float]
    product: bytes | None


def _style_values(style: VisualStyle | None) -> dict[str, Any]:
    s = style or VisualStyle()
    return {"palette": list(s.palette), "mood": list(s.mood), "banned": list(s.banned)}


def render_visual_brief(spec: VisualSpec, vary: Mapping[str, str], style: VisualStyle | None) -> str:
    """The slot's brief rendered with the (checked) vary values and the brand's style."""
    unknown = brief_names(spec.brief) - set(vary) - VISUAL_BRIEF_NAMES
    if unknown:
        raise BriefError(f"visual brief reads {sorted(unknown)}; it may read only its vary_by attributes and style")
    try:
        text = _ENV.from_string(spec.brief).render({**vary, "style": _style_values(style)}).strip()
    except (TemplateError, SecurityError) as exc:
        raise BriefError(f"visual brief: {exc}") from exc
    if not text:
        raise BriefError("visual brief renders to nothing")
    return text[:MAX_BRIEF_CHARS]


def banned_subjects(text: str, style: VisualStyle | None) -> list[str]:
    """The style's banned subjects `text` names (whole words, any case)."""
    lowered = text.casefold()
    return [w for w in (style.banned if style else []) if re.search(rf"\b{re.escape(w.casefold())}\b", lowered)]


def build_visual_prompt(brief: str, spec: VisualSpec, style: VisualStyle | None) -> str:
    """The prompt a writer is sent: the rendered brief, then Versa's instructions (style, the space
    left for the product, no text, the banned subjects)."""
    parts = [brief]
    s = style or VisualStyle()
    if s.mood:
        parts.append("Mood: " + ", ".join(s.mood) + ".")
    if s.palette:
        parts.append("Colour palette: " + ", ".join(s.palette) + ".")
    if spec.mode == "composite":
        parts.append("An empty scene, a backdrop only: leave clear, uncluttered ground near the focal point "
                     "for a product to be placed on; no product in the picture.")
    else:
        parts.append("Place the product from the input image in the scene unchanged: same shape, colours, label.")
    parts.append("No text, letters, logos or watermarks.")
    if s.banned:
        parts.append("Do not show: " + ", ".join(s.banned) + ".")
    return "\n".join(parts)


def prepare_visual(pack: Pack, request: GenerationRequest, *, model: str | None) -> PreparedVisual:
    """The paint request for `request` under the current pack. Raises BriefError when the pack no longer
    has the slot, a vary value or the aspect lies outside its declared set, the brief names a banned
    subject, or the key is not the one the pack and `model` give now (stale)."""
    try:
        creative = pack.model.creative(request.creative)
    except UnknownCreative as exc:
        raise BriefError(str(exc)) from None
    visual = creative.visuals.get(request.slot)
    if visual is None or visual.generate is None:
        raise BriefError(f"{request.creative}: visual slot {request.slot!r} does not generate")
    spec = visual.generate
    aspect = request.aspect or ""
    if aspect not in ASPECTS:
        raise BriefError(f"aspect {aspect!r} is not one of {list(ASPECTS)}")
    if set(request.vary) != set(spec.vary_by):
        raise BriefError(f"visuals.{request.slot}: vary values name {sorted(request.vary)}, the slot varies by "
                         f"{sorted(spec.vary_by)}")
    vary: dict[str, str] = {}
    for attr, value in sorted(request.vary.items()):
        domain = vary_domain(pack.model, creative, attr, spec.vary_by[attr])
        where = f"visuals.{request.slot}.generate.vary_by.{attr}"
        if domain is None:
            raise BriefError(f"{where}: 'all' over the open-ended attribute {attr!r} cannot reach a brief")
        if not isinstance(value, str) or value not in domain:
            raise BriefError(f"{where}: value {repr(value)[:40]} is not one of {sorted(d for d in domain if d)}")
        vary[attr] = value
    style = pack.model.style
    expected = generation_key(visual_key(pack.brand, request.slot, spec, style, vary, aspect), model)
    if request.key != expected:
        raise BriefError(f"key {request.key} is stale: the pack and model give {expected} for this slot now")
    brief = render_visual_brief(spec, vary, style)
    banned = banned_subjects(brief, style)
    if banned:
        raise BriefError(f"the brief names banned subject(s) {banned} (style.banned)")
    product = None
    if spec.product is not None:
        try:
            product = read_pack_file(pack.root, spec.product)
        except (AssetError, OSError) as exc:
            raise BriefError(f"product {spec.product!r}: {exc}") from exc
    paint = PaintRequest(
        key=request.key, prompt=build_visual_prompt(brief, spec, style), size=PAINT_SIZES[aspect], aspect=aspect,
        quality=spec.quality, mode="edit" if spec.mode == "edit" else "scene",
        source=product if spec.mode == "edit" else None, palette=tuple(style.palette if style else ()),
    )
    lineage = lineage_key(pack.brand, request.creative, request.slot, "", {**vary, "aspect": aspect})
    return PreparedVisual(paint, lineage, spec, slot_focus(creative, request.slot), product)


def image_problems(data: bytes, size: tuple[int, int]) -> list[tuple[str, str]]:
    """(check, reason) for an image a writer answered: it must decode (PNG, JPEG or WebP, within the
    asset caps), have the size asked for, and not be blank or nearly uniform."""
    try:
        image = open_image(data)
    except AssetError as exc:
        return [("decode", str(exc))]
    if image.format not in IMAGE_FORMATS:
        return [("format", f"{image.format} is not one of {', '.join(IMAGE_FORMATS)}")]
    problems = []
    if image.size != size:
        problems.append(("dimensions", f"{image.width}x{image.height}, expected {size[0]}x{size[1]}"))
    spread = ImageStat.Stat(image.convert("L").resize((64, 64))).stddev[0]
    if spread < MIN_SPREAD:
        problems.append(("blank", f"nearly uniform (luminance spread {spread:.1f}, at least {MIN_SPREAD:g} needed)"))
    return problems


def composite_product(scene: bytes, product: bytes, focus: tuple[float, float], height: float) -> bytes:
    """The scene with the product (RGBA) laid over it, `height` of the scene tall, centred on `focus`
    (kept inside the scene), as PNG."""
    base = open_image(scene).convert("RGBA")
    item = open_image(product).convert("RGBA")
    scale = base.height * height / item.height
    item = item.resize((max(1, round(item.width * scale)), max(1, round(item.height * scale))),
                       Image.Resampling.LANCZOS)
    x = min(max(0, round(focus[0] * base.width - item.width / 2)), max(0, base.width - item.width))
    y = min(max(0, round(focus[1] * base.height - item.height / 2)), max(0, base.height - item.height))
    base.alpha_composite(item, (x, y))
    out = io.BytesIO()
    base.convert("RGB").save(out, format="PNG")
    return out.getvalue()


def generate_visual(pack: Pack, request: GenerationRequest, writer: VisualWriter) -> VisualOutcome:
    """Paint, guard and finish the scene for `request` (see the module doc). Raises WriterUnavailable."""
    lineage = lineage_key(pack.brand, request.creative, request.slot, "", {**request.vary, "aspect": request.aspect or ""})
    try:
        prepared = prepare_visual(pack, request, model=writer.model)
    except BriefError as exc:
        return VisualOutcome(request.key, lineage, None, False, False, f"brief: {exc}")
    prompt = prepared.paint.prompt
    try:
        painting = writer.paint(prepared.paint)
    except PaintFailed as exc:
        rejection = Rejection("", exc.reason, exc.detail)
        return VisualOutcome(request.key, prepared.lineage, None, False, False, f"writer: {exc}", (rejection,),
                             prompt=prompt, focus=prepared.focus)
    problems = image_problems(painting.image, prepared.paint.size)
    if problems:
        rejections = tuple(Rejection("", check, reason) for check, reason in problems)
        failure = "image refused by the guardrails: " + "; ".join(f"{c}: {r}" for c, r in problems)
        return VisualOutcome(request.key, prepared.lineage, None, False, False, failure, rejections, painting,
                             prompt, prepared.focus, painting.notes)
    image = painting.image
    if prepared.spec.mode == "composite" and prepared.product is not None:
        image = composite_product(image, prepared.product, prepared.focus, prepared.spec.product_height)
    elif open_image(image).format != "PNG":
        out = io.BytesIO()
        open_image(image).convert("RGB").save(out, format="PNG")
        image = out.getvalue()
    return VisualOutcome(request.key, prepared.lineage, image, True, painting.generated, None, (), painting,
                         prompt, prepared.focus, painting.notes)


__all__ = [
    "IMAGE_FORMATS",
    "MIN_SPREAD",
    "PAINT_SIZES",
    "PreparedVisual",
    "VisualOutcome",
    "banned_subjects",
    "build_visual_prompt",
    "composite_product",
    "generate_visual",
    "image_problems",
    "prepare_visual",
    "render_visual_brief",
]
