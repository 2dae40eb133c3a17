"""The deployed generator on AWS adapters against moto's server (HTTP): a render function's miss leases
the key in DynamoDB and sends the request to SQS; the generator consumes SQS batches built from what
moto's queue delivers, writes DynamoDB, reports partial failures, dead-letters poison messages after the
queue's redrive count, does not generate a duplicate twice, and shares one spending ledger between
instances. The model is the local OpenAI-compatible server (tests/openai_server.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from copy_pack import copy_pack_data, write_copy_pack
from openai_server import FakeOpenAI, running_openai_server
from versa.adapters.dynamo_copy import create_table
from versa.adapters.dynamo_spending import DynamoSpendingLedger, create_state_table
from versa.composition import build_generator, build_service
from versa.consumer import generator as consumer
from versa.generate.worker import Limits, Spending
from versa.ports import CopyStatus, SpendingLedger
from versa.publish.s3 import Publisher
from versa.settings import Settings
from versa.web.service import CreativeRequest

MODEL = "generator-test-model"
API_KEY = "sk-generator-test"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
GOOD = {"candidates": ["Gear up: 20% off warm layers"]}
REDRIVE = 2


class Recorder:
    def __init__(self) -> None:
        self.counts: list[tuple[str, float, dict[str, Any]]] = []

    def count(self, name: str, value: float = 1, /, **props: Any) -> None:
        self.counts.append((name, value, props))

    def timing(self, name: str, ms: float, /, **props: Any) -> None:
        return None

    def named(self, name: str) -> list[dict[str, Any]]:
        return [props for n, _, props in self.counts if n == name]


class LambdaContext:
    """What the handler reads of Lambda's context (the request id, the time left)."""

    function_name = "versa-generator"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:versa-generator"
    aws_request_id = "generator-test-0001"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Stack:
    endpoint: str
    bucket: str
    table: str
    state_table: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    secret: str
    kill_parameter: str
    sqs: Any
    dynamodb: Any
    ssm: Any


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    server.script(MODEL, GOOD)
    return server


@pytest.fixture(scope="module")
def packs_bucket(moto_endpoint: str, aws_client: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The copy pack ("shop") published to a bucket on moto, once for the module."""
    s3 = aws_client("s3", moto_endpoint)
    bucket = f"versa-gen-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    root = tmp_path_factory.mktemp("packs") / "shop"
    data = copy_pack_data()
    del data["creatives"]["promo"]["copy"]["tagline"]["generate"]  # open-ended `vary_by`: lint refuses to publish
    write_copy_pack(root, data)
    Publisher(bucket, client=s3).publish(root)
    return bucket


@pytest.fixture
def stack(moto_endpoint: str, aws_client: Callable[..., Any], packs_bucket: str) -> Stack:
    """A fresh copy table, state table, queue (visibility 0, redrive after REDRIVE receives) with its
    DLQ, the OpenAI key in Secrets Manager and the kill switch in SSM ("false")."""
    suffix = uuid.uuid4().hex[:10]
    dynamodb, sqs = aws_client("dynamodb", moto_endpoint), aws_client("sqs", moto_endpoint)
    table, state = f"copy-{suffix}", f"state-{suffix}"
    create_table(dynamodb, table)
    create_state_table(dynamodb, state)
    dlq_url = sqs.create_queue(QueueName=f"gen-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=f"gen-{suffix}", Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(REDRIVE)}),
    })["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    secret = aws_client("secretsmanager", moto_endpoint).create_secret(
        Name=f"versa/{suffix}/openai", SecretString=API_KEY)["ARN"]
    ssm = aws_client("ssm", moto_endpoint)
    parameter = f"/versa-{suffix}/copy-kill-switch"
    ssm.put_parameter(Name=parameter, Value="false", Type="String")
    return Stack(moto_endpoint, packs_bucket, table, state, queue_url, queue_arn, dlq_url, secret, parameter,
                 sqs, dynamodb, ssm)


def aws_settings(stack: Stack, tmp_path: Path, **given: Any) -> Settings:
    values: dict[str, Any] = {
        "pack_bucket": stack.bucket, "copy_table": stack.table, "generation_queue": stack.queue_url,
        "aws_endpoint_url": stack.endpoint, "aws_read_timeout": 10.0, "aws_connect_timeout": 2.0,
        "copy_model": MODEL, "require_signature": False, "memo_items": 0, "state_dir": tmp_path / "state",
        **given,
    }
    return Settings(**values)


def generator_settings(stack: Stack, tmp_path: Path, fake: FakeOpenAI, **given: Any) -> Settings:
    return aws_settings(stack, tmp_path, generator_table=stack.state_table, openai_secret_id=stack.secret,
                        openai_base_url=fake.base_url, copy_kill_switch_parameter=stack.kill_parameter,
                        copy_attempts=1, **given)


def miss(stack: Stack, tmp_path: Path, seg: str = "vip") -> None:
    """A render function's request that misses the headline: it leases the key and sends the request."""
    service = build_service(aws_settings(stack, tmp_path))
    query = {"seg": seg, "at": NOW.isoformat()}
    response = service.image(CreativeRequest("shop", "promo", "png", {}, query, NOW, path="/v1/shop/promo.png"))
    assert response.status == 200 and response.headers.get("X-Versa-Copy") == "default"


def receive(stack: Stack) -> list[dict[str, Any]]:
    """Every message the queue delivers now (visibility 0: they are visible again at once)."""
    got = stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10,
                                    MessageSystemAttributeNames=["All"], WaitTimeSeconds=0)
    return list(got.get("Messages", []))


