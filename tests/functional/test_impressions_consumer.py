"""The impression counter against real components: served requests written as CloudFront real-time log
lines into a Kinesis stream on moto's server, read back as the Lambda event Kinesis delivers, counted
by the handler into the DynamoDB relevance table."""

from __future__ import annotations

import base64
import random
import shutil
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import yaml

from versa.adapters.directory import DirectoryPackStore
from versa.adapters.dynamo_relevance import DynamoRelevanceStore, create_relevance_table
from versa.consumer import impressions as consumer
from versa.context.resolve import resolve
from versa.context.visitor import X_VISITOR_BUCKET, edge_query, parse_bucket_header
from versa.decide.rules import context_options, decide, lookup_for
from versa.relevance import Counters, arm_id, policy_for, scope_of
from versa.relevance.impressions import REALTIME_FIELDS, parse_record
from versa.relevance.replay import logged_request, replay
from versa.relevance.serving import choose_arms
from versa.render.checks import PACK_CHECKS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RULE = {
    "id": "paper-test", "optimize": "clicks", "learn_by": ["device"], "min_sample": 200,
    "arms": [{"id": "as-designed"}, {"id": "dark", "set": {"tokens.colors.paper": "#0b0b0b"}}],
}
SCOPE = scope_of("acme", "winter-sale", "paper-test")
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
MOBILE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
FLAGS = {DESKTOP: "cloudfront-is-desktop-viewer", MOBILE: "cloudfront-is-mobile-viewer"}


@pytest.fixture
def packs(tmp_path: Path) -> DirectoryPackStore:
    root = tmp_path / "packs" / "acme"
    shutil.copytree(EXAMPLES / "acme", root)
    data = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    data["creatives"]["winter-sale"]["rules"].append(RULE)
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return DirectoryPackStore(root.parent, checks=PACK_CHECKS)


@pytest.fixture
def store(dynamodb_client: Any) -> Any:
    name = f"relevance-{uuid.uuid4().hex[:12]}"
    create_relevance_table(dynamodb_client, name)
    yield DynamoRelevanceStore(name, client=dynamodb_client)
    dynamodb_client.delete_table(TableName=name)


def served(packs: DirectoryPackStore, store: Any, ua: str, vid: str, when: datetime) -> tuple[str, str, str, str]:
    """What the request path served a viewer: the edge's visitor step, CloudFront's own device flag and
    country, then the arm from the snapshot and the decision. (design key, segment, arm key, group)."""
    pack = packs.current("acme")
    pairs, visitor = edge_query([("vid", vid)], None, cookie_on=False, request_id=None)
    headers = {"user-agent": ua, FLAGS[ua]: "true", "cloudfront-viewer-country": "US",
               X_VISITOR_BUCKET: str(visitor.bucket)}
    ctx = resolve(headers, dict(pairs), when, context_options(pack.model, "winter-sale", frozenset({"vid"})))
    lookup = lookup_for(ctx)
    choice = choose_arms(pack.brand, "winter-sale", pack.model.creative("winter-sale"), lookup,
                         parse_bucket_header(headers[X_VISITOR_BUCKET]), store.snapshot)
    [shown] = choice.shown
    decision = decide(pack.model, "winter-sale", ctx, arms=choice.arms)
    return decision.design_key, shown.segment, shown.arm, shown.group


def log_line(ua: str, vid: str, when: datetime, status: int = 200, asn: str = "7922") -> str:
    """A real-time log record as CloudFront writes it for REALTIME_FIELDS (URL-encoded user agent)."""
    values = {
        "timestamp": f"{when.timestamp():.3f}", "sc-status": str(status), "cs-uri-stem": "/v1/acme/winter-sale.png",
        "cs-uri-query": urlencode({"vid": vid, "sig": "x"}), "c-country": "US", "cs-user-agent": quote(ua),
        "asn": asn, "cs-cookie": "-", "x-edge-request-id": "req-" + vid,
    }
    return "\t".join(values[name] for name in REALTIME_FIELDS)


def kinesis_event(kinesis: Any, lines: list[str]) -> dict[str, Any]:
    """Put each line as one record (as CloudFront does) and read them back as Lambda's Kinesis event."""
    name = f"realtime-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    for i, line in enumerate(lines):
        kinesis.put_record(StreamName=name, Data=line.encode(), PartitionKey=str(i))
    shard = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    got = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": r["PartitionKey"], "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode(), "approximateArrivalTimestamp": 1764590400.0},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{r['SequenceNumber']}",
        "eventName": "aws:kinesis:record", "awsRegion": "us-east-1",
        "eventSourceARN": f"arn:aws:kinesis:us-east-1:123456789012:stream/{name}",
    } for r in got]}


