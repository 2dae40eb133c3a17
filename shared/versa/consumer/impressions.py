"""The deployed impression counter: CloudFront real-time log records from Kinesis → impressions per
arm, segment and group in the relevance store.

Each Kinesis record holds one log line (the fields of `versa.relevance.impressions.REALTIME_FIELDS`,
in that order). A line that names a view of a creative image is replayed with the pure core
(`versa.relevance.replay`) to learn the arm each optimized rule showed; views are tallied for the
batch, scaled by the sampling rate (`impression_sampling_rate`), and added to the store once per
batch.

What is skipped, never retried: lines that are not views (bots, proxies, errors), that name no
creative image, or that the service itself would refuse (unknown brand or creative, a bad parameter,
a malformed line): retrying cannot change them. What fails a record, so Powertools reports it in
`batchItemFailures`: the pack store or the relevance store being unavailable. Kinesis then retries
from the first failed record of the shard, so records after it in that batch are counted again: the
counts are at least once, like the logs' delivery is best effort (see docs/RELEVANCE.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from versa.composition import build_packs, build_relevance
from versa.context.clients import classify_client
from versa.context.headers import CF_ASN, parse_asn
from versa.errors import PackError, ParamError, UnknownBrand, UnknownCreative, UnknownSize
from versa.pack.model import Pack
from versa.ports import PackStore
from versa.relevance.impressions import ImpressionTally, parse_record
from versa.relevance.replay import logged_request, optimized_rules_of, replay, snapshot_at
from versa.relevance.snapshot import AllocationSnapshot
from versa.relevance.store import RelevanceStore
from versa.settings import load_settings

logger = Logger(service="versa-impressions")
metrics = Metrics(namespace="Versa", service="versa-impressions")
processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)

SKIPPED_ERRORS = (UnknownBrand, UnknownCreative, UnknownSize, ParamError, PackError, ValueError)
"""Replay errors that mean the record names nothing countable; retrying cannot change them."""


class ImpressionCounter:
    """One batch's counting: packs and snapshots read once per brand and scope, views tallied, then
    `flush` adds the scaled counts to the store."""

    def __init__(self, packs: PackStore, store: RelevanceStore, *, rate: int, cookie_on: bool = False,
                 on_skip: Callable[[str], None] = lambda reason: None) -> None:
        self.packs = packs
        self.store = store
        self.tally = ImpressionTally(rate)
        self.cookie_on = cookie_on
        self.on_skip = on_skip
        self._packs: dict[str, Pack] = {}
        self._snapshots: dict[tuple[str, int | None], AllocationSnapshot | None] = {}
        self.counted = 0

    def _pack(self, brand: str) -> Pack:
        if brand not in self._packs:
            self._packs[brand] = self.packs.current(brand)
        return self._packs[brand]

    def _epoch(self, scope: str, epoch: int | None) -> AllocationSnapshot | None:
        """One epoch of a scope (None: the latest), read once per batch."""
        if (scope, epoch) not in self._snapshots:
            self._snapshots[(scope, epoch)] = self.store.snapshot(scope, epoch)
        return self._snapshots[(scope, epoch)]

    def _snapshot_at(self, when: datetime) -> Callable[[str], AllocationSnapshot | None]:
        return lambda scope: snapshot_at(self._epoch(scope, None), lambda n: self._epoch(scope, n), when)

    def line(self, line: str) -> int:
        """Tally one log line; the number of arms it counted (0 when skipped). Raises
        StoreUnavailable when a store cannot be read (the record is then retried)."""
        try:
            req = logged_request(parse_record(line))
        except ValueError as exc:
            self.on_skip(f"malformed: {exc}")
            return 0
        if req is None:
            self.on_skip("not a creative image")
            return 0
        client = classify_client(req.headers.get("user-agent"), parse_asn(req.headers.get(CF_ASN)))
        try:
            pack = self._pack(req.brand)
            if not optimized_rules_of(pack, req.creative):
                return 0  # nothing to learn for this creative: not even replayed
            _, shown = replay(pack, req, self._snapshot_at(req.now), cookie_on=self.cookie_on)
        except SKIPPED_ERRORS as exc:
            self.on_skip(f"refused: {exc}")
            return 0
        counted = 0
        for item in shown:
            counted += self.tally.add(item.scope, item.segment, item.arm, item.group, status=req.status, client=client)
        self.counted += counted
        return counted

    def flush(self) -> int:
        """Add the batch's scaled impressions to the store; the number of scopes written."""
        batch = self.tally.take()
        for scope, counts in batch.items():
            self.store.add(scope, counts)
        return len(batch)


_wired: tuple[PackStore, RelevanceStore, int, bool] | None = None


def _stores() -> tuple[PackStore, RelevanceStore, int, bool]:
    global _wired
    if _wired is None:
        current = load_settings()
        _wired = (build_packs(current), build_relevance(current), current.impression_sampling_rate,
                  current.visitor_cookie)
    return _wired


def handle(event: dict[str, Any], context: Any, counter: ImpressionCounter) -> dict[str, Any]:
    """Count a Kinesis event's records with `counter`; the partial batch response (failed records by
    sequence number). The store write happens once, after every record; if it fails the whole batch
    is retried."""

    def record_handler(record: KinesisStreamRecord) -> None:
        for line in record.kinesis.data_as_text().splitlines():
            if line.strip():
                counter.line(line)

    response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    counter.flush()
    return dict(response)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    packs, store, rate, cookie_on = _stores()
    skipped: dict[str, int] = {}

    def on_skip(reason: str) -> None:
        kind = reason.split(":", 1)[0]
        skipped[kind] = skipped.get(kind, 0) + 1
        if kind != "not a creative image":
            logger.debug("record skipped", extra={"reason": reason})

    counter = ImpressionCounter(packs, store, rate=rate, cookie_on=cookie_on, on_skip=on_skip)
    response = handle(event, context, counter)
    metrics.add_metric(name="ImpressionsCounted", unit=MetricUnit.Count, value=counter.counted)
    metrics.add_metric(name="ImpressionRecordsSkipped", unit=MetricUnit.Count, value=sum(skipped.values()))
    logger.info("batch counted", extra={"counted": counter.counted, "skipped": skipped,
                                        "failed": len(response.get("batchItemFailures", []))})
    return response
