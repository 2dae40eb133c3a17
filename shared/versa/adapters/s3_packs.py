"""Packs from S3: the PackStore the deployed render function uses.

Layout under the bucket's `prefix` (see `PackLayout`):

    packs/{brand}/{version}.tar.gz   one immutable, content-hashed bundle per version (one GET)
    packs/{brand}/current.json       the pointer: {"version", "published_at", "previous"}
    packs/{brand}/publish.json       the brand's publish lock and the journal of its last publish
    fallbacks/v1/{brand}/{creative}.{ext}
                                     what the CDN fails over to: the request path under fallbacks/
                                     (png, auto and the pack's other image formats; `versa.publish.s3`)

Reads are cached per container. The pointer is revalidated at most every `revalidate_seconds` with a
conditional GET (If-None-Match: its ETag; S3 answers 304 when unchanged). A version, once loaded, is
never fetched again: the bundle is extracted, with every member checked, into
`cache_dir/{brand}/{version}/`, loaded, and its content hash must equal the version's name. When S3
fails or times out, or the new version does not load, the last good pack keeps serving (stale-if-error)
and `on_event("pack_stale", brand=..., reason=..., serving=...)` is called; with no good pack yet,
`StoreUnavailable` is raised (`UnknownBrand` when the brand has no pointer). Every S3 call is bounded
by short timeouts and one retry; the client is created on first use.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from versa.adapters.lazy_client import LazyClient
from versa.errors import UnknownBrand
from versa.pack.bundle import BundleError, extract_bundle, load_bundle_dir
from versa.pack.model import SLUG, Pack, PackChecks
from versa.ports import PackStore, StoreUnavailable

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3 import S3Client

DEFAULT_CONFIG = Config(
    connect_timeout=0.5,
    read_timeout=1.0,
    retries={"mode": "standard", "total_max_attempts": 2},
)
"""Bounded for the request path: a render never waits on S3 for more than a few seconds."""

MAX_REMEMBERED_FAILURES = 1024
MAX_BRAND_LOCKS = 1024
"""Per-brand refresh locks kept; past it, the idle locks of brands with no pack loaded are dropped."""
BRAND_RE = re.compile(SLUG)
VERSION_RE = re.compile(r"^[0-9a-f]{8,64}$")
"""Versions are content hashes (`versa.pack.loader.content_version`)."""
NOT_MODIFIED = frozenset({"304", "NotModified"})
NO_SUCH_KEY = frozenset({"NoSuchKey", "404", "NotFound"})

_T = TypeVar("_T")


class EventHook(Protocol):
    """Receives operational events, e.g. `("pack_stale", brand="acme", reason="timeout")`."""

    def __call__(self, event: str, /, **fields: str) -> None: ...


def _ignore_event(event: str, /, **fields: str) -> None:
    return None


# ------------------------------------------------------------------------------------------ layout


FALLBACK_MISS_SECONDS = 60.0
"""How long a published fallback that could not be read is not asked for again."""
MAX_FALLBACK_BYTES = 8 * 2**20


@dataclass(frozen=True)
class PackLayout:
    """Where everything lives in the bucket; the one place that knows the key names."""

    prefix: str = ""

    def __post_init__(self) -> None:
        cleaned = self.prefix.strip("/")
        object.__setattr__(self, "prefix", f"{cleaned}/" if cleaned else "")

    @property
    def packs_root(self) -> str:
        return f"{self.prefix}packs/"

    def brand_prefix(self, brand: str) -> str:
        return f"{self.packs_root}{brand}/"

    def pointer_key(self, brand: str) -> str:
        return f"{self.brand_prefix(brand)}current.json"

    def journal_key(self, brand: str) -> str:
        """The brand's publish lock and the journal of its last publish (`versa.publish.lock`)."""
        return f"{self.brand_prefix(brand)}publish.json"

    def fallback_prefix(self, brand: str) -> str:
        return f"{self.prefix}fallbacks/v1/{brand}/"

    def bundle_key(self, brand: str, version: str) -> str:
        return f"{self.brand_prefix(brand)}{version}.tar.gz"

    def fallback_key(self, brand: str, creative: str, ext: str = "png") -> str:
        """Where the CDN's failover origin (origin path `/{prefix}fallbacks`) finds the fallback for
        `GET /v1/{brand}/{creative}.{ext}`: the request path, under the fallbacks prefix."""
        return f"{self.fallback_prefix(brand)}{creative}.{ext}"

    def version_of(self, brand: str, key: str) -> str | None:
        """The version a bundle key holds, or None for any other key."""
        name = key.removeprefix(self.brand_prefix(brand))
        if name == key or not name.endswith(".tar.gz"):
            return None
        version = name.removesuffix(".tar.gz")
        return version if VERSION_RE.match(version) else None


