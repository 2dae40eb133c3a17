"""The request path's side of the loop: which arm each optimized rule of a creative shows to one request,
why none when none, what the click URL carries so a click is credited to the arm that was shown, and
the counts one impression or click adds.

Pure: snapshots come through `SnapshotReader` (the service hands it a cached reader of the relevance
store); no IO, no clock.

Click URL parameter `arm` (signed with the page): one `rule:arm_key:epoch:group` entry per optimized rule
the page showed an arm of, comma-separated, group `h` (holdout) or `o` (optimized). Email parameter `send`
(signed at send): pins the allocation epoch, either one number for every optimized rule of the creative
or `rule:epoch` entries, comma-separated; the image opened later and the click both read that epoch's
snapshot, so a send's arms do not change under it and learning happens between sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from versa.pack.model import Creative
from versa.relevance.counters import Counters, Group
from versa.relevance.rules import arm_id, arm_key, assignment_for, segment_key
from versa.relevance.snapshot import AllocationSnapshot
from versa.relevance.store import scope_of

ARM_PARAM = "arm"
"""The click URL's record of the arms a page showed (see the module doc)."""
SEND_PARAM = "send"
"""An email send's pinned allocation epoch (see the module doc)."""

SnapshotReader = Callable[[str, "int | None"], "AllocationSnapshot | None"]
"""`(scope, epoch or None for the latest) -> snapshot or None`; raises when the store cannot answer."""

NO_BUCKET = "no visitor bucket (vid absent or unusable): the rule's own set"
NO_STORE = "no allocation configured: the rule's own set"
NO_SNAPSHOT = "no allocation snapshot yet: the rule's own set"
STORE_DOWN = "allocation unavailable (store error): the rule's own set"
_GROUPS: dict[str, Group] = {"h": "holdout", "o": "optimized"}
_ENTRY_RE = re.compile(r"([a-z0-9][a-z0-9_-]{0,63}):([a-z0-9][a-z0-9_-]{0,63}~[0-9a-f]{8}):(\d{1,9}):([ho])")
_PIN_RE = re.compile(r"(?:([a-z0-9][a-z0-9_-]{0,63}):)?(\d{1,9})")


@dataclass(frozen=True)
class Shown:
    """One optimized rule's arm shown to one request: where it is counted and under which epoch."""

    rule: str
    scope: str
    segment: str
    arm: str
    """The arm key (`versa.relevance.rules.arm_key`)."""
    group: Group
    epoch: int


@dataclass(frozen=True)
class ArmChoice:
    """The arms a request shows (`shown`), why a matched optimized rule shows none (`reasons`), and
    when the earliest latest-epoch snapshot used ends (`valid_until`: the response must not be cached
    past it; None when only pinned epochs or none were used)."""

    shown: tuple[Shown, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    valid_until: datetime | None = None

    @property
    def arms(self) -> dict[str, str]:
        """`{rule_id: arm_id}`, what `decide(..., arms=...)` takes."""
        return {s.rule: arm_id(s.arm) for s in self.shown}

    def counts(self, *, impressions: int = 0, clicks: int = 0) -> dict[str, Counters]:
        """The counts this request adds, per store scope."""
        out: dict[str, Counters] = {}
        for s in self.shown:
            out.setdefault(s.scope, Counters()).add(s.segment, s.arm, s.group, impressions=impressions, clicks=clicks)
        return out

    def click_param(self) -> str:
        """The click URL's `arm` value ('' when no arm is shown)."""
        return ",".join(f"{s.rule}:{s.arm}:{s.epoch}:{s.group[0]}" for s in self.shown)


def pin_value(epochs: Mapping[str, int]) -> str:
    """The `send` value pinning each rule to its epoch (`rule:epoch`, comma-separated, sorted)."""
    return ",".join(f"{rule}:{epoch}" for rule, epoch in sorted(epochs.items()))


def parse_pins(text: str | None) -> dict[str, int] | int | None:
    """A `send` value as one epoch for every rule (int) or per rule ({rule: epoch}); None when absent.
    Raises ValueError naming the value and the allowed forms."""
    if not text:
        return None
    pins: dict[str, int] = {}
    for part in text.split(","):
        m = _PIN_RE.fullmatch(part.strip())
        if m is None:
            raise ValueError(f"send {text!r}: allowed an epoch number or rule:epoch entries separated by commas")
        if m.group(1) is None:
            if len(text.split(",")) > 1:
                raise ValueError(f"send {text!r}: a bare epoch cannot be mixed with rule:epoch entries")
            return int(m.group(2))
        pins[m.group(1)] = int(m.group(2))
    return pins


def choose_arms(
    brand: str,
    creative_id: str,
    creative: Creative,
    lookup: Callable[[str], Any],
    bucket: int | None,
    read: SnapshotReader | None,
    pins: Mapping[str, int] | int | None = None,
) -> ArmChoice:
    """For each optimized rule of the creative whose condition holds: the arm `bucket` shows under the
    rule's latest snapshot (or the epoch `pins` names), or the reason it shows none. A store error is a
    reason, never an exception: the request still gets the rule's own `set`."""
    shown: list[Shown] = []
    reasons: dict[str, str] = {}
    valid: datetime | None = None
    for rule in creative.rules:
        if rule.optimize is None or not rule.when.evaluate(lookup)[0]:
            continue
        if read is None:
            reasons[rule.id] = NO_STORE
            continue
        if bucket is None:
            reasons[rule.id] = NO_BUCKET
            continue
        pinned = pins if isinstance(pins, int) else (pins or {}).get(rule.id)
        scope = scope_of(brand, creative_id, rule.id)
        try:
            snapshot = read(scope, pinned)
        except Exception:
            reasons[rule.id] = STORE_DOWN
            continue
        if snapshot is None:
            reasons[rule.id] = NO_SNAPSHOT if pinned is None else f"no allocation snapshot of epoch {pinned}: the rule's own set"
            continue
        assignment = assignment_for(rule, snapshot, lookup, bucket)
        keys = {arm_key(rule, arm) for arm in rule.arms}
        if assignment is None or assignment.arm not in keys:
            reasons[rule.id] = f"epoch {snapshot.epoch} names an arm the pack no longer has: the rule's own set"
            continue
        shown.append(Shown(rule.id, scope, segment_key(rule, lookup), assignment.arm, assignment.group, assignment.epoch))
        if pinned is None:
            valid = snapshot.valid_until if valid is None else min(valid, snapshot.valid_until)
    return ArmChoice(tuple(shown), reasons, valid)


def clicked(brand: str, creative_id: str, creative: Creative, text: str, lookup: Callable[[str], Any]) -> ArmChoice:
    """The arms a click URL's `arm` value says were shown, kept only for optimized rules the creative
    still has with that arm key (a pack change since the page was rendered credits nothing). The
    segment is the click's own (same signed context as the page). Raises ValueError for a malformed value."""
    rules = {r.id: r for r in creative.rules if r.optimize is not None}
    shown = []
    for part in text.split(","):
        m = _ENTRY_RE.fullmatch(part.strip())
        if m is None:
            raise ValueError(f"{ARM_PARAM} {text!r}: allowed rule:arm~hash:epoch:h|o entries separated by commas")
        rule = rules.get(m.group(1))
        if rule is None or m.group(2) not in {arm_key(rule, arm) for arm in rule.arms}:
            continue
        shown.append(Shown(rule.id, scope_of(brand, creative_id, rule.id), segment_key(rule, lookup),
                           m.group(2), _GROUPS[m.group(4)], int(m.group(3))))
    return ArmChoice(tuple(shown))
