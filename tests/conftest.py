"""Fixtures shared by every test tier.

Metrics: `metrics` is a fresh `services.RecordingMetrics`, the sink a service built by a test records to.

Hypothesis: no per-example deadline for any property test (its default, 200 ms, is a timed assertion that
fails on a loaded machine; speed is measured in bench/). Each test still bounds its examples by count.

AWS: each test that builds a boto3 client gets dummy credentials, a region and no instance-metadata
lookups (`aws_env`), and talks only to loopback endpoints: moto's standalone server, started once per
session on a free port (`moto_endpoint`), or a fault server a test starts itself (`aws_client`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("versa", deadline=None)
settings.load_profile("versa")

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
AWS_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB")

# ------------------------------------------------------------------------------------------- AWS


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    """Dummy credentials and region for the session; nothing can reach a real account."""
    with pytest.MonkeyPatch.context() as mp:
        for name in AWS_UNSET:
            mp.delenv(name, raising=False)
        for name, value in AWS_ENV.items():
            mp.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def moto_endpoint(aws_env: None) -> Iterator[str]:
    """URL of moto's standalone server on a free loopback port (shared: use unique resource names)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def aws_client(aws_env: None) -> Callable[..., Any]:
    """`aws_client(service, endpoint, config=None)`: a boto3 client for a loopback endpoint. Without a
    config it gets generous timeouts (moto under a burst of threads is not instant)."""
    import boto3
    from botocore.config import Config

    relaxed = Config(
        connect_timeout=2,
        read_timeout=10,
        retries={"mode": "standard", "total_max_attempts": 2},
        max_pool_connections=32,
        s3={"addressing_style": "path"},
    )

    def make(service: str, endpoint: str, config: Config | None = None) -> Any:
        assert endpoint.startswith(("http://127.0.0.1:", "http://localhost:")), endpoint
        merged = relaxed.merge(config) if config is not None else relaxed
        return boto3.session.Session().client(service, endpoint_url=endpoint, config=merged)

    return make


@pytest.fixture(scope="session")
def s3_client(aws_client: Callable[..., Any], moto_endpoint: str) -> Any:
    return aws_client("s3", moto_endpoint)


@pytest.fixture(scope="session")
def dynamodb_client(aws_client: Callable[..., Any], moto_endpoint: str) -> Any:
    return aws_client("dynamodb", moto_endpoint)


@pytest.fixture(scope="session")
def cloudfront_client(aws_client: Callable[..., Any], moto_endpoint: str) -> Any:
    return aws_client("cloudfront", moto_endpoint)


@pytest.fixture
def distribution(cloudfront_client: Any) -> str:
    """Id of a new CloudFront distribution on moto (one API origin), for publish's invalidations."""
    origin = {
        "Id": "api",
        "DomainName": "api.example.com",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "versa test",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "https-only",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }
    return str(cloudfront_client.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


@pytest.fixture
def s3_bucket(s3_client: Any) -> str:
    """A fresh, empty bucket on the moto server."""
    name = f"versa-test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


# --------------------------------------------------------------------------------------- service


@pytest.fixture
def metrics() -> Any:
    """A fresh recording metrics sink (`services.RecordingMetrics`)."""
    from services import RecordingMetrics

    return RecordingMetrics()
