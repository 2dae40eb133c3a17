"""Scripts benchmark: a CJK render's cost against a Latin one, now and at an earlier commit
(``python bench/bench_scripts.py [--before REV]``).

The benchmark card (`packs/card`) is drawn, uncached, as PNG three times per round: with its English
headline, with a Japanese one and with a Simplified Chinese one of comparable visual length. Each
pack is the card with only its locale and headline changed, plus one geometry change made to all
three alike: the headline box is 116 px tall (from y 80, `max_lines: 2`) and the subline moves to
y 196, because since issue 11 the line step comes from the font's own ascent and descent, and Noto
Sans CJK's (1.45 em) left room for one line of CJK in the card's 92 px box. Every script keeps two
lines, no ellipsis, in both trees; the script checks that on a sample of the run's names before
timing. Plain Pillow's card (`baseline.py`, Latin) is timed alongside for reference.

"Before and after": with `--before REV` the same cases run in two worker processes, one importing
Versa from this tree's `shared/` and one from `REV`'s (`git archive` into a temporary directory,
deleted at the end; the packs are the same files for both). Each worker is started once and kept
warm, like a warm Lambda; the parent asks them for one round each, alternately (which goes first
alternates too), and within a round each worker runs its cases in an order rotated per round. Every
round uses a name used nowhere else in the run (a rotating first name plus two letters, kana or
hanzi), so nothing comes out of a cache keyed on the text; fonts, the BudouX models, assets and the
gradient stay warm.

Each sample is timed in wall clock and in the worker's CPU time; on a loaded shared machine the CPU
time is the figure to read. Rows (milliseconds, CPU time medians; wall medians in the JSON):

- `<tree>/baseline/png`  plain Pillow (both workers run it: their ratio shows process drift).
- `<tree>/{en,ja,zh}/png`  Versa, memo off. Ratio vs the same tree's `en`.

- first renders: each script's first render in a fresh worker (`--cold` processes per tree, 6;
  baseline, en, ja, zh in that order), CPU time: what the first request in a locale pays.

Notes give the per-round paired ratios as median [first quartile, third quartile]: `ja/en` and
`zh/en` within a tree, and `after/before` per script (rounds pair up across the two workers).
Results go to `bench/results/scripts.json`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CARD = BENCH / "packs" / "card"
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
SCRIPTS = ("en", "ja", "zh")
LATIN_HEADLINE = '"{{ name }}, your new spring favorites are now {{ pct }}% off"'
HEADLINES = {
    "en": LATIN_HEADLINE,
    "ja": '"{{ name }}さん、春の新作アイテムが今なら{{ pct }}%オフ"',
    "zh": '"{{ name }}，您喜爱的春季新品现在全部享受{{ pct }}%优惠"',
}
# First names per script and the letters two of which follow them (a pair per round, never reused).
FIRST = {
    "en": ("Alex", "Sam", "Priya", "José", "Mei", "Noah", "Zoë", "Kenji"),
    "ja": ("さくら", "ゆい", "はると", "あおい", "れん", "ひな", "そうた", "めい"),
    "zh": ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄杰"),
}
LETTERS = {
    "en": "abcdefghijklnopqrstuvxyz",  # no m or w, as in bench_layout.py
    "ja": "あいうえおかきくけこさしすせそたちつてとなにぬね",
    "zh": "一二三四五六七八九十文明华国安平春秋东西南北金玉",
}
PARAMS = {"pct": 25, "threshold": 50, "day": "Sunday"}
PACK_EDITS = (  # (old, new) on pack.yaml, the same for every script: see the module docstring
    (
        "box: [32, 88, 536, 92], font: bold, size: 36,",
        "box: [32, 80, 536, 116], max_lines: 2, font: bold, size: 36,",
    ),
    ("box: [32, 180, 536, 30], font: regular", "box: [32, 196, 536, 30], font: regular"),
)


def name(script: str, code: int) -> str:
    """The name of round `code` for a script: first name `code % 8`, then the `code // 8`-th letter pair."""
    first, letters = FIRST[script], LETTERS[script]
    i, j = divmod(code // len(first), len(letters))
    if i >= len(letters):
        raise ValueError("too many rounds for unique two-letter names")
    return first[code % len(first)] + letters[i] + letters[j]


def make_packs(dest: Path) -> dict[str, Path]:
    """The card as one pack per script under `dest`: locale, headline and the shared geometry edits."""
    out = {}
    for script in SCRIPTS:
        root = dest / f"card-{script}"
        shutil.copytree(CARD, root)
        text = (root / "pack.yaml").read_text(encoding="utf-8")
        for old, new in (
            ("locales: [en]", f"locales: [{script}]"),
            (LATIN_HEADLINE, HEADLINES[script]),
            *PACK_EDITS,
        ):
            if text.count(old) != 1:
                raise AssertionError(f"{CARD / 'pack.yaml'}: expected {old!r} once")
            text = text.replace(old, new)
        (root / "pack.yaml").write_text(text, encoding="utf-8")
        out[script] = root
    return out


# ------------------------------------------------------------------------------------------ worker


class Worker:
    """Runs in a process whose PYTHONPATH puts one tree's `shared/` first: renders on request."""

    def __init__(self, packs: dict[str, Path]) -> None:
        import versa
        from baseline import BaselineCard
        from versa.composition import build_renderer
        from versa.context.resolve import resolve
        from versa.decide.rules import context_options, decide
        from versa.pack.loader import load_pack
        from versa.render.checks import PACK_CHECKS
        from versa.settings import Settings

        self.versa_file = versa.__file__
        self.card = BaselineCard()
        self.renderer = build_renderer(Settings(memo_items=0), fast=False)
        self.packs = {}
        for script, root in packs.items():
            pack = load_pack(root, checks=PACK_CHECKS)
            decision = decide(pack.model, "card", resolve({}, {}, NOW, context_options(pack.model, "card")))
            if decision.locale != script:
                raise AssertionError(f"{root}: decided locale {decision.locale!r}, expected {script!r}")
            self.packs[script] = (pack, decision)

    def run(self, case: str, code: int) -> bytes:
        if case == "baseline":
            return self.card.render({**PARAMS, "name": name("en", code)}, "png")
        pack, decision = self.packs[case]
        return self.renderer.render(
            pack, decision, texts={}, params={**PARAMS, "name": name(case, code)}, fmt="png",
            width=None, dpr=1, now=NOW, tz="UTC",
        ).body  # fmt: skip

    def lines(self, codes: list[int]) -> dict[str, list[int]]:
        """Headline lines per script for each name (rendered with the text layout watched); raises
        on an ellipsis."""
        from versa.render import layer_text

        seen: list[Any] = []
        original = layer_text.layout

        def watched(text: str, *args: Any, **kwargs: Any) -> Any:
            got = original(text, *args, **kwargs)
            seen.append((text, got))
            return got

        layer_text.layout = watched  # type: ignore[assignment]
        out: dict[str, list[int]] = {script: [] for script in SCRIPTS}
        try:
            for code in codes:
                for script in SCRIPTS:
                    seen.clear()
                    self.run(script, code)
                    who = name(script, code)
                    heads = [lay for text, lay in seen if who in text]
                    if not heads or any(lay.truncated for lay in heads):
                        raise AssertionError(f"{script} headline for {who!r} was cut or not laid out")
                    out[script].append(len(heads[-1].lines))
        finally:
            layer_text.layout = original  # type: ignore[assignment]
        return out


