"""`versa cost`: a month's estimate from traffic and the price table in settings."""

from __future__ import annotations

import itertools
import json

import pytest

from versa.cli.main import main
from versa.cost import estimate
from versa.settings import DEFAULT_COST_PRICES, Settings


def test_cost_falls_as_the_hit_ratio_rises() -> None:
    totals = [estimate(10_000_000, r, prices=DEFAULT_COST_PRICES).total for r in (0.0, 0.5, 0.9, 0.99, 1.0)]
    assert all(a > b for a, b in itertools.pairwise(totals)), totals
    # at a 100% hit ratio only CloudFront is paid
    at_one = estimate(10_000_000, 1.0, prices=DEFAULT_COST_PRICES)
    assert {i.name for i in at_one.items if i.usd > 0} == {"cloudfront requests", "cloudfront data out"}


def test_an_http_api_costs_less_per_origin_request_than_rest() -> None:
    rest = estimate(1_000_000, 0.0, prices=DEFAULT_COST_PRICES, api="rest").total
    http = estimate(1_000_000, 0.0, prices=DEFAULT_COST_PRICES, api="http").total
    assert rest - http == pytest.approx(2.50, abs=0.01)  # 3.50 - 1.00 USD per million requests


def test_lambda_duration_is_billed_in_gb_seconds_of_the_measured_render() -> None:
    item = {i.name: i for i in estimate(1000, 0.0, prices=DEFAULT_COST_PRICES, render_ms=12, memory_mb=2048).items}
    assert item["lambda duration"].units == pytest.approx(1000 * 0.012 * 2)


def test_json_prints_the_items_and_a_total(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--requests", "1000000", "--hit-ratio", "0.9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {i["name"] for i in out["items"]} >= {"cloudfront requests", "api gateway (rest)", "lambda duration",
                                                 "dynamodb reads", "cloudwatch logs", "x-ray traces", "generation"}
    assert out["total"] == pytest.approx(sum(i["usd"] for i in out["items"]), abs=0.001)
    assert out["total"] > 0


def test_a_bad_hit_ratio_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["cost", "--requests", "10", "--hit-ratio", "1.5"])
    assert "hit ratio 1.5" in capsys.readouterr().err


def test_prices_are_overridden_by_name_and_unknown_names_refused() -> None:
    assert Settings(cost_prices='{"logs_gb": 0.7}').cost_prices["logs_gb"] == 0.7
    with pytest.raises(ValueError, match="unknown price"):
        Settings(cost_prices='{"logs": 0.7}')
