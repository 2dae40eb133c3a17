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


__all__ = ["render_key"]