def sqs_event(stack: Stack, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS poller would invoke the function with for these messages."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": stack.queue_arn, "awsRegion": "us-east-1",
    } for m in messages]}


def poll_once(stack: Stack, messages: list[dict[str, Any]], context: LambdaContext | None = None) -> list[str]:
    """What the poller does with one batch: invoke, then delete every message not reported failed.
    Returns the failed message ids."""
    response = consumer.handle(sqs_event(stack, messages), context or LambdaContext())
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        stack.sqs.delete_message_batch(QueueUrl=stack.queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
    return failed


@pytest.fixture
def use_generator() -> Iterator[Callable[[Settings], Recorder]]:
    """`use_generator(settings)`: the consumer builds its generator from these settings (recorded metrics)."""

    def configure(settings: Settings) -> Recorder:
        recorder = Recorder()
        consumer.configure(lambda: build_generator(settings, metrics=recorder))
        return recorder

    yield configure
    consumer.configure(None)


def headline_items(stack: Stack) -> list[dict[str, Any]]:
    items = stack.dynamodb.scan(TableName=stack.table)["Items"]
    return [i for i in items if "headline" in i.get("meta", {}).get("S", "")]


# ------------------------------------------------------------------------------------------ batches


def test_a_batch_is_generated_into_dynamodb_and_poison_items_are_reported(
    stack: Stack, tmp_path: Path, fake: FakeOpenAI, use_generator: Callable[[Settings], Recorder]
) -> None:
    # GIVEN a miss that queued the headline's generation, and two poison messages beside it
    miss(stack, tmp_path)
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{not json")
    unknown = {"key": "k-unknown", "brand": "nobody", "creative": "c", "slot": "s", "locale": "en", "brief": "b",
               "constraints": {}, "vary": {}, "default": "d"}
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(unknown))
    metrics = use_generator(generator_settings(stack, tmp_path, fake))
    messages = receive(stack)
    poison = {m["MessageId"] for m in messages if "not json" in m["Body"] or "nobody" in m["Body"]}
    assert len(poison) == 2 and len(messages) > 2
    # WHEN the generator consumes the batch
    failed = poll_once(stack, messages)
    # THEN exactly the poison messages are reported failed
    assert set(failed) == poison
    # AND the headline's copy is in DynamoDB, written by the model with the key from Secrets Manager
    [item] = [i for i in headline_items(stack) if i["status"]["S"] == "generated"]
    assert item["text"]["S"] == GOOD["candidates"][0]
    meta = json.loads(item["meta"]["S"])
    assert meta["model"] == MODEL and meta["generated"] is True and meta["brand"] == "shop"
    assert metrics.named("CopyGenerated") and metrics.named("CopyTokens")
    assert all(r.get("model") == MODEL for r in fake.requests())


def test_a_message_is_deferred_unstarted_when_the_invocation_has_too_little_time_left(
    stack: Stack, tmp_path: Path, fake: FakeOpenAI, use_generator: Callable[[Settings], Recorder]
) -> None:
    # GIVEN a queued headline generation and a generator whose model call may take 1 x 30 s (+5)
    miss(stack, tmp_path, seg="outdoor")
    use_generator(generator_settings(stack, tmp_path, fake))
    messages = [m for m in receive(stack) if "outdoor" in m["Body"]]
    asked = len(fake.requests())
    # WHEN the batch arrives with 20 s left in the invocation
    failed = poll_once(stack, messages, LambdaContext(remaining_ms=20_000))
    # THEN the message is failed unstarted (redelivered later): the model was not asked, nothing written
    assert failed == [m["MessageId"] for m in messages] and len(fake.requests()) == asked
    # AND with enough time left, the redelivered message is generated
    again = [m for m in receive(stack) if "outdoor" in m["Body"]]
    assert len(again) == 1 and poll_once(stack, again, LambdaContext(remaining_ms=60_000)) == []
    assert len(fake.requests()) == asked + 1


def test_poison_messages_land_in_the_dead_letter_queue_after_the_redrive_count(
    stack: Stack, tmp_path: Path, fake: FakeOpenAI, use_generator: Callable[[Settings], Recorder]
) -> None:
    # GIVEN a queue holding one undecodable message
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody='["not", "a", "request"]')
    use_generator(generator_settings(stack, tmp_path, fake))
    # WHEN the poller receives it again and again (visibility 0) and the generator fails it each time
    attempts = 0
    while messages := receive(stack):
        assert poll_once(stack, messages) == [m["MessageId"] for m in messages]
        attempts += 1
        assert attempts <= REDRIVE, "the message was never dead-lettered"
    # THEN after REDRIVE receives SQS moved it to the dead-letter queue, untouched
    assert attempts == REDRIVE
    dead = stack.sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ['["not", "a", "request"]']
    assert fake.requests() == []


