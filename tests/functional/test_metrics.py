"""Metrics: fallbacks are dimensioned by reason only; brand/creative/variant stay in the log."""

from __future__ import annotations

import json

import pytest

from versa.web.api import PowertoolsMetrics


def emf_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def test_fallbacks_carry_only_the_reason_dimension(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN metrics enabled
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    # WHEN a fallback is counted with high-cardinality properties
    PowertoolsMetrics().count("Fallbacks", reason="render-timeout", brand="acme", variant="0123abcd")
    # THEN the EMF record has the service and reason dimensions, and no brand or variant dimension
    records = emf_lines(capsys.readouterr().out)
    assert len(records) == 1
    dims = records[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"]  # type: ignore[index]
    assert dims == [["service", "reason"]]
    assert records[0]["reason"] == "render-timeout"


def test_metrics_are_silent_when_disabled(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    PowertoolsMetrics().count("Fallbacks", reason="pack-store")
    assert emf_lines(capsys.readouterr().out) == []
