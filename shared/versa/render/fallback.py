"""Fallback images drawn from a creative's default context, for creatives without a `fallback` file.

A fallback is what Versa serves (status 200) when a request cannot be answered with a render, and what
`versa publish` uploads for the CDN to fail over to. A pack author may give one (`fallback:
assets/x.png`); without one, the creative itself is drawn as a request without any signal would see
it — the first locale, the pack's zone, no parameters but their defaults, the slots' default copy —
once per declared size, as PNG. A countdown shows its `robust` text where it has one (it stays true
while the fallback is cached), else the timer as it stood when drawn.

`versa serve` draws them when it loads a pack (`with_drawn_fallbacks`) and `versa publish` when it
prepares a release; the Lambda never draws one on the request path.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

from versa.budget import run_with_deadline
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.errors import Issue, PackError, VersaError
from versa.pack.loader import PACK_FILE
from versa.pack.model import Pack, size_name
from versa.render.engine import Renderer

DRAW_BUDGET_SECONDS = 30.0
"""How long drawing every missing fallback of one pack may take before loading it fails."""


def fallback_name(creative_id: str, size: tuple[int, int]) -> str:
    """The key of a drawn fallback in `Pack.drawn_fallbacks`: `creative@WxH`."""
    return f"{creative_id}@{size_name(size)}"


def draw_fallback(pack: Pack, creative_id: str, size: tuple[int, int], *, renderer: Renderer, now: datetime) -> bytes:
    """The creative drawn at `size` from its default context, as PNG bytes. Raises RenderError (or
    another VersaError) when it cannot be drawn."""
    ctx = resolve({}, {}, now, context_options(pack.model, creative_id))
    decision = decide(pack.model, creative_id, ctx, size=size)
    texts = {name: ref.default for name, ref in decision.copy.items()}
    rendered = renderer.render(
        pack, decision, texts=texts, params=ctx.params, fmt="png", width=None, dpr=1.0,
        now=now, tz=ctx.tz, robust=True,
    )
    return rendered.body


def draw_missing_fallbacks(
    pack: Pack, *, renderer: Renderer, now: datetime, budget: float = DRAW_BUDGET_SECONDS
) -> dict[str, bytes]:
    """A PNG per size of every creative without a `fallback` file (see `fallback_name`), all drawn
    within `budget` seconds. Raises PackError naming the creative (and size) that could not be drawn."""
    out: dict[str, bytes] = {}
    deadline = time.monotonic() + budget
    for cid, creative in pack.model.creatives.items():
        if creative.fallback is not None:
            continue
        for size in creative.all_sizes:
            try:
                out[fallback_name(cid, size)] = run_with_deadline(
                    deadline, draw_fallback, pack, cid, size, renderer=renderer, now=now
                )
            except VersaError as exc:
                raise PackError(
                    [Issue(PACK_FILE, f"creatives.{cid}.fallback",
                           f"drawing the fallback at {size_name(size)} from the default context failed "
                           f"({exc}); fix the creative or give it a fallback image (fallback: assets/NAME.png)")],
                    pack=pack.brand,
                ) from None
    return out


def with_drawn_fallbacks(
    pack: Pack, *, renderer: Renderer, now: datetime, budget: float = DRAW_BUDGET_SECONDS
) -> Pack:
    """`pack` carrying the fallbacks drawn for its creatives without a `fallback` file (the same pack
    when every creative has one). Raises PackError as `draw_missing_fallbacks`."""
    drawn = draw_missing_fallbacks(pack, renderer=renderer, now=now, budget=budget)
    return replace(pack, drawn_fallbacks=drawn) if drawn else pack


__all__ = ["DRAW_BUDGET_SECONDS", "draw_fallback", "draw_missing_fallbacks", "fallback_name", "with_drawn_fallbacks"]
