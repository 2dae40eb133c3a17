"""Packs from a local directory of pack directories (`examples/packs/acme/pack.yaml`, ...).

Each brand's pack is loaded once and kept; it is reloaded when a file under it changes (checked at
most every `recheck` seconds), so editing a pack while `versa serve` runs shows up on the next request.
A pack that fails to load after an edit keeps the last good one serving and reports the error. A pack
that has never loaded answers its PackError from memory for `failure_seconds`, and after that is read
again only if a file under it changed: a broken pack costs a directory listing now and then, not a
parse per request. Listing never follows links (a link in a pack is refused by the loader).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from versa.errors import PackError, UnknownBrand
from versa.pack.assets import AssetError, walk_pack
from versa.pack.loader import PACK_FILE, folder_issue, load_pack
from versa.pack.model import SLUG, Pack, PackChecks
from versa.ports import PackStore

_BRAND_RE = re.compile(SLUG)
_log = logging.getLogger(__name__)


@dataclass
class _Entry:
    pack: Pack
    stamp: str
    checked: float
    error: PackError | None = None


@dataclass
class _Failure:
    error: PackError
    stamp: str
    checked: float


class DirectoryPackStore(PackStore):
    """Packs under `root`, loaded with the renderer's `checks` (see `versa.pack.model.PackChecks`).
    `prepare`, if given, finishes each pack once it has loaded (`versa serve` draws the fallbacks a
    pack does not give, see `versa.render.fallback`); a PackError it raises is the load's error."""

    def __init__(
        self,
        root: Path | str,
        *,
        checks: PackChecks,
        recheck: float = 1.0,
        failure_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        prepare: Callable[[Pack], Pack] | None = None,
    ) -> None:
        self.root = Path(root)
        self.prepare = prepare
        self.checks = checks
        self.recheck = recheck
        self.failure_seconds = failure_seconds
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._failed: dict[str, _Failure] = {}
        self._lock = threading.Lock()

    def brands(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / PACK_FILE).is_file() and _BRAND_RE.match(p.name))

    def _stamp(self, path: Path) -> str:
        """A digest of every entry's name, kind, size, modification time and inode (links not followed)."""
        digest = hashlib.sha256()
        try:
            for entry in walk_pack(path):
                st = entry.stat
                digest.update(f"{entry.rel}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
        except (AssetError, OSError) as exc:
            digest.update(f"unlistable: {exc}".encode())
        return digest.hexdigest()

    def current(self, brand: str) -> Pack:
        if not _BRAND_RE.match(brand):
            raise UnknownBrand(brand, self.brands())
        path = self.root / brand
        with self._lock:
            entry = self._cache.get(brand)
            failed = self._failed.get(brand)
            now = self._clock()
            if entry is not None and now - entry.checked < self.recheck:
                return entry.pack
            if entry is None and failed is not None and now - failed.checked < self.failure_seconds:
                raise failed.error.with_traceback(None)  # remembered: no listing, no parse
            if not (path / PACK_FILE).is_file():
                self._failed.pop(brand, None)
                raise UnknownBrand(brand, self.brands())
            stamp = self._stamp(path)
            if entry is not None and entry.stamp == stamp:
                entry.checked = now
                return entry.pack
            if entry is None and failed is not None and failed.stamp == stamp:
                failed.checked = now  # nothing changed since it failed: the same error, without a parse
                raise failed.error.with_traceback(None)
            try:
                pack = load_pack(path, checks=self.checks)
                mismatch = folder_issue(pack, brand)
                if mismatch is not None:
                    raise PackError([mismatch], pack=brand)
                if self.prepare is not None:
                    pack = self.prepare(pack)
            except PackError as exc:
                _log.warning("pack %r failed to load: %s", brand, exc)
                if entry is None:
                    self._failed[brand] = _Failure(exc, stamp, now)
                    raise
                entry.error, entry.checked, entry.stamp = exc, now, stamp
                return entry.pack
            self._cache[brand] = _Entry(pack, stamp, now)
            self._failed.pop(brand, None)
            return pack

    def last_error(self, brand: str) -> PackError | None:
        """The error of the brand's latest failed load (the last good pack serving meanwhile), if any."""
        entry = self._cache.get(brand)
        if entry is not None:
            return entry.error
        failed = self._failed.get(brand)
        return failed.error if failed else None
