"""Generated images on S3: the AssetStore the deployed generator writes and the render function reads.

Objects live at `{prefix}generated/{brand}/{sha256}.{ext}` (the key `AssetStore.key_for` gives), each
written once: `PutObject` with `If-None-Match: *`, so the same bytes put again leave the stored object
(and its version) alone; S3 answers 412 and the put is done. They carry their media type and
`Cache-Control: public, max-age=31536000, immutable` (a content address never changes). A rejected
asset is tagged `versa-status=rejected`; the stack's lifecycle rule expires tagged objects (template.yaml),
until then it still reads. S3's failures and timeouts raise StoreUnavailable (`raise ... from`); a key
S3 does not have raises AssetMissing. The client is injected, or made on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from versa.adapters.lazy_client import LazyClient
from versa.ports import AssetMissing, AssetStore, StoreUnavailable

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3 import S3Client

DEFAULT_CONFIG = Config(connect_timeout=0.5, read_timeout=2.0, retries={"mode": "standard", "total_max_attempts": 2})
"""Bounded: a render that reads a generated image never waits on S3 for more than a few seconds."""

CACHE_CONTROL = "public, max-age=31536000, immutable"
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
REJECTED_TAG = ("versa-status", "rejected")
"""The tag a rejected asset carries; the bucket's lifecycle rule expires objects that have it."""
ALREADY_THERE = frozenset({"PreconditionFailed", "412"})
"""A conditional put that found the key: the same bytes are stored already."""
CONFLICT = frozenset({"ConditionalRequestConflict", "409"})
"""Another conditional put of the key is under way (the same bytes, by construction): retried once."""
NO_SUCH_KEY = frozenset({"NoSuchKey", "404", "NotFound"})


class S3AssetStore(AssetStore):
    """Generated images in `bucket` under `prefix` (see the module doc). `client` (an S3 client, say one
    pointed at moto) or `client_factory` or `session` give the client; else one is made on first use."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: S3Client | None = None,
        client_factory: Callable[[], S3Client] | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        self.bucket = bucket
        cleaned = prefix.strip("/")
        self.prefix = f"{cleaned}/" if cleaned else ""
        self._client: LazyClient[S3Client] = LazyClient(
            "s3", client=client, factory=client_factory, session=session, config=DEFAULT_CONFIG
        )

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def _put(self, key: str, data: bytes) -> None:
        ext = key.rsplit(".", 1)[-1]
        for attempt in (1, 2):
            try:
                self._client.get().put_object(
                    Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=MEDIA_TYPES[ext],
                    CacheControl=CACHE_CONTROL, IfNoneMatch="*",
                )
                return
            except ClientError as exc:
                code = _code(exc)
                if code in ALREADY_THERE:
                    return
                if code in CONFLICT and attempt == 1:
                    continue
                raise StoreUnavailable(f"{self.describe(key)} could not be written: {code}") from exc
            except BotoCoreError as exc:
                raise StoreUnavailable(f"{self.describe(key)} could not be written: {exc}") from exc

    def _get(self, key: str) -> bytes:
        try:
            found = self._client.get().get_object(Bucket=self.bucket, Key=self.prefix + key)
            return found["Body"].read()
        except ClientError as exc:
            if _code(exc) in NO_SUCH_KEY:
                raise AssetMissing(f"{self.describe(key)} does not exist") from exc
            raise StoreUnavailable(f"{self.describe(key)} could not be read: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"{self.describe(key)} could not be read: {exc}") from exc

    def _mark_rejected(self, key: str) -> None:
        """Tag the object rejected (its other tags are replaced: Versa sets no other). An object already
        gone (the lifecycle rule removed it) needs nothing more."""
        try:
            self._client.get().put_object_tagging(
                Bucket=self.bucket, Key=self.prefix + key,
                Tagging={"TagSet": [{"Key": REJECTED_TAG[0], "Value": REJECTED_TAG[1]}]},
            )
        except ClientError as exc:
            if _code(exc) in NO_SUCH_KEY:
                return
            raise StoreUnavailable(f"{self.describe(key)} could not be tagged rejected: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"{self.describe(key)} could not be tagged rejected: {exc}") from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


__all__ = ["CACHE_CONTROL", "REJECTED_TAG", "S3AssetStore"]