def test_logged_views_count_the_arms_the_handler_served(
    packs: DirectoryPackStore, store: Any, aws_client: Any, moto_endpoint: str
) -> None:
    # GIVEN a snapshot where mobile moved to the dark arm, and 80 browser views served under it
    rule = packs.current("acme").model.creative("winter-sale").rules[-1]
    keys = {arm_id(k): k for k in policy_for(rule).arms}
    store.add(SCOPE, Counters({("device=mobile", keys["as-designed"], "optimized"): (2000, 20),
                               ("device=mobile", keys["dark"], "optimized"): (2000, 90)}))
    store.run_optimizer(SCOPE, policy_for(rule), NOW, random.Random(3))
    before = store.counters(SCOPE)
    views = [(DESKTOP if i % 2 else MOBILE, f"visitor-{i}@example.com", NOW + timedelta(seconds=i)) for i in range(80)]
    expected: Counter[tuple[str, str, str]] = Counter()
    lines = []
    for ua, vid, when in views:
        design, segment, arm, group = served(packs, store, ua, vid, when)
        expected[(segment, arm, group)] += 2  # sampled at 50 %: each logged view stands for two
        lines.append(log_line(ua, vid, when))
        # the replay reaches the design key the handler served
        decision, shown = replay(packs.current("acme"), logged_request(parse_record(lines[-1])), store.snapshot)
        assert decision.design_key == design and [(s.segment, s.arm, s.group) for s in shown] == [(segment, arm, group)]
    # AND records that are no views: Apple's privacy proxy, a crawler, a 404, the click route
    lines += [log_line("Mozilla/5.0", "v-proxy", NOW, asn="714"), log_line("Googlebot-Image/1.0", "v-bot", NOW),
              log_line(DESKTOP, "v-404", NOW, status=404), log_line(DESKTOP, "v", NOW).replace(".png", "/click")]
    event = kinesis_event(aws_client("kinesis", moto_endpoint), lines)
    assert len(event["Records"]) == 84
    # WHEN the handler counts the batch
    skipped: list[str] = []
    counter = consumer.ImpressionCounter(packs, store, rate=50, on_skip=skipped.append)
    response = consumer.handle(event, None, counter)
    # THEN nothing failed, the non-views were left out, and DynamoDB holds exactly the served arms, scaled
    assert response == {"batchItemFailures": []}
    assert skipped == ["not a creative image"]
    after = store.counters(SCOPE)
    added = {key: i - before.arm(key[0], key[1], (key[2],)).impressions for key, i, _ in after.items()}
    assert {k: v for k, v in added.items() if v} == dict(expected)
    assert sum(expected.values()) == 160 and len({arm for _, arm, _ in expected}) == 2


def test_a_store_outage_fails_the_record_for_a_retry(packs: DirectoryPackStore, aws_client: Any, moto_endpoint: str,
                                                      dynamodb_client: Any) -> None:
    # GIVEN a relevance table that does not exist (reads fail as the store being unavailable)
    missing = DynamoRelevanceStore(f"missing-{uuid.uuid4().hex[:8]}", client=dynamodb_client)
    event = kinesis_event(aws_client("kinesis", moto_endpoint), [log_line(DESKTOP, "visitor-1", NOW)])
    counter = consumer.ImpressionCounter(packs, missing, rate=100)
    # WHEN the batch is handled, THEN the record is reported for Kinesis to retry
    response = consumer.handle(event, None, counter)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["kinesis"]["sequenceNumber"]}]}


class Context:
    function_name = "versa-impressions"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:versa-impressions"
    aws_request_id = "impressions-test-0001"


def test_the_handler_runs_on_the_settings_the_stack_sets(
    packs: DirectoryPackStore, store: Any, aws_client: Any, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the environment the stack gives the function, sampling at 25 %, and an allocation
    rule = packs.current("acme").model.creative("winter-sale").rules[-1]
    store.run_optimizer(SCOPE, policy_for(rule), NOW, random.Random(1))
    monkeypatch.setenv("VERSA_PACKS_DIR", str(packs.root))
    monkeypatch.setenv("VERSA_RELEVANCE_TABLE", store.table_name)
    monkeypatch.setenv("VERSA_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("VERSA_IMPRESSION_SAMPLING_RATE", "25")
    monkeypatch.setattr(consumer, "_wired", None)
    event = kinesis_event(aws_client("kinesis", moto_endpoint), [log_line(DESKTOP, f"v{i}", NOW) for i in range(3)])
    # WHEN the stream delivers three logged views
    out = consumer.lambda_handler(event, Context())
    # THEN none failed and they count as twelve impressions of the desktop segment
    assert out == {"batchItemFailures": []}
    counted = store.counters(SCOPE)
    assert sum(i for (segment, _, _), i, _ in counted.items() if segment == "device=desktop") == 12