def test_a_duplicate_message_does_not_generate_twice(
    stack: Stack, tmp_path: Path, fake: FakeOpenAI, use_generator: Callable[[Settings], Recorder]
) -> None:
    # GIVEN the headline's generation request delivered twice (SQS is at-least-once)
    miss(stack, tmp_path)
    [message] = [m for m in receive(stack) if '"headline"' in m["Body"]]
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=message["Body"])
    use_generator(generator_settings(stack, tmp_path, fake))
    duplicates = [m for m in receive(stack) if m["Body"] == message["Body"]]
    assert len(duplicates) == 2
    # WHEN the generator handles both
    built = consumer.consumer()
    built.config.register_lambda_context(LambdaContext())
    outcomes = [built.handle(record) for record in _records(stack, duplicates)]
    # THEN the model was asked once; the second answer is the first's, from the idempotency record
    # (without the record it would have re-read the lease: "skipped")
    assert outcomes == ["written", "written"]
    assert len(fake.requests()) == 1
    records = stack.dynamodb.scan(TableName=stack.state_table)["Items"]
    assert [r["status"]["S"] for r in records if r["pk"]["S"].startswith("generation#")] == ["COMPLETED"]


def _records(stack: Stack, messages: list[dict[str, Any]]) -> list[Any]:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    return [SQSRecord(r) for r in sqs_event(stack, messages)["Records"]]


def test_a_generator_without_a_model_fails_every_message_so_none_is_dropped(
    stack: Stack, tmp_path: Path, fake: FakeOpenAI, use_generator: Callable[[Settings], Recorder]
) -> None:
    # GIVEN a generator deployed without VERSA_COPY_MODEL
    miss(stack, tmp_path)
    use_generator(generator_settings(stack, tmp_path, fake, copy_model=None))
    messages = receive(stack)
    # WHEN it gets a batch, THEN every message is reported failed (retried, then dead-lettered)
    assert sorted(poll_once(stack, messages)) == sorted(m["MessageId"] for m in messages)
    assert fake.requests() == []


# ------------------------------------------------------------------------------------- spending


def test_the_kill_switch_parameter_stops_generation_without_failing_the_message(
    stack: Stack, tmp_path: Path, fake: FakeOpenAI, use_generator: Callable[[Settings], Recorder]
) -> None:
    # GIVEN the kill switch turned on in SSM
    stack.ssm.put_parameter(Name=stack.kill_parameter, Value="true", Type="String", Overwrite=True)
    miss(stack, tmp_path)
    metrics = use_generator(generator_settings(stack, tmp_path, fake))
    # WHEN the generator gets the batch
    failed = poll_once(stack, receive(stack))
    # THEN nothing is generated, the stop is counted, and the messages are consumed (no DLQ flood):
    # the lease stays pending until it expires and a later miss asks again
    assert failed == [] and fake.requests() == []
    assert {p["bound"] for p in metrics.named("CopyGenerationStopped")} == {"kill-switch"}
    assert all(i["status"]["S"] == "pending" for i in stack.dynamodb.scan(TableName=stack.table)["Items"])
    assert receive(stack) == []
    # AND no idempotency record stays behind: a later message for the key is handled afresh
    records = stack.dynamodb.scan(TableName=stack.state_table)["Items"]
    assert not [r for r in records if r["pk"]["S"].startswith("generation#")]


