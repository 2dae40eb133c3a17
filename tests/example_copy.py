"""northwind's `segment-hero` with generated copy, end to end: the pack's briefs for every segment and
locale go through the real OpenAI writer to the local OpenAI-compatible test server (tests/openai_server.py),
through the guardrails into a SQLite copy store, and the service renders what was stored.

The server is a test double: it answers each brief from tests/fixtures/northwind_segment_hero_copy.json
(hand-written test data, one entry per slot, locale and segment), matched on what the prompt says of the
slot, locale, segment and tone, so a brief that loses its segment or tone gets no answer at all.

Used by tests/functional/test_example_copy.py, tests/unit/goldens.py (the generated renders kept as
goldens) and scripts/generate_example_copy.py (every render written to a folder to look at).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from versa.composition import build_renderer, build_service
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.generate.guard import SlotFit, TextRules, judge, text_problems
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.render.scene import FontBook
from versa.settings import Settings
from versa.web.service import CreativeRequest

if TYPE_CHECKING:
    from openai_server import FakeOpenAI
    from versa.pack.model import Pack
    from versa.ports import CopyItem
    from versa.web.service import RenderService

ROOT = Path(__file__).resolve().parents[1]
PACKS = ROOT / "examples" / "packs"
FIXTURE = ROOT / "tests" / "fixtures" / "northwind_segment_hero_copy.json"
BRAND, CREATIVE = "northwind", "segment-hero"
SLOTS = ("headline", "cta")
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
"""A weekday afternoon in Chicago (the pack's zone); nothing in segment-hero depends on the time."""


@cache
def pack() -> Pack:
    return load_pack(PACKS / BRAND, checks=PACK_CHECKS)


def segments() -> tuple[str, ...]:
    """The values the creative declares for `seg`."""
    return tuple(str(v) for v in pack().model.creative(CREATIVE).params["seg"].values or ())


def locales() -> tuple[str, ...]:
    return tuple(pack().model.locales)


def sizes() -> tuple[tuple[int, int], ...]:
    return tuple(pack().model.creative(CREATIVE).all_sizes)


# --------------------------------------------------------------------------------- the test data


@cache
def fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def model_name() -> str:
    return str(fixture()["model"])


def answer(slot: str, seg: str, locale: str) -> dict[str, Any]:
    """The fixture's entry for one brief."""
    found = [a for a in fixture()["answers"] if (a["slot"], a["seg"], a["locale"]) == (slot, seg, locale)]
    assert len(found) == 1, f"{FIXTURE.name}: {len(found)} entries for {slot}/{seg}/{locale}, want one"
    return dict(found[0])


def by_prompt() -> list[dict[str, Any]]:
    """The server's script: each entry answers the prompt that names its slot, locale, segment and tone
    (the phrases `versa.generate.brief.build_prompt` writes)."""
    return [
        {
            "match": [f"the {a['slot']!r} text", f"the locale {a['locale']!r}", f"seg={a['seg']}", f"Tone: {a['tone']}."],
            "candidates": a["candidates"],
        }
        for a in fixture()["answers"]
    ]


def script(fake: FakeOpenAI) -> str:
    """Script the server with the fixture's answers; returns the model name to configure."""
    fake.script(model_name(), by_prompt=by_prompt())
    return model_name()


@cache
def guarded(slot: str, seg: str, locale: str) -> str | None:
    """The copy the guardrails let through for one brief, found in-process: the first of the fixture's
    candidates that passes the slot's text rules and fits every size (None when none does)."""
    p = pack()
    spec = p.model.creative(CREATIVE).copy_slots[slot].generate
    assert spec is not None
    rules = TextRules.of(spec, locale, p.model.voice)
    fit = SlotFit.find(p, CREATIVE, slot, locale, {"seg": seg}, FontBook())
    winner, _ = judge(answer(slot, seg, locale)["candidates"], [lambda t: text_problems(t, rules), fit.problems])
    return winner


# ----------------------------------------------------------------------------------- the flow


def settings(state_dir: Path, base_url: str, model: str) -> Settings:
    """The embedded default (directory packs, SQLite copy store, in-process worker) with the test server
    as the model; no signatures (the email tool's signing is not what this shows)."""
    return Settings(
        packs_dir=PACKS, state_dir=state_dir, require_signature=False, memo_items=0, copy_model=model,
        openai_base_url=base_url, openai_api_key="test-key", copy_attempts=1, copy_per_minute=1000,
    )


def request(seg: str, locale: str, *, size: tuple[int, int] | None = None, ext: str = "png",
            now: datetime = NOW) -> CreativeRequest:
    """What an email client fetches for a recipient in `seg` reading `locale` (both in the URL)."""
    at = "" if size is None else f"@{size[0]}x{size[1]}"
    query = {"seg": seg, "lang": locale}
    return CreativeRequest(BRAND, CREATIVE, ext, {}, query, now, path=f"/v1/{BRAND}/{CREATIVE}{at}.{ext}", size=size)


@dataclass(frozen=True)
class Generated:
    """One segment and locale after its generation: the responses before and after, and the stored copy."""

    seg: str
    locale: str
    before: Any
    after: Any
    items: dict[str, CopyItem]

    def text(self, slot: str) -> str:
        return str(self.items[slot].text)


def generate_all(service: RenderService) -> Iterator[Generated]:
    """Request every segment and locale (a miss: the defaults, and a queued generation), let the
    in-process worker write the copy, and request it again."""
    from versa.adapters.local_queue import InProcessQueue
    from versa.decide.keys import generation_key

    queue = service.queue
    assert isinstance(queue, InProcessQueue)
    firsts = {(seg, loc): service.image(request(seg, loc)) for seg in segments() for loc in locales()}
    assert queue.drain(), "the generation worker did not finish"
    for (seg, loc), before in firsts.items():
        after = service.image(request(seg, loc))
        decision = decide(pack().model, CREATIVE, _context(seg, loc))
        items = {}
        for slot in SLOTS:
            key = decision.copy[slot].key
            assert key is not None
            item = service.copy.get(generation_key(key, service.config.copy_model))
            assert item is not None, f"nothing stored for {slot} {seg} {loc}"
            items[slot] = item
        yield Generated(seg, loc, before, after, items)


def build(state_dir: Path, fake: FakeOpenAI) -> RenderService:
    """The composition with the test server scripted and configured as the model."""
    return build_service(settings(state_dir, fake.base_url, script(fake)))


# --------------------------------------------------------------------------------- rendering


def _context(seg: str, locale: str) -> Any:
    options = context_options(pack().model, CREATIVE, signed_names=frozenset({"seg", "lang"}))
    return resolve({}, {"seg": seg, "lang": locale}, NOW, options)


def render(seg: str, locale: str, size: tuple[int, int], texts: dict[str, str]) -> Image.Image:
    """segment-hero for `seg` in `locale` at `size` with `texts`, as the renderer serves it (PNG, 1x)."""
    ctx = _context(seg, locale)
    decision = decide(pack().model, CREATIVE, ctx, size=size)
    rendered = build_renderer(Settings(memo_items=0)).render(
        pack(), decision, texts=texts, params=ctx.params, fmt="png", width=None, dpr=1.0, now=NOW, tz=ctx.tz
    )
    with Image.open(io.BytesIO(rendered.body)) as image:
        return image.convert("RGB")


def guarded_render(seg: str, locale: str, size: tuple[int, int]) -> Image.Image:
    """The render with the copy the guardrails let through (a golden of the generated creative)."""
    texts = {slot: text for slot in SLOTS if (text := guarded(slot, seg, locale)) is not None}
    assert len(texts) == len(SLOTS), f"a slot of {seg}/{locale} has no passing candidate in {FIXTURE.name}"
    return render(seg, locale, size, texts)
