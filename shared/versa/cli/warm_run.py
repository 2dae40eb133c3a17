"""The runs of `versa warm` (`versa.cli.warm`): generating here, or enqueueing for the deployed generator.

`LocalRun` leases each key as a miss would and runs it through `GenerationWorker.run` (the writer,
guardrails, spending bounds and store of the in-process queue), at most `concurrency` at once on daemon
threads, and reads back what was stored; the worker's metrics and log (`Events`, kept per thread) say
what stopped a generation. `RemoteRun` leases each key in the deployed table and sends it to the
queue. Both stop on Ctrl-C or SIGTERM (`Interrupts`): what is in flight finishes, a second signal
abandons it, and leases not written are let go.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any

from versa.generate.warm import Tally, release, take_lease
from versa.ports import CopyItem, CopyStatus, CopyStore, GenerationQueue, GenerationRequest, PackStore

if TYPE_CHECKING:
    from versa.generate.worker import GenerationWorker
    from versa.pack.model import Pack

RATE_WAIT = 1.0
"""Seconds between asking again when the per-minute rate holds a generation back."""

@dataclass
class Outcome:
    """How a run ended: `stopped` says which bound ended it early, `fatal` why nothing more could be
    written, `interrupted` whether Ctrl-C did; `not_done` counts keys left for a later run."""

    not_done: int = 0
    stopped: str = ""
    fatal: str = ""
    interrupted: bool = False


class OnePack(PackStore):
    """The pack being warmed, as the worker's pack store (the pack given, not the packs directory's)."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack

    def current(self, brand: str) -> Pack:
        from versa.errors import UnknownBrand

        if brand != self.pack.brand:
            raise UnknownBrand(brand, [self.pack.brand])
        return self.pack

    def brands(self) -> list[str]:
        return [self.pack.brand]


class Events:
    """The worker's metrics and log, kept per thread: what happened to the request this thread runs."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _list(self) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] | None = getattr(self._local, "events", None)
        if events is None:
            events = self._local.events = []
        return events

    def count(self, name: str, value: float = 1, /, **props: Any) -> None:
        self._list().append((name, props))

    def timing(self, name: str, ms: float, /, **props: Any) -> None:
        return None

    def log(self, message: str, **fields: Any) -> None:
        self._list().append((f"log: {message}", fields))

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        events = self._list()
        self._local.events = []
        return events


BOUNDS = {
    "budget": "the brand's daily token budget (VERSA_COPY_DAILY_TOKENS) was reached",
    "kill-switch": "the kill switch (VERSA_COPY_KILL_SWITCH) is on",
}


@dataclass(frozen=True)
class Done:
    """What became of one key: `item` written (copy or a failure), else skipped (`skip`), stopped by a
    bound (`bound`), or `fatal` (the writer cannot write at all) / `error` (this request crashed)."""

    key: str
    item: CopyItem | None = None
    skip: str = ""
    bound: str = ""
    fatal: str = ""
    error: str = ""


class Interrupts:
    """SIGINT (Ctrl-C) or SIGTERM while a run is on: the first sets `stop` (finish what is in flight),
    the second `abandon`."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.abandon = threading.Event()
        self.interrupted = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[Interrupts]:
        def on_signal(signum: int, frame: FrameType | None) -> None:
            if self.interrupted:
                self.abandon.set()
            self.interrupted = True
            self.stop.set()

        try:
            previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        except ValueError:  # not the main thread (a test calling main() from a thread): no handler
            yield self
            return
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _progress(total: int, label: str) -> Any:
    """A rich progress bar on standard error: done/total, percent, rate per minute, elapsed and ETA."""
    return rich_progress(total, label, lambda speed: f"{speed * 60:.1f}/min" if speed else "–/min")


