"""Warming: every piece of copy a pack can ask for, what writing it all would cost, and what a warming
run came to. Pure apart from the CopyStore port its lease helpers are handed: no writer, queue or
clock of its own (`versa warm`, in `versa.cli.warm`, runs it).

The keys come from the exact variant enumeration (`versa.decide.variants.enumerate_variants`): each
distinct design carries the copy references a request for it would ask for, so warming asks for the
same `GenerationRequest`s the service would queue on a miss, deduplicated by generation key. Copy keys
do not depend on the size (a size cannot change the language, and the copy key names no size), so one
size of each creative is enumerated.

The estimate counts, per request, the prompt as the writer sends it (Versa's instructions and the
voice, then the rendered brief) and bounds the answer: the JSON `{"candidates": [...]}` with every
candidate as long as `max_chars` allows, written in the locale's own text (the slot's default,
repeated), so a script that takes more tokens per character is bounded as such. Tokens are counted by
a `TokenCounter`: tiktoken's encoding when the caller has one, else characters ÷ 4.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from versa.decide.keys import generation_key
from versa.decide.variants import MAX_COMBINATIONS, enumerate_variants
from versa.pack.model import Pack
from versa.ports import USABLE, CopyItem, CopyStatus, CopyStore, GenerationRequest, WriteRequest

CHARS_PER_TOKEN = 4
"""The documented estimate without a tokenizer: one token per four characters."""
UNBOUNDED_CHARS = 500
"""Characters a candidate is bounded by when its slot sets no `max_chars` (the largest `max_chars` a
pack may set)."""


# ------------------------------------------------------------------------------------------- keys


def generating_creatives(pack: Pack) -> list[str]:
    """The pack's creatives with at least one copy slot that generates, in pack order."""
    return [
        cid for cid, creative in pack.model.creatives.items()
        if any(slot.generate for slot in creative.copy_slots.values())
    ]


def warm_requests(
    pack: Pack, creative: str | None = None, *, model: str | None, limit: int = MAX_COMBINATIONS
) -> list[GenerationRequest]:
    """Every generation request the pack's creatives (or `creative`) can make under `model`: one per
    distinct generation key, in pack order (creative, then design, then slot). Raises UnknownCreative
    for a creative the pack does not have and TooManyVariants past `limit` combinations."""
    ids = [creative] if creative is not None else generating_creatives(pack)
    out: dict[str, GenerationRequest] = {}
    for cid in ids:
        spec = pack.model.creative(cid)
        report = enumerate_variants(pack.model, cid, limit=limit, sizes=spec.all_sizes[:1])
        for variant in report.variants:
            decision = variant.decision
            for ref in decision.copy.values():
                gen = spec.copy_slots[ref.slot].generate
                if ref.key is None or gen is None:
                    continue
                key = generation_key(ref.key, model)
                if key in out:
                    continue
                # exactly what the service queues for a miss (versa.web.service.RenderService._enqueue)
                out[key] = GenerationRequest(
                    key=key, brand=pack.brand, creative=cid, slot=ref.slot, locale=decision.locale,
                    brief=gen.brief, constraints=gen.model_dump(mode="json", exclude={"brief", "vary_by"}),
                    vary=dict(ref.vary), default=ref.default,
                )
    return list(out.values())


def visual_creatives(pack: Pack) -> list[str]:
    """The pack's creatives with at least one visual slot that generates, in pack order."""
    return [cid for cid, creative in pack.model.creatives.items()
            if any(visual.generate for visual in creative.visuals.values())]


def visual_requests(
    pack: Pack, creative: str | None = None, *, model: str | None, limit: int = MAX_COMBINATIONS
) -> list[GenerationRequest]:
    """Every visual generation request the pack's creatives (or `creative`) can make under `model`: one
    per distinct key. Visual keys name the aspect class, so every size is enumerated. Exactly what the
    service queues on a miss (`versa.web.service.RenderService._request`)."""
    ids = [creative] if creative is not None else visual_creatives(pack)
    out: dict[str, GenerationRequest] = {}
    for cid in ids:
        spec = pack.model.creative(cid)
        report = enumerate_variants(pack.model, cid, limit=limit, sizes=spec.all_sizes)
        for variant in report.variants:
            for ref in variant.decision.visuals.values():
                gen = spec.visuals[ref.slot].generate
                if ref.key is None or gen is None:
                    continue
                key = generation_key(ref.key, model)
                if key not in out:
                    out[key] = GenerationRequest(
                        key=key, brand=pack.brand, creative=cid, slot=ref.slot, locale=pack.model.default_locale,
                        brief=gen.brief, constraints=gen.model_dump(mode="json", exclude={"brief", "vary_by"}),
                        vary={k: v for k, v in ref.vary.items() if k != "aspect"}, default=ref.default,
                        kind="visual", aspect=ref.vary.get("aspect", ""),
                    )
    return list(out.values())


