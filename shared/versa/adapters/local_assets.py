"""The local asset store: generated images as files under a folder (`VERSA_STATE_DIR`, so
`.versa/generated/BRAND/SHA256.png`), written atomically, never rewritten (content-addressed). A
rejected asset is listed in `rejected.txt` beside the brand's files (the S3 store tags it instead)."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from versa.ports import AssetMissing, AssetStore, StoreUnavailable


class LocalAssetStore(AssetStore):
    """Generated assets under `root` (the key is the path below it)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.root / key

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return  # same key, same bytes
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            Path(tmp).replace(path)
        except OSError as exc:
            raise StoreUnavailable(f"cannot write generated asset {key}: {exc}") from exc

    def _get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise AssetMissing(f"no generated asset {key}") from None
        except OSError as exc:
            raise StoreUnavailable(f"cannot read generated asset {key}: {exc}") from exc

    def _mark_rejected(self, key: str) -> None:
        listing = self._path(key).parent / "rejected.txt"
        with self._lock:
            known = listing.read_text().split() if listing.exists() else []
            if key not in known:
                listing.parent.mkdir(parents=True, exist_ok=True)
                with listing.open("a") as f:
                    f.write(key + "\n")

    def rejected(self, brand: str) -> list[str]:
        """Keys marked rejected for `brand` (for tools and tests)."""
        listing = self.root / "generated" / brand / "rejected.txt"
        return listing.read_text().split() if listing.exists() else []


__all__ = ["LocalAssetStore"]
