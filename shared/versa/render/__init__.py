"""Rendering: fonts, bidirectional text, text layout, layer drawing, countdowns, encoders, the renderer."""

from __future__ import annotations

from versa.render.bidi import Direction, base_direction, embedding_levels, visual_order
from versa.render.countdown import countdown_state
from versa.render.encode import CONTENT_TYPES, OutputTooLarge, encode, negotiate
from versa.render.engine import RENDERER_VERSION, Rendered, Renderer, engine_version, image_content_type
from versa.render.fonts import (
    FAMILIES,
    LOCALE_SAMPLES,
    FontFace,
    FontLoadError,
    FontNotFound,
    FontStack,
    coverage,
    font_stack,
    get_font,
    missing_glyphs,
    resolve_family,
)
from versa.render.text import ELLIPSIS, Line, Run, TextLayout, draw_text, layout_text

__all__ = [
    "CONTENT_TYPES",
    "ELLIPSIS",
    "FAMILIES",
    "LOCALE_SAMPLES",
    "RENDERER_VERSION",
    "Direction",
    "FontFace",
    "FontLoadError",
    "FontNotFound",
    "FontStack",
    "Line",
    "OutputTooLarge",
    "Rendered",
    "Renderer",
    "Run",
    "TextLayout",
    "base_direction",
    "countdown_state",
    "coverage",
    "draw_text",
    "embedding_levels",
    "encode",
    "engine_version",
    "font_stack",
    "get_font",
    "image_content_type",
    "layout_text",
    "missing_glyphs",
    "negotiate",
    "resolve_family",
    "visual_order",
]
