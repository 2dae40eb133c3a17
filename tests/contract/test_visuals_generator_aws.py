"""Generated visuals end to end on the AWS adapters (moto's server, HTTP): the render function's miss
serves the slot's default image and sends a visual generation request to SQS; the deployed generator
consumes it, paints through the Images API (the local OpenAI-compatible server), writes the scene to S3
under `generated/` and the item to DynamoDB for review; after a reviewer approves it (`versa visuals
approve` against the table), a render function reads the scene from S3 and serves it with a new ETag."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from openai_server import FakeOpenAI, running_openai_server
from services import run_cli
from versa.adapters.dynamo_copy import create_table
from versa.composition import build_generator, build_service
from versa.consumer import generator as consumer
from versa.publish.s3 import Publisher
from versa.settings import Settings
from versa.web.service import CreativeRequest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
MODEL = "image-model-e2e"
NOW = datetime(2026, 6, 1, 21, 0, tzinfo=UTC)
QUERY = {"aesthetic": "urban", "at": NOW.isoformat(), "tz": "Europe/London"}


class LambdaContext:
    function_name = "versa-generator"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:versa-generator"
    aws_request_id = "visual-e2e-0001"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


@pytest.fixture
def use_generator() -> Iterator[Callable[[Settings], None]]:
    yield lambda settings: consumer.configure(lambda: build_generator(settings))
    consumer.configure(None)


def _render(settings: Settings) -> tuple[dict[str, str], bytes]:
    """One request to a freshly built render function (a new container)."""
    service = build_service(settings)
    response = service.image(CreativeRequest("lumen", "bottle-hero", "png", {}, dict(QUERY), NOW,
                                             path="/v1/lumen/bottle-hero.png"))
    assert response.status == 200
    return dict(response.headers), bytes(response.body)


def test_the_generator_writes_the_scene_to_s3_and_the_render_function_serves_it_once_approved(
    fake: FakeOpenAI, moto_endpoint: str, aws_client: Callable[..., Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], use_generator: Callable[[Settings], None],
) -> None:
    # GIVEN lumen published to a bucket, a copy table and a generation queue on moto
    s3, dynamodb, sqs = (aws_client(name, moto_endpoint) for name in ("s3", "dynamodb", "sqs"))
    suffix = uuid.uuid4().hex[:10]
    bucket, table = f"versa-vis-{suffix}", f"copy-{suffix}"
    s3.create_bucket(Bucket=bucket)
    Publisher(bucket, client=s3).publish(EXAMPLES / "lumen")
    create_table(dynamodb, table)
    queue_url = sqs.create_queue(QueueName=f"gen-{suffix}", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    common: dict[str, Any] = {
        "pack_bucket": bucket, "copy_table": table, "generation_queue": queue_url, "visual_model": MODEL,
        "aws_endpoint_url": moto_endpoint, "aws_read_timeout": 10.0, "aws_connect_timeout": 2.0,
        "require_signature": False, "memo_items": 0,
    }
    render = Settings(**common, state_dir=tmp_path / "render-state")
    fake.reset()
    fake.script(MODEL, {"image": {"color": [40, 70, 120]}})

    # WHEN the first request for the audience is made
    first, default_png = _render(render)
    # THEN the slot's default image serves, and one visual request was queued
    assert first.get("X-Versa-Visual") == "default"
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [(b["kind"], b["aspect"]) for b in bodies] == [("visual", "landscape")]

    # WHEN the generator consumes the batch
    generator = Settings(**common, openai_base_url=fake.base_url, openai_api_key="sk-e2e",
                         copy_model="copy-model-e2e", state_dir=tmp_path / "gen-state",
                         visual_timeout=20.0, visual_attempts=1)
    use_generator(generator)
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                          "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:gen", "awsRegion": "us-east-1"}
                         for m in messages]}
    assert consumer.handle(event, LambdaContext()) == {"batchItemFailures": []}

    # THEN the scene is in S3 under generated/ (content-addressed) and the item awaits review in DynamoDB
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="generated/lumen/").get("Contents", [])
    assert len(listed) == 1 and listed[0]["Key"].endswith(".png")
    stored = s3.get_object(Bucket=bucket, Key=listed[0]["Key"])["Body"].read()
    assert Image.open(io.BytesIO(stored)).size == (1536, 1024)
    assert [r for r in fake.requests() if r.get("model") == MODEL], "the Images API was asked"
    # AND until a reviewer approves it, the default keeps serving (the same ETag)
    waiting, _ = _render(render)
    assert waiting.get("X-Versa-Visual") == "default" and waiting["ETag"] == first["ETag"]

    # WHEN a reviewer approves it from a terminal against the table
    for name, value in {"VERSA_COPY_TABLE": table, "VERSA_AWS_ENDPOINT_URL": moto_endpoint,
                        "VERSA_PACK_BUCKET": bucket, "VERSA_VISUAL_MODEL": MODEL}.items():
        monkeypatch.setenv(name, value)
    code, out, err = run_cli(capsys, "visuals", "list", "lumen", "--json")
    assert code == 0, err
    [item] = json.loads(out)["items"]
    assert item["status"] == "review" and item["text"] == listed[0]["Key"]
    code, out, err = run_cli(capsys, "visuals", "approve", item["key"], "--by", "ana")
    assert code == 0, err

    # THEN a render function reads the scene from S3 and serves it: a new ETag, other pixels
    approved, scene_png = _render(render)
    assert "X-Versa-Visual" not in approved and approved["ETag"] != first["ETag"]
    assert scene_png != default_png and Image.open(io.BytesIO(scene_png)).size == (1200, 628)
