"""Decision benchmark: requests resolved and decided per second for the example creatives.

Each call resolves a real-looking header set (CloudFront viewer headers, rotating country, zone,
device and time of day) into a context and decides the creative, as the render function does per
request before any rendering. The baseline row is `resolve` alone, so the ratio shows what rules cost
on top of reading the request. Run: `python bench/bench_decide.py`.
"""

from __future__ import annotations

import argparse
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import Results, measure
from versa.context.resolve import resolve
from versa.decide.rules import context_options, decide
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS

PACKS = Path(__file__).resolve().parent.parent / "examples" / "packs"
CREATIVES = [("acme", "winter-sale"), ("acme", "leaderboard"), ("northwind", "cyber-week"), ("northwind", "welcome")]
VIEWERS = [
    ("US", "America/New_York", "desktop", "en-US,en;q=0.9"),
    ("DE", "Europe/Berlin", "mobile", "de-DE,de;q=0.9,en;q=0.5"),
    ("AE", "Asia/Dubai", "mobile", "ar-AE,ar;q=0.9"),
    ("FR", "Europe/Paris", "tablet", "fr-FR,fr;q=0.9"),
    ("MX", "America/Mexico_City", "desktop", "es-MX,es;q=0.9"),
]


def headers_for(i: int) -> dict[str, str]:
    country, tz, device, lang = VIEWERS[i % len(VIEWERS)]
    return {
        "CloudFront-Viewer-Country": country,
        "CloudFront-Viewer-Time-Zone": tz,
        f"CloudFront-Is-{device.capitalize()}-Viewer": "true",
        "Accept-Language": lang,
        "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    }


def measure_creative(results: Results, brand: str, creative: str, kw: dict[str, Any], start: datetime) -> None:
    model = load_pack(PACKS / brand, checks=PACK_CHECKS).model
    options = context_options(model, creative)
    counter = itertools.count()

    def only_resolve() -> object:
        i = next(counter)
        return resolve(headers_for(i), {}, start + timedelta(minutes=37 * i), options)

    def resolve_and_decide() -> object:
        i = next(counter)
        ctx = resolve(headers_for(i), {}, start + timedelta(minutes=37 * i), options)
        return decide(model, creative, ctx)

    base = f"{brand}/{creative} resolve"
    results.add(base, measure(only_resolve, **kw), baseline=base, notes="context only")
    stats = measure(resolve_and_decide, **kw)
    results.add(
        f"{brand}/{creative} resolve+decide", stats, baseline=base, notes=f"{1000 / stats.median_ms:,.0f} decisions/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    kw: dict[str, Any] = {"repeat": 200, "min_time": 0.3} if args.quick else {"repeat": 1000, "min_time": 1.0, "max_repeat": 5000}
    results = Results("decide")
    start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    for brand, creative in CREATIVES:
        measure_creative(results, brand, creative, kw, start)
    results.report()


if __name__ == "__main__":
    main()
