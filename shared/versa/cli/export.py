"""`versa export PACK [CREATIVE] --formats png,jpg [--sizes ...] -o DIR`: every design × size × format.

The files are the variants of `versa variants` (designs × sizes; output widths `w` are scalings, not
designs) × the formats, planned by `versa.authoring.export`, drawn on every core
(`versa.cli.export_run`), journaled as they finish so that running the same command again resumes,
and listed in `manifest.csv` and `manifest.json` once all are written. Files over their channel's
weight budget (the pack's `budgets:`) are warned about and marked in the manifest. It ends with a
summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from versa.authoring.export import (
    ExportError,
    ExportFile,
    ExportPlan,
    Written,
    budget_warnings,
    image_formats,
    manifest_csv,
    manifest_json,
    manifest_record,
    parse_formats,
    parse_sizes,
    plan_export,
)
from versa.cli.export_run import Journal, LocalRun, Outcome, PoolRun, build_writer, progress_bar
from versa.cli.main import CliError
from versa.cli.main import settings as cli_settings
from versa.pack.budgets import weight_name

if TYPE_CHECKING:
    from versa.pack.model import Pack

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
WARNINGS_SHOWN = 20
"""Budget warnings printed one per line; the rest are counted (the manifest marks every one)."""


def usable_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write every design × size × format of a pack to a folder, with manifest.csv/.json (resumable)",
        description="Write one file per design, size and format (the designs of `versa variants`), with "
        "manifest.csv and manifest.json, on every core. Interrupted? Run the same command again: finished "
        "files are verified by checksum and kept.",
    )
    p.add_argument("pack", help="pack directory (contains pack.yaml)")
    p.add_argument("creative", nargs="?", help="one creative (default: every creative of the pack)")
    p.add_argument("--formats", default="png", help="comma-separated image formats, e.g. png,jpg (default: png)")
    p.add_argument("--sizes", help="comma-separated WIDTHxHEIGHT sizes to export (default: every declared size)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder to write (created if missing)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="worker processes (default: every usable core; 1 draws in this process)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (the summary is still printed)")
    p.set_defaults(func=cmd_export)


# ------------------------------------------------------------------------------------ the command


def cmd_export(args: argparse.Namespace) -> int:
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS
    from versa.render.engine import engine_version

    jobs = usable_cores() if args.jobs is None else args.jobs
    if jobs < 1:
        raise CliError(f"--jobs: {args.jobs} is not a number of processes (1 or more)")
    pack_dir = Path(args.pack)
    pack = load_pack(pack_dir, checks=PACK_CHECKS)
    ids = [args.creative] if args.creative else list(pack.model.creatives)
    for cid in ids:
        pack.model.creative(cid)  # UnknownCreative names the creatives there are
    if not image_formats(pack):
        raise ExportError(f"{pack.brand}: render.formats lists no image format to export")
    formats = parse_formats(pack, args.formats)
    sizes = parse_sizes(pack, ids, args.sizes) if args.sizes else None
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"-o {args.output}: not a folder")

    started = time.perf_counter()
    print(f"versa: enumerating the designs of {pack.brand} ({', '.join(ids)})…", file=sys.stderr)
    plan = plan_export(pack, ids, formats, sizes)
    settings = cli_settings(memo_items=0)  # each file is drawn once: nothing to remember
    journal = Journal(out_dir, {"brand": pack.brand, "pack": pack.version,
                                "engine": engine_version(settings.font_dirs, fast=True)})
    finished, note = journal.finished()
    wanted = {item.file for item in plan.files}
    kept = {f: w for f, w in finished.items() if f in wanted}
    todo = [item for item in plan.files if item.file not in kept]
    if note:
        print(f"versa: {note}", file=sys.stderr)
    if kept:
        print(f"versa: resuming: {len(kept)} of {len(plan.files)} file(s) already written and verified",
              file=sys.stderr)

    runner: LocalRun | PoolRun
    workers = min(jobs, len(todo)) or 1
    if workers == 1:
        runner = LocalRun(lambda: build_writer(pack_dir, pack.version, settings, out_dir))
    else:
        runner = PoolRun(workers, pack_dir, pack.version, settings, out_dir)
    render_started = time.perf_counter()
    with journal.recording(list(finished.values())) as rec, \
            progress_bar(len(todo), f"exporting {pack.brand}", enabled=not args.no_progress and bool(todo)) as bar:
        task = bar.task_ids[0]

        def done(item: ExportFile, written: Written | None) -> None:
            if written is not None:
                rec.record(written)
            bar.advance(task)

        outcome = runner.run(todo, done) if todo else Outcome()
    render_seconds = time.perf_counter() - render_started

    results = {w.file: w for _, w in outcome.written} | kept
    complete = all(item.file in results for item in plan.files)
    if complete:
        _write_manifests(out_dir, plan, results)
    _summary(pack, plan, out_dir, outcome, kept, results, workers, render_seconds, time.perf_counter() - started)
    if outcome.fatal:
        print(f"versa: error: {outcome.fatal}; the files written are kept: run the same command again to resume",
              file=sys.stderr)
        return 1
    if outcome.failed:
        return 1
    if not complete:
        return 130 if outcome.interrupted else 1
    return 0


def _write_manifests(out_dir: Path, plan: ExportPlan, results: dict[str, Written]) -> None:
    records = [manifest_record(item, results[item.file]) for item in plan.files]
    for name, text in (
        (MANIFEST_CSV, manifest_csv(records)),
        (MANIFEST_JSON, json.dumps(manifest_json(plan, records), indent=2, ensure_ascii=False, default=str) + "\n"),
    ):
        tmp = out_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out_dir / name)


def _summary(
    pack: Pack, plan: ExportPlan, out_dir: Path, outcome: Outcome, kept: dict[str, Written],
    results: dict[str, Written], workers: int, render_seconds: float, seconds: float,
) -> None:
    """The end of the run on standard output (what was written, how fast, what weighs what), and
    budget warnings and failures on standard error."""
    rendered = len(outcome.written)
    n_formats = len(plan.formats)
    print(f"{pack.brand}: {len(plan.files)} file(s) = {plan.variants} variant(s) (designs × sizes) × "
          f"{n_formats} format(s) in {out_dir}")
    rate = f"{rendered / render_seconds:.1f} files/s on {workers} process(es)" if rendered and render_seconds else "-"
    print(f"  rendered {rendered} ({rate}), {len(kept)} already done and verified, "
          f"{len(outcome.failed)} failed, {len(plan.files) - len(results) - len(outcome.failed)} left; "
          f"{seconds:.1f}s in all")
    if results:
        by_format: Counter[str] = Counter()
        weight: Counter[str] = Counter()
        for item in plan.files:
            if item.file in results:
                by_format[item.fmt] += 1
                weight[item.fmt] += results[item.file].bytes
        parts = ", ".join(f"{fmt} {by_format[fmt]} file(s), {weight_name(weight[fmt])}" for fmt in by_format)
        largest = max(results.values(), key=lambda w: w.bytes)
        print(f"  {parts}; largest {largest.file} ({weight_name(largest.bytes)})")
        dupes = len(results) - len({w.sha256 for w in results.values()})
        if dupes:
            print(f"  {dupes} file(s) are byte-identical to another (designs that differ only in what is not drawn: "
                  "a link, or a generated-copy key whose default stands in)")
    if len(results) == len(plan.files):
        print(f"  manifest: {out_dir / MANIFEST_CSV}, {out_dir / MANIFEST_JSON}")
    items = [(item, results[item.file]) for item in plan.files if item.file in results]
    warnings = budget_warnings(items)
    if warnings:
        print(f"versa: warning: {len(warnings)} file(s) over their weight budget (pack budgets:):", file=sys.stderr)
        for line in warnings[:WARNINGS_SHOWN]:
            print(f"  {line}", file=sys.stderr)
        if len(warnings) > WARNINGS_SHOWN:
            print(f"  … and {len(warnings) - WARNINGS_SHOWN} more (the manifest's over_budget column)", file=sys.stderr)
    for file, reason in list(outcome.failed.items())[:WARNINGS_SHOWN]:
        print(f"versa: error: {file}: {reason}", file=sys.stderr)
    if outcome.interrupted or len(results) < len(plan.files):
        print(f"versa: {len(plan.files) - len(results)} file(s) not written; run the same command again to "
              "resume (finished files are kept)", file=sys.stderr)


__all__ = ["MANIFEST_CSV", "MANIFEST_JSON", "cmd_export", "register", "usable_cores"]