def price_key(model: str, aspect: str, quality: str) -> str:
    """How one image is named when the price table (`VERSA_VISUAL_PRICES`) lacks it: `MODEL/WxH/QUALITY`."""
    from versa.generate.visual import PAINT_SIZES

    w, h = PAINT_SIZES[aspect]
    return f"{model}/{w}x{h}/{quality}"


def visual_cost(
    requests: Iterable[GenerationRequest],
    price: Callable[[str, tuple[int, int], str], float | None],
    model: str | None,
) -> tuple[float | None, list[str]]:
    """The estimated cost of painting `requests` (one image each), `price(model, size, quality)` giving
    one image's price (the settings' table: `Settings.visual_price`), and the entries the table lacks,
    named `MODEL/WxH/QUALITY` (then the cost is None). Without a model (the offline painter) it costs
    nothing."""
    from versa.generate.visual import PAINT_SIZES

    if model is None:
        return 0.0, []
    total, missing = 0.0, []
    for request in requests:
        quality = str(request.constraints.get("quality", "medium"))
        one = price(model, PAINT_SIZES[request.aspect], quality)
        if one is not None:
            total += one
        else:
            name = price_key(model, request.aspect, quality)
            if name not in missing:
                missing.append(name)
    return (None if missing else total), missing


def breakdown(requests: Iterable[GenerationRequest]) -> dict[str, int]:
    """'creative.slot' -> how many keys, in first-seen order."""
    return dict(Counter(f"{r.creative}.{r.slot}" for r in requests))


# --------------------------------------------------------------------------------------- estimate


class TokenCounter(Protocol):
    """Counts the tokens of a text for one model's tokenizer (or estimates them)."""

    @property
    def name(self) -> str:
        """How tokens are counted, for people ("tiktoken o200k_base", "characters ÷ 4")."""
        ...

    def count(self, text: str) -> int: ...


