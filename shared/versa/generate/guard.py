"""Guardrails: what generated copy must satisfy before it is stored, declared in the pack. Pure.

Text rules (`text_problems`): not empty, one line of printable text, `max_chars`, the slot's and the
voice's banned words (whole words, any case), banned regular expressions (`patterns`), required terms
(the slot's and the voice's), no URL or e-mail address unless `allow_links`, and most letters in the
locale's script (Arabic letters for ar, Cyrillic for ru...).

Fit (`SlotFit`): the text is laid out in every layer that shows the slot, at every size of the creative,
in every design the slot's copy key appears in for that locale, with the measure `versa lint` uses
(`versa.render.fit`); it must fit its box uncut (within the layer's `max_lines`, shrinking no further
than the smallest allowed font size), stay inside its container, and at the smallest allowed font size
take at most the slot's `max_lines`.

`judge` tries candidates in order: each failing one is rejected with its reasons, the first passing
one wins; when none passes, the caller keeps the default and reports why.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from versa.decide.rules import Decision, copy_key, decide, vary_value
from versa.decide.variants import SyntheticContext, TooManyVariants, iter_contexts
from versa.pack.model import ButtonLayer, GenerateSpec, Pack, TextLayer, Voice
from versa.ports import Rejection
from versa.render.fit import drawn_boxes, text_fit
from versa.render.scene import FontBook, Scene

SCRIPTS: dict[str, tuple[str, ...]] = {
    "ar": ("ARABIC",), "fa": ("ARABIC",), "ur": ("ARABIC",),
    "he": ("HEBREW",), "yi": ("HEBREW",),
    "ru": ("CYRILLIC",), "uk": ("CYRILLIC",), "bg": ("CYRILLIC",), "sr": ("CYRILLIC",), "mk": ("CYRILLIC",),
    "el": ("GREEK",),
    "ja": ("CJK", "HIRAGANA", "KATAKANA"), "zh": ("CJK",), "ko": ("HANGUL",),
    "th": ("THAI",), "hi": ("DEVANAGARI",), "mr": ("DEVANAGARI",), "ne": ("DEVANAGARI",),
    **{lang: ("LATIN",) for lang in (
        "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "fi", "pl", "cs", "sk", "hu",
        "ro", "hr", "sl", "tr", "id", "ms", "vi", "ca", "et", "lv", "lt", "ga", "is",
    )},
}
"""The script a locale's copy is written in, by language subtag, as Unicode character-name prefixes.
A language not listed is not checked."""

SCRIPT_SHARE = 0.6
"""Least share of a candidate's letters (required terms left out) that must be in the locale's script."""

_URL = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|io|co|app|shop|store|online|site|xyz|de|fr|uk|us|eu|ae|sa)\b"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class TextRules:
    """The text guardrails of one slot in one locale (the slot's and the voice's lists merged)."""

    max_chars: int | None = None
    banned: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    allow_links: bool = False
    script: tuple[str, ...] = ()
    max_lines: int | None = None

    @classmethod
    def of(cls, spec: GenerateSpec, locale: str, voice: Voice | None = None) -> TextRules:
        return cls(
            max_chars=spec.max_chars,
            banned=(*spec.banned, *(voice.banned if voice else ())),
            patterns=tuple(spec.patterns),
            required=(*spec.required, *(voice.required if voice else ())),
            allow_links=spec.allow_links,
            script=SCRIPTS.get(locale.split("-")[0].lower(), ()),
            max_lines=spec.max_lines,
        )


def text_problems(text: str, rules: TextRules) -> list[tuple[str, str]]:
    """(check, reason) for every text rule the candidate breaks; empty when it passes them all."""
    if not text.strip():
        return [("empty", "the candidate is empty")]
    out: list[tuple[str, str]] = []
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\u200c\u200d" for ch in text):
        out.append(("characters", "holds a line break or another control/format character"))
    if rules.max_chars is not None and len(text) > rules.max_chars:
        out.append(("max_chars", f"{len(text)} characters, over max_chars {rules.max_chars}"))
    folded = text.casefold()
    for word in rules.banned:
        if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", folded):
            out.append(("banned", f"uses the banned word {word!r}"))
    for pattern in rules.patterns:
        if re.search(pattern, text):
            out.append(("pattern", f"matches the banned pattern {pattern!r}"))
    for term in rules.required:
        if term.casefold() not in folded:
            out.append(("required", f"lacks the required term {term!r}"))
    if not rules.allow_links:
        if _EMAIL.search(text):
            out.append(("links", f"holds an e-mail address ({_EMAIL.search(text).group(0)!r})"))  # type: ignore[union-attr]
        elif _URL.search(text):
            out.append(("links", f"holds a web address ({_URL.search(text).group(0)!r})"))  # type: ignore[union-attr]
    if rules.script:
        share = script_share(text, rules.script, rules.required)
        if share is not None and share < SCRIPT_SHARE:
            out.append(("script", f"only {share:.0%} of its letters are {'/'.join(rules.script).title()}"))
    return out


def script_share(text: str, script: Sequence[str], exempt: Iterable[str] = ()) -> float | None:
    """The share of the letters of `text` (terms in `exempt` left out) whose Unicode names start with
    one of `script`; None when no letter is left."""
    for term in exempt:
        text = re.sub(re.escape(term), " ", text, flags=re.IGNORECASE)
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    hits = sum(1 for ch in letters if unicodedata.name(ch, "").startswith(tuple(script)))
    return hits / len(letters)


# -------------------------------------------------------------------------------------------- fit


_REFERENCE = datetime(2026, 1, 5, 12, tzinfo=UTC)
MAX_LAYOUT_CONTEXTS = 20_000
"""Most contexts decided to find the designs a copy key appears in; beyond it, one design per size."""


@dataclass
class SlotFit:
    """The designs (one per distinct design key) a slot's copy appears in for one copy key and locale,
    measured as lint measures them. Build with `SlotFit.find`; `problems(text)` lays a candidate out in
    each."""

    pack: Pack
    slot: str
    decisions: list[Decision]
    fonts: FontBook
    max_lines: int | None = None
    params: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def find(
        cls,
        pack: Pack,
        creative_id: str,
        slot: str,
        locale: str,
        vary: Mapping[str, str],
        fonts: FontBook,
        *,
        limit: int = MAX_LAYOUT_CONTEXTS,
    ) -> SlotFit:
        model = pack.model
        creative = model.creative(creative_id)
        spec = creative.copy_slots[slot].generate
        assert spec is not None
        key = copy_key(model.brand, slot, locale, spec, vary, model.voice)
        found: dict[str, Decision] = {}
        try:
            _, _, contexts = iter_contexts(model, creative_id, limit=limit)
        except TooManyVariants:
            contexts = iter(())
        for ctx in contexts:
            if any(
                attr != "lang" and vary_value(attr, s, _attr(ctx, attr)) != vary.get(attr)
                for attr, s in spec.vary_by.items()
            ):
                continue
            for size in creative.all_sizes:
                d = decide(model, creative_id, ctx, size=size, with_valid_until=False)
                ref = d.copy.get(slot)
                if d.locale == locale and ref is not None and ref.key == key:
                    found.setdefault(d.design_key, d)
        if not found:  # too many contexts, or none reached: the plain design at each size in the locale
            values = {a: v for a, v in vary.items() if a != "lang"}
            ctx = SyntheticContext(values, _REFERENCE, "UTC", locale)
            for size in creative.all_sizes:
                d = decide(model, creative_id, ctx, size=size, with_valid_until=False)
                found.setdefault(d.design_key, d)
        params = {
            name: max((str(v) for v in p.samples), key=len) if p.samples else p.default
            for name, p in creative.params.items()
            if p.samples or p.default is not None
        }
        return cls(pack, slot, list(found.values()), fonts, spec.max_lines, params)

    def problems(self, text: str) -> list[tuple[str, str]]:
        """(check, reason) for each design where `text` does not fit; empty when it fits in all."""
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for d in self.decisions:
            texts = {name: ref.default for name, ref in d.copy.items()}
            texts[self.slot] = text
            scene = Scene(self.pack, d, texts, self.params, 1.0, self.fonts)
            where = f"{d.size[0]}x{d.size[1]} {d.locale}"
            for layer, box, container in drawn_boxes(d.layers, scene):
                if not isinstance(layer, TextLayer | ButtonLayer) or not self._shows(layer):
                    continue
                fit = text_fit(layer, box, container, scene)
                if fit is None:
                    continue
                name = layer.id or f"{layer.type} layer"
                reason = None
                if not fit.fits:
                    reason = f"does not fit {name} at {where} (cut to {' '.join(fit.lines)!r})"
                elif not fit.inside:
                    reason = f"pushes {name} out of its container at {where}"
                elif self.max_lines is not None and fit.lines_at_smallest > self.max_lines:
                    reason = (
                        f"takes {fit.lines_at_smallest} lines in {name} at {where} at its smallest size "
                        f"{layer.size[0]}px, over max_lines {self.max_lines}"
                    )
                if reason and reason not in seen:
                    seen.add(reason)
                    out.append(("fit", reason))
        return out

    def _shows(self, layer: TextLayer | ButtonLayer) -> bool:
        if layer.slot is not None:
            return layer.slot == self.slot
        return bool(layer.text and re.search(rf"\b{re.escape(self.slot)}\b", layer.text))

    @property
    def sizes(self) -> list[str]:
        return sorted({f"{d.size[0]}x{d.size[1]}" for d in self.decisions})


def _attr(ctx: SyntheticContext, attr: str) -> object:
    try:
        return ctx.attribute(attr)
    except KeyError:
        return None


# ------------------------------------------------------------------------------------------ judge


Check = Callable[[str], list[tuple[str, str]]]


def judge(candidates: Iterable[str], checks: Sequence[Check]) -> tuple[str | None, list[Rejection]]:
    """The first candidate every check passes (None when none does) and the rejections before it, each
    with all its reasons. Candidates are stripped of surrounding space and quotes first."""
    rejections: list[Rejection] = []
    for raw in candidates:
        text = clean(raw)
        problems = list(itertools.chain.from_iterable(check(text) for check in checks))
        if not problems:
            return text, rejections
        rejections.extend(Rejection(text, check, reason) for check, reason in problems)
    return None, rejections


def clean(text: str) -> str:
    """A candidate without surrounding whitespace or one pair of surrounding quotation marks."""
    text = text.strip()
    for a, b in (('"', '"'), ("“", "”"), ("'", "'"), ("«", "»"), ("„", "“")):
        if len(text) >= 2 and text.startswith(a) and text.endswith(b):
            return text[1:-1].strip()
    return text


__all__ = ["SCRIPTS", "SlotFit", "TextRules", "clean", "judge", "script_share", "text_problems"]
