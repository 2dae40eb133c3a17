"""Reading pack files safely: paths stay inside the pack, images are checked before they are trusted.

Every file of a pack is a regular file inside the pack. Symbolic links (to anywhere, even inside the
pack), hard links (a file with more than one name), devices, FIFOs and sockets are refused wherever a
pack file is listed or read: `walk_pack`/`iter_pack_files` list a pack without following anything,
`check_regular_file` checks one reference, and `read_pack_file` reads one without following a link
between the check and the read (each directory and the file itself are opened with `O_NOFOLLOW`, the
file with `O_NONBLOCK` so a FIFO cannot block, and the opened descriptor is checked with `fstat`).
Entries whose name starts with a dot are not pack files (editor lock files, `.DS_Store`): they are not
listed, hashed or bundled, and a reference to one is checked like any other when it is read.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from PIL import Image

MAX_IMAGE_PIXELS = 4096 * 4096
"""No pack image may decode to more pixels than this (Pillow's own limit is far higher)."""

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


class AssetError(ValueError):
    """A pack file reference is unsafe, missing or not what it claims to be."""


def safe_relative(ref: str) -> PurePosixPath:
    """Normalise a pack-relative reference, refusing anything that could leave the pack.

    Percent-encoding is decoded first (repeatedly), so `%2e%2e/` is caught like `../`.
    """
    decoded = ref
    for _ in range(3):
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    if not decoded or "\x00" in decoded or "\\" in decoded:
        raise AssetError(f"{ref!r} is not a pack-relative path")
    path = PurePosixPath(decoded)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or decoded.startswith("~"):
        raise AssetError(f"{ref!r} leaves the pack directory; use a path like assets/logo.png")
    return path


def resolve_asset(root: Path, ref: str) -> Path:
    """The file a reference names inside `root`; raises AssetError when unsafe, missing or not a
    regular file (NotRegularFile for links, devices, FIFOs and sockets)."""
    return check_regular_file(root, ref)


# ------------------------------------------------------------------- every pack file is a regular file

MAX_PACK_ENTRIES = 10_000
"""A pack directory may hold at most this many entries (files and folders); listing stops there."""

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_READ_CHUNK = 1 << 16


class NotRegularFile(AssetError):
    """A pack entry is a symbolic link, a hard link, a device, a FIFO or a socket: refused everywhere."""

    def __init__(self, rel: str, kind: str, *, within: str | None = None) -> None:
        self.rel = rel
        self.kind = kind
        self.detail = (
            f"is a {kind}: every pack file must be a regular file inside the pack "
            "(links are refused even when they point inside it); put a copy of the file there instead"
        )
        where = f"{rel!r} (in {within!r})" if within and within != rel else repr(rel)
        super().__init__(f"{where} {self.detail}")


class FileTooLarge(AssetError):
    """A pack file is larger than the reader allows."""

    def __init__(self, rel: str, size: int, cap: int) -> None:
        self.rel, self.size, self.cap = rel, size, cap
        super().__init__(f"{rel!r} is {size:,} bytes: at most {cap:,} bytes are allowed")


def entry_kind(st: os.stat_result) -> str | None:
    """What an lstat/fstat result is, when it is not acceptable in a pack (None for a directory or a
    regular file with one name)."""
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return None
    if stat.S_ISREG(mode):
        return None if st.st_nlink <= 1 else f"hard link (the same file has {st.st_nlink} names)"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


@dataclass(frozen=True)
class PackEntry:
    """One entry of a pack directory: its pack-relative name and its lstat (links not followed)."""

    rel: str
    stat: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.stat.st_mode)

    @property
    def problem(self) -> str | None:
        """Why the entry is refused (see `entry_kind`), or None."""
        return entry_kind(self.stat)


def walk_pack(root: Path) -> Iterator[PackEntry]:
    """Every entry under `root` (folders and files, hidden names skipped) in path order (a folder,
    then what it holds), without following any link; at most MAX_PACK_ENTRIES (then AssetError)."""
    count = 0
    stack: list[Iterator[tuple[str, str]]] = [_listing(Path(root), "")]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        path, rel = step
        count += 1
        if count > MAX_PACK_ENTRIES:
            raise AssetError(f"the pack holds more than {MAX_PACK_ENTRIES} files and folders")
        entry = PackEntry(rel, os.lstat(path))
        yield entry
        if entry.is_dir:
            stack.append(_listing(Path(path), rel + "/"))


def _listing(folder: Path, prefix: str) -> Iterator[tuple[str, str]]:
    with os.scandir(folder) as it:
        names = sorted((e.name, e.path) for e in it if not e.name.startswith("."))
    return iter([(path, prefix + name) for name, path in names])


def unsafe_entries(root: Path) -> list[NotRegularFile]:
    """Every entry of the pack that is not a folder or a regular file with one name (for reports)."""
    return [NotRegularFile(e.rel, kind) for e in walk_pack(root) if (kind := e.problem) is not None]


