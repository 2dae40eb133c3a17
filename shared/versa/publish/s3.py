"""Publishing packs to S3 (`versa publish`, `versa rollback`, `versa versions`, `versa publish --repair`).

A publish validates and lints the pack, builds its bundle (`versa.pack.bundle`: regular files only)
and draws every fallback image before touching S3. Then, holding the brand's lock
(`versa.publish.lock`), it uploads the bundle (once: a version is immutable), writes each creative's
fallback images where the CDN fails over to (`PackLayout.fallback_key`, in every format the pack
serves), flips the brand's pointer last (a conditional write on the ETag it read under the lock),
deletes fallbacks the new version no longer has, invalidates the brand's CDN paths and releases the
lock with the journal marked complete.

Two publishes of one brand never interleave: the second waits for the lock (or fails with
PublishBusy). A publish that fails at any step leaves the pointer where it was (or, after the flip,
on the new version) and the journal saying which steps completed; the fallbacks may then disagree with
the pointer until the next publish or `repair()` rewrites them from the pointer's version. A rollback
is the same operation towards a version already in the bucket. docs/PUBLISHING.md describes the
window a viewer can see.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from versa.adapters.lazy_client import LazyClient
from versa.adapters.s3_packs import NO_SUCH_KEY, PackLayout, Pointer
from versa.errors import PackError
from versa.pack.assets import open_image
from versa.pack.bundle import build_bundle, open_bundle
from versa.pack.loader import load_pack
from versa.pack.model import Pack, PackModel
from versa.publish.errors import LockLost, PublishBusy, PublishConflict, PublishError, UnknownVersion
from versa.publish.lock import CONDITION_FAILED, DEFAULT_LOCK_TTL, BrandLock, Journal
from versa.render.checks import PACK_CHECKS

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_s3 import S3Client

    from versa.render.engine import Renderer

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
    repaired: bool = False
    """True when the brand's last operation had not completed (its fallbacks could disagree with the
    pointer) and this one brought them back in line."""
    pruned: tuple[str, ...] = ()
    """Fallback keys deleted because the version now current has no such creative or format."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    uploaded_at: datetime
    current: bool


@dataclass(frozen=True)
class FallbackImage:
    """One object the CDN may fail over to: `fallbacks/v1/{brand}/{creative}.{ext}`, where `creative`
    is a creative id, or `{creative}@{W}x{H}` for each of its sizes (the first size also plain)."""

    creative: str
    ext: str
    body: bytes
    content_type: str
    max_age: int


BeforeFlip = Callable[[PackModel | None, "Release"], None]
"""Called by a publish under the brand's lock before anything is written: the published version's
model (None when there is none) and the release about to replace it."""


@dataclass(frozen=True)
class Release:
    """Everything a publish writes, prepared before it takes the lock: the checked pack's brand and
    version, its bundle and its fallback images."""

    brand: str
    version: str
    bundle: bytes
    fallbacks: tuple[FallbackImage, ...]
    model: PackModel | None = field(default=None, compare=False)
    """The checked pack's model (what `before_flip` compares with the published one)."""


@dataclass(frozen=True)
class PublishStatus:
    """Where a brand stands: its pointer's version and its journal (the last operation)."""

    brand: str
    version: str | None
    journal: Journal | None

    @property
    def repair_due(self) -> bool:
        """The fallbacks may disagree with the pointer (`versa publish --repair` brings them back)."""
        if self.version is None:
            return self.journal is not None and self.journal.state != "complete"
        return self.journal is None or self.journal.repair_due(self.version)


def verify_bundle(data: bytes, pack: Pack) -> None:
    """Unpack the bundle as the store will and check it loads as the same version (so a file edited
    between loading and bundling cannot publish content under another version's name)."""
    with tempfile.TemporaryDirectory(prefix="versa-publish-") as tmp:
        open_bundle(data, Path(tmp), brand=pack.brand, version=pack.version, checks=PACK_CHECKS)


def _drawing_renderer() -> Renderer:
    """A renderer for drawing fallbacks at publish time: the default bounds, nothing memoized."""
    from versa.render.engine import Renderer
    from versa.settings import Settings

    defaults = Settings.model_construct()  # the declared defaults; the environment is not read
    return Renderer(memo_size=0, memo_bytes=0, max_output_bytes=defaults.max_output_bytes,
                    max_work=defaults.max_render_work)


