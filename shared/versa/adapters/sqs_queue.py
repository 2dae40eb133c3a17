"""Copy generation requests to SQS (the deployed path); a generator function consumes the queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from versa.adapters.lazy_client import LazyClient
from versa.ports import GenerationQueue, GenerationRequest, StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def _default_client() -> SQSClient:
    import boto3

    return boto3.client("sqs")


class SqsQueue(GenerationQueue):
    """GenerationQueue on the SQS queue at `queue_url`, in batches of `BATCH` messages (one JSON
    `GenerationRequest` each). The client is `client` if given, else made on first use by
    `client_factory`, else by `boto3.client("sqs")`."""

    BATCH = 10

    def __init__(self, queue_url: str, *, client: SQSClient | None = None,
                 client_factory: Callable[[], SQSClient] | None = None) -> None:
        self.queue_url = queue_url
        self._client: LazyClient[SQSClient] = LazyClient(
            "sqs", client=client, factory=client_factory or _default_client
        )

    @property
    def client(self) -> SQSClient:
        return self._client.get()

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
