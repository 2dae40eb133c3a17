"""`versa cost --requests N --hit-ratio R [--avg-kb K] [--json]`: a month of the deployed stack's bill."""

from __future__ import annotations

import argparse
import json
from typing import Any

from versa.cli.main import settings as cli_settings


def register(sub: Any) -> None:
    p = sub.add_parser("cost", help="estimate a month of AWS cost for N requests at a CDN hit ratio")
    p.add_argument("--requests", type=int, required=True, metavar="N", help="viewer requests in the month")
    p.add_argument("--hit-ratio", type=float, required=True, metavar="R", help="share the CDN answers from cache, 0 to 1")
    p.add_argument("--avg-kb", type=float, default=20.0, metavar="K", help="average response size in KB (default 20)")
    p.add_argument("--generations", type=int, default=0, metavar="G", help="copy generations in the month (default 0)")
    p.add_argument("--api", choices=("rest", "http"), default="rest", help="API Gateway flavour priced (default rest, as deployed)")
    p.add_argument("--json", action="store_true", help="print {items: [...], total} as JSON")
    p.set_defaults(func=cmd_cost)


def cmd_cost(args: argparse.Namespace) -> int:
    from versa.cost import estimate

    s = cli_settings()
    result = estimate(
        args.requests, args.hit_ratio, prices=s.cost_prices, avg_kb=args.avg_kb, render_ms=s.cost_render_ms,
        memory_mb=s.cost_memory_mb, log_bytes=s.cost_log_bytes, trace_rate=s.cost_trace_rate,
        generations=args.generations, api=args.api,
    )
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
        return 0
    for item in result.items:
        print(f"{item.name:<22} {item.units:>16,.2f} {item.unit:<12} {item.usd:>12,.2f} USD")
    print(f"{'total':<52} {result.total:>12,.2f} USD")
    if args.requests:
        print(f"{'per million requests':<52} {result.total / args.requests * 1e6:>12,.2f} USD")
    return 0


__all__ = ["register"]
