"""`versa report PACK CREATIVE`: what the relevance loop has learned for a creative's optimized rules.

Per rule: per segment and arm, impressions, clicks, click rate with its 95% credible interval and the
arm's share in the current allocation; per segment, the lift of the optimized traffic over the
holdout with its interval (docs/RELEVANCE.md says what each number means). Counts and snapshots come
from the store the settings name (SQLite under the state directory; DynamoDB with
`VERSA_RELEVANCE_TABLE`). `--csv FILE` writes the arm rows; `--json` prints one document. Intervals
are estimated by sampling with a fixed seed (`--seed`), so the same data prints the same report.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

from versa.cli.main import CliError
from versa.cli.main import settings as cli_settings


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="what the relevance loop learned: rates, intervals, shares, lift")
    p.add_argument("pack", help="pack directory")
    p.add_argument("creative")
    p.add_argument("--csv", metavar="FILE", help="also write the per-arm rows as CSV")
    p.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    p.add_argument("-o", "--output", metavar="FILE", help="also write an HTML page with the tables and the charts")
    p.add_argument("--png", metavar="FILE", help="also write the chart as PNG (FILE-RULE.png for each of several rules)")
    p.add_argument("--seed", type=int, default=0, help="seed of the interval sampling (default 0)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from versa.composition import build_relevance
    from versa.pack.loader import load_pack
    from versa.relevance.chart import chart_png
    from versa.relevance.page import RuleReport, report_html
    from versa.relevance.report import arm_rows, lift, rows_csv
    from versa.relevance.rules import arm_id, policy_for
    from versa.relevance.schedule import optimized_rules
    from versa.relevance.store import scope_of
    from versa.render.checks import PACK_CHECKS

    pack = load_pack(Path(args.pack), checks=PACK_CHECKS)
    rules = [rule for cid, rule in optimized_rules(pack) if cid == args.creative]
    if args.creative not in pack.model.creatives:
        raise CliError(f"creative {args.creative!r} is not in pack {pack.brand!r} "
                       f"(creatives: {', '.join(sorted(pack.model.creatives))})")
    if not rules:
        raise CliError(f"creative {args.creative!r} has no optimized rule (a rule with `optimize: clicks`)")
    store = build_relevance(cli_settings())
    rng = random.Random(args.seed)
    document: list[dict[str, Any]] = []
    all_rows = []
    pages: list[RuleReport] = []
    for rule in rules:
        scope = scope_of(pack.brand, args.creative, rule.id)
        arms = policy_for(rule).arms
        counters = store.counters(scope)
        snapshot = store.snapshot(scope)
        rows = arm_rows(counters, arms, snapshot, rng)
        lifts = [lift(counters, segment, arms, rng) for segment in counters.segments()]
        all_rows += rows
        document.append({
            "rule": rule.id, "scope": scope, "epoch": snapshot.epoch if snapshot else None,
            "valid_until": snapshot.valid_until.isoformat() if snapshot else None,
            "arms": [{**asdict(r), "arm": arm_id(r.arm), "arm_key": r.arm} for r in rows],
            "lift": [asdict(lf) for lf in lifts],
        })
        epoch = f"epoch {snapshot.epoch}, valid until {snapshot.valid_until:%Y-%m-%d %H:%M %Z}" if snapshot else "no allocation yet"
        pages.append(RuleReport(rule.id, scope, epoch, rows, lifts))
        if not args.json:
            print(f"{scope} ({epoch})")
            if not rows:
                print("  no counts yet")
            for r in rows:
                share = "  -" if r.share is None else f"{r.share:4.0%}"
                print(f"  {r.segment:<24} {arm_id(r.arm):<16} {r.impressions:>9} imp {r.clicks:>7} clk "
                      f"{r.ctr:7.2%} [{r.ctr_low:6.2%}, {r.ctr_high:6.2%}] share {share}")
            for lf in lifts:
                if lf.lift is None or lf.low is None or lf.high is None:
                    print(f"  lift {lf.segment}: not yet measurable (the holdout lacks a view of every arm)")
                else:
                    print(f"  lift {lf.segment}: {lf.lift:+.1%} [{lf.low:+.1%}, {lf.high:+.1%}] over the holdout")
    if args.csv:
        Path(args.csv).write_text(rows_csv(all_rows), encoding="utf-8")
    if args.output:
        Path(args.output).write_text(report_html(f"{pack.brand} / {args.creative}: relevance report", pages),
                                     encoding="utf-8")
    if args.png:
        target = Path(args.png)
        for page in pages:
            path = target if len(pages) == 1 else target.with_name(f"{target.stem}-{page.rule}{target.suffix or '.png'}")
            path.write_bytes(chart_png(page.rows, f"{page.scope}: click rate and share per arm"))
    if args.json:
        print(json.dumps(document, indent=2, default=str))
    return 0