def drawn_fallbacks(pack: Pack, *, now: datetime | None = None) -> dict[str, bytes]:
    """PNG fallbacks drawn from the default context, by `creative@WxH`, for each size of every creative
    that gives no `fallback` file (`versa.render.fallback`). Raises PackError naming the creative."""
    if all(c.fallback is not None for c in pack.model.creatives.values()):
        return {}
    from versa.render.fallback import draw_missing_fallbacks

    return draw_missing_fallbacks(pack, renderer=_drawing_renderer(), now=now or datetime.now(UTC))


def fallback_png(pack: Pack, creative_id: str, renderer: FallbackRenderer | None = None) -> bytes:
    """The creative's fallback image as PNG: drawn by `renderer`, else its fallback asset
    (converted when it is not a PNG), else (no `fallback` file) drawn from its default context at
    its first size."""
    if renderer is not None:
        data = renderer(pack, creative_id)
        if not data.startswith(PNG_MAGIC):
            raise PublishError(f"fallback renderer returned no PNG for {pack.brand}/{creative_id}")
        return data
    creative = pack.model.creative(creative_id)
    if creative.fallback is None:
        from versa.render.fallback import draw_fallback

        return draw_fallback(pack, creative_id, creative.size, renderer=_drawing_renderer(), now=datetime.now(UTC))
    data = pack.asset_path(creative.fallback).read_bytes()
    if data.startswith(PNG_MAGIC):
        return data
    out = io.BytesIO()
    open_image(data).save(out, format="PNG")
    return out.getvalue()


def fallback_images(
    pack: Pack, creative_id: str, renderer: FallbackRenderer | None = None, *, png: bytes | None = None
) -> dict[str, tuple[bytes, str]]:
    """What the CDN may fail over to for one creative: extension -> (bytes, content type), for every
    image format the pack serves, plus `auto` as PNG (every client can show it). `png`: the image to
    encode (a size's fallback), else the creative's fallback."""
    from versa.render.encode import CONTENT_TYPES, avif_supported, encode

    png = fallback_png(pack, creative_id, renderer) if png is None else png
    out = {"png": (png, "image/png"), "auto": (png, "image/png")}
    image = open_image(png)
    for fmt in pack.model.render.formats:
        if fmt in ("png", "html") or (fmt == "avif" and not avif_supported()):
            continue
        out[fmt] = (encode(image, fmt, pack.model.render, fast=False), CONTENT_TYPES[fmt])
    return out


def all_fallbacks(pack: Pack, renderer: FallbackRenderer | None = None) -> tuple[FallbackImage, ...]:
    """Every fallback image of the pack, drawn and encoded (no I/O besides the pack's files). A
    creative without a `fallback` file (and no `renderer`) is drawn from its default context at each
    of its sizes; one with a file has it scaled to cover each size."""
    from versa.render.encode import fallback_at

    drawn = {} if renderer is not None else drawn_fallbacks(pack)
    out = []
    for creative_id, creative in pack.model.creatives.items():
        ttl = (creative.cache or pack.model.cache).fallback_ttl
        first = f"{creative_id}@{creative.size[0]}x{creative.size[1]}"
        base = drawn[first] if first in drawn else fallback_png(pack, creative_id, renderer)
        for ext, (body, content_type) in fallback_images(pack, creative_id, png=base).items():
            out.append(FallbackImage(creative_id, ext, body, content_type, ttl))
        if not creative.sizes:
            continue  # one size: the plain key is all the CDN asks for
        for size in creative.all_sizes:
            name = f"{creative_id}@{size[0]}x{size[1]}"
            png = drawn.get(name) or (base if size == creative.size else fallback_at(base, size))
            for ext, (body, content_type) in fallback_images(pack, creative_id, png=png).items():
                out.append(FallbackImage(name, ext, body, content_type, ttl))
    return tuple(out)


