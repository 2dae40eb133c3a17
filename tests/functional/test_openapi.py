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


def test_the_signing_render_and_override_parameters_are_described(document: dict[str, Any]) -> None:
    # THEN every query name the creative routes read is a documented parameter, with the declared
    # parameters as one free-form object whose forms are the declaration types
    from versa.context.model import RENDER_PARAMS, SIGNED_OVERRIDES
    from versa.context.params import ParamType
    from versa.signing.signer import RESERVED_PARAMS

    for path in ("/v1/{brand}/{file}", "/v1/{brand}/{creative}/decision", "/v1/{brand}/{creative}/click"):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        query = {name for name, p in parameters.items() if p["in"] == "query"}
        assert set(RESERVED_PARAMS) | set(SIGNED_OVERRIDES) | {"declared"} <= query, path
        assert parameters["sig"]["schema"]["pattern"] == "^[A-Za-z0-9_-]{43}$"
        declared = parameters["declared"]
        assert (declared["style"], declared["explode"]) == ("form", True)
        forms = {form["title"] for form in declared["schema"]["additionalProperties"]["anyOf"]}
        assert forms == set(ParamType.__args__)
    file_query = {p["name"] for p in document["paths"]["/v1/{brand}/{file}"]["get"]["parameters"]}
    assert set(RENDER_PARAMS) | {"If-None-Match", "Accept"} <= file_query


def test_every_status_is_described_with_its_media_type_and_headers(document: dict[str, Any]) -> None:
    paths = document["paths"]
    image = paths["/v1/{brand}/{file}"]["get"]["responses"]
    # THEN the image route states its images, the page, 304 and each problem, with their headers
    assert set(image["200"]["content"]) == {
        "image/png", "image/jpeg", "image/webp", "image/gif", "image/avif", "text/html"}
    assert {"Cache-Control", "ETag", "X-Versa-Fallback", "X-Versa-Variant"} <= set(image["200"]["headers"])
    assert image["304"]["headers"]["ETag"]["required"] is True
    assert "content" not in image["304"]
    for status in ("400", "403", "404", "410", "413", "500", "503"):
        assert list(image[status]["content"]) == ["application/problem+json"], status
        assert image[status]["headers"]["Cache-Control"]["required"] is True
    assert "Retry-After" in image["503"]["headers"]
    # AND the click route redirects with a Location, the decision route answers JSON
    click = paths["/v1/{brand}/{creative}/click"]["get"]["responses"]
    assert click["302"]["headers"]["Location"]["required"] is True and "200" not in click
    decision = paths["/v1/{brand}/{creative}/decision"]["get"]["responses"]
    assert list(decision["200"]["content"]) == ["application/json"]
    assert "Allow" in document["components"]["responses"]["MethodNotAllowed"]["headers"]


def test_the_document_is_built_once(document: dict[str, Any]) -> None:
    # THEN serving it again costs no rebuild: the same object is answered
    assert api.openapi_document() is api.openapi_document()
    assert api.openapi_document() == document
