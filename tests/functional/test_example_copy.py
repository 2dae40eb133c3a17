"""northwind's segment-hero, generated end to end on the local OpenAI-compatible server: every segment and
locale first serves its defaults and queues a generation; the in-process worker asks the real OpenAI
writer (tests/openai_server.py answering from tests/fixtures/northwind_segment_hero_copy.json), guards
every candidate and stores the winner in SQLite; the next request serves the generated headline and
button, different per segment, each within its guardrails, in the image and the email HTML's alt text.
The served images are exactly the renders of the guarded copy, which tests/unit/goldens.py keeps for a
few segments and locales (tests/golden/segment-hero-*.png)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from PIL import Image

import example_copy as ex
from openai_server import running_openai_server
from versa.generate.guard import TextRules, text_problems
from versa.ports import CopyStatus
from versa.web.service import RenderService


@dataclass
class Run:
    service: RenderService
    generated: list[ex.Generated]
    requests: list[dict[str, Any]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with running_openai_server() as fake:
        service = ex.build(tmp_path_factory.mktemp("segment-hero"), fake)
        try:
            generated = list(ex.generate_all(service))
            yield Run(service, generated, fake.requests())
        finally:
            service.queue.close()  # type: ignore[attr-defined]


def test_every_segment_and_locale_serves_its_generated_headline_and_cta(run: Run) -> None:
    # GIVEN the pack's three segments and four locales, generated through the local server
    model = ex.pack().model
    creative = model.creative(ex.CREATIVE)
    assert len(run.generated) == len(ex.segments()) * len(ex.locales()) == 12
    for g in run.generated:
        for slot, item in g.items.items():
            spec = creative.copy_slots[slot].generate
            assert spec is not None
            # THEN what was stored is the model's, one of the server's candidates, and within every text guardrail
            assert item.status is CopyStatus.generated, f"{slot} {g.seg}/{g.locale}: {item.status} {item.reason}"
            assert item.meta["generated"] is True
            assert item.meta["model"] == ex.model_name()
            assert item.text in ex.answer(slot, g.seg, g.locale)["candidates"]
            assert text_problems(item.text, TextRules.of(spec, g.locale, model.voice)) == []
            assert spec.max_chars is not None and len(item.text) <= spec.max_chars
            # (the fit guardrail: the served image equals the render of this text, test below)
        # AND the first request stood in the defaults (short TTL); the next serves generated copy, new ETag
        assert g.before.headers.get("X-Versa-Copy") == "default" and "max-age=300," in g.before.headers["Cache-Control"]
        assert g.after.status == 200 and "X-Versa-Copy" not in g.after.headers
        assert g.after.headers["ETag"] != g.before.headers["ETag"]
        # AND the email HTML's alt text carries the generated headline and button
        page = run.service.page(ex.request(g.seg, g.locale, ext="html")).body.decode()
        alt = re.search(r'alt="([^"]*)"', page)
        assert alt is not None and unescape(alt.group(1)) == f"{g.text('headline')} — {g.text('cta')}"
    # AND the server was asked once per slot, segment and locale (each answer matched its prompt's segment and tone)
    assert len(run.requests) == 2 * 12


def test_the_copy_differs_per_segment_in_every_locale(run: Run) -> None:
    for locale in ex.locales():
        mine = [g for g in run.generated if g.locale == locale]
        for slot in ex.SLOTS:
            texts = [g.text(slot) for g in mine]
            assert len(set(texts)) == len(ex.segments()), f"{locale} {slot}: {texts}"
    # AND the segments' tones reached the writer: the prompts carry the pack's tone_by for each segment
    tones = ex.pack().model.creative(ex.CREATIVE).copy_slots["headline"].generate.tone_by["seg"]  # type: ignore[union-attr]
    prompts = [m["content"] for r in run.requests for m in r["messages"] if m["role"] == "user"]
    for seg, tone in tones.items():
        assert sum(f"seg={seg}." in p and f"Tone: {tone}." in p for p in prompts) == 2 * len(ex.locales())


def test_a_candidate_breaking_a_guardrail_is_rejected_and_the_next_wins(run: Run) -> None:
    # GIVEN the fixture's entries whose first candidate is written to break guardrails
    breaking = [a for a in ex.fixture()["answers"] if a.get("first_fails")]
    assert len(breaking) >= 4
    for a in breaking:
        g = next(g for g in run.generated if (g.seg, g.locale) == (a["seg"], a["locale"]))
        item = g.items[a["slot"]]
        # THEN the stored copy is the second candidate, and the first was rejected by exactly those checks
        assert item.text == a["candidates"][1]
        rejected = item.meta["rejections"]
        assert {r["text"] for r in rejected} == {a["candidates"][0]}
        assert sorted(r["check"] for r in rejected) == sorted(a["first_fails"])


@pytest.mark.parametrize("size", [(600, 300), (300, 250), (728, 90)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_served_images_are_the_renders_of_the_generated_copy(run: Run, size: tuple[int, int]) -> None:
    assert size in ex.sizes()
    for g in run.generated:
        # WHEN the creative is requested at that size after generation
        resp = run.service.image(ex.request(g.seg, g.locale, size=size))
        assert resp.status == 200 and "X-Versa-Copy" not in resp.headers
        # THEN its pixels are the render of the copy the guardrails let through (the goldens' drawing)
        with Image.open(io.BytesIO(resp.body)) as served:
            assert served.size == size
            assert served.convert("RGB").tobytes() == ex.guarded_render(g.seg, g.locale, size).tobytes(), (
                f"{g.seg}/{g.locale} at {size}"
            )
