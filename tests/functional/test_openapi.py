"""The OpenAPI document is generated from the routes and describes every one of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from versa.web import api

EVENTS = Path(__file__).resolve().parents[2] / "events"


class Context:
    aws_request_id = "openapi-test"
    function_name = "versa-render"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:versa-render"


@pytest.fixture
def document(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # GIVEN the healthz event re-aimed at /openapi.json (the route needs no service)
    event = json.loads((EVENTS / "healthz.json").read_text(encoding="utf-8"))
    event["path"] = "/openapi.json"
    event["pathParameters"] = {"proxy": "openapi.json"}
    # WHEN the handler answers it
    result = api.handle(event, Context())
    assert result["statusCode"] == 200
    doc: dict[str, Any] = json.loads(result["body"])
    return doc


def test_every_route_is_described_with_its_path_parameters(document: dict[str, Any]) -> None:
    # THEN each route is in the document, with its path parameters and a summary
    paths = document["paths"]
    assert document["openapi"].startswith("3.")
    for path in ("/v1/{brand}/{file}", "/v1/{brand}/{creative}/decision", "/v1/{brand}/{creative}/click", "/healthz"):
        operation = paths[path]["get"]
        assert operation["summary"]
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert names == {part.strip("{}") for part in path.split("/") if part.startswith("{")}