def worker_main(packs_dir: Path) -> int:
    packs = {script: packs_dir / f"card-{script}" for script in SCRIPTS}
    worker = Worker(packs)
    sizes, first = {}, {}
    for case in ("baseline", *SCRIPTS):  # each script's first render in this process, in CPU time
        cpu = time.process_time_ns()
        sizes[case] = len(worker.run(case, 0))
        first[case] = (time.process_time_ns() - cpu) / 1e6
    out = sys.stdout
    out.write(json.dumps({"versa": worker.versa_file, "bytes": sizes, "first": first}) + "\n")
    out.flush()
    import gc

    for line in sys.stdin:
        msg = json.loads(line)
        if "lines" in msg:
            out.write(json.dumps({"lines": worker.lines(msg["lines"])}, ensure_ascii=False) + "\n")
        elif "profile" in msg:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for code in msg["codes"]:
                worker.run(msg["profile"], code)
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(msg.get("top", 30))
            out.write(json.dumps({"profile": buf.getvalue()}) + "\n")
        else:
            times: dict[str, list[float]] = {}
            gc.disable()
            for case in msg["order"]:
                cpu, start = time.process_time_ns(), time.perf_counter_ns()
                worker.run(case, msg["code"])
                times[case] = [(time.perf_counter_ns() - start) / 1e6, (time.process_time_ns() - cpu) / 1e6]
            gc.enable()
            out.write(json.dumps(times) + "\n")
        out.flush()
    return 0


