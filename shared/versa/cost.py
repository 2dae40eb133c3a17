"""A month of Versa's AWS bill, estimated from traffic and a price table (`versa cost`).

`estimate(requests, hit_ratio, ...)` prices what `requests` viewer requests cost when the CDN answers
`hit_ratio` of them from its cache: every request pays CloudFront (a request and its bytes out); only
the misses reach the origin and pay API Gateway, a Lambda invocation billed for the measured render
duration at the function's memory, a DynamoDB read for generated copy, log ingestion and the traced
share of X-Ray; `generations` pays for generated copy. The prices are `Settings.cost_prices`; every
figure and its source is in docs/COST.md. Taxes, free tiers and data transfer between AWS services are
left out, so it is an upper-side list-price estimate, not an invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

GB = 1024**3


@dataclass(frozen=True)
class CostItem:
    """One line of the estimate: what it is, how many units, and USD."""

    name: str
    units: float
    unit: str
    usd: float


@dataclass(frozen=True)
class Estimate:
    items: tuple[CostItem, ...]

    @property
    def total(self) -> float:
        return sum(item.usd for item in self.items)

    def as_json(self) -> dict[str, object]:
        """`{"items": [{name, units, unit, usd}...], "total": usd}` (USD rounded to the cent's hundredth)."""
        return {
            "items": [{"name": i.name, "units": i.units, "unit": i.unit, "usd": round(i.usd, 4)} for i in self.items],
            "total": round(self.total, 4),
        }


def estimate(
    requests: int,
    hit_ratio: float,
    *,
    prices: Mapping[str, float],
    avg_kb: float = 20.0,
    render_ms: float = 12.0,
    memory_mb: int = 1024,
    log_bytes: int = 1500,
    trace_rate: float = 0.01,
    generations: int = 0,
    api: str = "rest",
) -> Estimate:
    """The month's estimate. `hit_ratio` is the CDN's (0 to 1); `api` is `rest` or `http` (what the
    request price of API Gateway is taken for). Raises ValueError naming an argument out of range."""
    if requests < 0:
        raise ValueError(f"requests {requests}: must be 0 or more")
    if not 0 <= hit_ratio <= 1:
        raise ValueError(f"hit ratio {hit_ratio}: must be between 0 and 1")
    if avg_kb < 0:
        raise ValueError(f"average size {avg_kb} KB: must be 0 or more")
    if api not in ("rest", "http"):
        raise ValueError(f"api {api!r}: must be rest or http")
    origin = requests * (1 - hit_ratio)
    gb_seconds = origin * (max(1.0, render_ms) / 1000) * (memory_mb / 1024)
    items = (
        CostItem("cloudfront requests", requests, "requests", requests * prices["cloudfront_request"]),
        CostItem("cloudfront data out", requests * avg_kb * 1024 / GB, "GB", requests * avg_kb * 1024 / GB * prices["cloudfront_gb"]),
        CostItem(f"api gateway ({api})", origin, "requests", origin * prices[f"{api}_api_request"]),
        CostItem("lambda requests", origin, "requests", origin * prices["lambda_request"]),
        CostItem("lambda duration", gb_seconds, "GB-seconds", gb_seconds * prices["lambda_gb_second"]),
        CostItem("dynamodb reads", origin, "read units", origin * prices["dynamodb_read_unit"]),
        CostItem("cloudwatch logs", origin * log_bytes / GB, "GB", origin * log_bytes / GB * prices["logs_gb"]),
        CostItem("x-ray traces", origin * trace_rate, "traces", origin * trace_rate * prices["xray_trace"]),
        CostItem("generation", generations, "generations", generations * prices["generation"]),
    )
    return Estimate(items)


__all__ = ["CostItem", "Estimate", "estimate"]
