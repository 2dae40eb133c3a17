"""Export benchmark: `versa export` on 2 worker processes against one renderer drawing the same files.

    python bench/bench_export.py            # the 3,000 designs of the generated pack, 2 rounds (~4 min)
    python bench/bench_export.py --quick    # 200 designs, 1 round
    python bench/bench_export.py --full     # plus the whole `versa export` command on the 3,000, -j 2

The pack is `examples/generate_big_pack.py`'s (300x250, PNG; `--countries` makes it smaller). Every row draws the same files, planned by `versa.authoring.export.plan_export`, each in a
fresh process (so every row starts with cold font and layout caches, as a pool worker does):

- `render/single` (the baseline): one `Renderer`, memo off, renders each file; nothing is written.
  Only the loop is timed (the pack is loaded and the renderer built before): the single-render rate.
- `export/1 process`: the export's in-process run (`LocalRun`): load the pack, build the renderer,
  then render, write (atomically), hash and journal each file.
- `export/2 processes`: the export's process pool (`PoolRun`, 2 workers), with the workers' start
  (each loads the pack and builds its renderer) inside the timing.
- `export/2 processes CPU`: the same pool's CPU time per file: the workers' (each batch timed inside
  its worker, with the export's own start method, initializer and batch function) plus the parent's.

Rows are wall-clock milliseconds per file (median over rounds; each round runs every row once, in a
rotated order). Parallel efficiency = rate on 2 processes ÷ (2 × single-render rate): 1.0 is perfect
scaling; the workers' start, the parent's bookkeeping and, on a shared machine, other processes take
it below. Because other processes take a loaded machine's cores, the CPU efficiency (single-render CPU
per file ÷ the pool's) says what the pool itself costs whatever the load; the load average before and
after is in the notes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from harness import Results, Stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

from generate_big_pack import write_big_pack  # noqa: E402

from versa.authoring.export import ExportFile, plan_export  # noqa: E402
from versa.cli.export_run import LocalRun, PoolRun, _init_worker, _work, build_writer, pool_context  # noqa: E402
from versa.composition import build_renderer  # noqa: E402
from versa.pack.loader import load_pack  # noqa: E402
from versa.render.checks import PACK_CHECKS  # noqa: E402
from versa.settings import load_settings  # noqa: E402

CASES = ("render/single", "export/1 process", "export/2 processes", "export/2 processes CPU")


def stats(per_file_ms: list[float]) -> Stats:
    """Per-file milliseconds over the rounds (p90: the slowest round)."""
    return Stats(median_ms=statistics.median(per_file_ms), p90_ms=max(per_file_ms), min_ms=min(per_file_ms),
                 n=len(per_file_ms))


# ------------------------------------------------------------------------------- one case, in a child


def run_case(case: str, pack_dir: Path, out: Path) -> dict[str, float]:
    """Time one case over every file of the pack's plan: wall and CPU seconds, and the file count."""
    pack = load_pack(pack_dir, checks=PACK_CHECKS)
    files = plan_export(pack, ["catalog"], ["png"]).files
    settings = load_settings({"memo_items": 0})
    shutil.rmtree(out, ignore_errors=True)
    worker_cpu = 0.0
    if case == "render/single":
        renderer = build_renderer(settings)
        start, start_cpu = time.perf_counter(), time.process_time()
        for item in files:
            renderer.render(pack, item.decision, texts=item.texts, params=item.params, fmt=item.fmt,
                            width=None, dpr=1.0, now=item.now, tz=item.tz)
    elif case == "export/1 process":
        start, start_cpu = time.perf_counter(), time.process_time()
        outcome = LocalRun(lambda: build_writer(pack_dir, pack.version, settings, out)).run(files, _ignore)
        assert len(outcome.written) == len(files), outcome.failed
    elif case == "export/2 processes":
        start, start_cpu = time.perf_counter(), time.process_time()
        outcome = PoolRun(2, pack_dir, pack.version, settings, out).run(files, _ignore)
        assert len(outcome.written) == len(files), outcome.failed
    else:
        start, start_cpu = time.perf_counter(), time.process_time()
        with ProcessPoolExecutor(2, mp_context=pool_context(), initializer=_init_worker,
                                 initargs=(pack_dir, pack.version, settings, out)) as pool:
            worker_cpu = sum(pool.map(_cpu_of_batch, [files[i : i + 8] for i in range(0, len(files), 8)]))
    return {"wall": time.perf_counter() - start, "cpu": time.process_time() - start_cpu,
            "worker_cpu": worker_cpu, "files": len(files)}