# ------------------------------------------------------------------------------------------ parent


class Proc:
    def __init__(self, label: str, shared: Path, packs_dir: Path) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shared), str(BENCH)])}
        self.label = label
        self.p = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(packs_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, encoding="utf-8",
        )  # fmt: skip
        self.hello = self.read()
        if not Path(self.hello["versa"]).resolve().is_relative_to(shared.resolve()):
            raise AssertionError(f"{label}: versa imported from {self.hello['versa']}, not {shared}")

    def ask(self, msg: dict[str, Any]) -> dict[str, Any]:
        assert self.p.stdin is not None
        self.p.stdin.write(json.dumps(msg) + "\n")
        self.p.stdin.flush()
        return self.read()

    def read(self) -> dict[str, Any]:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.label} worker exited with {self.p.wait()}")
        got: dict[str, Any] = json.loads(line)
        return got

    def close(self) -> None:
        if self.p.stdin:
            self.p.stdin.close()
        self.p.wait(timeout=30)


def spread(values: list[float]) -> dict[str, float]:
    """Median and quartiles of `values`, and the interquartile range relative to the median."""
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {
        "median": round(med, 4),
        "q1": round(q1, 4),
        "q3": round(q3, 4),
        "iqr_rel": round((q3 - q1) / med, 4),
    }


def fmt(s: dict[str, float]) -> str:
    return f"{s['median']:.3f} [{s['q1']:.3f}, {s['q3']:.3f}]"


