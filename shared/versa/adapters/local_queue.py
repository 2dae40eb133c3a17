"""The embedded generation path: the offline writer, and an in-process queue whose one background
thread hands each request to a generation worker (`versa.generate.worker.GenerationWorker.run`).

The queue is bounded: when it is full a miss is not queued (the enqueue raises, the service counts a
queue error) and its lease expires, so a later miss asks again. Nothing here blocks a request.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence

from versa.ports import CopyWriter, Draft, GenerationQueue, GenerationRequest, WriteRequest


class OfflineWriter(CopyWriter):
    """Answers each slot's default text, marked as not generated: generation without an LLM, so
    everything runs offline and deterministically."""

    model = None

    def write(self, request: WriteRequest) -> Draft:
        return Draft(candidates=(request.default,), generated=False, notes=("offline writer: the pack's default",))


class QueueFull(RuntimeError):
    """The in-process generation queue holds as many requests as it may."""


class InProcessQueue(GenerationQueue):
    """Runs `run(request)` for each queued request on one daemon thread, started on first use.
    `on_done(key)` is called after a run that wrote something (the service then reads that key again)."""

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

    def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
        self._start()
        for request in requests:
            try:
                self._queue.put_nowait(request)
            except queue.Full:
                raise QueueFull(f"the generation queue is full ({self._queue.maxsize} waiting)") from None

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until every queued request has run (tests, shutdown); False if `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0 or not self._queue.all_tasks_done.wait(left):
                    return not self._queue.unfinished_tasks
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread after the requests already queued."""
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
            self._thread = None

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="versa-copy-worker", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            request = self._queue.get()
            try:
                if request is None:
                    return
                if self.run(request) and self.on_done is not None:
                    self.on_done(request.key)
            except Exception:  # `run` reports its own failures; the thread must live on
                pass
            finally:
                self._queue.task_done()
