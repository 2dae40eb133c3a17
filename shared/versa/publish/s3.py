"""Publishing packs to S3 (`versa publish`, `versa rollback`, `versa versions`).

A publish validates and lints the pack, uploads one deterministic, content-hashed bundle for its
version (once: a version is immutable), writes each creative's fallback image, in every format the
pack serves, where the CDN fails over to (see `PackLayout.fallback_key`), and only then flips the brand's pointer (recording the previous version) and invalidates the
brand's paths on the CDN. A pack that fails validation or lint is never uploaded; a failure at any step
before the flip leaves the pointer where it was. The flip is a conditional write on the pointer's ETag,
so two publishes racing on one brand cannot silently overwrite each other.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from versa.adapters.lazy_client import LazyClient
from versa.adapters.s3_packs import (
    NO_SUCH_KEY,
    PackLayout,
    Pointer,
    extract_bundle,
    load_bundle_dir,
)
from versa.errors import PackError, VersaError
from versa.pack.assets import open_image
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.render.checks import PACK_CHECKS

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_s3 import S3Client

PUBLISH_CONFIG = Config(
    connect_timeout=3,
    read_timeout=30,
    retries={"mode": "standard", "total_max_attempts": 4},
)
"""A tool, not the request path: patient, but still bounded."""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FallbackRenderer = Callable[[Pack, str], bytes]
"""`(pack, creative_id) -> PNG bytes`: draws a creative's fallback instead of copying its asset."""

_T = TypeVar("_T")


class PublishError(VersaError, RuntimeError):
    """A publish or rollback step failed; the message says which and where the pointer stands."""


class PublishConflict(PublishError):
    """The pointer moved while this publish ran (another publish or rollback won); nothing flipped."""


class UnknownVersion(VersaError, LookupError):
    def __init__(self, brand: str, version: str, known: list[str]) -> None:
        self.brand = brand
        self.version = version
        self.known = known
        hint = f" (known: {', '.join(known)})" if known else " (none published)"
        super().__init__(f"brand {brand!r} has no version {version!r}{hint}")


@dataclass(frozen=True)
class PublishResult:
    brand: str
    version: str
    previous: str | None
    uploaded: bool
    """False when this version's bundle was already in the bucket."""
    pointer_changed: bool
    """False when the pointer already named this version."""
    fallbacks: tuple[str, ...]
    invalidation_id: str | None


@dataclass(frozen=True)
class VersionInfo:
    version: str
    uploaded_at: datetime
    current: bool


