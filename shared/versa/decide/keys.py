"""The render key: what makes the bytes of a response, hashed. Pure.

The design key (from `versa.rules.decide`) names what the rules resolved at one of the creative's
sizes (so it already differs per size; the size is named here as well, so the key says what it covers);
the render key adds the personal values, the copy text actually used, the output format/width/dpr, time-dependent render state
(a countdown's second) and the engine version, so a renderer or font change never hides behind a 304.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from versa.decide.rules import short_hash


def render_key(
    design_key: str,
    *,
    texts: Mapping[str, str],
    params: Mapping[str, Any],
    fmt: str,
    size: tuple[int, int],
    width: int,
    dpr: float,
    engine: str,
    state: Mapping[str, Any] | None = None,
) -> str:
    """A stable 16-hex-character key for the exact bytes a render would produce."""
    return short_hash(
        {
            "design": design_key,
            "texts": dict(texts),
            "params": {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()},
            "fmt": fmt,
            "size": list(size),
            "width": width,
            "dpr": round(dpr, 2),
            "engine": engine,
            "state": dict(state or {}),
        }
    )


def generation_key(copy_key: str, model: str | None) -> str:
    """The key generated copy is stored under: the slot's copy key (brief, constraints, voice, vary_by
    values; see `versa.decide.rules.copy_key`) with the model that writes it. No model (the offline
    writer) keeps the copy key itself, so the stores of a deployment without an LLM keep their keys; a
    model, or a new one, starts new copy instead of serving what another model wrote."""
    return copy_key if not model else short_hash({"copy": copy_key, "model": model})


def lineage_key(brand: str, creative: str, slot: str, locale: str, vary: Mapping[str, str]) -> str:
    """What links the generations of one slot for one audience (brand, creative, slot, locale and the
    vary_by values) across changes of brief, voice or model: approved copy of a lineage keeps serving
    until a successor in the same lineage is approved."""
    return short_hash(
        {"lineage": [brand, creative, slot, locale], "vary": {k: str(v) for k, v in sorted(vary.items())}}
    )


__all__ = ["generation_key", "lineage_key", "render_key"]
