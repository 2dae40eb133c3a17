"""The scheduled synthetic check on Lambda: signs a URL per brand, fetches it through the CDN
(`versa.synthetic`) and publishes `SyntheticChecks` and `SyntheticFallbacks` (service=versa-synthetic;
a zero is published too, so a silent check is missing data, which the alarm treats as breaching).
Each outcome is logged with its brand, creative, status and verdict."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from versa.synthetic import Outcome, Target, run_checks

SERVICE = "versa-synthetic"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Versa", service=SERVICE)


def targets_from_settings() -> tuple[str, list[Target]]:
    """(CDN base URL, targets): the configured targets, else each brand's first creative from the pack store."""
    from versa.composition import build_packs
    from versa.settings import load_settings

    settings = load_settings()
    if not settings.synthetic_url:
        raise ValueError("VERSA_SYNTHETIC_URL is not set: the synthetic check needs the CDN's base URL")
    if settings.synthetic_targets:
        return settings.synthetic_url, [Target.parse(t) for t in settings.synthetic_targets]
    packs = build_packs(settings)
    targets = []
    for brand in packs.brands():
        creatives = list(packs.current(brand).model.creatives)
        if creatives:
            targets.append(Target(brand, creatives[0]))
    return settings.synthetic_url, targets


def publish(outcomes: list[Outcome]) -> None:
    """Counts as metrics (no per-brand dimension: brands are in the log line of each outcome)."""
    bad = [o for o in outcomes if not o.healthy]
    metrics.add_metric(name="SyntheticChecks", unit=MetricUnit.Count, value=len(outcomes))
    metrics.add_metric(name="SyntheticFallbacks", unit=MetricUnit.Count, value=len(bad))
    for o in outcomes:
        log = logger.info if o.healthy else logger.warning
        log("synthetic", extra={"brand": o.target.brand, "creative": o.target.creative, "status": o.status,
                                "verdict": o.verdict, "ms": round(o.ms, 1)})


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The EventBridge schedule's target: probe every target once; returns the verdicts."""
    from versa.composition import build_keyring
    from versa.settings import load_settings

    base, targets = targets_from_settings()
    outcomes = run_checks(base, targets, build_keyring(load_settings()), now=datetime.now(UTC))
    publish(outcomes)
    return {"checked": len(outcomes), "fallbacks": [f"{o.target.brand}/{o.target.creative}: {o.verdict}"
                                                    for o in outcomes if not o.healthy]}


__all__ = ["lambda_handler", "publish", "targets_from_settings"]
