"""Weight budgets: the most bytes one exported file may weigh, per channel or per creative.

Ad platforms refuse (or quietly penalise) heavy files: display ads are commonly held to 150 KB, an
email hero image to about 1 MB. A pack states its budgets in an optional `budgets:` block; `versa
export` warns about every file over its budget and marks it in the manifest. Without a block, the
IAB display sizes (300x250, 728x90, 160x600, …) get the `display` channel's 150 KB and other sizes
have no budget. Sizes are written as bytes (an integer) or with a unit: `150KB`, `1.5 MB` (a KB is
1,024 bytes, as ad specifications count them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

DISPLAY = "display"
DEFAULT_CHANNELS: Mapping[str, int] = {DISPLAY: 150 * 1024}
"""The channels every pack has unless it says otherwise: display ads at 150 KB."""

DISPLAY_SIZES: frozenset[tuple[int, int]] = frozenset({
    (300, 250), (336, 280), (728, 90), (970, 90), (970, 250), (160, 600), (120, 600), (300, 600),
    (300, 1050), (320, 50), (300, 50), (320, 100), (468, 60), (234, 60), (250, 250), (200, 200),
    (180, 150), (125, 125), (88, 31), (120, 240), (240, 400), (250, 360), (580, 400), (930, 180),
    (980, 120), (980, 90), (750, 100), (750, 200), (750, 300),
})
"""The IAB standard display ad sizes: a file at one of these sizes is a display ad unless its creative
is given another channel or weight."""

_UNITS = {"": 1, "B": 1, "KB": 1024, "KIB": 1024, "MB": 1024**2, "MIB": 1024**2}
_WEIGHT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def parse_weight(value: Any) -> int:
    """`150KB`, `1.5 MB`, `20000` (bytes) as a positive number of bytes; ValueError naming the value
    and the forms allowed."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a weight: write bytes (e.g. 153600) or 150KB, 1MB")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        match = _WEIGHT_RE.match(value) if isinstance(value, str) else None
        if match is None or match[2].upper() not in _UNITS:
            raise ValueError(f"{value!r} is not a weight: write bytes (e.g. 153600) or 150KB, 1MB (B, KB, MB)")
        number, unit = float(match[1]), match[2].upper()
    weight = int(number * _UNITS[unit])
    if weight < 1:
        raise ValueError(f"{value!r}: a weight budget must be at least 1 byte")
    return weight


def weight_name(weight: int) -> str:
    """A byte count as people read it: `150 KB`, `1.5 MB`, `812 B`."""
    if weight >= 1024**2:
        return f"{weight / 1024**2:.3g} MB"
    if weight >= 1024:
        return f"{weight / 1024:.4g} KB"
    return f"{weight} B"


Weight = Annotated[
    int,
    PlainValidator(parse_weight),
    PlainSerializer(int, return_type=int),
    WithJsonSchema({
        "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": _WEIGHT_RE.pattern}],
        "description": "bytes, or a number with a unit: 150KB, 1.5MB (KB = 1,024 bytes)",
    }),
]


class Budgets(BaseModel):
    """The pack's `budgets:` block: channel weights, and which channel (or weight) each creative has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: dict[str, Weight] = Field(
        default_factory=dict,
        description="Channel name -> the most one exported file may weigh, e.g. {display: 150KB, email: 1MB}; "
        "`display` (150 KB unless given here) applies to IAB display sizes of creatives not listed below.",
    )
    creatives: dict[str, str | int] = Field(
        default_factory=dict,
        description="Creative id -> a channel of `channels` (or `display`), or its own weight (e.g. 200KB).",
    )

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, channels: dict[str, int]) -> dict[str, int]:
        for name in channels:
            if not _CHANNEL_RE.match(name):
                raise ValueError(f"channel {name!r}: use lower-case letters, digits, - and _ (e.g. display)")
        return channels

    @field_validator("creatives")
    @classmethod
    def _creative_budgets(cls, creatives: dict[str, str | int], info: ValidationInfo) -> dict[str, str | int]:
        channels = {**DEFAULT_CHANNELS, **info.data.get("channels", {})}
        out: dict[str, str | int] = {}
        for cid, value in creatives.items():
            if isinstance(value, str) and value in channels:
                out[cid] = value
                continue
            try:
                out[cid] = parse_weight(value)
            except ValueError:
                raise ValueError(
                    f"{cid}: {value!r} is neither a channel ({', '.join(channels)}) nor a weight like 150KB"
                ) from None
        return out

    def all_channels(self) -> dict[str, int]:
        """Every channel's weight: the defaults (display) with the pack's on top."""
        return {**DEFAULT_CHANNELS, **self.channels}

    def budget_for(self, creative_id: str, size: tuple[int, int]) -> tuple[str, int] | None:
        """(channel, bytes) a file of `creative_id` at `size` must stay within, or None: the creative's
        own entry (a channel, or a weight: then the channel is the creative's id), else `display` for
        the IAB display sizes."""
        value = self.creatives.get(creative_id)
        if isinstance(value, str):
            return value, self.all_channels()[value]
        if value is not None:
            return creative_id, value
        if size in DISPLAY_SIZES:
            return DISPLAY, self.all_channels()[DISPLAY]
        return None


__all__ = [
    "DEFAULT_CHANNELS",
    "DISPLAY",
    "DISPLAY_SIZES",
    "Budgets",
    "Weight",
    "parse_weight",
    "weight_name",
]
