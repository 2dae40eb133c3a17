"""Writing one slot's copy: check the request against the current pack, build the brief, ask the
writer, guard every candidate, and say what came of it. Pure apart from the writer it is handed.

`generate_copy` is what a generation worker (in-process locally, the SQS consumer when deployed) calls
for each `GenerationRequest`, then stores `Outcome.text` with `Outcome.meta()`; it never raises for a
bad answer (that is an outcome with `failure`), only `WriterUnavailable` when no request can be
written as configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from versa.decide.keys import generation_key, lineage_key
from versa.decide.rules import copy_key, default_text
from versa.errors import UnknownCreative
from versa.generate.brief import BriefError, build_prompt, checked_vary
from versa.generate.guard import SlotFit, TextRules, judge, text_problems
from versa.pack.model import Pack
from versa.ports import CopyWriter, Draft, GenerationRequest, Rejection, WriteFailed, WriteRequest
from versa.render.scene import FontBook


@dataclass(frozen=True)
class Outcome:
    """What a generation came to. `text` is the copy to store: the first passing candidate, else the
    slot's default (`passed` False, `failure` says why). `generated` is True only for model-written
    copy that passed."""

    key: str
    lineage: str
    text: str
    passed: bool
    generated: bool
    failure: str | None = None
    rejections: tuple[Rejection, ...] = ()
    draft: Draft | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def tokens(self) -> int:
        return self.draft.tokens if self.draft else 0

    def meta(self) -> dict[str, Any]:
        """What a copy store keeps beside the text (JSON-ready): lineage, writer, model, tokens, whether
        it was generated, and each rejection with its reason."""
        d = self.draft
        return {
            "lineage": self.lineage,
            "generated": self.generated,
            "passed": self.passed,
            "failure": self.failure,
            "model": d.model if d else None,
            "prompt_tokens": d.prompt_tokens if d else 0,
            "completion_tokens": d.completion_tokens if d else 0,
            "rejections": [r.to_json() for r in self.rejections],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Prepared:
    """A request checked against the pack: what to ask the writer, and what guards its answer."""

    write: WriteRequest
    lineage: str
    rules: TextRules
    fit: Callable[[], SlotFit]


def prepare(pack: Pack, request: GenerationRequest, *, model: str | None, fonts: FontBook) -> Prepared:
    """The write request for `request` under the current pack. Raises BriefError when the pack no
    longer has the slot, a vary value lies outside its declared set, or the request's key is not the
    one the pack and `model` give now (the brief, voice or model changed since it was queued)."""
    try:
        creative = pack.model.creative(request.creative)
    except UnknownCreative as exc:
        raise BriefError(str(exc)) from None
    slot = creative.copy_slots.get(request.slot)
    if slot is None or slot.generate is None:
        raise BriefError(f"{request.creative}: copy slot {request.slot!r} does not generate")
    spec = slot.generate
    if request.locale not in pack.model.locales:
        raise BriefError(f"locale {request.locale!r} is not one of {pack.model.locales}")
    vary = checked_vary(pack.model, creative, request.slot, spec, request.vary)
    voice = pack.model.voice
    expected = generation_key(copy_key(pack.brand, request.slot, request.locale, spec, vary, voice), model)
    if request.key != expected:
        raise BriefError(f"key {request.key} is stale: the pack and model give {expected} for this slot now")
    default = default_text(slot.default, request.locale, pack.model.default_locale)
    prompt = build_prompt(
        brand=pack.brand, slot=request.slot, locale=request.locale, spec=spec, vary=vary, voice=voice,
        default=default,
    )
    write = WriteRequest(
        key=request.key, system=prompt.system, prompt=prompt.user, locale=request.locale, default=default,
        candidates=spec.candidates, max_chars=spec.max_chars, temperature=spec.temperature,
    )
    cached: list[SlotFit] = []

    def fit() -> SlotFit:
        if not cached:
            cached.append(SlotFit.find(pack, request.creative, request.slot, request.locale, vary, fonts))
        return cached[0]

    return Prepared(
        write, lineage_key(pack.brand, request.creative, request.slot, request.locale, vary),
        TextRules.of(spec, request.locale, voice), fit,
    )


def generate_copy(pack: Pack, request: GenerationRequest, writer: CopyWriter, *, fonts: FontBook) -> Outcome:
    """Write, guard and choose the copy for `request` (see the module doc). Raises WriterUnavailable."""
    lineage = lineage_key(pack.brand, request.creative, request.slot, request.locale, request.vary)
    try:
        prepared = prepare(pack, request, model=writer.model, fonts=fonts)
    except BriefError as exc:
        return Outcome(request.key, lineage, _default(pack, request), False, False, f"brief: {exc}")
    default = prepared.write.default
    try:
        draft = writer.write(prepared.write)
    except WriteFailed as exc:
        spent = Draft((), True, writer.model, exc.prompt_tokens, exc.completion_tokens)
        return Outcome(request.key, prepared.lineage, default, False, False, f"writer: {exc}", draft=spent)
    if not draft.generated:  # the offline writer: the default as it is, not guarded, not generated
        return Outcome(request.key, prepared.lineage, draft.candidates[0] if draft.candidates else default,
                       True, False, None, draft.rejections, draft, draft.notes)
    rules = prepared.rules

    def text(candidate: str) -> list[tuple[str, str]]:
        return text_problems(candidate, rules)

    def fits(candidate: str) -> list[tuple[str, str]]:
        return prepared.fit().problems(candidate) if candidate.strip() else []

    winner, rejections = judge(draft.candidates, [text, fits])
    rejected = (*draft.rejections, *rejections)
    if winner is None:
        failure = f"no candidate passed the guardrails ({len(draft.candidates)} tried)"
        return Outcome(request.key, prepared.lineage, default, False, False, failure, rejected, draft, draft.notes)
    return Outcome(request.key, prepared.lineage, winner, True, True, None, rejected, draft, draft.notes)


def _default(pack: Pack, request: GenerationRequest) -> str:
    """The slot's default in the request's locale, from the pack when it still has the slot."""
    creative = pack.model.creatives.get(request.creative)
    slot = creative.copy_slots.get(request.slot) if creative else None
    return default_text(slot.default, request.locale, pack.model.default_locale) if slot else request.default


__all__ = ["Outcome", "Prepared", "generate_copy", "prepare"]
