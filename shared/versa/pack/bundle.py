"""The pack bundle: one deterministic tar.gz per pack version, built by `versa publish` and unpacked by
the S3 pack store. This module is the only one that knows the format.

Building (`build_bundle`) accepts only regular files inside the pack: a symbolic link (to a file or a
directory), a hard link (a file with more than one name), a device, a FIFO or a socket anywhere in the
pack is refused with a `BundleError` naming it, so a link to a file outside the pack can never be
published as if it were pack content. The bytes depend only on the files' names and contents.

Extracting (`extract_bundle`) trusts nothing in the archive: it accepts only regular files and
directories with plain relative names, within caps on the compressed size, the unpacked size (headers
included), the number of members, and each name's depth and length. Anything else is a `BundleError`
(a `PackError`), never a crash, and nothing is ever written outside the destination.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from versa.errors import Issue, PackError
from versa.pack.assets import AssetError, NotRegularFile, iter_pack_files, read_pack_file
from versa.pack.loader import MAX_PACK_BYTES, load_pack
from versa.pack.model import Pack, PackChecks

MAX_BUNDLE_BYTES = MAX_PACK_BYTES + 4 * 2**20
"""The largest compressed bundle accepted."""
MAX_BUNDLE_MEMBERS = 4096
"""Tar members (files and directories) per bundle."""
MAX_MEMBER_DEPTH = 16
"""Path components in a member name (`assets/fonts/Display.ttf` has 3)."""
MAX_MEMBER_NAME = 512
"""Characters in a member name; each component is also capped at 255 bytes (UTF-8)."""
MAX_UNPACKED_BYTES = MAX_PACK_BYTES + MAX_BUNDLE_MEMBERS * 4096
"""Decompressed tar stream: the files plus their headers (a header bomb stops here)."""

_READ_CHUNK = 1 << 16


class BundleError(PackError):
    """A pack bundle (or the pack being bundled, or a pointer to one) is malformed, unsafe, or does
    not match the version it claims. `issues[0].file` names the member or file at fault."""

    def __init__(self, message: str, *, member: str = "", pack: str = "") -> None:
        self.message = message
        super().__init__([Issue(member or "bundle", "", message)], pack=pack)

    def __str__(self) -> str:
        where = f"{self.issues[0].file}: " if self.issues[0].file != "bundle" else ""
        return f"bundle: {where}{self.message}"


# ------------------------------------------------------------------------------------------ building


def _refuse(rel: str, why: str) -> BundleError:
    return BundleError(
        f"{why}; a pack may hold only regular files inside its directory (replace it with a copy)",
        member=rel,
    )


def check_pack_tree(root: Path) -> None:
    """Raise BundleError naming the first entry of the pack at `root` that is not a regular file or a
    plain directory: a symbolic link (to anything), a hard link, a device, a FIFO or a socket (the
    pack's own walk, `versa.pack.assets.iter_pack_files`: hidden names are not pack files). The root
    itself may be reached through a link (it is the path the user named)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise _refuse(".", f"the pack root {root} is not a directory")
    try:
        for _ in iter_pack_files(root):
            pass
    except NotRegularFile as exc:
        raise _refuse(exc.rel, f"is a {exc.kind}") from None
    except AssetError as exc:
        raise _refuse(".", str(exc)) from None


def _read_regular(root: Path, rel: str) -> bytes:
    """The bytes of pack file `rel`, read without following a link at any step and checked on the open
    file (`versa.pack.assets.read_pack_file`), so a file swapped for a link after `check_pack_tree` is
    still refused."""
    try:
        return read_pack_file(root, rel)
    except NotRegularFile as exc:
        raise _refuse(exc.rel, f"is a {exc.kind}") from None
    except AssetError as exc:
        raise _refuse(rel, str(exc)) from None


def build_bundle(root: Path, files: Iterable[str]) -> bytes:
    """The pack files `files` (relative POSIX names under `root`, e.g. `Pack.files`) as a tar.gz whose
    bytes depend only on their names and contents: members in the given order, zero mtimes, uid/gid 0,
    no owner names, fixed modes. Raises BundleError naming any file of the pack that is not a regular
    file inside it (see `check_pack_tree`)."""
    root = Path(root).resolve()
    check_pack_tree(root)
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in files:
            data = _read_regular(root, _member_name(name))
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------- extracting


def _member_name(name: str) -> str:
    """`name` if it is a plain relative path within the caps, else BundleError."""
    shown = name if len(name) <= 80 else f"{name[:60]}…({len(name)} characters)"
    parts = name.split("/")
    if len(parts) > MAX_MEMBER_DEPTH:
        raise BundleError(f"path is {len(parts)} levels deep (at most {MAX_MEMBER_DEPTH})", member=shown)
    if len(name) > MAX_MEMBER_NAME:
        raise BundleError(f"name is longer than {MAX_MEMBER_NAME} characters", member=shown)
    if not name or name.startswith("/") or "\x00" in name or "\\" in name:
        raise BundleError("is not a relative path (absolute, empty, NUL or backslash)", member=shown)
    if any(p in ("", ".", "..") for p in parts):
        raise BundleError("is not a plain relative path ('', '.' or '..' components)", member=shown)
    if any(len(p.encode("utf-8", "surrogateescape")) > 255 for p in parts):
        raise BundleError("has a path component longer than 255 bytes", member=shown)
    return name


class _CappedReader(io.RawIOBase):
    """A read-only stream over `source` that raises BundleError after `limit` bytes."""

    def __init__(self, source: io.BufferedIOBase, limit: int) -> None:
        self._source = source
        self._left = limit
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise BundleError(f"bundle unpacks to more than {self._limit} bytes")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def extract_bundle(data: bytes, dest: Path) -> list[str]:
    """Unpack the pack bundle `data` into the empty directory `dest`; return the file names written.

    Accepted: regular files and directories with plain relative names (at most MAX_MEMBER_DEPTH
    levels, MAX_MEMBER_NAME characters), at most MAX_BUNDLE_MEMBERS members and MAX_PACK_BYTES of file
    content. Refused with BundleError: absolute names, `..`, links (symbolic or hard), devices, FIFOs,
    sparse files, duplicates, anything over a cap, and anything that is not a readable tar.gz. After a
    refusal `dest` may hold a partial extraction (never anything outside it): discard it.
    """
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"bundle is {len(data)} bytes compressed (at most {MAX_BUNDLE_BYTES})")
    root = Path(dest).resolve()
    written: list[str] = []
    seen: set[str] = set()
    total = 0
    try:
        stream = _CappedReader(gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb"), MAX_UNPACKED_BYTES)
        with tarfile.open(fileobj=io.BufferedReader(stream, _READ_CHUNK), mode="r|") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_BUNDLE_MEMBERS:
                    raise BundleError(f"bundle has more than {MAX_BUNDLE_MEMBERS} members")
                name = _member_name(member.name.removesuffix("/") if member.isdir() else member.name)
                if member.isdir():
                    continue
                if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
                    what = "a link" if member.issym() or member.islnk() else "not a regular file"
                    raise BundleError(f"is {what} (type {member.type!r}); only regular files", member=name)
                if name in seen:
                    raise BundleError("appears twice", member=name)
                seen.add(name)
                total += member.size
                if total > MAX_PACK_BYTES:
                    raise BundleError(f"bundle unpacks to more than {MAX_PACK_BYTES} bytes of files")
                target = root.joinpath(*name.split("/"))
                if root not in target.parents:
                    raise BundleError("leaves the pack directory", member=name)
                source = tar.extractfile(member)
                if source is None:
                    raise BundleError("has no data", member=name)
                target.parent.mkdir(parents=True, exist_ok=True)  # depth is capped above
                with target.open("xb") as out:
                    shutil.copyfileobj(source, out, _READ_CHUNK)
                written.append(name)
    except BundleError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError, ValueError) as exc:
        raise BundleError(f"bundle is not a readable tar.gz: {exc}") from exc
    return written


