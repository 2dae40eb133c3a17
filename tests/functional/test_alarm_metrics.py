"""Every metric an alarm in template.yaml watches in the Versa namespace is one the code emits, by name
and dimensions: the handlers are driven (the render handler through a render, a memo hit and
fallbacks; the composition's stale-pack hook; the synthetic check; the generator failing a batch) and
their EMF output is read back. An alarm on a metric nobody emits would never fire."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from servers import free_port
from services import install, keyed_settings, write_test_keys
from versa.composition import build_packs, build_service
from versa.settings import Settings
from versa.web import api

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
PACKS = ROOT / "examples" / "packs"

Metric = tuple[str, frozenset[tuple[str, str]]]


class _Loader(yaml.SafeLoader):
    """template.yaml with CloudFormation's short tags read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))


def alarmed_metrics() -> set[Metric]:
    """(name, dimensions) of every Versa-namespace metric an alarm watches, metric-math alarms included."""
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    out: set[Metric] = set()
    for res in template["Resources"].values():
        if res["Type"] != "AWS::CloudWatch::Alarm":
            continue
        p = res["Properties"]
        specs = [p] if "MetricName" in p else [q["MetricStat"]["Metric"] for q in p["Metrics"] if "MetricStat" in q]
        for spec in specs:
            if spec["Namespace"] == "Versa":
                out.add((spec["MetricName"], frozenset((d["Name"], d["Value"]) for d in spec["Dimensions"])))
    return out


def emitted(stdout: str) -> set[Metric]:
    """(name, dimensions) of every metric in the EMF records of `stdout`, for each dimension set."""
    out: set[Metric] = set()
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dims in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    out.add((metric["Name"], frozenset((d, str(record[d])) for d in dims)))
    return out


@dataclass
class Context:
    function_name: str = "versa-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:versa-test"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000000"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def test_every_alarmed_metric_is_emitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    for name in [n for n in __import__("os").environ if n.startswith("VERSA_")]:
        monkeypatch.delenv(name)
    alarmed = alarmed_metrics()
    assert {name for name, _ in alarmed} >= {"FallbackAnswers", "CreativeAnswers", "PackStale", "SyntheticFallbacks"}

    # the render handler: a render, the same again (a memo hit), an expired link and a bad parameter
    settings = keyed_settings(tmp_path, packs=PACKS, require_signature=True)
    install(build_service(settings, metrics=api.PowertoolsMetrics(), log=api._log), monkeypatch)
    # a fresh container (another test in this process may have invoked the handler already)
    from aws_lambda_powertools.metrics.provider import cold_start

    cold_start.reset_cold_start_flag()
    for name in ("desktop-us-morning", "desktop-us-morning", "gmail-expired-signature", "gmail-bad-param"):
        api.lambda_handler(event(name), Context())

    # the composition's stale-pack hook of the S3 store (what a failed pointer or bundle read calls)
    store = build_packs(Settings(pack_bucket="versa-test", state_dir=tmp_path / "s"), metrics=api.PowertoolsMetrics())
    store._emit("pack_stale", brand="acme", reason="timeout", serving="v1")  # type: ignore[attr-defined]
    api.metrics.flush_metrics()

    # the synthetic check, against an origin that does not answer
    from versa.consumer import synthetic

    monkeypatch.setenv("VERSA_SYNTHETIC_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("VERSA_SYNTHETIC_TARGETS", "acme/winter-sale")
    monkeypatch.setenv("VERSA_STATE_DIR", str(write_test_keys(tmp_path / "synthetic")))
    result = synthetic.lambda_handler({}, Context())
    assert result["fallbacks"] == ["acme/winter-sale: error"]

    # the generator: a batch it cannot start fails (GenerationFailures); the worker's token count
    from versa.consumer import generator

    def broken() -> Any:
        raise generator.GeneratorMisconfigured("no model configured")

    monkeypatch.setattr(generator, "_factory", broken)
    monkeypatch.setattr(generator, "_consumer", None)
    generator.lambda_handler({"Records": [{"messageId": "m1", "body": "{}"}]}, Context())
    worker_source = (ROOT / "shared" / "versa" / "generate" / "worker.py").read_text(encoding="utf-8")
    assert '_count("CopyTokens"' in worker_source
    generator.PowertoolsCounter().count("CopyTokens", 10)
    generator.metrics.flush_metrics()

    out = emitted(capsys.readouterr().out)
    missing = sorted((name, sorted(dims)) for name, dims in alarmed - out)
    assert missing == [], f"alarmed but never emitted: {missing}"
    assert ("ColdStart", frozenset({("function_name", "versa-test"), ("service", "versa")})) in out


def _values(stdout: str, name: str) -> list[float]:
    values: list[float] = []
    for line in stdout.splitlines():
        if line.startswith('{"_aws"') and name in json.loads(line):
            value = json.loads(line)[name]
            values.extend(value if isinstance(value, list) else [value])
    return values


def test_renders_count_real_renders_and_each_request_logs_one_access_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN the render handler with Powertools metrics and logging
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    caplog.set_level("INFO", logger="versa")
    settings = keyed_settings(tmp_path, packs=PACKS, require_signature=True)
    install(build_service(settings, metrics=api.PowertoolsMetrics(), log=api._log), monkeypatch)
    # WHEN the same creative is asked twice (a render, then a memo hit) and then an expired link
    for name in ("desktop-us-morning", "desktop-us-morning", "gmail-expired-signature"):
        api.lambda_handler(event(name), Context())
    out = capsys.readouterr().out
    # THEN Renders counted one render, a memo the other (the render memo, or a request memo before it)
    assert sum(_values(out, "Renders")) == 1
    assert sum(_values(out, "MemoHits")) + sum(_values(out, "RequestMemoHits")) == 1
    # AND every answer counts toward the fallback rate, the expired link's fallback excepted
    assert sum(_values(out, "CreativeAnswers")) == 3 and sum(_values(out, "FallbackAnswers")) == 0
    # AND each request logged one access line with what was answered and why
    lines = [r.__dict__ for r in caplog.records if r.getMessage() == "access"]
    assert [(x["status"], x["route"], x["brand"], x["memo_hit"], x["fallback"]) for x in lines] == [
        (200, "creative", "acme", False, None),
        (200, "creative", "acme", True, None),
        (200, "creative", "northwind", False, "expired"),
    ]
    assert lines[0]["variant"] and lines[0]["variant"] == lines[1]["variant"]
    assert lines[0]["creative"] == "winter-sale" and lines[0]["cf_request_id"]
    assert all(x["duration_ms"] > 0 for x in lines)
    assert lines[0]["render_ms"] > 0 and lines[2]["render_ms"] is None  # the expired link drew nothing
    # AND a request writes that one line only: the metrics it carries write none of their own
    per_metric = [r.getMessage() for r in caplog.records if r.getMessage() in ("Renders", "MemoHits", "RenderTime", "Fallbacks")]
    assert per_metric == []
