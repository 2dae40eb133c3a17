"""The deployed generator's visual writer on AWS adapters: its OpenAI key read from Secrets Manager (moto's
server) and followed through a rotation, painting against the local OpenAI-compatible server, and the
painting stored in S3 (moto) under its content address, as the render function will read it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from openai_server import FakeOpenAI, running_openai_server
from versa.adapters.parameters import RotatingKeyPainter
from versa.adapters.s3_assets import S3AssetStore
from versa.composition import build_visual_writer
from versa.ports import AssetStore, PaintRequest, StoreUnavailable
from versa.settings import Settings

MODEL = "image-model-aws"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


def test_the_key_comes_from_the_secret_and_follows_its_rotation(
    fake: FakeOpenAI, aws_client: Callable[..., Any], moto_endpoint: str, s3_client: Any, s3_bucket: str
) -> None:
    # GIVEN the OpenAI key in Secrets Manager, and a model the server knows
    secrets = aws_client("secretsmanager", moto_endpoint)
    name = f"versa/visuals-{uuid.uuid4().hex[:8]}/openai"
    secrets.create_secret(Name=name, SecretString="sk-first")
    fake.reset()
    fake.script(MODEL, {"image": {"color": [90, 60, 30]}})
    settings = Settings(visual_model=MODEL, openai_base_url=fake.base_url, openai_secret_id=name,
                        openai_secret_max_age=1, aws_endpoint_url=moto_endpoint)

    # WHEN the generator's visual writer is built and paints
    painter = build_visual_writer(settings)
    assert isinstance(painter, RotatingKeyPainter) and painter.model == MODEL
    request = PaintRequest(key="k", prompt="A rainy city street at dusk", size=(1024, 1024))
    painting = painter.paint(request)

    # THEN the image call carried the secret's key
    assert [r["_auth"] for r in fake.requests() if "_auth" in r] == ["Bearer sk-first"]
    # AND the painting stored in S3 reads back from its content address
    store = S3AssetStore(s3_bucket, client=s3_client)
    key = store.put("acme", painting.image, "png")
    assert key == AssetStore.key_for("acme", painting.image, "png") and store.get(key) == painting.image

    # WHEN the key is rotated and its cache age passes
    secrets.put_secret_value(SecretId=name, SecretString="sk-second")
    time.sleep(1.2)
    painter.paint(request)

    # THEN the next call carries the new key
    assert [r["_auth"] for r in fake.requests() if "_auth" in r] == ["Bearer sk-first", "Bearer sk-second"]


def test_a_missing_secret_fails_the_cold_start(moto_endpoint: str, aws_env: None) -> None:
    settings = Settings(visual_model=MODEL, openai_secret_id=f"versa/absent-{uuid.uuid4().hex[:8]}",
                        aws_endpoint_url=moto_endpoint)
    with pytest.raises(StoreUnavailable, match="could not be read"):
        build_visual_writer(settings)