class CharCounter:
    """The estimate without a tokenizer: characters ÷ 4, rounded up. Close for English; other
    languages and scripts take more tokens per character, so it says less than they cost."""

    name = f"characters ÷ {CHARS_PER_TOKEN}"

    def count(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Estimate:
    """Tokens a set of generations is expected to take: the prompts (counted) and a bound on the
    answers. `requests` is how many generations it covers."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.prompt_tokens + other.prompt_tokens,
                        self.completion_tokens + other.completion_tokens, self.requests + other.requests)


def longest_answer(write: WriteRequest) -> str:
    """The longest answer the guardrails could let through for `write`: `candidates` candidates of
    `max_chars` characters (UNBOUNDED_CHARS without one) in the locale's own text, as the JSON the
    writer asks for."""
    chars = write.max_chars or UNBOUNDED_CHARS
    sample = " ".join(write.default.split()) or "x"
    text = (sample + " ") * (chars // (len(sample) + 1) + 1)
    return json.dumps({"candidates": [text[:chars]] * write.candidates}, ensure_ascii=False)


def estimate(write: WriteRequest, counter: TokenCounter) -> Estimate:
    """The tokens of one generation: its prompt (system + brief) and the bound on its answer."""
    prompt = counter.count(write.system) + counter.count(write.prompt)
    return Estimate(prompt, counter.count(longest_answer(write)), 1)


@dataclass(frozen=True)
class Prices:
    """What a million prompt (`input`) and completion (`output`) tokens cost, in the caller's currency.
    None when not given: the cost is then unknown (Versa keeps no price table: models and prices change)."""

    input: float
    output: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


# ------------------------------------------------------------------------------------------ plan


SKIP_DONE = "already stored"
SKIP_REVIEW = "awaiting review"
SKIP_APPROVED = "approved"
SKIP_FINAL = "rejected by a reviewer (final for the key)"
SKIP_REJECTED = "rejected within the hour (pass --retry-rejected to ask again)"
SKIP_PENDING = "leased by another process or an interrupted run (asked again once the lease expires)"


@dataclass
class Plan:
    """The requests left to generate, and those skipped, by why."""

    todo: list[GenerationRequest] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    retake: dict[str, int] = field(default_factory=dict)
    """Keys whose failed generation is taken over (with --retry-rejected): key -> the stored version."""

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def skip_reason(item: CopyItem | None, now: datetime, *, retry_rejected: bool = False) -> str | None:
    """Why a key with `item` stored needs no generation now (None: it does). Usable copy, copy awaiting
    review or approved, a reviewer's rejection and a live lease are skipped; so is a failed
    generation within its hour, unless `retry_rejected`."""
    if item is None:
        return None
    if item.status is CopyStatus.review:
        return SKIP_REVIEW
    if item.status is CopyStatus.approved:
        return SKIP_APPROVED
    if item.status is CopyStatus.rejected and item.meta.get("decisions"):
        return SKIP_FINAL
    if item.expired(now):
        return None
    if item.status in USABLE and item.text is not None:
        return SKIP_DONE
    if item.status is CopyStatus.rejected:
        return None if retry_rejected else SKIP_REJECTED
    if item.status is CopyStatus.pending:
        return SKIP_PENDING
    return None


def plan(
    requests: Sequence[GenerationRequest], stored: Mapping[str, CopyItem | None], now: datetime, *,
    retry_rejected: bool = False,
) -> Plan:
    """What to generate of `requests`, given what is `stored` under their keys (see `skip_reason`)."""
    out = Plan()
    for request in requests:
        item = stored.get(request.key)
        why = skip_reason(item, now, retry_rejected=retry_rejected)
        if why is None:
            out.todo.append(request)
            if item is not None and item.status is CopyStatus.rejected and not item.expired(now):
                out.retake[request.key] = item.version
        else:
            out.skipped[why] = out.skipped.get(why, 0) + 1
    return out


# ---------------------------------------------------------------------------------------- leases


def take_lease(store: CopyStore, key: str, now: datetime, lease: timedelta, retake: dict[str, int]) -> str:
    """Lease `key` for a generation (a failed one being retaken with --retry-rejected: over its version).
    Returns "" when leased, else why the key is skipped."""
    if key in retake:
        item = CopyItem(key, CopyStatus.pending, version=retake[key] + 1, expires_at=now + lease)
        if store.put_result(item, expected_version=retake[key]):
            return ""
    elif store.lease(key, now=now, ttl=lease):
        return ""
    return skip_reason(store.get(key), now) or "written by another process meanwhile"


def release(store: CopyStore, key: str, now: datetime) -> None:
    """Let go of our lease on `key` (it expires now), so a resumed run or a miss may ask at once."""
    with contextlib.suppress(Exception):  # best effort: an unreleased lease expires on its own
        item = store.get(key)
        if item is not None and item.status is CopyStatus.pending:
            # a second back: stores keep expiry in whole seconds, rounded up
            gone = now - timedelta(seconds=1)
            store.put_result(replace(item, version=item.version + 1, expires_at=gone), expected_version=item.version)


# --------------------------------------------------------------------------------------- results


def failure_group(item: CopyItem) -> str:
    """A short reason a failed generation shares with others of its kind: the guardrails that
    rejected its candidates, the writer's failure, or the brief's problem."""
    reason = item.reason or "generation failed"
    if reason.startswith("no candidate passed"):
        checks = sorted({str(r.get("check")) for r in item.meta.get("rejections") or () if isinstance(r, Mapping)})
        return "guardrails: " + (", ".join(checks) if checks else "no candidate")
    if reason.startswith("image refused by the guardrails"):
        checks = sorted({str(r.get("check")) for r in item.meta.get("rejections") or () if isinstance(r, Mapping)})
        return "image guardrails: " + ", ".join(checks)
    if reason.startswith("text over the scene"):
        return "image guardrails: contrast"
    if reason.startswith("writer: "):
        return "writer: " + reason.removeprefix("writer: ").split(":", 1)[0]
    if reason.startswith("brief: "):
        detail = reason.removeprefix("brief: ")
        return "brief: stale key (the pack or model changed)" if " is stale" in detail else f"brief: {detail[:80]}"
    return reason[:80]


@dataclass
class Tally:
    """What a warming run came to: keys generated (model-written copy stored, or awaiting review),
    defaults stored (the offline writer), failures by reason, keys skipped by reason, keys not done
    (stopped, interrupted) and the tokens spent."""

    generated: int = 0
    defaults: int = 0
    scenes: int = 0
    """Visual scenes stored (awaiting review, or serving when the slot turns review off)."""
    enqueued: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add_written(self, item: CopyItem) -> None:
        """Count the stored outcome of one generation."""
        meta = item.meta
        self.prompt_tokens += _int(meta.get("prompt_tokens"))
        self.completion_tokens += _int(meta.get("completion_tokens"))
        if item.status is CopyStatus.rejected:
            group = failure_group(item)
            self.rejected[group] = self.rejected.get(group, 0) + 1
        elif meta.get("kind") == "visual":
            self.scenes += 1
        elif meta.get("generated"):
            self.generated += 1
        else:
            self.defaults += 1

    def add_skip(self, why: str, n: int = 1) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + n

    def add_error(self, why: str) -> None:
        self.errors[why] = self.errors.get(why, 0) + 1

    @property
    def done(self) -> int:
        """Keys this run finished (copy or a failure stored, or enqueued)."""
        return self.generated + self.defaults + self.scenes + self.enqueued + sum(self.rejected.values())


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = [
    "CHARS_PER_TOKEN",
    "CharCounter",
    "Estimate",
    "Plan",
    "Prices",
    "Tally",
    "TokenCounter",
    "breakdown",
    "estimate",
    "failure_group",
    "generating_creatives",
    "longest_answer",
    "plan",
    "price_key",
    "release",
    "skip_reason",
    "take_lease",
    "visual_cost",
    "visual_creatives",
    "visual_requests",
    "warm_requests",
]