@dataclass(frozen=True)
class Pointer:
    """The content of `current.json`."""

    version: str
    published_at: str
    previous: str | None = None

    def to_json(self) -> bytes:
        body = {"version": self.version, "published_at": self.published_at, "previous": self.previous}
        return json.dumps(body, indent=2).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> Pointer:
        try:
            raw = json.loads(data)
            pointer = cls(str(raw["version"]), str(raw.get("published_at", "")), raw.get("previous"))
        except (ValueError, TypeError, KeyError) as exc:
            raise BundleError(f"pointer is not valid JSON with a version: {exc}") from exc
        if not VERSION_RE.match(pointer.version):
            raise BundleError(f"pointer names an invalid version {pointer.version!r}")
        return pointer


def stale_reason(exc: BaseException) -> str:
    """A short metric-friendly reason for a failed refresh."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BundleError):
            return "corrupt"
        if isinstance(seen, ConnectTimeoutError | ReadTimeoutError):
            return "timeout"
        if isinstance(seen, EndpointConnectionError):
            return "unreachable"
        if isinstance(seen, ClientError):
            return f"s3:{seen.response.get('Error', {}).get('Code', 'error')}"
        seen = seen.__cause__
    return "error"


# ------------------------------------------------------------------------------------------- store


@dataclass
class _Entry:
    pack: Pack
    etag: str | None
    checked: float
    broken: str | None = None  # the pointer names a version that does not load: why


class S3PackStore(PackStore):
    """PackStore on `bucket` under `prefix`.

    The client is `client` if given, else made on first use by `client_factory`, else on first use
    from `session` with `config` (default: DEFAULT_CONFIG). `clock` is monotonic seconds; `on_event`
    receives `pack_loaded` and `pack_stale` events (fields: brand, version/serving, reason). A brand
    with no good pack yet (unknown, unreachable, or its version does not load) answers that failure
    from memory for `failure_seconds` (default: `revalidate_seconds`) before S3 is asked again. Up to
    `keep_versions` loaded versions per brand stay in memory, so a rollback to one of them costs no GET;
    the local disk cache keeps only those (older extracted versions are deleted).
    Packs load with the renderer's `checks` (see `versa.pack.model.PackChecks`).
    """

    def __init__(
        self,
        bucket: str,
        *,
        checks: PackChecks,
        prefix: str = "",
        client: S3Client | None = None,
        client_factory: Callable[[], S3Client] | None = None,
        session: boto3.session.Session | None = None,
        config: Config | None = None,
        revalidate_seconds: float = 30.0,
        failure_seconds: float | None = None,
        cache_dir: Path = Path("/tmp/versa-packs"),
        clock: Callable[[], float] = time.monotonic,
        on_event: EventHook | None = None,
        keep_versions: int = 4,
    ) -> None:
        self.bucket = bucket
        self.checks = checks
        self.layout = PackLayout(prefix)
        self.revalidate_seconds = revalidate_seconds
        self.failure_seconds = revalidate_seconds if failure_seconds is None else failure_seconds
        self.cache_dir = Path(cache_dir)
        self.keep_versions = keep_versions
        self._client: LazyClient[S3Client] = LazyClient(
            "s3", client=client, factory=client_factory, session=session, config=config or DEFAULT_CONFIG
        )
        self._clock = clock
        self._emit: EventHook = on_event or _ignore_event
        self._lock = threading.Lock()
        self._brand_locks: dict[str, threading.Lock] = {}
        self._entries: dict[str, _Entry] = {}
        self._versions: dict[str, dict[str, Pack]] = {}
        self._failures: dict[str, tuple[float, Exception]] = {}
        self._fallbacks: dict[tuple[str, str], tuple[bytes | None, float]] = {}

    @property
    def client(self) -> S3Client:
        return self._client.get()

    def _s3(self, what: str, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise StoreUnavailable(f"S3 {what} in {self.bucket} failed: {code}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"S3 {what} in {self.bucket} failed: {exc}") from exc

    # ---------------------------------------------------------------------------------- reads

    def brands(self) -> list[str]:
        """Brands with a pointer (one paginated LIST of the packs prefix)."""
        root = self.layout.packs_root

        def listing() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root)
            return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

        found: set[str] = set()
        for key in self._s3(f"ListObjectsV2 {root}", listing):
            brand, _, rest = key.removeprefix(root).partition("/")
            if rest == "current.json" and BRAND_RE.match(brand):
                found.add(brand)
        return sorted(found)

    def current(self, brand: str) -> Pack:
        if not BRAND_RE.match(brand):
            raise UnknownBrand(brand)
        with self._lock:
            lock = self._brand_lock(brand)
        entry = self._entries.get(brand)
        if entry is not None and self._clock() - entry.checked < self.revalidate_seconds:
            return entry.pack
        if entry is None:
            lock.acquire()
        elif not lock.acquire(blocking=False):
            return entry.pack  # another thread is revalidating: serve what we have meanwhile
        try:
            return self._current_locked(brand)
        finally:
            lock.release()

    def _brand_lock(self, brand: str) -> threading.Lock:
        """The brand's refresh lock (call under `self._lock`). The table stays bounded: requests for
        many made-up brand names must not grow it without end."""
        lock = self._brand_locks.get(brand)
        if lock is None:
            if len(self._brand_locks) >= MAX_BRAND_LOCKS:
                for name, held in list(self._brand_locks.items()):
                    if name not in self._entries and not held.locked():
                        del self._brand_locks[name]
            lock = self._brand_locks[brand] = threading.Lock()
        return lock

    def forget_cached(self) -> None:
        """Check every brand's pointer again on its next request (after a SnapStart restore: the
        snapshot's "checked at" instants mean nothing now); packs already read stay on disk and in
        memory, so an unchanged pointer costs one conditional GET."""
        with self._lock:
            for entry in self._entries.values():
                entry.checked = -math.inf
            self._failures.clear()
            self._fallbacks.clear()

    def _current_locked(self, brand: str) -> Pack:
        now = self._clock()
        entry = self._entries.get(brand)
        if entry is not None and now - entry.checked < self.revalidate_seconds:
            return entry.pack
        if entry is None and brand in self._failures:
            when, exc = self._failures[brand]
            if now - when < self.failure_seconds:
                raise exc.with_traceback(None)  # a recent failure: answer at once, don't wait on S3
        try:
            return self._refresh(brand, entry, now)
        except UnknownBrand as exc:
            self._entries.pop(brand, None)
            self._remember_failure(brand, now, exc)
            raise
        except (StoreUnavailable, BundleError, OSError) as exc:  # OSError: the local cache directory
            reason = stale_reason(exc)
            if entry is None:
                failure = StoreUnavailable(f"no pack for {brand!r} yet ({reason}): {exc}")
                self._remember_failure(brand, now, failure)
                raise failure from exc
            entry.checked = now  # try S3 again only after another interval
            if isinstance(exc, BundleError):
                entry.broken = reason
            self._emit("pack_stale", brand=brand, reason=reason, serving=entry.pack.version)
            return entry.pack

    def _remember_failure(self, brand: str, now: float, exc: Exception) -> None:
        """Answer the brand with `exc` at once until the next interval (bounded: requests for many
        made-up brand names must not grow memory)."""
        if len(self._failures) >= MAX_REMEMBERED_FAILURES:
            self._failures.clear()
        self._failures[brand] = (now, exc)

    def _refresh(self, brand: str, entry: _Entry | None, now: float) -> Pack:
        read = self._read_pointer(brand, entry.etag if entry else None)
        if read is None:  # 304: the pointer has not changed
            assert entry is not None
            entry.checked = now
            if entry.broken:
                self._emit("pack_stale", brand=brand, reason=entry.broken, serving=entry.pack.version)
            return entry.pack
        pointer, etag = read
        try:
            pack = self._version(brand, pointer.version)
        except BundleError:
            if entry is not None:
                entry.etag = etag  # don't fetch this broken version again until the pointer moves
            raise
        self._entries[brand] = _Entry(pack, etag, now)
        self._failures.pop(brand, None)
        if entry is None or entry.pack.version != pack.version:
            self._emit("pack_loaded", brand=brand, version=pack.version)
        return pack

    def _read_pointer(self, brand: str, etag: str | None) -> tuple[Pointer, str] | None:
        """The pointer and its ETag; None when it still has `etag`. Raises UnknownBrand when absent."""
        key = self.layout.pointer_key(brand)
        try:
            if etag:
                response = self.client.get_object(Bucket=self.bucket, Key=key, IfNoneMatch=etag)
            else:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"].read()
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if status == 304 or code in NOT_MODIFIED:
                return None
            if code in NO_SUCH_KEY:
                raise UnknownBrand(brand) from None
            raise StoreUnavailable(f"S3 GetObject {key} failed: {code}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"S3 GetObject {key} failed: {exc}") from exc
        return Pointer.from_json(body), response["ETag"]

    def _version(self, brand: str, version: str) -> Pack:
        """The pack of one version: from memory, else the disk cache, else one GET of its bundle."""
        loaded = self._versions.setdefault(brand, {})
        if version in loaded:
            return loaded[version]
        final = self.cache_dir / brand / version
        pack: Pack | None = None
        if final.is_dir():
            try:
                pack = load_bundle_dir(final, brand=brand, version=version, checks=self.checks)
            except BundleError:
                shutil.rmtree(final, ignore_errors=True)
        if pack is None:
            pack = self._fetch(brand, version, final)
        loaded[version] = pack
        current = self._entries.get(brand)
        while len(loaded) > self.keep_versions:
            oldest = next(v for v in loaded if current is None or v != current.pack.version)
            del loaded[oldest]
        self._prune_disk(brand, keep=set(loaded))
        return pack

    def _prune_disk(self, brand: str, *, keep: set[str]) -> None:
        """Remove the brand's extracted versions on disk that are not among `keep` (those held in memory):
        /tmp is small (512 MB by default) and outlives many publishes in a warm container. Staging
        directories of extractions in flight (dot-names) are left alone."""
        try:
            entries = list((self.cache_dir / brand).iterdir())
        except OSError:
            return
        for path in entries:
            if path.name not in keep and not path.name.startswith(".") and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    def _fetch(self, brand: str, version: str, final: Path) -> Pack:
        key = self.layout.bundle_key(brand, version)
        data = self._s3(
            f"GetObject {key}", lambda: self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        )
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=final.parent))
        try:
            extract_bundle(data, staging)
            try:
                staging.rename(final)
            except OSError:
                if not final.is_dir():  # not a concurrent extraction of the same version
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        try:
            return load_bundle_dir(final, brand=brand, version=version, checks=self.checks)
        except BundleError:
            shutil.rmtree(final, ignore_errors=True)
            raise

    def published_fallback(self, pack: Pack, name: str) -> bytes | None:
        """The PNG `versa publish` wrote at `fallbacks/v1/{brand}/{name}.png` (one bounded GET, only
        on the failure path; kept per pack version, a miss or an error for FALLBACK_MISS_SECONDS), or
        None. Nothing is drawn here: the Lambda never renders a fallback."""
        key = self.layout.fallback_key(pack.brand, name, "png")
        memo = (pack.version, key)
        now = self._clock()
        with self._lock:
            found = self._fallbacks.get(memo)
            if found is not None and (found[0] is not None or now - found[1] < FALLBACK_MISS_SECONDS):
                return found[0]
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read(MAX_FALLBACK_BYTES + 1)
        except (ClientError, BotoCoreError):
            body = b""
        data = body if body.startswith(b"\x89PNG") and len(body) <= MAX_FALLBACK_BYTES else None
        with self._lock:
            if len(self._fallbacks) >= 256:
                self._fallbacks.clear()
            self._fallbacks[memo] = (data, now)
        return data

    def broken(self, brand: str) -> str | None:
        """Why the brand serves an older pack than its pointer names (None when it does not)."""
        entry = self._entries.get(brand)
        return entry.broken if entry else None


__all__ = [
    "DEFAULT_CONFIG",
    "EventHook",
    "PackLayout",
    "Pointer",
    "S3PackStore",
    "stale_reason",
]