def test_two_generators_share_one_daily_budget(
    stack: Stack, tmp_path: Path, fake: FakeOpenAI, use_generator: Callable[[Settings], Recorder]
) -> None:
    # GIVEN two generator instances (two containers) over one state table, a budget of 10 tokens a day
    settings = generator_settings(stack, tmp_path, fake, copy_daily_tokens=10)
    first, second = build_generator(settings), build_generator(settings)
    miss(stack, tmp_path, seg="vip")
    miss(stack, tmp_path, seg="lapsed")
    requests = [consumer.decode(m["Body"]) for m in receive(stack) if '"headline"' in m["Body"]]
    assert len(requests) == 2
    # WHEN the first spends more than the budget on one generation, and the second tries the other
    assert first.worker.attempt(requests[0]).value == "written"
    outcome = second.worker.attempt(requests[1])
    # THEN the second is stopped by the budget the first spent: one model call in all
    assert outcome.value == "stopped" and len(fake.requests()) == 1
    today = datetime.now(UTC).date()
    assert second.worker.spending.spent("shop", today) == first.worker.spending.spent("shop", today) > 10


# -------------------------------------------------------------------- conditional-write contracts


@pytest.fixture(params=["in-process", "dynamodb"])
def ledger_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., SpendingLedger]]:
    clock = [1_764_601_200.0]  # a whole minute
    if request.param == "in-process":
        yield lambda daily, per_minute: Spending(Limits(daily_tokens=daily, per_minute=per_minute),
                                                 clock=lambda: clock[0])
        return
    client = request.getfixturevalue("dynamodb_client")
    name = f"ledger-{uuid.uuid4().hex[:10]}"
    create_state_table(client, name)
    yield lambda daily, per_minute: DynamoSpendingLedger(name, daily_tokens=daily, per_minute=per_minute,
                                                         client=client, clock=lambda: clock[0])
    client.delete_table(TableName=name)


DAY = date(2026, 12, 1)


def test_ledger_a_second_start_beyond_the_rate_is_refused(ledger_factory: Callable[..., SpendingLedger]) -> None:
    ledger = ledger_factory(1000, 1)
    assert ledger.admit("shop", DAY) is None
    assert ledger.admit("shop", DAY) == "rate"
    assert ledger.admit("other", DAY) == "rate"  # the rate is one for every brand


def test_ledger_a_brand_past_its_budget_is_refused_until_the_next_day(
    ledger_factory: Callable[..., SpendingLedger],
) -> None:
    ledger = ledger_factory(100, 1000)
    assert ledger.admit("shop", DAY) is None
    ledger.spend("shop", DAY, 60)
    assert ledger.admit("shop", DAY) is None
    ledger.spend("shop", DAY, 60)
    assert (ledger.admit("shop", DAY), ledger.admit("other", DAY)) == ("budget", None)
    assert ledger.spent("shop", DAY) == 120
    assert ledger.admit("shop", date(2026, 12, 2)) is None
    assert ledger_factory(0, 1000).admit("shop", DAY) == "budget"


def test_dynamodb_ledger_counts_are_shared_between_instances(dynamodb_client: Any) -> None:
    name = f"ledger-{uuid.uuid4().hex[:10]}"
    create_state_table(dynamodb_client, name)
    clock = lambda: 1_764_601_200.0  # noqa: E731
    a, b = (DynamoSpendingLedger(name, daily_tokens=100, per_minute=3, client=dynamodb_client, clock=clock)
            for _ in range(2))
    assert [a.admit("shop", DAY), b.admit("shop", DAY), a.admit("shop", DAY), b.admit("shop", DAY)] == [
        None, None, None, "rate"]
    a.spend("shop", DAY, 100)
    assert b.admit("shop", DAY) == "budget" and b.spent("shop", DAY) == 100


@pytest.fixture(params=["sqlite", "dynamodb"])
def copy_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    from versa.adapters.dynamo_copy import DynamoCopyStore
    from versa.adapters.sqlite_copy import SQLiteCopyStore

    if request.param == "sqlite":
        store = SQLiteCopyStore(tmp_path / "copy.db")
        yield store
        store.close()
        return
    client = request.getfixturevalue("dynamodb_client")
    name = f"copy-{uuid.uuid4().hex[:10]}"
    create_table(client, name)
    yield DynamoCopyStore(name, client=client)
    client.delete_table(TableName=name)


def test_copy_store_a_second_conditional_put_on_the_same_key_fails(copy_store: Any) -> None:
    from datetime import timedelta

    from versa.ports import CopyItem

    # GIVEN a lease (conditional insert), THEN a second lease on the key fails
    assert copy_store.lease("k", now=NOW, ttl=timedelta(minutes=10))
    assert not copy_store.lease("k", now=NOW, ttl=timedelta(minutes=10))
    lease = copy_store.get("k")
    # AND of two writes conditioned on the lease's version, the first wins and the second fails
    first = CopyItem("k", CopyStatus.generated, text="one", version=lease.version + 1)
    second = CopyItem("k", CopyStatus.generated, text="two", version=lease.version + 1)
    assert copy_store.put_result(first, expected_version=lease.version)
    assert not copy_store.put_result(second, expected_version=lease.version)
    assert copy_store.get("k").text == "one"
