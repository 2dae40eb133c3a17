"""The in-process generation queue: one worker thread, bounded, and closed cleanly — queued requests
dropped, a running one given a grace period, then finished or abandoned, the thread joined."""

from __future__ import annotations

import threading
import time

import pytest

from versa.adapters.local_queue import Closed, InProcessQueue, QueueClosed, QueueFull
from versa.ports import GenerationRequest

WAIT_S = 30.0
"""Bound on waiting for the worker thread to reach a point (a hang, not a speed check)."""


def request(n: int) -> GenerationRequest:
    return GenerationRequest(key=f"key-{n}", brand="acme", creative="winter-sale", slot="headline",
                             locale="en", brief="A headline", constraints={}, vary={}, default="Sale")


class Gate:
    """A `run` that records each request and blocks the first one until it is released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.ran: list[str] = []

    def __call__(self, req: GenerationRequest) -> bool:
        self.ran.append(req.key)
        if len(self.ran) == 1:
            self.started.set()
            self.release.wait(WAIT_S)
        return True


def release_once_closed(q: InProcessQueue, gate: Gate) -> None:
    """Let the running request finish, but only after the queue was closed."""
    while not q.closed:
        time.sleep(0.001)
    gate.release.set()


def worker_threads() -> set[threading.Thread]:
    """Copy worker threads alive now (other tests' services may have left theirs running)."""
    return {t for t in threading.enumerate() if t.name == "versa-copy-worker"}


def test_closing_drops_the_queued_requests_and_lets_the_running_one_finish() -> None:
    # GIVEN a worker busy with one request and three more queued behind it
    gate, done, before = Gate(), [], worker_threads()
    q = InProcessQueue(gate, on_done=done.append)
    q.enqueue([request(0)])
    assert gate.started.wait(WAIT_S)
    q.enqueue([request(1), request(2), request(3)])
    # WHEN it is closed while the running request finishes within the grace period
    threading.Thread(target=release_once_closed, args=(q, gate)).start()
    closed = q.close(grace=WAIT_S)
    # THEN the three queued requests were dropped unstarted, the running one finished and was reported
    assert closed == Closed(dropped=3, abandoned=False)
    assert gate.ran == ["key-0"] and done == ["key-0"]
    # AND the thread is gone, and the log line says what happens to the dropped keys
    assert worker_threads() <= before
    assert closed.describe(600) == (
        "copy worker stopped: 3 queued generation(s) dropped, no generation left running; "
        "their leases expire within 600 s and a later miss asks again"
    )


def test_a_generation_still_running_after_the_grace_period_is_abandoned() -> None:
    # GIVEN a worker stuck in a request (a model that does not answer)
    gate, before = Gate(), worker_threads()
    q = InProcessQueue(gate)
    q.enqueue([request(0), request(1)])
    assert gate.started.wait(WAIT_S)
    try:
        # WHEN it is closed with a short grace period
        closed = q.close(grace=0.05)
        # THEN close returned anyway, saying the running generation was abandoned and one was dropped
        assert closed == Closed(dropped=1, abandoned=True)
        assert "a running generation was abandoned" in closed.describe(600)
    finally:
        gate.release.set()
    # AND once the stuck request returns, the thread ends without running anything else
    for thread in worker_threads() - before:
        thread.join(WAIT_S)
    assert gate.ran == ["key-0"] and worker_threads() <= before


def test_a_closed_queue_refuses_requests_and_closing_twice_is_harmless() -> None:
    # GIVEN a queue that never ran anything, closed
    gate, before = Gate(), worker_threads()
    q = InProcessQueue(gate)
    assert q.close() == Closed(dropped=0, abandoned=False)
    assert q.close().describe(600) == "copy worker stopped: nothing queued, no generation left running"
    # WHEN a request comes after the close, THEN it is refused (the service counts a queue error) and
    # no thread starts
    with pytest.raises(QueueClosed):
        q.enqueue([request(0)])
    assert gate.ran == [] and worker_threads() <= before


def test_a_full_queue_refuses_more() -> None:
    gate = Gate()
    q = InProcessQueue(gate, capacity=1)
    q.enqueue([request(0)])
    assert gate.started.wait(WAIT_S)
    q.enqueue([request(1)])
    with pytest.raises(QueueFull):
        q.enqueue([request(2)])
    gate.release.set()
    assert q.close(grace=WAIT_S) == Closed(dropped=1, abandoned=False)
