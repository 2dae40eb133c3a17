"""The embedded generation path: an in-process queue that hands requests to a copy writer at once and
stores what it writes. With the offline writer (no LLM configured) the copy is the slot's default.

The flow slice replaces the direct write below with `versa.generate.write.generate_copy` (brief,
guardrails) run by an in-process worker; until then this keeps the embedded default working.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from versa.ports import (
    CopyItem,
    CopyStatus,
    CopyStore,
    CopyWriter,
    Draft,
    GenerationQueue,
    GenerationRequest,
    WriteRequest,
)


class OfflineWriter(CopyWriter):
    """Answers each slot's default text, marked as not generated: generation without an LLM, so
    everything runs offline and deterministically."""

    model = None

    def write(self, request: WriteRequest) -> Draft:
        return Draft(candidates=(request.default,), generated=False, notes=("offline writer: the pack's default",))


class InProcessQueue(GenerationQueue):
    def __init__(self, store: CopyStore, writer: CopyWriter, *, ttl: timedelta = timedelta(days=7)) -> None:
        self.store = store
        self.writer = writer
        self.ttl = ttl

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        now = datetime.now(UTC)
        for request in requests:
            draft = self.writer.write(
                WriteRequest(key=request.key, system="", prompt=request.brief, locale=request.locale,
                             default=request.default)
            )
            self.store.put_result(
                CopyItem(request.key, CopyStatus.generated, text=draft.candidates[0], expires_at=now + self.ttl,
                         meta={"writer": type(self.writer).__name__, "slot": request.slot,
                               "generated": draft.generated})
            )