def iter_pack_files(root: Path) -> Iterator[PackEntry]:
    """The pack's regular files, sorted; raises NotRegularFile at the first entry that is a link, a
    device, a FIFO or a socket (so whatever consumes the list never sees one)."""
    for entry in walk_pack(root):
        kind = entry.problem
        if kind is not None:
            raise NotRegularFile(entry.rel, kind)
        if not entry.is_dir:
            yield entry


def check_regular_file(root: Path, ref: str) -> Path:
    """The path of the regular file `ref` names inside `root`, every folder on the way checked too
    (none may be a link); raises AssetError (NotRegularFile for a link, device, FIFO or socket)."""
    rel = safe_relative(ref)
    path = Path(root)
    parts = rel.parts
    for i, part in enumerate(parts):
        path = path / part
        try:
            st = path.lstat()
        except FileNotFoundError:
            raise AssetError(f"{ref!r} does not exist in the pack") from None
        except NotADirectoryError:
            raise AssetError(f"{ref!r} does not exist in the pack ({'/'.join(parts[:i])!r} is a file)") from None
        kind = entry_kind(st)
        if kind is not None:
            raise NotRegularFile("/".join(parts[: i + 1]), kind, within=ref)
        if i < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            raise AssetError(f"{ref!r} does not exist in the pack ({'/'.join(parts[: i + 1])!r} is a file)")
    if stat.S_ISDIR(st.st_mode):
        raise AssetError(f"{ref!r} is a folder, not a file")
    return path


def read_pack_file(root: Path, ref: str, *, max_bytes: int | None = None) -> bytes:
    """The bytes of the regular file `ref` names inside `root`, read without following a link at any
    step and without blocking on a FIFO; raises AssetError (NotRegularFile, FileTooLarge)."""
    rel = safe_relative(ref)
    parts = rel.parts
    fd = os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for i, part in enumerate(parts):
            here = "/".join(parts[: i + 1])
            last = i == len(parts) - 1
            try:
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):
                raise AssetError(f"{ref!r} does not exist in the pack") from None
            kind = entry_kind(st)
            if kind is not None:
                raise NotRegularFile(here, kind, within=ref)
            if last and stat.S_ISDIR(st.st_mode):
                raise AssetError(f"{ref!r} is a folder, not a file")
            if not last and not stat.S_ISDIR(st.st_mode):
                raise AssetError(f"{ref!r} does not exist in the pack ({here!r} is a file)")
            flags = os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | (_O_NONBLOCK if last else _O_DIRECTORY)
            try:
                child = os.open(part, flags, dir_fd=fd)
            except OSError:
                # Replaced by a link (ELOOP) or something else since the check above.
                raise NotRegularFile(here, "file that changed while it was read (a link?)", within=ref) from None
            os.close(fd)
            fd = child
        opened = os.fstat(fd)
        kind = entry_kind(opened) or (None if stat.S_ISREG(opened.st_mode) else "folder")
        if kind is not None:
            raise NotRegularFile("/".join(parts), kind)
        if max_bytes is not None and opened.st_size > max_bytes:
            raise FileTooLarge(ref, opened.st_size, max_bytes)
        return _read_all(fd, ref, max_bytes)
    finally:
        os.close(fd)


def _read_all(fd: int, ref: str, max_bytes: int | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, _READ_CHUNK)
        except BlockingIOError:  # only a FIFO or device would say so, and those were refused
            raise AssetError(f"{ref!r} cannot be read without blocking") from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise FileTooLarge(ref, total, max_bytes)
        chunks.append(chunk)


def open_image(data: bytes) -> Image.Image:
    """Decode trusted-size image bytes: formats listed explicitly, decompression bombs refused."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise AssetError(f"image is {image.width}x{image.height}: over {MAX_IMAGE_PIXELS} pixels")
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise AssetError(f"image refused as a decompression bomb: {exc}") from None
        except AssetError:
            raise
        except Exception as exc:  # Pillow raises many types for a bad file
            raise AssetError(f"not a readable {'/'.join(IMAGE_FORMATS)} image ({exc})") from None
    return image


def check_image(root: Path, ref: str) -> Path:
    """The image `ref` names, read safely and decoded once; raises AssetError."""
    path = check_regular_file(root, ref)
    open_image(read_pack_file(root, ref))
    return path


def check_font_file(root: Path, ref: str) -> Path:
    """The font file `ref` names, read safely and parsed; raises AssetError."""
    path = check_regular_file(root, ref)
    if path.suffix.lower() not in FONT_SUFFIXES:
        raise AssetError(f"{ref!r}: a font file must end in {', '.join(FONT_SUFFIXES)}")
    from fontTools.ttLib import TTCollection, TTFont  # deferred: only loading checks need it

    data = io.BytesIO(read_pack_file(root, ref))
    try:
        if path.suffix.lower() == ".ttc":
            TTCollection(data, lazy=True)
        else:
            TTFont(data, lazy=True)["cmap"]
    except Exception as exc:
        raise AssetError(f"{ref!r} is not a readable TrueType/OpenType font ({exc})") from None
    return path
