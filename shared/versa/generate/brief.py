"""The brief: what a copy writer is told for one slot and one audience. Pure.

A slot's `generate.brief` is a Jinja2 template run in the pack sandbox (`versa.pack.sandbox`). It sees
only the slot's `vary_by` values (each checked against the attribute's finite, declared value set:
bucket names, an enum parameter's values, the pack's locales and dayparts...), the locale, the tone the
pack maps from those values and the brand's voice. It never sees a request's own text or a merge value:
a value outside its declared set is refused here, whatever produced it, so a visitor cannot reach the
prompt. The instructions around the brief (JSON answer, candidate count, length, voice) are Versa's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, meta
from jinja2.exceptions import SecurityError

from versa.context.attributes import finite_values
from versa.errors import VersaError
from versa.pack.loader import BRIEF_NAMES
from versa.pack.model import Creative, GenerateSpec, PackModel, Voice
from versa.pack.sandbox import BoundedSandbox

MAX_BRIEF_CHARS = 4000
"""Longest rendered brief sent to a writer."""

_ENV = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_COMPILED: dict[str, Template] = {}


class BriefError(VersaError, ValueError):
    """A brief that cannot be written for these values: an unknown slot, a vary_by value outside its
    declared set, an open-ended attribute, or a template that fails."""


def vary_domain(model: PackModel, creative: Creative, attr: str, spec: Any) -> frozenset[str] | None:
    """Every value a vary_by attribute can give a brief ("" when the request did not carry it), or None
    when it is open-ended (`all` over country, time zone or a text parameter): those never reach a brief."""
    if isinstance(spec, dict):
        return frozenset(spec)
    values: tuple[Any, ...] | None
    if attr in creative.params:
        param = creative.params[attr]
        if param.type == "enum":
            values = tuple(param.values or ())
        elif param.type == "bool":
            values = (True, False)
        else:
            values = None
    else:
        values = finite_values(attr, locales=model.locales, dayparts=[d.name for d in model.dayparts])
    if values is None:
        return None
    return frozenset({"", *(str(v).casefold() for v in values)})


def checked_vary(model: PackModel, creative: Creative, slot: str, spec: GenerateSpec, vary: Mapping[str, str]) -> dict[str, str]:
    """`vary` when it names exactly the slot's vary_by attributes and each value lies in its declared
    set; else BriefError naming the attribute, the value (shortened) and what is allowed."""
    if set(vary) != set(spec.vary_by):
        raise BriefError(
            f"copy.{slot}: vary values name {sorted(vary)}, the slot varies by {sorted(spec.vary_by)}"
        )
    out = {}
    for attr, value in sorted(vary.items()):
        domain = vary_domain(model, creative, attr, spec.vary_by[attr])
        where = f"copy.{slot}.generate.vary_by.{attr}"
        if domain is None:
            raise BriefError(
                f"{where}: 'all' over the open-ended attribute {attr!r} cannot reach a brief; "
                "declare it an enum parameter or list buckets with an 'other': '*'"
            )
        if not isinstance(value, str) or value not in domain:
            shown = repr(value)[:40]
            raise BriefError(f"{where}: value {shown} is not one of {sorted(d for d in domain if d)}")
        out[attr] = value
    return out


def tone_for(spec: GenerateSpec, vary: Mapping[str, str]) -> str | None:
    """The tone the pack maps from the vary values: the first `tone_by` attribute whose value (or
    bucket) it lists, else the slot's `tone`."""
    for attr, tones in spec.tone_by.items():
        value = vary.get(attr)
        if value is not None and value in tones:
            return tones[value]
    return spec.tone


def brief_names(template: str) -> set[str]:
    """The names a brief template reads (raises jinja2's TemplateSyntaxError when it does not parse)."""
    return set(meta.find_undeclared_variables(_ENV.parse(template)))


def render_brief(spec: GenerateSpec, vary: Mapping[str, str], *, locale: str, voice: Voice | None) -> str:
    """The slot's brief rendered with the (checked) vary values, the locale, the tone and the voice."""
    unknown = brief_names(spec.brief) - set(vary) - BRIEF_NAMES
    if unknown:
        raise BriefError(
            f"brief reads {sorted(unknown)}; it may read only its vary_by attributes and {sorted(BRIEF_NAMES)}"
        )
    template = _COMPILED.get(spec.brief)
    if template is None:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        template = _COMPILED[spec.brief] = _ENV.from_string(spec.brief)
    values: dict[str, Any] = dict(vary)
    values.update(locale=locale, tone=tone_for(spec, vary) or "", voice=_voice_values(voice))
    try:
        text = template.render(values).strip()
    except (TemplateError, SecurityError) as exc:
        raise BriefError(f"brief: {exc}") from exc
    if not text:
        raise BriefError("brief renders to nothing")
    return text[:MAX_BRIEF_CHARS]


def _voice_values(voice: Voice | None) -> dict[str, Any]:
    v = voice or Voice()
    return {"description": v.description, "good": list(v.good), "bad": list(v.bad),
            "banned": list(v.banned), "required": list(v.required)}


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str


def build_prompt(
    *,
    brand: str,
    slot: str,
    locale: str,
    spec: GenerateSpec,
    vary: Mapping[str, str],
    voice: Voice | None,
    default: str,
) -> Prompt:
    """Versa's instructions and the voice (system), and the rendered brief with its audience, tone and
    the current default (user). Every value in it comes from the pack or a checked vary value."""
    tone = tone_for(spec, vary)
    banned = [*spec.banned, *(voice.banned if voice else [])]
    required = [*spec.required, *(voice.required if voice else [])]
    rules = [
        f"You write short advertising copy for the brand {brand!r}: the {slot!r} text of a creative.",
        f"Write in the language of the locale {locale!r}.",
        f'Answer with JSON only: {{"candidates": [...]}} holding {spec.candidates} different candidate(s), best first.',
        "Each candidate is plain text on one line: no quotation marks around it, no markup, no emoji.",
    ]
    if spec.max_chars:
        rules.append(f"Each candidate has at most {spec.max_chars} characters.")
    if spec.max_lines:
        rules.append(f"It must fit in {spec.max_lines} short line(s).")
    if not spec.allow_links:
        rules.append("No web addresses and no e-mail addresses.")
    if banned:
        rules.append("Never use these words: " + ", ".join(banned) + ".")
    if required:
        rules.append("Every candidate contains these terms exactly: " + ", ".join(required) + ".")
    if voice is not None:
        if voice.description:
            rules.append(f"The brand's voice: {voice.description}")
        if voice.good:
            rules.append("Copy in the brand's voice: " + " | ".join(voice.good))
        if voice.bad:
            rules.append("Copy the brand would never write: " + " | ".join(voice.bad))
    user = [render_brief(spec, vary, locale=locale, voice=voice)]
    if vary:
        user.append("Audience: " + ", ".join(f"{k}={v or 'unknown'}" for k, v in sorted(vary.items())) + ".")
    if tone:
        user.append(f"Tone: {tone}.")
    if default:
        user.append(f"The copy used until now: {default}")
    return Prompt("\n".join(rules), "\n".join(user))


__all__ = [
    "BRIEF_NAMES",
    "BriefError",
    "Prompt",
    "brief_names",
    "build_prompt",
    "checked_vary",
    "render_brief",
    "tone_for",
    "vary_domain",
]
