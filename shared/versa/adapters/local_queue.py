"""The embedded generation path: an in-process queue that hands requests to a copy writer at once and
stores what it writes. With the offline writer (no LLM configured) the copy is the slot's default."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from versa.ports import CopyItem, CopyStatus, CopyStore, CopyWriter, GenerationQueue, GenerationRequest


class OfflineWriter(CopyWriter):
    """Writes each slot's default text: generation without an LLM, so everything runs offline."""

    def write(self, request: GenerationRequest) -> str:
        return request.default


class InProcessQueue(GenerationQueue):
    def __init__(self, store: CopyStore, writer: CopyWriter, *, ttl: timedelta = timedelta(days=7)) -> None:
        self.store = store
        self.writer = writer
        self.ttl = ttl

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        now = datetime.now(UTC)
        for request in requests:
            text = self.writer.write(request)
            self.store.put_result(
                CopyItem(request.key, CopyStatus.generated, text=text, expires_at=now + self.ttl,
                         meta={"writer": type(self.writer).__name__, "slot": request.slot})
            )
