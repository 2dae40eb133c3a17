"""The scheduled optimizer: an EventBridge schedule → the next allocation of every optimized rule.

`functions/optimize/app.py` re-exports `lambda_handler`. The schedule's input names the brands,
`{"brands": ["acme", "northwind"]}`; for each, the current pack is read and every optimized rule gets
its next snapshot from its counts (`versa.relevance.schedule.optimize_pack`). A brand that fails (its
pack unreadable, the store down) is logged and counted and does not stop the others; the run fails
(so the schedule's retry policy and alarms see it) when any brand failed. The schedule's period
should equal the rules' `reallocate` (the default is 1 hour).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from versa.composition import build_packs, build_relevance
from versa.errors import VersaError
from versa.ports import PackStore
from versa.relevance.schedule import Reallocated, optimize_pack
from versa.relevance.store import RelevanceStore
from versa.settings import load_settings

logger = Logger(service="versa-optimizer")
metrics = Metrics(namespace="Versa", service="versa-optimizer")


class OptimizerFailed(VersaError):
    """One or more brands could not be reallocated (each is logged with its reason)."""


def brands_of(event: Any) -> list[str]:
    """The brands a schedule event names (`brands` at its top level or under `detail`); ValueError
    naming the field and what is allowed when there are none."""
    source = event if isinstance(event, dict) else {}
    brands = source.get("brands", (source.get("detail") or {}).get("brands"))
    if not isinstance(brands, list) or not brands or not all(isinstance(b, str) and b for b in brands):
        raise ValueError(f"event.brands {brands!r}: allowed a non-empty list of brand ids (the schedule's input)")
    return brands


def run(
    event: Any,
    packs: PackStore,
    store: RelevanceStore,
    now: datetime,
    rng: random.Random,
    *,
    on_failure: Callable[[str, Exception], None] = lambda brand, exc: None,
) -> list[Reallocated]:
    """Reallocate every optimized rule of every brand the event names; raise OptimizerFailed after
    trying them all if any brand failed."""
    done: list[Reallocated] = []
    failed: list[str] = []
    for brand in brands_of(event):
        try:
            done += optimize_pack(packs.current(brand), store, now, rng)
        except (VersaError, ConnectionError, ValueError) as exc:
            on_failure(brand, exc)
            failed.append(brand)
    if failed:
        raise OptimizerFailed(f"reallocation failed for {', '.join(failed)} (reallocated {len(done)} rule(s))")
    return done


_wired: tuple[PackStore, RelevanceStore] | None = None


def _stores() -> tuple[PackStore, RelevanceStore]:
    global _wired
    if _wired is None:
        current = load_settings()
        _wired = (build_packs(current), build_relevance(current))
    return _wired


def _log_failure(brand: str, exc: Exception) -> None:
    logger.exception("reallocation failed", extra={"brand": brand, "error": str(exc)})
    metrics.add_metric(name="ReallocationFailures", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    packs, store = _stores()
    done = run(event, packs, store, datetime.now(UTC), random.Random(), on_failure=_log_failure)
    metrics.add_metric(name="Reallocations", unit=MetricUnit.Count, value=len(done))
    for item in done:
        logger.info("reallocated", extra={"scope": item.scope, "epoch": item.epoch,
                                          "valid_until": item.valid_until.isoformat()})
    return {"reallocated": [{"scope": r.scope, "epoch": r.epoch} for r in done]}
