"""Copy generation requests to SQS (the deployed path); a generator function consumes the queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from versa.ports import GenerationQueue, GenerationRequest, StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsQueue(GenerationQueue):
    BATCH = 10

    def __init__(self, queue_url: str, *, client: SQSClient | None = None,
                 client_factory: Callable[[], SQSClient] | None = None) -> None:
        self.queue_url = queue_url
        self._client = client
        self._factory = client_factory

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            if self._factory is None:
                import boto3

                self._factory = lambda: boto3.client("sqs")
            self._client = self._factory()
        return self._client

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        for start in range(0, len(requests), self.BATCH):
            batch = requests[start : start + self.BATCH]
            entries: list[Any] = [
                {"Id": str(i), "MessageBody": json.dumps(asdict(r), ensure_ascii=False)} for i, r in enumerate(batch)
            ]
            try:
                result = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                raise StoreUnavailable(f"SQS send failed: {exc}") from exc
            if result.get("Failed"):
                raise StoreUnavailable(f"SQS refused {len(result['Failed'])} message(s)")
