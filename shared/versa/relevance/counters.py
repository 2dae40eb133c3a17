"""Per-arm, per-segment counts of impressions and clicks: what the loop learns from.

Counts are kept apart for the holdout (the fixed, uniform slice used to measure lift honestly) and
for the optimized traffic; the optimizer learns from both, since an arm's click rate does not depend
on which slice showed it, while a report compares the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

Group = Literal["holdout", "optimized"]
GROUPS: tuple[Group, ...] = ("holdout", "optimized")


@dataclass(frozen=True)
class ArmCounts:
    """Impressions and clicks of one arm; clicks never exceed impressions."""

    impressions: int = 0
    clicks: int = 0

    def __post_init__(self) -> None:
        if self.impressions < 0 or self.clicks < 0:
            raise ValueError(f"counts must be >= 0, got impressions={self.impressions}, clicks={self.clicks}")
        if self.clicks > self.impressions:
            raise ValueError(f"clicks ({self.clicks}) exceed impressions ({self.impressions})")

    def __add__(self, other: ArmCounts) -> ArmCounts:
        return ArmCounts(self.impressions + other.impressions, self.clicks + other.clicks)

    @property
    def ctr(self) -> float:
        """Clicks per impression (0 with no impressions)."""
        return self.clicks / self.impressions if self.impressions else 0.0


CounterKey = tuple[str, str, Group]
"""(segment, arm, group)."""


class Counters:
    """A mutable tally keyed by (segment, arm, group); reads of an unseen key are zero counts.

    Clicks are credited to the arm shown (the click URL carries it), so a click may arrive for a
    segment whose impressions came through another path; the tally accepts that and `ArmCounts`
    only checks totals when read through `arm`/`segment`."""

    def __init__(self, counts: Mapping[CounterKey, tuple[int, int]] | None = None) -> None:
        self._impressions: dict[CounterKey, int] = {}
        self._clicks: dict[CounterKey, int] = {}
        for key, (impressions, clicks) in (counts or {}).items():
            self.add(*key, impressions=impressions, clicks=clicks)

    def add(self, segment: str, arm: str, group: Group = "optimized", *, impressions: int = 0, clicks: int = 0) -> None:
        """Add impressions and clicks (both >= 0) to one (segment, arm, group)."""
        if impressions < 0 or clicks < 0:
            raise ValueError(f"cannot add negative counts (impressions={impressions}, clicks={clicks})")
        if group not in GROUPS:
            raise ValueError(f"group {group!r}: allowed {', '.join(GROUPS)}")
        key = (segment, arm, group)
        if impressions:
            self._impressions[key] = self._impressions.get(key, 0) + impressions
        if clicks:
            self._clicks[key] = self._clicks.get(key, 0) + clicks

    def merge(self, other: Counters) -> None:
        """Add every count of `other` to this tally."""
        for key, impressions, clicks in other.items():
            self.add(*key, impressions=impressions, clicks=clicks)

    def items(self) -> Iterator[tuple[CounterKey, int, int]]:
        """Every key seen, sorted, with its impressions and clicks."""
        for key in sorted(set(self._impressions) | set(self._clicks)):
            yield key, self._impressions.get(key, 0), self._clicks.get(key, 0)

    def arm(self, segment: str, arm: str, groups: Iterable[Group] = GROUPS) -> ArmCounts:
        """One arm's counts in a segment, summed over `groups` (clicks capped at impressions: a click
        whose impression the sampled logs missed cannot make a rate above 1)."""
        impressions = sum(self._impressions.get((segment, arm, g), 0) for g in groups)
        clicks = sum(self._clicks.get((segment, arm, g), 0) for g in groups)
        return ArmCounts(impressions, min(clicks, impressions))

    def segment(self, segment: str, arms: Iterable[str], groups: Iterable[Group] = GROUPS) -> dict[str, ArmCounts]:
        """Every listed arm's counts in one segment (zero for arms never seen)."""
        groups = tuple(groups)
        return {arm: self.arm(segment, arm, groups) for arm in arms}

    def segments(self) -> list[str]:
        """Every segment seen, sorted."""
        return sorted({key[0] for key, _, _ in self.items()})

    def to_data(self) -> list[dict[str, object]]:
        """A JSON-ready list of {segment, arm, group, impressions, clicks}."""
        return [
            {"segment": s, "arm": a, "group": g, "impressions": i, "clicks": c} for (s, a, g), i, c in self.items()
        ]

    @classmethod
    def from_data(cls, rows: Iterable[Mapping[str, object]]) -> Counters:
        """The inverse of `to_data`."""
        out = cls()
        for row in rows:
            group = str(row.get("group", "optimized"))
            if group not in GROUPS:
                raise ValueError(f"group {group!r}: allowed {', '.join(GROUPS)}")
            out.add(
                str(row["segment"]),
                str(row["arm"]),
                group,
                impressions=int(row.get("impressions", 0)),  # type: ignore[call-overload]
                clicks=int(row.get("clicks", 0)),  # type: ignore[call-overload]
            )
        return out
