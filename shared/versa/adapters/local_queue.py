"""The embedded generation path: the offline writer, and an in-process queue whose one background
thread hands each request to a generation worker (`versa.generate.worker.GenerationWorker.run`).

The queue is bounded: when it is full a miss is not queued (the enqueue raises, the service counts a
queue error) and its lease expires, so a later miss asks again. Nothing here blocks a request.

Closing (`versa serve` on Ctrl-C or SIGTERM) drops the requests not yet started, lets a running
generation finish within a grace period, and joins the thread; a generation still running then is
abandoned (the thread is a daemon). Either way the key's lease is left to expire, so a later miss, in
this process or another, asks again. Nothing is lost that a miss cannot ask for again.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from versa.ports import CopyWriter, Draft, GenerationQueue, GenerationRequest, WriteRequest


class OfflineWriter(CopyWriter):
    """Answers each slot's default text, marked as not generated: generation without an LLM, so
    everything runs offline and deterministically."""

    model = None

    def write(self, request: WriteRequest) -> Draft:
        return Draft(candidates=(request.default,), generated=False, notes=("offline writer: the pack's default",))


SHUTDOWN_GRACE_SECONDS = 5.0
"""How long closing waits for a running generation before abandoning it."""


class QueueFull(RuntimeError):
    """The in-process generation queue holds as many requests as it may."""


class QueueClosed(RuntimeError):
    """The in-process generation queue was closed (the process is stopping)."""


@dataclass(frozen=True)
class Closed:
    """What closing the queue left undone: requests dropped before they started, and whether a running
    generation was abandoned when the grace period ran out."""

    dropped: int
    abandoned: bool

    def describe(self, lease_seconds: int) -> str:
        """One line for the log, saying what happens to the keys left undone."""
        running = "a running generation was abandoned" if self.abandoned else "no generation left running"
        if not (self.dropped or self.abandoned):
            return "copy worker stopped: nothing queued, no generation left running"
        return (
            f"copy worker stopped: {self.dropped} queued generation(s) dropped, {running}; their leases "
            f"expire within {lease_seconds} s and a later miss asks again"
        )


class InProcessQueue(GenerationQueue):
    """Runs `run(request)` for each queued request on one daemon thread, started on first use.
    `on_done(key)` is called after a run that wrote something (the service then reads that key again).
    `close` stops it (see the module doc)."""

    def __init__(
        self,
        run: Callable[[GenerationRequest], bool],
        *,
        capacity: int = 256,
        on_done: Callable[[str], None] | None = None,
    ) -> None:
        self.run = run
        self.on_done = on_done
        self._queue: queue.Queue[GenerationRequest | None] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._dropped = 0
        self._dropped_lock = threading.Lock()

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        self._start()
        for request in requests:
            if self._closed:
                raise QueueClosed("the generation queue is closed: the process is stopping")
            try:
                self._queue.put_nowait(request)
            except queue.Full:
                raise QueueFull(f"the generation queue is full ({self._queue.maxsize} waiting)") from None

    @property
    def closed(self) -> bool:
        """True once `close` was called: nothing more is started."""
        return self._closed

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until every queued request has run (tests, shutdown); False if `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0 or not self._queue.all_tasks_done.wait(left):
                    return not self._queue.unfinished_tasks
        return True

    def close(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> Closed:
        """Stop: refuse new requests, drop the queued ones not started, give a running generation
        `grace` seconds to finish, and join the thread (abandoning it, a daemon, if it is still
        running then). Returns what was left undone; calling it again is harmless."""
        with self._start_lock:
            self._closed = True
            thread, self._thread = self._thread, None
        self._drop_queued()
        if thread is None:
            return Closed(self._dropped, abandoned=False)
        # The sentinel wakes the thread once its running request is done. Should an enqueue that raced
        # the close have refilled the queue, the loop drops those requests before reaching it.
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=grace)
        thread.join(grace)
        return Closed(self._dropped, abandoned=thread.is_alive())

    def _drop_queued(self) -> None:
        while True:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                return
            if request is not None:
                self._drop()
            self._queue.task_done()

    def _drop(self) -> None:
        with self._dropped_lock:
            self._dropped += 1

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="versa-copy-worker", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            request = self._queue.get()
            try:
                if request is None:
                    return
                if self._closed:  # queued after the close drained the queue: dropped too
                    self._drop()
                    continue
                if self.run(request) and self.on_done is not None:
                    self.on_done(request.key)
            except Exception:  # `run` reports its own failures; the thread must live on
                pass
            finally:
                self._queue.task_done()