def _ignore(item: ExportFile, written: object) -> None:
    return None


def _cpu_of_batch(batch: list[ExportFile]) -> float:
    """In a pool worker: write the batch as the export does; the CPU seconds it took."""
    start = time.process_time()
    _work(batch)
    return time.process_time() - start


def in_child(case: str, pack_dir: Path, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--case", case, "--pack", str(pack_dir), "--out", str(out)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), os.environ.get("PYTHONPATH", "")])},
        capture_output=True, text=True, check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


# -------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 designs, one round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--countries", type=int, default=29, help="countries with a rule: (N+1) x 100 designs")
    parser.add_argument("--full", action="store_true", help="also `versa export` on the 3,000-design pack, -j 2")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--pack", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.pack, args.out)))
        return
    countries, rounds = (1, 1) if args.quick else (args.countries, args.rounds)

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="versa-bench-export-"))
    try:
        pack_dir = write_big_pack(work / "packs", countries=countries)
        runs: dict[str, list[dict[str, float]]] = {case: [] for case in CASES}
        for r in range(rounds):
            for case in CASES[r % len(CASES):] + CASES[: r % len(CASES)]:
                runs[case].append(in_child(case, pack_dir, work / "out"))
        load_after = os.getloadavg()
        report(runs, load_before, load_after)
        if args.full:
            full(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(runs: dict[str, list[dict[str, float]]], load_before: tuple[float, ...], load_after: tuple[float, ...]) -> None:
    n = int(runs["render/single"][0]["files"])

    def per_file(case: str, key: str) -> list[float]:
        return [run[key] * 1000 / n for run in runs[case]]

    wall = {case: stats(per_file(case, "wall")) for case in CASES}
    rate = {case: 1000 / s.median_ms for case, s in wall.items()}
    cpu = {case: statistics.median(per_file(case, "cpu")) for case in CASES}
    workers = statistics.median(per_file("export/2 processes CPU", "worker_cpu"))
    pool_cpu = workers + cpu["export/2 processes"]
    results = Results("export")
    results.add("render/single", wall["render/single"], baseline="render/single",
                notes=f"{n} files, {rate['render/single']:.1f} files/s; CPU {cpu['render/single']:.2f} ms/file; load avg "
                f"{load_before[0]:.1f} → {load_after[0]:.1f} on {os.cpu_count()} cores")
    results.add("export/1 process", wall["export/1 process"], baseline="render/single",
                notes=f"{rate['export/1 process']:.1f} files/s; CPU {cpu['export/1 process']:.2f} ms/file")
    efficiency = rate["export/2 processes"] / (2 * rate["render/single"])
    results.add("export/2 processes", wall["export/2 processes"], baseline="render/single",
                notes=f"{rate['export/2 processes']:.1f} files/s; parallel efficiency {efficiency:.2f} (wall clock)")
    results.add("export/2 processes CPU", Stats(pool_cpu, pool_cpu, pool_cpu, len(runs["export/2 processes CPU"])),
                notes=f"CPU ms/file: workers {workers:.2f} + parent {cpu['export/2 processes']:.2f}; "
                f"CPU efficiency {cpu['render/single'] / pool_cpu:.2f} (single-render CPU ÷ the pool's)")
    results.report()


def full(work: Path) -> None:
    """`versa export` of the 3,000-design pack on 2 processes, end to end, as a user runs it."""
    pack_dir = write_big_pack(work / "full")
    out = work / "out-full"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "versa.cli", "export", str(pack_dir), "--formats", "png", "-o", str(out),
         "-j", "2", "--no-progress"],
        env={**os.environ, "PYTHONPATH": str(ROOT / "shared")}, capture_output=True, text=True, check=True,
    )
    seconds = time.perf_counter() - start
    files = sum(1 for _ in (out / "catalog").iterdir())
    print(f"versa export, 3,000 designs, -j 2: {files} files in {seconds:.1f} s = {files / seconds:.1f} files/s "
          "end to end (enumeration, workers' start, manifest)")
    print("  " + done.stdout.splitlines()[1].strip())
    record: dict[str, Any] = {"files": files, "seconds": round(seconds, 2), "summary": done.stdout}
    (Path(__file__).resolve().parent / "results" / "export-full.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
