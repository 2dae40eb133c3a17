"""Reading pack files safely: paths stay inside the pack, images are checked before they are trusted."""

from __future__ import annotations

import io
import warnings
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
    """The file a reference names inside `root`; raises AssetError when unsafe or missing."""
    rel = safe_relative(ref)
    path = (root / rel).resolve()
    base = root.resolve()
    if base not in path.parents:
        raise AssetError(f"{ref!r} leaves the pack directory (through a link?)")
    if not path.is_file():
        raise AssetError(f"{ref!r} does not exist in the pack")
    return path


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
    path = resolve_asset(root, ref)
    open_image(path.read_bytes())
    return path


def check_font_file(root: Path, ref: str) -> Path:
    path = resolve_asset(root, ref)
    if path.suffix.lower() not in FONT_SUFFIXES:
        raise AssetError(f"{ref!r}: a font file must end in {', '.join(FONT_SUFFIXES)}")
    from fontTools.ttLib import TTCollection, TTFont  # deferred: only loading checks need it

    try:
        if path.suffix.lower() == ".ttc":
            TTCollection(str(path), lazy=True)
        else:
            TTFont(str(path), lazy=True)["cmap"]
    except Exception as exc:
        raise AssetError(f"{ref!r} is not a readable TrueType/OpenType font ({exc})") from None
    return path
