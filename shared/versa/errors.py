"""Versa's error hierarchy: one base class, each error also the builtin it behaves like.

HTTP status mapping lives in exactly one place (the render function's exception handlers); nothing
matches on message strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal


class VersaError(Exception):
    """Base class of every error Versa raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a pack: where it is and what is wrong."""

    file: str
    path: str
    message: str
    severity: Literal["error", "warning"] = "error"
    line: int | None = None
    """Where in `file` the path is written (1-based), when known."""
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}: " if self.path else f"{self.file}: "
        at = f" (line {self.line}, column {self.column})" if self.line is not None else ""
        return f"{where}{self.message}{at}"


class PackError(VersaError, ValueError):
    """A pack failed to load; `issues` lists every problem found, not just the first."""

    def __init__(self, issues: Sequence[Issue], *, pack: str = "") -> None:
        self.issues = list(issues)
        self.pack = pack
        head = f"pack {pack!r} is invalid" if pack else "pack is invalid"
        lines = "\n".join(f"  {i}" for i in self.issues)
        super().__init__(f"{head} ({len(self.issues)} error(s)):\n{lines}")


class UnknownBrand(VersaError, LookupError):
    """No pack is published for the brand (HTTP 404); `known` lists the brands that are, if given."""

    def __init__(self, brand: str, known: Sequence[str] = ()) -> None:
        self.brand = brand
        self.known = list(known)
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown brand {brand!r}{hint}")


class UnknownCreative(VersaError, LookupError):
    """The brand's pack has no such creative (HTTP 404); `known` lists its creatives, if given."""

    def __init__(self, brand: str, creative: str, known: Sequence[str] = ()) -> None:
        self.brand = brand
        self.creative = creative
        self.known = list(known)
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"brand {brand!r} has no creative {creative!r}{hint}")


class UnknownSize(UnknownCreative):
    """The creative does not come in the size the path names (HTTP 404); `known` lists its sizes."""

    def __init__(self, brand: str, creative: str, size: str, known: Sequence[str] = ()) -> None:
        self.brand = brand
        self.creative = creative
        self.size = size
        self.known = list(known)
        hint = f" (sizes: {', '.join(known)})" if known else ""
        super(UnknownCreative, self).__init__(f"creative {brand}/{creative} does not come in {size}{hint}")


class ParamError(VersaError, ValueError):
    """A request parameter or header value is not acceptable: names it, its value and what is allowed."""

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"parameter {name!r}: {value!r} is not allowed ({allowed})")


class SignatureError(VersaError, PermissionError):
    """Base of signature failures (missing, invalid, wrong scope)."""


class SignatureMissing(SignatureError):
    pass


class SignatureInvalid(SignatureError):
    pass


class SignatureScopeError(SignatureError):
    pass


class SignatureExpired(SignatureError):
    """The signature was valid but its `exp` has passed (HTTP 410)."""


class RenderError(VersaError, RuntimeError):
    """Rendering failed for a reason the pack or the request could not have prevented."""


class RenderTimeout(RenderError, TimeoutError):
    """A render passed its time budget and stopped (the caller has already served the fallback)."""


class Overloaded(VersaError):
    """Every render worker is busy and the queue is full: the request is shed (HTTP 503 with
    Retry-After for browsers, the fallback image for email proxies). `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("every render worker is busy; try again shortly")


class OutputTooLarge(RenderError):
    """The encoded image is larger than the output budget (the caller serves the fallback)."""

    def __init__(self, size: int, cap: int, fmt: str) -> None:
        self.size, self.cap, self.fmt = size, cap, fmt
        super().__init__(f"encoded {fmt} is {size:,} bytes, over the {cap:,}-byte output cap")


class ReviewError(VersaError):
    """A review decision that cannot be made; the message names the key and why."""


class UnknownCopy(ReviewError, LookupError):
    """No stored copy has this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no copy is stored under key {key!r}")
        self.key = key


class WrongStatus(ReviewError, ValueError):
    """The item is not in a status this decision applies to."""

    def __init__(self, key: str, status: str, action: str) -> None:
        super().__init__(f"copy {key} is {status}; only generated or review copy can be {action}d")
        self.key, self.status = key, status


class DecidedElsewhere(ReviewError):
    """Someone else decided the item (or it changed) since it was read: another reviewer won."""

    def __init__(self, key: str, version: int, detail: str = "") -> None:
        super().__init__(
            f"copy {key} was already decided: {detail}" if detail
            else f"copy {key} changed since version {version} was read: someone else decided it first"
        )
        self.key, self.version = key, version


class CommentRequired(ReviewError, ValueError):
    """A rejection without a comment."""

    def __init__(self, key: str) -> None:
        super().__init__(f"rejecting copy {key} needs a comment saying why")


__all__ = [
    "CommentRequired",
    "DecidedElsewhere",
    "Issue",
    "OutputTooLarge",
    "Overloaded",
    "PackError",
    "ParamError",
    "RenderError",
    "RenderTimeout",
    "ReviewError",
    "SignatureError",
    "SignatureExpired",
    "SignatureInvalid",
    "SignatureMissing",
    "SignatureScopeError",
    "UnknownBrand",
    "UnknownCopy",
    "UnknownCreative",
    "UnknownSize",
    "VersaError",
    "WrongStatus",
]