def export_tree(rev: str, dest: Path) -> Path:
    """`rev`'s `shared/` extracted under `dest` (no git worktree is left behind)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "shared"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "shared"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also run the cases against this commit's shared/")
    parser.add_argument("--before-tree", metavar="DIR", type=Path, help="or against this checkout's shared/")
    parser.add_argument("--rounds", type=int, default=150, help="interleaved rounds (150)")
    parser.add_argument("--cold", type=int, default=6, help="processes per tree timing first renders (6)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 rounds, 2 processes per tree")
    parser.add_argument(
        "--profile", metavar="SCRIPT", choices=SCRIPTS, help="cProfile 40 renders of SCRIPT per tree"
    )
    parser.add_argument("--worker", metavar="PACKS", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker)
    rounds = 8 if args.quick else args.rounds
    if args.quick:
        args.cold = 2

    with tempfile.TemporaryDirectory(prefix="versa-bench-scripts-") as tmp_name:
        tmp = Path(tmp_name)
        make_packs(tmp / "packs")
        trees = {"after": ROOT / "shared"}
        if args.before_tree:
            trees["before"] = args.before_tree / "shared"
        elif args.before:
            (tmp / "before").mkdir()
            trees["before"] = export_tree(args.before, tmp / "before")
        firsts: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        for _ in range(args.cold - 1):  # fresh processes for the first renders, trees alternating
            for label, shared in sorted(trees.items()):
                extra_proc = Proc(label, shared, tmp / "packs")
                firsts[label].append(extra_proc.hello["first"])
                extra_proc.close()
        procs = {label: Proc(label, shared, tmp / "packs") for label, shared in sorted(trees.items())}
        for label, p in procs.items():
            firsts[label].append(p.hello["first"])
        try:
            return run(procs, rounds, args, firsts)
        finally:
            for p in procs.values():
                p.close()


def run(procs: dict[str, Proc], rounds: int, args: argparse.Namespace, firsts: dict[str, Any]) -> int:
    from harness import RESULTS_DIR, Results, Stats

    labels = list(procs)
    if args.profile:
        for label, p in procs.items():
            print(f"== {label}: {args.profile} ==")
            print(p.ask({"profile": args.profile, "codes": list(range(4000, 4040)), "top": 45})["profile"])
        return 0
    # Two lines, no ellipsis, for every script in every tree: the first 24 names and the widest pairs used.
    sample = [*range(24), *range(rounds + 3 - 8, rounds + 3)]
    lines = {label: p.ask({"lines": sample})["lines"] for label, p in procs.items()}
    for label, per in lines.items():
        for script, counts in per.items():
            if set(counts) != {2}:
                raise AssertionError(
                    f"{label}/{script}: headline lines {sorted(set(counts))}, expected 2 for all"
                )
    cases = ["baseline", *SCRIPTS]
    samples: dict[str, dict[str, list[list[float]]]] = {label: {c: [] for c in cases} for label in labels}
    for code in range(rounds + 3):
        order = [cases[(code + k) % len(cases)] for k in range(len(cases))]
        for label in labels if code % 2 == 0 else labels[::-1]:
            got = procs[label].ask({"code": code, "order": order})
            if code >= 3:  # three untimed warm-up rounds
                for case, wall_cpu in got.items():
                    samples[label][case].append(wall_cpu)

    results = Results("scripts")
    extra: dict[str, Any] = {"lines": lines, "workers": {k: p.hello for k, p in procs.items()}, "paired": {}}

    def cpu(label: str, case: str) -> list[float]:
        return [s[1] for s in samples[label][case]]

    def wall(label: str, case: str) -> list[float]:
        return [s[0] for s in samples[label][case]]

    def ratio(a: list[float], b: list[float]) -> dict[str, float]:
        return spread([y / x for x, y in zip(a, b, strict=True)])

    for label in labels:
        for case in cases:
            xs = cpu(label, case)
            st = Stats(
                statistics.median(xs), statistics.quantiles(xs, n=10, method="inclusive")[8], min(xs), len(xs)
            )
            base = f"{label}/baseline/png" if case == "baseline" else f"{label}/en/png"
            notes = [f"wall {statistics.median(wall(label, case)):.2f} ms"]
            if case in ("ja", "zh"):
                r = ratio(cpu(label, "en"), cpu(label, case))
                extra["paired"][f"{label} {case}/en"] = {
                    "cpu": r,
                    "wall": ratio(wall(label, "en"), wall(label, case)),
                }
                notes.append(f"{case}/en per round {fmt(r)}")
            if case == "en":
                notes.append(
                    f"{statistics.median(xs) / statistics.median(cpu(label, 'baseline')):.2f} x baseline"
                )
            results.add(f"{label}/{case}/png", st, nbytes=procs[label].hello["bytes"][case], baseline=base,
                        notes="; ".join(notes))  # fmt: skip
    if len(labels) == 2:
        before, after = "before", "after"
        for case in cases:
            r = ratio(cpu(before, case), cpu(after, case))
            extra["paired"][f"{case} after/before"] = {
                "cpu": r,
                "wall": ratio(wall(before, case), wall(after, case)),
            }
    extra["spread_ms"] = {f"{label}/{c}": {"cpu": spread(cpu(label, c)), "wall": spread(wall(label, c))}
                          for label in labels for c in cases}  # fmt: skip

    extra["first_render_ms"] = {
        f"{label}/{case}": spread([f[case] for f in per]) for label, per in firsts.items() for case in cases
    }

    print(f"== {results.name} (CPU time) ==")
    print(results.table())
    print("per-round ratios in CPU time, median [quartiles]:")
    for key, value in extra["paired"].items():
        print(f"  {key:22} {fmt(value['cpu'])}   wall {fmt(value['wall'])}")
    print("first render in a fresh process (baseline, en, ja, zh in that order), CPU ms, median [quartiles]:")
    for key, value in extra["first_render_ms"].items():
        print(f"  {key:22} {value['median']:.1f} [{value['q1']:.1f}, {value['q3']:.1f}]")
    data = results.to_dict()
    data["groups"] = extra
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "scripts.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
