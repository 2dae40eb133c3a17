"""The scheduled optimizer against real stores: packs from a directory, counts and snapshots in
DynamoDB on moto's standalone server; the handler through a schedule event with the settings the
stack sets."""

from __future__ import annotations

import json
import random
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from versa.adapters.directory import DirectoryPackStore
from versa.adapters.dynamo_relevance import DynamoRelevanceStore, create_relevance_table
from versa.consumer import optimizer
from versa.relevance import Counters, arm_id, holdout_buckets, policy_for, scope_of
from versa.render.checks import PACK_CHECKS

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
EXAMPLES = ROOT / "examples" / "packs"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RULE = {
    "id": "headline-test", "optimize": "clicks", "learn_by": ["device"], "min_sample": 200,
    "arms": [{"id": "as-designed"}, {"id": "dark", "set": {"tokens.colors.paper": "#0b0b0b"}}],
}
SCOPE = scope_of("acme", "winter-sale", "headline-test")


@pytest.fixture
def packs_dir(tmp_path: Path) -> Path:
    """The acme example pack with an optimized rule added, alone in a packs folder."""
    root = tmp_path / "packs" / "acme"
    shutil.copytree(EXAMPLES / "acme", root)
    data = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    data["creatives"]["winter-sale"]["rules"].append(RULE)
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root.parent


@pytest.fixture
def table(dynamodb_client: Any) -> Any:
    name = f"relevance-{uuid.uuid4().hex[:12]}"
    create_relevance_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


def test_a_scheduled_run_reallocates_every_optimized_rule(packs_dir: Path, table: str, dynamodb_client: Any) -> None:
    # GIVEN counts where the dark arm clearly wins on mobile, and the schedule's event
    store = DynamoRelevanceStore(table, client=dynamodb_client)
    packs = DirectoryPackStore(packs_dir, checks=PACK_CHECKS)
    rule = packs.current("acme").model.creative("winter-sale").rules[-1]
    keys = {arm_id(k): k for k in policy_for(rule).arms}
    store.add(SCOPE, Counters({("device=mobile", keys["as-designed"], "optimized"): (2000, 20),
                               ("device=mobile", keys["dark"], "optimized"): (2000, 80)}))
    event = json.loads((EVENTS / "optimizer" / "schedule.json").read_text(encoding="utf-8"))
    # WHEN the optimizer runs twice, an hour apart
    first = optimizer.run(event, packs, store, NOW, random.Random(1))
    second = optimizer.run(event, packs, store, NOW + timedelta(hours=1), random.Random(2))
    # THEN each run wrote the next epoch of the rule, valid for one period
    assert [(r.scope, r.epoch) for r in first] == [(SCOPE, 1)]
    assert [(r.scope, r.epoch, r.valid_until) for r in second] == [(SCOPE, 2, NOW + timedelta(hours=2))]
    snap = store.snapshot(SCOPE)
    assert snap is not None and snap.epoch == 2
    # AND mobile traffic moved to the winning arm, outside the fixed holdout
    assert snap.shares("device=mobile")[keys["dark"]] > 0.8
    assert snap.holdout == holdout_buckets("headline-test", 0.10)


def test_a_failing_brand_does_not_stop_the_others(packs_dir: Path, table: str, dynamodb_client: Any) -> None:
    store = DynamoRelevanceStore(table, client=dynamodb_client)
    packs = DirectoryPackStore(packs_dir, checks=PACK_CHECKS)
    failures: list[str] = []
    with pytest.raises(optimizer.OptimizerFailed, match=r"failed for nobody \(reallocated 1 rule\(s\)\)"):
        optimizer.run({"brands": ["nobody", "acme"]}, packs, store, NOW, random.Random(1),
                      on_failure=lambda brand, exc: failures.append(brand))
    assert failures == ["nobody"]
    assert store.snapshot(SCOPE) is not None  # acme was reallocated all the same


def test_an_event_without_brands_is_refused() -> None:
    with pytest.raises(ValueError, match=r"event.brands None: allowed a non-empty list of brand ids"):
        optimizer.brands_of({"detail-type": "Scheduled Event"})


class Context:
    function_name = "versa-optimizer"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:versa-optimizer"
    aws_request_id = "optimizer-test-0001"


def test_the_handler_runs_on_the_settings_the_stack_sets(
    packs_dir: Path, table: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the environment the stack gives the function
    monkeypatch.setenv("VERSA_PACKS_DIR", str(packs_dir))
    monkeypatch.setenv("VERSA_RELEVANCE_TABLE", table)
    monkeypatch.setenv("VERSA_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setattr(optimizer, "_wired", None)
    event = json.loads((EVENTS / "optimizer" / "schedule.json").read_text(encoding="utf-8"))
    # WHEN the schedule fires
    out = optimizer.lambda_handler(event, Context())
    # THEN the rule was reallocated into the table
    assert out == {"reallocated": [{"scope": SCOPE, "epoch": 1}]}
