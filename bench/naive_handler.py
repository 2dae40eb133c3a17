"""A naive render handler: the cold-start reference of bench/bench_coldstart.py.

What a first Lambda handler for the design card's package set tends to look like: everything imported at
module level (Powertools, boto3, pydantic, Jinja2, Pillow, the OpenAI SDK), every AWS client built at
import time, then the benchmark card drawn by plain Pillow (`baseline.BaselineCard`). It never calls
AWS or OpenAI: building a client does no request. Clients honour VERSA_AWS_ENDPOINT_URL, so the bench
points them at its loopback moto server like the real function's.

Run only by bench_coldstart.py, in a clean Python 3.12 whose path is this directory, the built deps
layer and a side directory holding `openai` (installed there with `pip --target` for this file alone).
"""

from __future__ import annotations

import base64
import os
from typing import Any

import boto3
import jinja2  # noqa: F401  (imported by the naive module header, used through baseline)
import openai  # noqa: F401  (the copy generator's SDK, imported whether or not a request needs it)
import PIL.Image  # noqa: F401
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pydantic import BaseModel, Field

from baseline import BaselineCard, values_for

logger = Logger(service="naive")
tracer = Tracer(service="naive")
metrics = Metrics(namespace="Naive", service="naive")

_ENDPOINT = os.environ.get("VERSA_AWS_ENDPOINT_URL")
_CONFIG = Config(connect_timeout=0.5, read_timeout=1.0, retries={"max_attempts": 2, "mode": "standard"})
s3 = boto3.client("s3", endpoint_url=_ENDPOINT, config=_CONFIG)
dynamodb = boto3.client("dynamodb", endpoint_url=_ENDPOINT, config=_CONFIG)
sqs = boto3.client("sqs", endpoint_url=_ENDPOINT, config=_CONFIG)
ssm = boto3.client("ssm", endpoint_url=_ENDPOINT, config=_CONFIG)

card = BaselineCard()


class CardQuery(BaseModel):
    name: str = Field("Alex", max_length=24)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    query = CardQuery.model_validate(event.get("queryStringParameters") or {})
    png = card.render({**values_for(0), "name": query.name}, "png")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode("ascii"),
        "isBase64Encoded": True,
    }
