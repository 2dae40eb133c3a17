"""The run of `versa export` (`versa.cli.export`): render files on every core, journal each one, resume.

`FileWriter` renders one planned file and writes it atomically (a temporary name, then a rename), so
a file under its final name is always whole. A process pool (`PoolRun`) builds one `FileWriter`, and
so one renderer and one loaded pack, per worker process; with one job the files are drawn here
(`LocalRun`). The parent appends a line to the journal (`Journal`, `.versa-export.jsonl` in the export
directory) for each file a worker reports, with its SHA-256: an export that is killed or interrupted
is resumed by running the same command, which verifies each journaled file's checksum and renders
only the rest. Ctrl-C or SIGTERM lets the files in flight finish and journals them (a second one
stops at once).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from versa.authoring.export import ExportFile, Written
from versa.cli.warm_run import Interrupts, rich_progress

if TYPE_CHECKING:
    from versa.pack.model import Pack
    from versa.render.engine import Renderer
    from versa.settings import Settings

JOURNAL = ".versa-export.jsonl"
"""The journal's name in the export directory."""
JOURNAL_FORMAT = 1
IN_FLIGHT_PER_WORKER = 3
"""Batches handed to each worker ahead of time: enough to keep it busy, few enough that Ctrl-C stops soon."""
MAX_BATCH = 8
"""The most files in one batch (a small export gets batches of one, so every worker has work)."""


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------ writing


class FileWriter:
    """Renders planned files of one pack into `out_dir` with one renderer (one per process)."""

    def __init__(self, pack: Pack, renderer: Renderer, out_dir: Path) -> None:
        self.pack = pack
        self.renderer = renderer
        self.out_dir = out_dir

    def write(self, item: ExportFile) -> Written:
        """Render `item` and write it under its name, whole or not at all; its size and checksum."""
        rendered = self.renderer.render(
            self.pack, item.decision, texts=item.texts, params=item.params, fmt=item.fmt, width=None, dpr=1.0,
            now=item.now, tz=item.tz,
        )
        body = rendered.body
        path = self.out_dir / item.file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(body)
        tmp.replace(path)
        return Written(item.file, len(body), hashlib.sha256(body).hexdigest())


def build_writer(pack_dir: Path, version: str, settings: Settings, out_dir: Path) -> FileWriter:
    """A FileWriter for the pack at `pack_dir`, refusing it unless it is still at `version`."""
    from versa.cli.main import CliError
    from versa.composition import build_renderer
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    pack = load_pack(pack_dir, checks=PACK_CHECKS)
    if pack.version != version:
        raise CliError(f"{pack_dir}: the pack changed while exporting (version {version} → {pack.version}); run again")
    return FileWriter(pack, build_renderer(settings), out_dir)


_WORKER: FileWriter | None = None


def _init_worker(pack_dir: Path, version: str, settings: Settings, out_dir: Path) -> None:
    """A pool worker's start: Ctrl-C is the parent's to handle; load the pack, build the renderer."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = build_writer(pack_dir, version, settings, out_dir)


def _work(batch: Sequence[ExportFile]) -> list[Written | str]:
    """Write a batch of files in a pool worker: each one's Written, or why it failed (a string, so any
    failure survives the trip back to the parent and the rest of the batch is still written)."""
    assert _WORKER is not None, "the pool's initializer builds the writer"
    out: list[Written | str] = []
    for item in batch:
        try:
            out.append(_WORKER.write(item))
        except Exception as exc:
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def pool_context() -> BaseContext:
    """How workers start: from a fork server that has imported the renderer once (where there is
    one), else a fresh interpreter each; never a plain fork of this process (its threads)."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["versa.cli.export_run", "versa.render.engine", "versa.pack.loader"])
        return ctx
    return multiprocessing.get_context("spawn")


# ----------------------------------------------------------------------------------------- journal


