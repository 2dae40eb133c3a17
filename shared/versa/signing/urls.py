"""The render API's URL paths: the file extensions it serves and a builder for each route.

`versa.signing.signer` signs these paths (and re-exports the builders); the router in `versa.web.api` serves
them. A builder refuses a brand, creative or extension the router could not serve, so a URL built
here always names something routable.

Pure: no IO, no environment.
"""

from __future__ import annotations

import re
from typing import Final

from versa.errors import ParamError

SLUG_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
"""A brand or creative id (`versa.pack.model.SLUG`), for `fullmatch`."""
EXTENSIONS: Final = ("png", "jpg", "jpeg", "webp", "gif", "avif", "html", "auto")
"""What `/v1/{brand}/{creative}.{ext}` serves: image formats, `auto` (negotiated) and the HTML page."""
IMAGE_EXTS: Final = tuple(ext for ext in EXTENSIONS if ext != "html")
"""The extensions answered with an image (and, for an email proxy, never with an error)."""
FILE_RE: Final = re.compile(
    r"^(?P<creative>[a-z0-9][a-z0-9-]{0,62})(?:@(?P<width>[1-9][0-9]{1,3})x(?P<height>[1-9][0-9]{1,3}))?"
    r"\.(?P<ext>[a-z]{3,4})$"
)
"""The last segment of a creative's path, ``{creative}.{ext}`` or ``{creative}@{W}x{H}.{ext}`` (one of
the creative's sizes; none: its first); the router checks `ext` itself, so an unknown extension is a
400 naming the allowed ones rather than a 404."""
SIZED_RE: Final = re.compile(
    r"^(?P<creative>[a-z0-9][a-z0-9-]{0,62})(?:@(?P<width>[1-9][0-9]{1,3})x(?P<height>[1-9][0-9]{1,3}))?$"
)
"""A creative segment of the decision route: ``{creative}`` or ``{creative}@{W}x{H}``."""
SIZE_FORM: Final = "WIDTHxHEIGHT, 16..4000 px each, no leading zero (e.g. 728x90)"


def file_size(match: re.Match[str]) -> tuple[int, int] | None:
    """The size a `FILE_RE` match names, or None when the path names none."""
    return None if match["width"] is None else (int(match["width"]), int(match["height"]))


def _slug(field: str, value: str) -> str:
    if not SLUG_PATTERN.fullmatch(value):
        raise ParamError(field, value, "1-63 of a-z, 0-9 and '-', not starting with '-'")
    return value


def creative_path(brand: str, creative: str, ext: str, size: tuple[int, int] | None = None) -> str:
    """``/v1/{brand}/{creative}.{ext}``, or ``/v1/{brand}/{creative}@{W}x{H}.{ext}`` for a `size`;
    raises ParamError naming a bad brand, creative, ext or size."""
    if ext not in EXTENSIONS:
        raise ParamError("ext", ext, f"one of {', '.join(EXTENSIONS)}")
    return f"/v1/{_slug('brand', brand)}/{_slug('creative', creative)}{_size_suffix(size)}.{ext}"


def _size_suffix(size: tuple[int, int] | None) -> str:
    if size is None:
        return ""
    if not all(isinstance(v, int) and 16 <= v <= 4000 for v in size):
        raise ParamError("size", size, SIZE_FORM)
    return f"@{size[0]}x{size[1]}"


def decision_path(brand: str, creative: str, size: tuple[int, int] | None = None) -> str:
    """``/v1/{brand}/{creative}/decision``, or ``/v1/{brand}/{creative}@{W}x{H}/decision`` for a size
    (needs a ``debug``-scoped signature); raises ParamError naming a bad brand, creative or size."""
    return f"/v1/{_slug('brand', brand)}/{_slug('creative', creative)}{_size_suffix(size)}/decision"


def click_path(brand: str, creative: str) -> str:
    """``/v1/{brand}/{creative}/click``; raises ParamError naming a bad brand or creative."""
    return f"/v1/{_slug('brand', brand)}/{_slug('creative', creative)}/click"


__all__ = [
    "EXTENSIONS",
    "FILE_RE",
    "IMAGE_EXTS",
    "SIZED_RE",
    "SIZE_FORM",
    "SLUG_PATTERN",
    "click_path",
    "creative_path",
    "decision_path",
    "file_size",
]
