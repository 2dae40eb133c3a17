"""Errors of publishing: each says which step failed and where the brand's pointer stands."""

from __future__ import annotations

from versa.errors import VersaError


class PublishError(VersaError, RuntimeError):
    """A publish, rollback or repair step failed; the message says which and where the pointer stands.
    Whatever failed, the brand's journal says whether a repair is due (`versa publish --repair`)."""


class PublishConflict(PublishError):
    """The pointer moved while this operation held the brand's lock (something wrote it without the
    lock); nothing flipped, and the fallbacks were brought back to the pointer's version if possible."""


class PublishBusy(PublishError):
    """Another publisher holds the brand's lock and did not release it within the wait."""


class LockLost(PublishError):
    """This publisher's lock expired and was taken over; it stopped before flipping anything."""


class UnknownVersion(VersaError, LookupError):
    def __init__(self, brand: str, version: str, known: list[str]) -> None:
        self.brand = brand
        self.version = version
        self.known = known
        hint = f" (known: {', '.join(known)})" if known else " (none published)"
        super().__init__(f"brand {brand!r} has no version {version!r}{hint}")


__all__ = ["LockLost", "PublishBusy", "PublishConflict", "PublishError", "UnknownVersion"]