class Journal:
    """The export directory's record of finished files (JSON lines: a header naming the pack version
    and the render engine, then one line per file with its bytes and SHA-256)."""

    def __init__(self, out_dir: Path, identity: dict[str, str]) -> None:
        self.path = out_dir / JOURNAL
        self.out_dir = out_dir
        self.identity = {"journal": JOURNAL_FORMAT, **identity}
        self._file: Any = None

    def finished(self) -> tuple[dict[str, Written], str]:
        """The files a journal for this pack version and engine lists that are still on disk with the
        checksum it recorded, and a note on anything set aside (another version, a changed file). Temporary
        files a killed run left behind (`.NAME.PID.tmp`, never renamed into place) are removed first."""
        self._sweep()
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}, ""
        try:
            header = json.loads(lines[0]) if lines else None
        except ValueError:
            header = None
        if header != self.identity:
            return {}, f"{self.path.name}: from another pack version or renderer; every file is rendered again"
        out: dict[str, Written] = {}
        changed = 0
        for line in lines[1:]:
            try:
                entry = json.loads(line)
                written = Written(str(entry["file"]), int(entry["bytes"]), str(entry["sha256"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short when the run was killed
            path = self.out_dir / written.file
            try:
                ok = path.stat().st_size == written.bytes and sha256_file(path) == written.sha256
            except OSError:
                ok = False
            if ok:
                out[written.file] = written
            else:
                out.pop(written.file, None)
                changed += 1
        note = f"{changed} journaled file(s) missing or changed since; rendered again" if changed else ""
        return out, note

    def _sweep(self) -> None:
        """Remove what a killed writer left half-written: `.NAME.PID.tmp` files (FileWriter.write) and
        the journal's own `.tmp`."""
        if not self.out_dir.is_dir():
            return
        for leftover in self.out_dir.rglob(".*.tmp"):
            if re.fullmatch(r"\..+\.[0-9]+\.tmp", leftover.name) and leftover.is_file():
                leftover.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".tmp").unlink(missing_ok=True)

    @contextlib.contextmanager
    def recording(self, kept: Sequence[Written]) -> Iterator[Journal]:
        """Rewrite the journal with its header and `kept`, then keep it open for `record`."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.write(json.dumps(self.identity) + "\n")
            for w in kept:
                f.write(self._line(w))
        tmp.replace(self.path)
        with self.path.open("a", encoding="utf-8") as f:
            self._file = f
            try:
                yield self
            finally:
                self._file = None

    def record(self, written: Written) -> None:
        """Append one finished file (flushed, so a killed run keeps it)."""
        self._file.write(self._line(written))
        self._file.flush()

    @staticmethod
    def _line(w: Written) -> str:
        return json.dumps({"file": w.file, "bytes": w.bytes, "sha256": w.sha256}) + "\n"


# --------------------------------------------------------------------------------------------- runs


@dataclass
class Outcome:
    """How a run ended: the files written, those that failed (file → reason), whether it stopped early."""

    written: list[tuple[ExportFile, Written]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    fatal: str = ""
    """Why the run could not go on (a worker process died), when it could not."""


Done = Callable[[ExportFile, Written | None], None]
"""Told of every file as it finishes (None: it failed)."""


class LocalRun:
    """Draws every file in this process, one after another."""

    def __init__(self, make_writer: Callable[[], FileWriter]) -> None:
        self.make_writer = make_writer

    def run(self, todo: Sequence[ExportFile], done: Done) -> Outcome:
        from versa.errors import VersaError

        outcome = Outcome()
        writer = self.make_writer()
        with Interrupts().installed() as signals:
            for item in todo:
                if signals.stop.is_set():
                    break
                try:
                    written = writer.write(item)
                except (VersaError, OSError, ValueError) as exc:
                    outcome.failed[item.file] = str(exc)
                    done(item, None)
                    continue
                outcome.written.append((item, written))
                done(item, written)
            outcome.interrupted = signals.interrupted
        return outcome


class PoolRun:
    """Draws the files on `jobs` worker processes, each with its own pack and renderer, handed out in
    small batches (fewer round trips; a design's formats travel together, its decision pickled once)."""

    def __init__(self, jobs: int, pack_dir: Path, version: str, settings: Settings, out_dir: Path) -> None:
        self.jobs = jobs
        self.initargs = (pack_dir, version, settings, out_dir)

    def run(self, todo: Sequence[ExportFile], done: Done) -> Outcome:
        outcome = Outcome()
        size = max(1, min(MAX_BATCH, len(todo) // (self.jobs * IN_FLIGHT_PER_WORKER * 4)))
        batches = iter([todo[i : i + size] for i in range(0, len(todo), size)])
        running: dict[Future[list[Written | str]], Sequence[ExportFile]] = {}
        ahead = self.jobs * IN_FLIGHT_PER_WORKER
        pool = ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=pool_context(), initializer=_init_worker, initargs=self.initargs
        )
        with Interrupts().installed() as signals:
            try:
                while True:
                    while not signals.stop.is_set() and len(running) < ahead:
                        batch = next(batches, None)
                        if batch is None:
                            break
                        running[pool.submit(_work, batch)] = batch
                    if not running or signals.abandon.is_set():
                        break
                    finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in finished:
                        batch = running.pop(future)
                        try:
                            results = future.result()
                        except BrokenProcessPool as exc:
                            outcome.fatal = f"a worker process stopped ({exc})"
                            signals.stop.set()
                            continue
                        for item, result in zip(batch, results, strict=True):
                            if isinstance(result, str):
                                outcome.failed[item.file] = result
                                done(item, None)
                            else:
                                outcome.written.append((item, result))
                                done(item, result)
            finally:
                pool.shutdown(wait=not signals.abandon.is_set(), cancel_futures=True)
            outcome.interrupted = signals.interrupted
        return outcome


class _NoBar:
    """A progress bar that shows nothing (rich is not installed)."""

    task_ids = (0,)

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, task: int) -> None:
        return None


def progress_bar(total: int, label: str, *, enabled: bool) -> Any:
    """A rich progress bar on standard error: files done/total, percent, files per second, elapsed
    and ETA (a bar that draws nothing when not `enabled`, or without rich: the `cli` extra)."""
    try:
        import rich  # noqa: F401
    except ModuleNotFoundError:
        return _NoBar()
    return rich_progress(total, label, lambda speed: f"{speed:.1f} files/s" if speed else "– files/s",
                         enabled=enabled)


__all__ = [
    "JOURNAL",
    "FileWriter",
    "Journal",
    "LocalRun",
    "Outcome",
    "PoolRun",
    "build_writer",
    "progress_bar",
    "sha256_file",
]
