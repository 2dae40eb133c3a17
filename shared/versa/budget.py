"""Render budgets shared by the service and the renderer: a deadline a render checks as it works, and
handing freed memory back to the operating system after a large render.

The service runs each render in a worker thread with `run_with_deadline`; long loops in the renderer
(layers, countdown frames) call `check_deadline()`, which raises `RenderTimeout` once the deadline has
passed, so a render the service has given up on (and answered with the fallback) stops within one
frame instead of running to the end. Outside `run_with_deadline` there is no deadline and the check
costs one context-variable read. Standard library only: the pure core may import it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from versa.errors import RenderTimeout

_T = TypeVar("_T")
_deadline: ContextVar[float | None] = ContextVar("versa_render_deadline", default=None)


def check_deadline() -> None:
    """Raise RenderTimeout when the current render's deadline (monotonic seconds) has passed."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() >= deadline:
        raise RenderTimeout("the render passed its time budget and was abandoned")


def run_with_deadline(deadline: float, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """`fn(*args, **kwargs)` with `deadline` (monotonic seconds) visible to `check_deadline`."""
    token = _deadline.set(deadline)
    try:
        check_deadline()  # a render that waited in the queue past its budget never starts
        return fn(*args, **kwargs)
    finally:
        _deadline.reset(token)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_memory() -> None:
    """Return freed heap pages to the operating system (glibc's malloc_trim; a no-op elsewhere).
    After a large render, glibc keeps the freed arenas mapped and the process's RSS stays at its peak."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


__all__ = ["check_deadline", "release_memory", "run_with_deadline"]
