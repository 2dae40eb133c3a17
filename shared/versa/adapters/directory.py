"""Packs from a local directory of pack directories (`examples/packs/acme/pack.yaml`, ...).

Each brand's pack is loaded once and kept; it is reloaded when a file under it changes (checked at
most every `recheck` seconds), so editing a pack while `versa serve` runs shows up on the next request.
A pack that fails to load after an edit keeps the last good one serving and reports the error.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from versa.errors import PackError, UnknownBrand
from versa.pack.loader import PACK_FILE, load_pack
from versa.pack.model import SLUG, Pack, PackChecks
from versa.ports import PackStore

_BRAND_RE = re.compile(SLUG)


@dataclass
class _Entry:
    pack: Pack
    stamp: tuple[int, int]
    checked: float
    error: PackError | None = None


class DirectoryPackStore(PackStore):
    """Packs under `root`, loaded with the renderer's `checks` (see `versa.pack.model.PackChecks`)."""

    def __init__(
        self,
        root: Path | str,
        *,
        checks: PackChecks,
        recheck: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root)
        self.checks = checks
        self.recheck = recheck
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def brands(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / PACK_FILE).is_file() and _BRAND_RE.match(p.name))

    def _stamp(self, path: Path) -> tuple[int, int]:
        files = [p for p in path.rglob("*") if p.is_file()]
        return (max((p.stat().st_mtime_ns for p in files), default=0), len(files))

    def current(self, brand: str) -> Pack:
        if not _BRAND_RE.match(brand):
            raise UnknownBrand(brand, self.brands())
        path = self.root / brand
        with self._lock:
            entry = self._cache.get(brand)
            now = self._clock()
            if entry is not None and now - entry.checked < self.recheck:
                return entry.pack
            if not (path / PACK_FILE).is_file():
                raise UnknownBrand(brand, self.brands())
            stamp = self._stamp(path)
            if entry is not None and entry.stamp == stamp:
                entry.checked = now
                return entry.pack
            try:
                pack = load_pack(path, checks=self.checks)
            except PackError as exc:
                if entry is None:
                    raise
                entry.error, entry.checked, entry.stamp = exc, now, stamp
                return entry.pack
            if pack.brand != brand:
                raise PackError([], pack=f"{brand}: pack.yaml says brand {pack.brand!r}; the folder must match")
            self._cache[brand] = _Entry(pack, stamp, now)
            return pack

    def last_error(self, brand: str) -> PackError | None:
        entry = self._cache.get(brand)
        return entry.error if entry else None