def build_bundle(pack: Pack) -> bytes:
    """The pack's files as a tar.gz whose bytes depend only on the files' names and contents:
    members in the loader's order, zero mtimes, uid/gid 0, no owner names, fixed modes."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in pack.files:
            data = (pack.root / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def verify_bundle(data: bytes, pack: Pack) -> None:
    """Unpack the bundle as the store will and check it loads as the same version (so a file edited
    between loading and bundling cannot publish content under another version's name)."""
    with tempfile.TemporaryDirectory(prefix="versa-publish-") as tmp:
        extract_bundle(data, Path(tmp))
        load_bundle_dir(Path(tmp), brand=pack.brand, version=pack.version, checks=PACK_CHECKS)


def fallback_png(pack: Pack, creative_id: str, renderer: FallbackRenderer | None = None) -> bytes:
    """The creative's fallback image as PNG: drawn by `renderer`, else its fallback asset
    (converted when it is not a PNG)."""
    if renderer is not None:
        data = renderer(pack, creative_id)
        if not data.startswith(PNG_MAGIC):
            raise PublishError(f"fallback renderer returned no PNG for {pack.brand}/{creative_id}")
        return data
    data = pack.asset_path(pack.model.creative(creative_id).fallback).read_bytes()
    if data.startswith(PNG_MAGIC):
        return data
    out = io.BytesIO()
    open_image(data).save(out, format="PNG")
    return out.getvalue()


def fallback_images(
    pack: Pack, creative_id: str, renderer: FallbackRenderer | None = None
) -> dict[str, tuple[bytes, str]]:
    """What the CDN may fail over to for one creative: extension -> (bytes, content type), for every
    image format the pack serves, plus `auto` as PNG (every client can show it)."""
    from versa.render.encode import CONTENT_TYPES, avif_supported, encode

    png = fallback_png(pack, creative_id, renderer)
    out = {"png": (png, "image/png"), "auto": (png, "image/png")}
    image = open_image(png)
    for fmt in pack.model.render.formats:
        if fmt in ("png", "html") or (fmt == "avif" and not avif_supported()):
            continue
        out[fmt] = (encode(image, fmt, pack.model.render, fast=False), CONTENT_TYPES[fmt])
    return out


def check_publishable(pack_dir: Path | str) -> Pack:
    """Load and lint the pack; raise PackError listing every load or lint error."""
    from versa.authoring.lint import lint

    pack = load_pack(pack_dir, checks=PACK_CHECKS)
    errors = [issue for issue in lint(pack) if issue.severity == "error"]
    if errors:
        raise PackError(errors, pack=pack.brand)
    return pack


class Publisher:
    """Publishes, rolls back and lists pack versions in `bucket` under `prefix`.

    Clients are created on first use (`session`, PUBLISH_CONFIG) unless injected. With a
    `distribution_id`, each publish and rollback invalidates `/v1/{brand}/*` on that CloudFront
    distribution.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: S3Client | None = None,
        distribution_id: str | None = None,
        cloudfront_client: CloudFrontClient | None = None,
        session: boto3.session.Session | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bucket = bucket
        self.layout = PackLayout(prefix)
        self.distribution_id = distribution_id
        self._s3: LazyClient[S3Client] = LazyClient(
            "s3", client=client, session=session, config=PUBLISH_CONFIG
        )
        self._cloudfront: LazyClient[CloudFrontClient] = LazyClient(
            "cloudfront", client=cloudfront_client, session=session, config=PUBLISH_CONFIG
        )
        self._clock = clock

    @property
    def s3(self) -> S3Client:
        return self._s3.get()

    @property
    def cloudfront(self) -> CloudFrontClient:
        return self._cloudfront.get()

    def _aws(self, step: str, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise PublishError(f"{step} failed ({code}): {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"{step} failed: {exc}") from exc

    # --------------------------------------------------------------------------------- commands

    def publish(
        self, pack_dir: Path | str, *, fallback_renderer: FallbackRenderer | None = None
    ) -> PublishResult:
        """Validate, lint, upload and activate the pack in `pack_dir`. Raises PackError (nothing
        uploaded), PublishError or PublishConflict (the pointer unchanged unless the message says the
        flip happened)."""
        pack = check_publishable(pack_dir)
        bundle = build_bundle(pack)
        verify_bundle(bundle, pack)
        uploaded = self._upload_bundle(pack, bundle)
        return self._activate(pack, uploaded=uploaded, fallback_renderer=fallback_renderer)

    def rollback(
        self, brand: str, to_version: str, *, fallback_renderer: FallbackRenderer | None = None
    ) -> PublishResult:
        """Point `brand` back at a published version: its bundle must exist and load; its fallbacks
        are rewritten and the CDN invalidated as for a publish."""
        known = [info.version for info in self.versions(brand)]
        if to_version not in known:
            raise UnknownVersion(brand, to_version, known)
        key = self.layout.bundle_key(brand, to_version)
        data = self._aws(
            f"download {key}", lambda: self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        )
        with tempfile.TemporaryDirectory(prefix="versa-rollback-") as tmp:
            extract_bundle(data, Path(tmp))
            pack = load_bundle_dir(Path(tmp), brand=brand, version=to_version, checks=PACK_CHECKS)
            return self._activate(pack, uploaded=False, fallback_renderer=fallback_renderer)

    def versions(self, brand: str) -> list[VersionInfo]:
        """Every uploaded version of `brand`, oldest first, marking the one the pointer names."""
        current = self._read_pointer(brand)
        prefix = self.layout.brand_prefix(brand)
        found: list[VersionInfo] = []
        paginator = self.s3.get_paginator("list_objects_v2")

        def listing() -> list[Any]:
            return [
                obj
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                for obj in page.get("Contents", [])
            ]

        for obj in self._aws(f"list {prefix}", listing):
            version = self.layout.version_of(brand, obj["Key"])
            if version is not None:
                is_current = current is not None and current[0].version == version
                found.append(VersionInfo(version, obj["LastModified"], is_current))
        return sorted(found, key=lambda info: (info.uploaded_at, info.version))

    # ------------------------------------------------------------------------------------ steps

    def _upload_bundle(self, pack: Pack, bundle: bytes) -> bool:
        key = self.layout.bundle_key(pack.brand, pack.version)
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return False  # versions are immutable: the same content is already there
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) not in NO_SUCH_KEY:
                raise PublishError(f"checking {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"checking {key} failed: {exc}") from exc
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=bundle,
                ContentType="application/gzip",
                IfNoneMatch="*",
                Metadata={"brand": pack.brand, "version": pack.version},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                return False  # uploaded concurrently by another publish of the same content
            raise PublishError(f"uploading {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"uploading {key} failed: {exc}") from exc
        return True

    def _write_fallbacks(self, pack: Pack, renderer: FallbackRenderer | None) -> tuple[str, ...]:
        keys = []
        for creative_id, creative in pack.model.creatives.items():
            ttl = (creative.cache or pack.model.cache).fallback_ttl
            for ext, (body, content_type) in fallback_images(pack, creative_id, renderer).items():
                key = self.layout.fallback_key(pack.brand, creative_id, ext)
                self._put_fallback(key, body, content_type, max_age=ttl, version=pack.version)
                keys.append(key)
        return tuple(keys)

    def _put_fallback(self, key: str, body: bytes, content_type: str, *, max_age: int, version: str) -> None:
        self._aws(
            f"writing fallback {key}",
            lambda: self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                CacheControl=f"public, max-age={max_age}",
                Metadata={"version": version},
            ),
        )

    def _read_pointer(self, brand: str) -> tuple[Pointer, str] | None:
        key = self.layout.pointer_key(brand)
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
            return Pointer.from_json(response["Body"].read()), response["ETag"]
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in NO_SUCH_KEY:
                return None
            raise PublishError(f"reading {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"reading {key} failed: {exc}") from exc

    def _activate(
        self, pack: Pack, *, uploaded: bool, fallback_renderer: FallbackRenderer | None
    ) -> PublishResult:
        fallbacks = self._write_fallbacks(pack, fallback_renderer)
        brand, version = pack.brand, pack.version
        current = self._read_pointer(brand)
        previous = current[0].version if current else None
        changed = previous != version
        if changed:
            pointer = Pointer(version, self._clock().isoformat(timespec="seconds"), previous)
            self._flip(brand, pointer, current[1] if current else None)
        invalidation = self._invalidate(brand, version, flipped=changed)
        return PublishResult(brand, version, previous, uploaded, changed, fallbacks, invalidation)

    def _flip(self, brand: str, pointer: Pointer, etag: str | None) -> None:
        key = self.layout.pointer_key(brand)
        body, kind, cache = pointer.to_json(), "application/json", "no-cache"
        try:
            if etag:  # replace exactly the pointer we read
                self.s3.put_object(
                    Bucket=self.bucket, Key=key, Body=body, ContentType=kind, CacheControl=cache, IfMatch=etag
                )
            else:  # the brand's first publish: only if no pointer appeared meanwhile
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType=kind,
                    CacheControl=cache,
                    IfNoneMatch="*",
                )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise PublishConflict(
                    f"{key} changed while publishing {pointer.version}; nothing flipped"
                ) from exc
            raise PublishError(f"flipping {key} to {pointer.version} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"flipping {key} to {pointer.version} failed: {exc}") from exc

    def _invalidate(self, brand: str, version: str, *, flipped: bool) -> str | None:
        """Invalidate the brand's CDN paths (also when the pointer already pointed here, so re-running
        a publish whose invalidation failed completes it)."""
        if not self.distribution_id:
            return None
        distribution_id = self.distribution_id
        try:
            response = self.cloudfront.create_invalidation(
                DistributionId=distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": 1, "Items": [f"/v1/{brand}/*"]},
                    "CallerReference": f"versa-{brand}-{version}-{uuid.uuid4().hex}",
                },
            )
        except (ClientError, BotoCoreError) as exc:
            state = f"the pointer now names {version}" if flipped else "the pointer was unchanged"
            raise PublishError(
                f"invalidating /v1/{brand}/* failed ({state}; re-run to retry): {exc}"
            ) from exc
        return response["Invalidation"]["Id"]


__all__ = [
    "PUBLISH_CONFIG",
    "FallbackRenderer",
    "PublishConflict",
    "PublishError",
    "PublishResult",
    "Publisher",
    "UnknownVersion",
    "VersionInfo",
    "build_bundle",
    "check_publishable",
    "fallback_images",
    "fallback_png",
    "verify_bundle",
]
