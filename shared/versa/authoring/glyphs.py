"""Lint's glyph checks: every text a creative can draw, in every locale, has its characters in a face
of the font stack the renderer builds for it, and in a face of the weight its font token asks for.

What is checked: each text, button and countdown layer, inside containers too, as every variant
(`versa.decide.variants`: each design at each size and locale, rule and `by_size` overrides applied)
draws it: a text or button's copy (the variant's default, rule overrides included; templates and
parameters as the renderer fills them), a countdown's labels in every plural form, its digits, its
`ended` text and its `robust` text formatted with the deadline, plus each locale's sample alphabet
(`versa.render.fonts.LOCALE_SAMPLES`) for the characters generated copy may use. The face drawing
each character is the one the line layout picks (`versa.render.text.cluster_faces`) from the stack
the scene builds (`versa.render.scene.FontBook`: the locale's CJK region, weight-matched fallbacks).

Findings: characters no face covers (an error, as before), a pack font file lacking its locale's
sample (a default family stands in: a warning), and `weight-fallback:` (a warning) where a character
is drawn in a face whose weight is not the one the layer's font token declares in `tokens.fonts`
(a bold display font whose Japanese characters come out regular, say, because a rule gives `ja` a
regular-only Japanese font, or a character only the regular sibling of a `-bold` family has).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from versa.context.locale import to_digits
from versa.decide.rules import Decision
from versa.errors import Issue
from versa.pack.loader import PACK_FILE
from versa.pack.model import (
    ButtonLayer,
    CountdownLabels,
    CountdownLayer,
    Pack,
    TextLayer,
    walk_children,
)
from versa.render.countdown import deadline_of, label_forms, localized, robust_text
from versa.render.fonts import LOCALE_SAMPLES, FontFace, FontStack, is_bold, missing_glyphs
from versa.render.layer_text import layer_text
from versa.render.scene import FontBook, Scene
from versa.render.text import cluster_faces

_ROBUST_SAMPLE = datetime(2026, 12, 24, 23, 59, tzinfo=UTC)
"""A deadline to format a countdown's `robust` text with when its deadline is a parameter without one."""


def _weight(bold: bool) -> str:
    return "bold" if bold else "regular"


def _face_name(face: FontFace) -> str:
    name = Path(face.path).name
    return f"{name} (face {face.index})" if name.lower().endswith(".ttc") else name


def _walk(layers: Iterable[Any]) -> Iterator[Any]:
    for layer in layers:
        yield layer
        yield from (child for _, child in walk_children(layer, ""))


@dataclass
class GlyphCheck:
    """The glyph checks of one creative over its variants; findings are deduplicated across variants
    (one per layer, locale and kind), and each (stack, text) pair is examined once."""

    pack: Pack
    base: str
    book: FontBook
    path_of: Callable[[Any], str]
    params: Mapping[str, Any]
    _seen: set[tuple[Any, ...]] = field(default_factory=set)
    _faces: dict[tuple[str, str], list[tuple[str, FontFace]]] = field(default_factory=dict)

    def variant(self, decision: Decision) -> Iterator[Issue]:
        """The findings of one variant's drawn text layers."""
        texts = {name: ref.default for name, ref in decision.copy.items()}
        scene = Scene(self.pack, decision, texts, self.params, 1.0, self.book)
        for layer in _walk(decision.layers):
            if not isinstance(layer, TextLayer | ButtonLayer | CountdownLayer):
                continue
            yield from self._layer(layer, scene)

    def _texts(self, layer: Any, scene: Scene) -> list[tuple[str, str]]:
        """(what, text) for everything `layer` can draw in the scene's locale."""
        loc = scene.lang
        if isinstance(layer, TextLayer | ButtonLayer):
            what = f"copy slot {layer.slot!r}" if layer.slot else f"parameter {layer.param!r}" if layer.param else "text"
            return [(what, layer_text(layer, scene))]
        labels: CountdownLabels = localized(layer.labels, loc, CountdownLabels())
        digits = scene.digits(layer.digits)
        out = [(f"label {unit}", form) for unit in layer.units for form in label_forms(labels, unit)]
        out.append(("digits", to_digits("0123456789", loc, digits)))
        ended = localized(layer.ended, loc, "")
        if ended:
            out.append(("ended text", ended))
        template = localized(layer.robust, loc, "")
        if template:
            deadline = deadline_of(layer, scene.params) or _ROBUST_SAMPLE
            tz = self.pack.model.default_tz
            out.append(("robust text", robust_text(template, deadline, tz, loc, digits)))
        return out

    def _cluster_faces(self, stack: FontStack, text: str) -> list[tuple[str, FontFace]]:
        key = (stack.faces_key, text)
        if key not in self._faces:
            self._faces[key] = cluster_faces(text, stack)
        return self._faces[key]

    def _once(self, key: tuple[Any, ...]) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _layer(self, layer: Any, scene: Scene) -> Iterator[Issue]:
        loc = scene.lang
        path = self.path_of(layer)
        stack = scene.stack(layer.font)
        ref = scene.decision.fonts[layer.font]
        name = f"layer {layer.id!r}" if layer.id else f"{layer.type} layer"
        creative = self.base.split(".", 1)[1]
        texts = [(w, t) for w, t in self._texts(layer, scene) if t]
        sample = LOCALE_SAMPLES.get(loc.split("-")[0], "")
        missing = sorted(set().union(*(missing_glyphs(stack, t) for _, t in [*texts, ("sample", sample)])))
        if missing and self._once(("missing", path, loc, ref, tuple(missing))):
            yield Issue(
                PACK_FILE,
                f"{path}.font",
                f"font {layer.font!r} and its fallbacks lack glyphs for locale {loc!r}: "
                f"{''.join(missing)[:40]} ({name} of creative {creative!r}; the font is {ref})",
            )
        elif not missing and ref.lower().endswith((".ttf", ".otf", ".ttc")):
            lacking = sorted(missing_glyphs(FontStack((stack.primary,)), sample))
            if lacking and self._once(("stands-in", path, loc, ref)):
                yield Issue(
                    PACK_FILE,
                    f"{path}.font",
                    f"font {layer.font!r} has no glyphs for locale {loc!r} ({''.join(lacking)[:20]}…); "
                    "a default family stands in for them",
                    "warning",
                )
        declared = self.pack.model.tokens.fonts.get(layer.font, ref)
        wanted = is_bold(self.book.stack(self.pack, declared, loc).primary)
        for what, text in texts:
            off: dict[FontFace, list[str]] = {}
            for cluster, face in self._cluster_faces(stack, text):
                if cluster.isspace() or cluster[0] in missing or is_bold(face) == wanted:
                    continue
                chars = off.setdefault(face, [])
                if cluster not in chars:
                    chars.append(cluster)
            for face, chars in off.items():
                shown = "".join(chars)
                if not self._once(("weight", path, loc, face, shown)):
                    continue
                yield Issue(
                    PACK_FILE,
                    f"{path}.font",
                    f"weight-fallback: creative {creative!r} {name}, locale {loc!r}: {shown[:40]!r} of its "
                    f"{what} drawn in {_face_name(face)}, a {_weight(not wanted)} face, where font "
                    f"{layer.font!r} ({declared}) wants {_weight(wanted)}",
                    "warning",
                )


__all__ = ["GlyphCheck"]
