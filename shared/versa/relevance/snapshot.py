"""The allocation snapshot the render path reads: per segment, which arm each visitor bucket shows,
until when, and under which epoch (the number a click URL or an email send pins).

`arm_for` is the one function the request path calls: a dictionary lookup, no randomness, so the
same (segment, bucket) gets the same arm for the whole epoch and the CDN can cache per bucket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from versa.relevance.buckets import BUCKETS
from versa.relevance.counters import Group

MAX_ARMS = 36
"""Arms a snapshot can hold: each bucket's arm is stored as one base-36 digit (its index in `arms`), so
a segment's table is 100 characters and a snapshot of thousands of segments fits one DynamoDB item."""
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

DEFAULT_SEGMENT = "*"
"""The table used for a segment the snapshot does not list yet (no counts so far): uniform."""


class SnapshotError(ValueError):
    """A snapshot document that is not one: names the field, the value and what is allowed."""


@dataclass(frozen=True)
class Assignment:
    """The arm one request shows, whether it fell in the holdout, and the epoch that decided it."""

    arm: str
    group: Group
    epoch: int


@dataclass(frozen=True)
class AllocationSnapshot:
    """One rule's allocation for one epoch: `tables[segment][bucket]` is an arm id for every bucket
    0..99 (the holdout's buckets show the same arm in every segment and every epoch)."""

    rule: str
    epoch: int
    valid_until: datetime
    arms: tuple[str, ...]
    holdout: frozenset[int]
    tables: Mapping[str, tuple[str, ...]] = field(repr=False)

    def __post_init__(self) -> None:
        if self.epoch < 0:
            raise SnapshotError(f"epoch {self.epoch}: allowed an integer >= 0")
        if self.valid_until.tzinfo is None:
            raise SnapshotError(f"valid_until {self.valid_until.isoformat()}: needs a UTC offset")
        if not 0 < len(self.arms) <= MAX_ARMS:
            raise SnapshotError(f"arms: {len(self.arms)} arms, allowed 1..{MAX_ARMS}")
        if DEFAULT_SEGMENT not in self.tables:
            raise SnapshotError(f"segments: the default table {DEFAULT_SEGMENT!r} is missing")
        bad = sorted(b for b in self.holdout if not 0 <= b < BUCKETS)
        if bad:
            raise SnapshotError(f"holdout buckets {bad}: allowed 0..{BUCKETS - 1}")
        for segment, table in self.tables.items():
            if len(table) != BUCKETS:
                raise SnapshotError(f"segments.{segment}: {len(table)} buckets, allowed exactly {BUCKETS}")
            unknown = sorted(set(table) - set(self.arms))
            if unknown:
                raise SnapshotError(f"segments.{segment}: arm(s) {unknown} not among arms {list(self.arms)}")

    def table(self, segment: str) -> tuple[str, ...]:
        """The bucket -> arm table of a segment (the default table for a segment not listed)."""
        return self.tables.get(segment) or self.tables[DEFAULT_SEGMENT]

    def shares(self, segment: str) -> dict[str, float]:
        """Each arm's share of the segment's traffic (holdout included), assuming uniform buckets."""
        table = self.table(segment)
        return {arm: table.count(arm) / BUCKETS for arm in self.arms}

    def to_data(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "epoch": self.epoch,
            "valid_until": self.valid_until.isoformat(),
            "arms": list(self.arms),
            "holdout": sorted(self.holdout),
            "segments": {seg: self._encode(table) for seg, table in sorted(self.tables.items())},
        }

    def _encode(self, table: tuple[str, ...]) -> str:
        index = {arm: _DIGITS[i] for i, arm in enumerate(self.arms)}
        return "".join(index[arm] for arm in table)

    @staticmethod
    def _decode(arms: tuple[str, ...], segment: str, text: Any) -> tuple[str, ...]:
        if not isinstance(text, str):
            raise SnapshotError(f"segments.{segment}: {type(text).__name__}, allowed a string of {BUCKETS} arm digits")
        try:
            return tuple(arms[_DIGITS.index(ch)] for ch in text)
        except (ValueError, IndexError):
            raise SnapshotError(
                f"segments.{segment}: {text!r} names an arm beyond the {len(arms)} listed (digits 0-9a-z)"
            ) from None

    def to_json(self) -> str:
        """The snapshot as compact, key-sorted JSON (what the allocation table stores)."""
        return json.dumps(self.to_data(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AllocationSnapshot:
        """The inverse of `to_data`; raises SnapshotError naming the field at fault."""
        try:
            arms = tuple(str(a) for a in data["arms"])
            return cls(
                rule=str(data["rule"]),
                epoch=int(data["epoch"]),
                valid_until=datetime.fromisoformat(str(data["valid_until"])),
                arms=arms,
                holdout=frozenset(int(b) for b in data["holdout"]),
                tables={str(s): cls._decode(arms, str(s), t) for s, t in dict(data["segments"]).items()},
            )
        except KeyError as exc:
            raise SnapshotError(f"allocation snapshot: field {exc.args[0]!r} is missing") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SnapshotError):
                raise
            raise SnapshotError(f"allocation snapshot: {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> AllocationSnapshot:
        return cls.from_data(json.loads(text))


def arm_for(snapshot: AllocationSnapshot, segment: str, bucket: int) -> Assignment:
    """The arm a visitor in `bucket` (0..99) of `segment` sees under `snapshot`, and whether that
    bucket is in the holdout. Raises ValueError for a bucket outside 0..99."""
    if not 0 <= bucket < BUCKETS:
        raise ValueError(f"bucket {bucket}: allowed 0..{BUCKETS - 1}")
    group: Group = "holdout" if bucket in snapshot.holdout else "optimized"
    return Assignment(snapshot.table(segment)[bucket], group, snapshot.epoch)
