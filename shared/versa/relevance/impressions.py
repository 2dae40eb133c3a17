"""Counting impressions from CloudFront real-time log records, honestly.

The render function sees only CDN misses, so views are counted from the edge's real-time logs: each
record is one viewer request (or, at a sampling rate under 100, one in `100 / rate` of them). The
consumer replays each record's decision with the pure core to learn the rule, segment and arm it
showed; this module holds what does not need the decision: reading a record, deciding whether it is a
view at all, and scaling sampled counts.

What counts as an impression: a successful image response (200, or 304 revalidating a copy the
viewer holds) to a client the classification calls a `browser`. Email image proxies, their
prefetchers (Apple Mail Privacy Protection fetches every image, read or not), bots and HTTP libraries
are left out; email learns from clicks per send instead (the send count comes from the email tool).
"""

from __future__ import annotations

from collections.abc import Sequence

from versa.context.clients import EmailClient
from versa.relevance.counters import Counters, Group

REALTIME_FIELDS: tuple[str, ...] = (
    "timestamp",
    "sc-status",
    "cs-uri-stem",
    "cs-uri-query",
    "c-country",
    "cs-user-agent",
    "asn",
    "cs-cookie",
    "x-edge-request-id",
)
"""The real-time log fields the impression consumer reads, in the order its log configuration lists
them (CloudFront writes each record's values tab-separated in that order, `-` for an empty one)."""

VIEW_STATUSES = frozenset({200, 304})


def parse_record(line: str, fields: Sequence[str] = REALTIME_FIELDS) -> dict[str, str | None]:
    """One real-time log record as {field: value}, `-` read as None. Raises ValueError naming the
    number of values found and expected."""
    values = line.rstrip("\n").split("\t")
    if len(values) != len(fields):
        raise ValueError(f"real-time log record has {len(values)} values, expected {len(fields)} ({', '.join(fields)})")
    return {name: None if value == "-" else value for name, value in zip(fields, values, strict=True)}


def is_view(status: int, client: EmailClient | str) -> bool:
    """Whether a logged response counts as an impression (see the module doc)."""
    return status in VIEW_STATUSES and EmailClient(client) is EmailClient.browser


class ImpressionTally:
    """Views of one batch of records, scaled by the sampling rate when taken out.

    `rate` is the log configuration's sampling rate, a whole percentage 1..100: each counted view stands
    for `100 / rate` views. Scaling happens per (scope, segment, arm, group) when the batch is taken,
    rounded to whole impressions, so a sparse key at a low rate is an estimate, not a count."""

    def __init__(self, rate: int) -> None:
        if not 1 <= rate <= 100:
            raise ValueError(f"sampling rate {rate}: allowed a whole percentage 1..100")
        self.rate = rate
        self._raw: dict[str, dict[tuple[str, str, Group], int]] = {}
        self.skipped = 0
        """Records that were not views (bots, proxies, errors)."""

    def add(self, scope: str, segment: str, arm: str, group: Group, *, status: int, client: EmailClient | str) -> bool:
        """Count one logged request if it is a view; True when it counted."""
        if not is_view(status, client):
            self.skipped += 1
            return False
        per_scope = self._raw.setdefault(scope, {})
        key = (segment, arm, group)
        per_scope[key] = per_scope.get(key, 0) + 1
        return True

    def take(self) -> dict[str, Counters]:
        """The batch's scaled impressions per scope (clicks are counted by `/click`, never sampled);
        the tally is empty afterwards."""
        out: dict[str, Counters] = {}
        for scope, raw in self._raw.items():
            counters = Counters()
            for (segment, arm, group), n in raw.items():
                counters.add(segment, arm, group, impressions=round(n * 100 / self.rate))
            out[scope] = counters
        self._raw = {}
        return out