def open_bundle(data: bytes, dest: Path, *, brand: str, version: str, checks: PackChecks) -> Pack:
    """Extract `data` into the empty directory `dest` and load it, checking that it is the pack of
    `brand` whose content version is `version` (a bundle cannot pass for another version)."""
    extract_bundle(data, dest)
    return load_bundle_dir(dest, brand=brand, version=version, checks=checks)


def load_bundle_dir(path: Path, *, brand: str, version: str, checks: PackChecks) -> Pack:
    """Load an extracted bundle (against the renderer's `checks`) and check it is the version and
    brand it claims to be."""
    try:
        pack = load_pack(path, checks=checks)
    except BundleError:
        raise
    except PackError as exc:
        raise BundleError(f"{brand} version {version} does not load: {exc}", pack=brand) from exc
    if pack.version != version:
        raise BundleError(f"{brand} version {version} holds content {pack.version}: corrupt or tampered")
    if pack.brand != brand:
        raise BundleError(f"{brand} version {version} is a pack of brand {pack.brand!r}")
    return pack


__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_MEMBERS",
    "MAX_MEMBER_DEPTH",
    "MAX_MEMBER_NAME",
    "BundleError",
    "build_bundle",
    "check_pack_tree",
    "extract_bundle",
    "load_bundle_dir",
    "open_bundle",
]