def rich_progress(total: int, label: str, rate: Callable[[float | None], str], *, enabled: bool = True) -> Any:
    """A rich progress bar on standard error for one task of `total` steps: done/total, percent, the rate
    as `rate(steps per second)` writes it, elapsed and ETA (`versa warm`, `versa export`)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(rate(task.finished_speed or task.speed), style="progress.data.speed")

    progress = Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), Rate(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=Console(stderr=True), transient=False, disable=not enabled,
    )
    progress.add_task(label, total=total)
    return progress


class LocalRun:
    """Generates each key here: lease, `GenerationWorker.run`, read what it stored; at most
    `concurrency` at once on daemon threads (so an abandoned run can exit)."""

    def __init__(
        self, worker: GenerationWorker, store: CopyStore, events: Events, lease_seconds: int,
        retake: dict[str, int], *, concurrency: int, now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.worker = worker
        self.store = store
        self.events = events
        self.lease = timedelta(seconds=lease_seconds)
        self.retake = retake
        self.concurrency = concurrency
        self.now = now
        self.halt = threading.Event()
        self.leased: set[str] = set()
        self._lock = threading.Lock()

    def run(self, todo: Sequence[GenerationRequest], tally: Tally) -> Outcome:
        work: queue.SimpleQueue[GenerationRequest] = queue.SimpleQueue()
        for request in todo:
            work.put(request)
        results: queue.SimpleQueue[Done] = queue.SimpleQueue()
        outcome = Outcome()
        with Interrupts().installed() as signals, _progress(len(todo), "warming") as progress:
            self.halt = signals.stop
            threads = [threading.Thread(target=self._loop, args=(work, results), daemon=True, name=f"warm-{i}")
                       for i in range(min(self.concurrency, len(todo)))]
            for t in threads:
                t.start()
            handled = 0
            announced = False
            while any(t.is_alive() for t in threads) or not results.empty():
                if signals.abandon.is_set():
                    break
                if signals.interrupted and not announced:
                    announced = True
                    progress.console.print("versa: stopping: the generations in flight finish and are stored "
                                           "(Ctrl-C again to abandon them)")
                try:
                    done = results.get(timeout=0.2)
                except queue.Empty:
                    continue
                handled += 1
                progress.advance(progress.task_ids[0])
                self._count(done, tally, outcome)
            outcome.interrupted = signals.interrupted
            if signals.abandon.is_set():
                with self._lock:
                    abandoned = list(self.leased)
                for key in abandoned:
                    release(self.store, key, self.now())
        outcome.not_done += len(todo) - handled  # never started, or abandoned in flight
        return outcome

    def _count(self, done: Done, tally: Tally, outcome: Outcome) -> None:
        if done.item is not None:
            tally.add_written(done.item)
        elif done.skip:
            tally.add_skip(done.skip)
        elif done.bound == "interrupted":
            outcome.not_done += 1
        elif done.bound:
            outcome.not_done += 1
            outcome.stopped = outcome.stopped or BOUNDS.get(done.bound, done.bound)
            self.halt.set()
        elif done.fatal:
            outcome.not_done += 1
            outcome.fatal = outcome.fatal or done.fatal
            self.halt.set()
        else:
            outcome.not_done += 1
            tally.add_error(done.error)
        # keys never started are counted by the caller (todo - handled)

    def _loop(self, work: Any, results: Any) -> None:
        while not self.halt.is_set():
            try:
                request = work.get_nowait()
            except queue.Empty:
                return
            try:
                done = self.one(request)
            except Exception as exc:  # a store failure: this key is left for a later run
                done = Done(request.key, error=f"{type(exc).__name__}: {str(exc)[:120]}")
            results.put(done)

    def one(self, request: GenerationRequest) -> Done:
        """Lease, generate and read back one key."""
        key = request.key
        skip = take_lease(self.store, key, self.now(), self.lease, self.retake)
        if skip:
            return Done(key, skip=skip)
        with self._lock:
            self.leased.add(key)
        try:
            return self._generate(request)
        finally:
            with self._lock:
                self.leased.discard(key)

    def _generate(self, request: GenerationRequest) -> Done:
        key = request.key
        while True:
            self.events.take()
            self.worker.run(request)
            events = self.events.take()
            names = {name for name, _ in events}
            bound = next((str(p.get("bound")) for n, p in events if n == "CopyGenerationStopped"), "")
            if bound != "rate":
                break
            if self.halt.wait(RATE_WAIT):  # held back by the per-minute rate: wait, unless stopping
                release(self.store, key, self.now())
                return Done(key, bound="interrupted")
        if bound:  # the daily budget or the kill switch: nothing more starts
            self.halt.set()
            release(self.store, key, self.now())
            return Done(key, bound=bound)
        if "CopyWriterUnavailable" in names or "VisualWriterUnavailable" in names:
            self.halt.set()
            release(self.store, key, self.now())
            error = next((str(p.get("error")) for n, p in events
                          if n in ("log: copy writer unavailable", "log: visual writer unavailable")), "")
            return Done(key, fatal=f"the writer is unavailable: {error}")
        if "CopyWriteLost" in names:
            return Done(key, skip="written by another process meanwhile")
        item = self.store.get(key)
        if item is None or item.status is CopyStatus.pending:
            release(self.store, key, self.now())
            crash = next((str(p.get("reason")) for n, p in events if n == "CopyGenerationErrors"), "not written")
            return Done(key, error=f"generation error: {crash[:120]}")
        return Done(key, item=item)


class RemoteRun:
    """Leases each key in the deployed table and enqueues it to the deployed queue, a batch at a time."""

    BATCH = 10

    def __init__(self, store: CopyStore, queue: GenerationQueue, lease_seconds: int, retake: dict[str, int],
                 *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.queue = queue
        self.lease = timedelta(seconds=lease_seconds)
        self.retake = retake
        self.now = now

    def run(self, todo: Sequence[GenerationRequest], tally: Tally) -> Outcome:
        outcome = Outcome()
        handled = 0
        with Interrupts().installed() as signals, _progress(len(todo), "enqueueing") as progress:
            for start in range(0, len(todo), self.BATCH):
                if signals.stop.is_set():
                    break
                batch: list[GenerationRequest] = []
                for request in todo[start : start + self.BATCH]:
                    skip = take_lease(self.store, request.key, self.now(), self.lease, self.retake)
                    if skip:
                        tally.add_skip(skip)
                    else:
                        batch.append(request)
                try:
                    if batch:
                        self.queue.enqueue(batch)
                except Exception as exc:  # StoreUnavailable: the queue refused; let the leases go
                    for request in batch:
                        release(self.store, request.key, self.now())
                    outcome.fatal = f"the queue refused the requests: {exc}"
                    break
                tally.enqueued += len(batch)
                handled += len(todo[start : start + self.BATCH])
                progress.advance(progress.task_ids[0], len(todo[start : start + self.BATCH]))
            outcome.interrupted = signals.interrupted
        outcome.not_done = len(todo) - handled
        return outcome


__all__ = ["BOUNDS", "Done", "Events", "Interrupts", "LocalRun", "OnePack", "Outcome", "RemoteRun"]
