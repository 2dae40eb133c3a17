"""A small timing harness: ``measure`` a callable, collect rows in ``Results``, print and save them.

Samples are single calls timed with ``time.perf_counter_ns`` with the garbage collector paused
(as ``timeit`` does). ``measure`` keeps sampling until it has ``repeat`` samples *and* has spent
``min_time`` seconds, but never takes more than ``max_repeat`` samples, so a run stays bounded.
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Stats:
    """Timing summary of one measured callable, in milliseconds."""

    median_ms: float
    p90_ms: float
    min_ms: float
    n: int


def measure(
    fn: Callable[[], Any],
    *,
    warmup: int = 3,
    repeat: int = 20,
    min_time: float = 0.5,
    max_repeat: int = 500,
) -> Stats:
    """Time ``fn()`` after ``warmup`` untimed calls; see the module docstring for the stopping rule."""
    if repeat < 1 or max_repeat < repeat:
        raise ValueError("need 1 <= repeat <= max_repeat")
    for _ in range(warmup):
        fn()
    samples: list[int] = []
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        deadline = time.perf_counter_ns() + int(min_time * 1e9)
        while len(samples) < max_repeat and (len(samples) < repeat or time.perf_counter_ns() < deadline):
            start = time.perf_counter_ns()
            fn()
            samples.append(time.perf_counter_ns() - start)
    finally:
        if gc_was_enabled:
            gc.enable()
    ms = [s / 1e6 for s in samples]
    p90 = statistics.quantiles(ms, n=10, method="inclusive")[8] if len(ms) > 1 else ms[0]
    return Stats(median_ms=statistics.median(ms), p90_ms=p90, min_ms=min(ms), n=len(ms))


@dataclass
class Row:
    """One benchmark row; ``baseline`` names the row its ratio is computed against."""

    name: str
    stats: Stats
    nbytes: int | None = None
    baseline: str | None = None
    notes: str = ""
    ratio: float | None = field(default=None, init=False)


class Results:
    """Collects rows for one benchmark, prints an aligned table and writes ``results/<name>.json``.

    ``ratio`` is ``row.median_ms / baseline_row.median_ms`` against a row measured in the same
    run (below 1.0 means faster than the baseline). A baseline row names itself (ratio 1.00);
    a row with no baseline gets no ratio.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[Row] = []

    def add(
        self,
        name: str,
        stats: Stats,
        *,
        nbytes: int | None = None,
        baseline: str | None = None,
        notes: str = "",
    ) -> Row:
        """Add a row; ``baseline`` must be ``name`` itself or a row added earlier in this run."""
        if any(r.name == name for r in self.rows):
            raise ValueError(f"duplicate row {name!r}")
        row = Row(name, stats, nbytes, baseline, notes)
        if baseline == name:
            row.ratio = 1.0
        elif baseline is not None:
            ref = next((r for r in self.rows if r.name == baseline), None)
            if ref is None:
                raise KeyError(f"baseline row {baseline!r} must be added before {name!r}")
            row.ratio = stats.median_ms / ref.stats.median_ms
        self.rows.append(row)
        return row

    def table(self) -> str:
        header = ("name", "median ms", "p90 ms", "min ms", "n", "ratio", "bytes", "notes")
        body = [
            (
                r.name,
                f"{r.stats.median_ms:.2f}",
                f"{r.stats.p90_ms:.2f}",
                f"{r.stats.min_ms:.2f}",
                str(r.stats.n),
                "-" if r.ratio is None else f"{r.ratio:.2f}",
                "-" if r.nbytes is None else f"{r.nbytes:,}",
                r.notes,
            )
            for r in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        left = {0, len(header) - 1}  # name and notes left-aligned, numbers right-aligned

        def fmt(line: tuple[str, ...]) -> str:
            cells = (
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])

    def to_dict(self) -> dict[str, Any]:
        from PIL import __version__ as pillow_version
        from PIL import features

        return {
            "benchmark": self.name,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "env": {
                "python": sys.version.split()[0],
                "pillow": pillow_version,
                "raqm": features.check("raqm"),
                "machine": platform.machine(),
                "platform": platform.platform(),
            },
            "rows": [
                {
                    "name": r.name,
                    **{k: round(v, 4) for k, v in asdict(r.stats).items()},
                    "ratio": None if r.ratio is None else round(r.ratio, 4),
                    "baseline": r.baseline,
                    "bytes": r.nbytes,
                    "notes": r.notes,
                }
                for r in self.rows
            ],
        }

    def write(self, results_dir: Path = RESULTS_DIR) -> Path:
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{self.name}.json"
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def report(self) -> Path:
        """Print the table and write the JSON file; returns the file's path."""
        print(f"== {self.name} ==")
        print(self.table())
        path = self.write()
        print(f"wrote {path}")
        return path