def check_publishable(pack_dir: Path | str) -> Pack:
    """Load and lint the pack; raise PackError listing every load or lint error."""
    from versa.authoring.lint import lint

    pack = load_pack(pack_dir, checks=PACK_CHECKS)
    errors = [issue for issue in lint(pack) if issue.severity == "error"]
    if errors:
        raise PackError(errors, pack=pack.brand)
    return pack


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Publisher:
    """Publishes, rolls back, repairs and lists pack versions in `bucket` under `prefix`.

    Clients are created on first use (`session`, PUBLISH_CONFIG) unless injected. With a
    `distribution_id`, each operation invalidates `/v1/{brand}/*` on that CloudFront distribution.
    Operations on one brand take its lock in turn; `lock_wait` is how long one waits for another
    (0: fail at once with PublishBusy), polling every `lock_poll` seconds; `lock_ttl` is how long a
    crashed holder's lock lasts. `clock` dates the pointer and the lock's expiry.
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
        lock_wait: float = 0.0,
        lock_poll: float = 1.0,
        lock_ttl: timedelta = DEFAULT_LOCK_TTL,
    ) -> None:
        self.bucket = bucket
        self.layout = PackLayout(prefix)
        self.distribution_id = distribution_id
        self.lock_wait = lock_wait
        self.lock_poll = lock_poll
        self.lock_ttl = lock_ttl
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
            raise PublishError(f"{step} failed ({_code(exc)}): {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"{step} failed: {exc}") from exc

    # --------------------------------------------------------------------------------- commands

    def prepare(self, pack_dir: Path | str, *, fallback_renderer: FallbackRenderer | None = None) -> Release:
        """Check the pack (load, lint, bundle, re-read the bundle) and draw its fallbacks: all that
        can fail without S3. Raises PackError (including BundleError) or PublishError."""
        pack = check_publishable(pack_dir)
        bundle = build_bundle(pack.root, pack.files)
        verify_bundle(bundle, pack)
        return Release(pack.brand, pack.version, bundle, all_fallbacks(pack, fallback_renderer), pack.model)

    def publish(
        self,
        pack_dir: Path | str,
        *,
        fallback_renderer: FallbackRenderer | None = None,
        before_flip: BeforeFlip | None = None,
    ) -> PublishResult:
        """Validate, lint, upload and activate the pack in `pack_dir`. Raises PackError (nothing
        uploaded), PublishBusy (nothing written), PublishConflict or another PublishError (the
        journal says what completed; the message says where the pointer stands). `before_flip` is
        called under the lock, before anything is written (see `publish_release`)."""
        release = self.prepare(pack_dir, fallback_renderer=fallback_renderer)
        return self.publish_release(release, before_flip=before_flip)

    def publish_release(self, release: Release, *, before_flip: BeforeFlip | None = None) -> PublishResult:
        """Activate a prepared release (see `publish`). Under the lock, once the pointer is read and
        before the bundle, fallbacks or pointer are written, `before_flip(published, release)` is
        called with the model of the version the pointer names (None when nothing is published or
        it cannot be read); an exception from it stops the publish with nothing written."""
        with self._locked(release.brand, "publish", release.version) as lock:
            current = self._read_pointer(release.brand)
            if before_flip is not None:
                before_flip(self._published_model(release.brand, current), release)
            uploaded = self._upload_bundle(release)
            lock.step("bundle")
            return self._converge(lock, release.version, release.fallbacks, current, uploaded=uploaded)

    def rollback(
        self, brand: str, to_version: str, *, fallback_renderer: FallbackRenderer | None = None
    ) -> PublishResult:
        """Point `brand` back at a published version: its bundle must exist and load; its fallbacks
        are rewritten, the pointer flipped and the CDN invalidated as for a publish."""
        with self._locked(brand, "rollback", to_version) as lock:
            current = self._read_pointer(brand)
            images = self._fallbacks_of(brand, to_version, fallback_renderer)
            return self._converge(lock, to_version, images, current, uploaded=False)

    def repair(self, brand: str, *, fallback_renderer: FallbackRenderer | None = None) -> PublishResult:
        """Bring the brand's fallbacks back to the version its pointer names, if the journal says
        the last operation did not complete (or completed for another version); with no pointer,
        delete any fallbacks a failed first publish left. Idempotent."""
        with self._locked(brand, "repair", "") as lock:
            current = self._read_pointer(brand)
            if current is None:  # never published: no fallback may stand (a first publish failed)
                lock.dirty = True
                pruned = self._prune(lock, brand, keep=set())
                lock.release("complete")
                return PublishResult(brand, "", None, False, False, (), None, repaired=bool(pruned), pruned=pruned)
            version = current[0].version
            if lock.found is not None and not lock.found.repair_due(version):
                lock.release("complete", keep=lock.found)
                return PublishResult(brand, version, version, False, False, (), None)
            lock.update(version=version, previous=version)
            images = self._fallbacks_of(brand, version, fallback_renderer)
            return self._converge(lock, version, images, current, uploaded=False)

    def status(self, brand: str) -> PublishStatus:
        """The brand's pointer version and journal (two GETs; no lock)."""
        current = self._read_pointer(brand)
        journal = self._lock(brand).read()
        return PublishStatus(brand, current[0].version if current else None, journal)

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

    # ------------------------------------------------------------------------------- the lock

    def _lock(self, brand: str) -> BrandLock:
        return BrandLock(
            self.s3, self.bucket, self.layout.journal_key(brand), brand, clock=self._clock, ttl=self.lock_ttl
        )

    @contextmanager
    def _locked(self, brand: str, operation: str, version: str) -> Iterator[BrandLock]:
        """Hold the brand's lock for the block; if the block raises, release it recording `failed`
        (and the error), or restoring the last record when nothing was written yet, unless the lock
        was lost or already released."""
        lock = self._lock(brand)
        lock.take(operation, version, wait=self.lock_wait, poll=self.lock_poll)
        try:
            yield lock
        except LockLost:
            raise
        except BaseException as exc:
            if lock.journal is not None and lock.journal.owner is not None:
                # if this fails too, the lock expires on its own and the journal still says "running"
                with suppress(PublishError):
                    if not lock.dirty and lock.found is not None:  # nothing changed: keep the record
                        lock.release("complete", keep=lock.found)
                    else:
                        lock.release("failed", error=f"{type(exc).__name__}: {exc}"[:500])
            raise

    # ------------------------------------------------------------------------------------ steps

    def _converge(
        self,
        lock: BrandLock,
        version: str,
        images: tuple[FallbackImage, ...],
        current: tuple[Pointer, str] | None,
        *,
        uploaded: bool,
    ) -> PublishResult:
        """Under the lock: fallbacks, pointer (last), prune, invalidate, release. `current` is the
        pointer as read under the lock."""
        brand = lock.brand
        found = lock.found
        previous = current[0].version if current else None
        due = found is not None and found.repair_due(previous)
        fallbacks = self._write_fallbacks(lock, brand, version, images)
        lock.step("fallbacks")
        lock.update(previous=previous)  # fences the flip: raises LockLost if another took over
        changed = previous != version
        if changed:
            pointer = Pointer(version, self._clock().isoformat(timespec="seconds"), previous)
            try:
                self._flip(brand, pointer, current[1] if current else None)
            except PublishConflict as conflict:
                raise self._after_conflict(lock, brand, conflict) from conflict
        lock.step("pointer")
        pruned = self._prune(lock, brand, keep=set(fallbacks))
        lock.step("pruned")
        invalidation = self._invalidate(brand, version, flipped=changed)
        lock.step("invalidated")
        lock.release("complete")
        return PublishResult(
            brand, version, previous, uploaded, changed, fallbacks, invalidation, repaired=bool(due),
            pruned=pruned,
        )

    def _after_conflict(self, lock: BrandLock, brand: str, conflict: PublishConflict) -> PublishConflict:
        """The pointer moved without the lock: bring the fallbacks to whatever it names now, still
        under our lock, and say so."""
        try:
            current = self._read_pointer(brand)
            if current is None:
                return conflict
            version = current[0].version
            lock.update(version=version, previous=version)
            images = self._fallbacks_of(brand, version, None)
            self._write_fallbacks(lock, brand, version, images)
            self._prune(lock, brand, keep={self.layout.fallback_key(brand, i.creative, i.ext) for i in images})
            lock.release("complete")
        except (PublishError, PackError) as exc:
            return PublishConflict(f"{conflict}; bringing the fallbacks to the pointer's version failed: {exc}")
        return PublishConflict(f"{conflict}; the fallbacks now match the pointer's version {version}")

    def _published_model(self, brand: str, current: tuple[Pointer, str] | None) -> PackModel | None:
        """The model of the version the pointer names (one GET), or None when there is none or its
        bundle cannot be read (the publish goes on: it replaces that version)."""
        if current is None:
            return None
        version = current[0].version
        try:
            data = self._bundle_data(brand, version)
            with tempfile.TemporaryDirectory(prefix="versa-bundle-") as tmp:
                return open_bundle(data, Path(tmp), brand=brand, version=version, checks=PACK_CHECKS).model
        except (PublishError, PackError, UnknownVersion):
            return None

    def _bundle_data(self, brand: str, version: str) -> bytes:
        """A published version's bundle bytes; UnknownVersion or PublishError."""
        key = self.layout.bundle_key(brand, version)
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return body
        except ClientError as exc:
            if _code(exc) in NO_SUCH_KEY:
                raise UnknownVersion(brand, version, [i.version for i in self.versions(brand)]) from None
            raise PublishError(f"downloading {key} failed ({_code(exc)}): {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"downloading {key} failed: {exc}") from exc

    def _fallbacks_of(
        self, brand: str, version: str, renderer: FallbackRenderer | None
    ) -> tuple[FallbackImage, ...]:
        """The fallback images of a published version, from its bundle (one GET)."""
        data = self._bundle_data(brand, version)
        with tempfile.TemporaryDirectory(prefix="versa-bundle-") as tmp:
            pack = open_bundle(data, Path(tmp), brand=brand, version=version, checks=PACK_CHECKS)
            return all_fallbacks(pack, renderer)

    def _upload_bundle(self, release: Release) -> bool:
        key = self.layout.bundle_key(release.brand, release.version)
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return False  # versions are immutable: the same content is already there
        except ClientError as exc:
            if _code(exc) not in NO_SUCH_KEY:
                raise PublishError(f"checking {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"checking {key} failed: {exc}") from exc
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=release.bundle,
                ContentType="application/gzip",
                IfNoneMatch="*",
                Metadata={"brand": release.brand, "version": release.version},
            )
        except ClientError as exc:
            if _code(exc) in CONDITION_FAILED:
                return False  # uploaded meanwhile by an earlier, failed publish of the same content
            raise PublishError(f"uploading {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"uploading {key} failed: {exc}") from exc
        return True

    def _write_fallbacks(
        self, lock: BrandLock, brand: str, version: str, images: tuple[FallbackImage, ...]
    ) -> tuple[str, ...]:
        keys = []
        lock.dirty = True
        for image in images:
            key = self.layout.fallback_key(brand, image.creative, image.ext)
            lock.heartbeat()
            try:
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=image.body,
                    ContentType=image.content_type,
                    CacheControl=f"public, max-age={image.max_age}",
                    Metadata={"version": version},
                )
            except (ClientError, BotoCoreError) as exc:
                raise PublishError(f"writing fallback {key} failed: {exc}") from exc
            keys.append(key)
        return tuple(keys)

    def _prune(self, lock: BrandLock, brand: str, *, keep: set[str]) -> tuple[str, ...]:
        """Delete the brand's fallback objects not in `keep` (creatives or formats the current
        version does not have): one LIST per thousand keys, one DeleteObjects per thousand stale."""
        prefix = self.layout.fallback_prefix(brand)
        stale: list[str] = []
        token: str | None = None
        while True:
            try:
                if token:
                    page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix, ContinuationToken=token)
                else:
                    page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
            except (ClientError, BotoCoreError) as exc:
                raise PublishError(f"listing {prefix} failed: {exc}") from exc
            stale += [obj["Key"] for obj in page.get("Contents", []) if obj["Key"] not in keep]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                break
        for start in range(0, len(stale), 1000):
            batch = stale[start : start + 1000]
            lock.heartbeat()
            try:
                response = self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
            except (ClientError, BotoCoreError) as exc:
                raise PublishError(f"deleting stale fallbacks under {prefix} failed: {exc}") from exc
            if response.get("Errors"):
                first = response["Errors"][0]
                raise PublishError(f"deleting stale fallback {first.get('Key')} failed: {first.get('Code')}")
        return tuple(stale)

    def _read_pointer(self, brand: str) -> tuple[Pointer, str] | None:
        key = self.layout.pointer_key(brand)
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
            return Pointer.from_json(response["Body"].read()), response["ETag"]
        except ClientError as exc:
            if _code(exc) in NO_SUCH_KEY:
                return None
            raise PublishError(f"reading {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"reading {key} failed: {exc}") from exc

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
                    Bucket=self.bucket, Key=key, Body=body, ContentType=kind, CacheControl=cache, IfNoneMatch="*"
                )
        except ClientError as exc:
            if _code(exc) in CONDITION_FAILED or (etag and _code(exc) in NO_SUCH_KEY):
                raise PublishConflict(
                    f"{key} changed while publishing {pointer.version} (written without the brand's lock); "
                    "nothing flipped"
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
                f"invalidating /v1/{brand}/* failed ({state}; run `versa publish --repair {brand}`): {exc}"
            ) from exc
        return response["Invalidation"]["Id"]


__all__ = [
    "PUBLISH_CONFIG",
    "FallbackImage",
    "FallbackRenderer",
    "LockLost",
    "PublishBusy",
    "PublishConflict",
    "PublishError",
    "PublishResult",
    "PublishStatus",
    "Publisher",
    "Release",
    "UnknownVersion",
    "VersionInfo",
    "all_fallbacks",
    "check_publishable",
    "drawn_fallbacks",
    "fallback_images",
    "fallback_png",
    "verify_bundle",
]
