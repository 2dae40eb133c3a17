"""The HTTP surface: Powertools routing over one `/{proxy+}` API Gateway resource, errors mapped once.

The Lambda function (functions/render/app.py) and the local server (`versa serve`) both call
`handle(event, context)`. Nothing here builds a client or reads the environment at import time: the
service is built by the composition root on first use, once per process (cold start).
"""

from __future__ import annotations

import base64
import functools
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from versa.errors import ParamError, SignatureError
from versa.ports import ORIGIN_SECRET_HEADER
from versa.signing.urls import FILE_RE, IMAGE_EXTS, SIZE_FORM, SIZED_RE, file_size
from versa.web.access import ACCESS_MESSAGE, RequestNotes, record
from versa.web.http import (
    PROBLEMS,
    HttpResponse,
    cap_lifetime,
    json_response,
    problem,
    problem_for,
    problem_kind,
)
from versa.web.service import CreativeRequest, RenderService

logger = Logger(service="versa")
metrics = Metrics(namespace="Versa", service="versa")
tracer = Tracer(service="versa", patch_modules=["botocore"])  # AWS calls only: patching every library costs cold start
app = APIGatewayRestResolver(enable_validation=False)

_service: RenderService | None = None
_notes = RequestNotes()
_factory: Callable[[], RenderService] | None = None


class PowertoolsMetrics:
    """The service's metrics sink: counts and timings as CloudWatch metrics (service dimension only);
    brand/creative/variant go to the log as properties, never dimensions (billed per combination).
    The one exception is `reason` on Fallbacks: a handful of fixed values, so fallbacks chart by reason;
    they are also counted with the service dimension alone, the total the fallback-rate alarm divides."""

    DIMENSIONED: ClassVar[dict[str, str]] = {"Fallbacks": "reason"}

    IN_ACCESS_LINE: ClassVar[frozenset[str]] = frozenset({"Renders", "MemoHits", "Fallbacks", "RenderTime"})
    """Metrics whose details (brand, creative, variant, reason, memo hit, render ms) the request's access
    line carries: no log line of their own, so a request writes one line, not two or three."""

    def count(self, name: str, value: float = 1, /, **props: Any) -> None:
        if name in ("MemoHits", "RequestMemoHits"):
            _notes.memo_hit = True
        dimension = self.DIMENSIONED.get(name)
        if dimension and dimension in props and not metrics_disabled():
            with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=metrics.namespace,
                               default_dimensions={"service": "versa"}) as metric:
                metric.add_dimension(name=dimension, value=str(props[dimension]))
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if props and name not in self.IN_ACCESS_LINE:
            logger.info(name, extra={"metric": name, "value": value, **props})

    def timing(self, name: str, ms: float, /, **props: Any) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=ms)
        if name == "RenderTime":
            _notes.render_ms = ms
        else:
            logger.info(name, extra={"metric": name, "ms": round(ms, 2), **props})


def metrics_disabled() -> bool:
    """Powertools' own switch (POWERTOOLS_METRICS_DISABLED), honoured by the single-metric path too."""
    import os

    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")


def configure(factory: Callable[[], RenderService]) -> None:
    """Set how the service is built (the composition root); it is built on first request."""
    global _factory, _service
    _factory, _service = factory, None


def service() -> RenderService:
    """The process's service, built on first use by the configured factory (default: the composition
    root with Powertools metrics and logging)."""
    global _service
    if _service is None:
        if _factory is None:
            from versa.composition import build_service

            configure(lambda: build_service(metrics=PowertoolsMetrics(), log=_log))
        assert _factory is not None
        _service = _factory()
    return _service


def _log(message: str, **props: Any) -> None:
    logger.info(message, extra=props)


# ------------------------------------------------------------------------------------ requests


def _request(brand: str, creative: str, ext: str, size: tuple[int, int] | None = None) -> CreativeRequest:
    return _request_of(app.current_event.raw_event, brand, creative, ext, size)


def _request_of(
    event: Mapping[str, Any], brand: str, creative: str, ext: str, size: tuple[int, int] | None = None
) -> CreativeRequest:
    """The service's request from a REST proxy event: lower-cased headers, the decoded query."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    query = dict(event.get("queryStringParameters") or {})
    multi = {k: list(v) for k, v in (event.get("multiValueQueryStringParameters") or {}).items()}
    return CreativeRequest(
        brand=brand, creative=creative, ext=ext, headers=headers, query=query,
        now=datetime.now(UTC), path=event.get("path") or "", multi_query=multi, size=size,
    )


def _to_response(resp: HttpResponse) -> Response[Any]:
    resp = _within_expiry(resp, app.current_event.query_string_parameters)
    # Powertools serializes a JSON content type itself; hand it text, and binary bodies as bytes.
    body: Any = resp.body.decode() if resp.content_type.startswith("application/json") else resp.body
    if resp.encoded is not None:  # base64 already at hand (a request memo hit): no encoding per request
        response = Response(status_code=resp.status, content_type=resp.content_type, body=resp.encoded,
                            headers=resp.headers)
        response.base64_encoded = True
        return response
    return Response(status_code=resp.status, content_type=resp.content_type, body=body, headers=resp.headers)


def _within_expiry(resp: HttpResponse, query: Mapping[str, str] | None) -> HttpResponse:
    """Any response to a URL with `exp` (problems included) is cacheable no longer than `exp - now`;
    the answers to an already expired link (410, the `expired` fallback) stay true after it and keep
    their lifetime."""
    exp = (query or {}).get("exp", "")
    cache = resp.headers.get("Cache-Control")
    if (not (exp.isascii() and exp.isdigit()) or len(exp) > 12 or cache is None or resp.status == 410
            or resp.headers.get("X-Versa-Fallback") == "expired"):
        return resp
    remaining = int(exp) - int(datetime.now(UTC).timestamp())
    return resp.with_headers(**{"Cache-Control": cap_lifetime(cache, remaining)})


def _check_origin() -> None:
    """With an origin secret configured, only CloudFront (which adds the header) may call the API: the
    header must equal the secret's current or previous value exactly. A secret store that cannot be
    read, with no earlier value known, answers 503 (OriginSecretUnavailable; the CDN fails over)."""
    if not _origin_ok(app.current_event.raw_event):
        raise OriginForbidden("requests must come through the CDN")


def _origin_ok(event: Mapping[str, Any]) -> bool:
    """True without an origin secret configured, else when the event carries it exactly once."""
    origin = service().origin
    if origin is None:
        return True
    presented = [v for k, v in (event.get("headers") or {}).items() if k.lower() == ORIGIN_SECRET_HEADER]
    repeated = sum(len(v or ()) for k, v in (event.get("multiValueHeaders") or {}).items()
                   if k.lower() == ORIGIN_SECRET_HEADER) > 1
    return len(presented) == 1 and not repeated and origin.accepts(presented[0])


class OriginForbidden(SignatureError):
    """The request did not come through the CDN (no or a wrong origin secret): 403 like a bad signature."""


# -------------------------------------------------------------------------------------- routes


@app.get("/healthz", summary="Liveness: 200 when the function answers")
def healthz() -> Response[Any]:
    return _to_response(json_response({"status": "ok"}, cache="no-store"))


@app.get(
    "/v1/<brand>/<file>",
    summary="A creative rendered for this request: CREATIVE[@WxH].png|jpg|webp|gif|avif|auto|html",
    description=(
        "Signed URL (sig, kid, optional exp/scope/m). Declared parameters of the creative and the signed "
        "overrides country, tz, lang, device, client, at are read from the query; dpr (1-3), w (an allowed "
        "width) and theme are render parameters. Errors are application/problem+json for browsers; email "
        "image proxies always get an image (the fallback) with status 200."
    ),
)
def creative_file(brand: str, file: str) -> Response[Any]:
    _check_origin()
    match = FILE_RE.match(file)
    svc = service()
    if not match or match["ext"] not in (*IMAGE_EXTS, "html"):
        if svc.is_proxy_request(_request(brand, file, "png")):
            return _to_response(svc.blank("bad-request"))  # an email proxy never caches an error
        raise ParamError(
            "path", file,
            f"CREATIVE.EXT or CREATIVE@SIZE.EXT, SIZE {SIZE_FORM}, EXT one of " + ", ".join((*IMAGE_EXTS, "html")),
        )
    req = _request(brand, match["creative"], match["ext"], file_size(match))
    resp = svc.page(req) if match["ext"] == "html" else svc.image(req)
    return _to_response(resp)


@app.get(
    "/v1/<brand>/<creative>/decision",
    summary="The decision, trace, design key, valid_until and context provenance (debug-scope signature); "
    "CREATIVE or CREATIVE@WxH for one of its sizes",
)
def decision_route(brand: str, creative: str) -> Response[Any]:
    _check_origin()
    match = SIZED_RE.match(creative)
    if match is None:  # not a creative id: the service answers 404 naming it
        return _to_response(service().decision(_request(brand, creative, "json")))
    return _to_response(service().decision(_request(brand, match["creative"], "json", file_size(match))))


@app.get(
    "/v1/<brand>/<creative>/click",
    summary="Re-decide from the same signed context and redirect (302) to the variant's link",
)
def click_route(brand: str, creative: str) -> Response[Any]:
    _check_origin()
    return _to_response(service().click(_request(brand, creative, "click")))


@app.get("/openapi.json", summary="This document")
def openapi() -> Response[Any]:
    return _to_response(json_response(openapi_document(), cache="public, max-age=300"))


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI description: Powertools' skeleton from the routes (paths, path parameters, summaries)
    completed by `versa.web.openapi` (query parameters, statuses, media types, headers); built once."""
    skeleton = app.get_openapi_schema(title="Versa render API", version="1").model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    from versa.web.openapi import complete  # only this route needs it: not imported at cold start

    return complete(skeleton)


# ------------------------------------------------------------------------------ error mapping


def _problem(exc: Exception) -> Response[Any]:
    """Every mapped exception, answered by the one table (`versa.web.http.PROBLEMS`)."""
    kind = problem_kind(exc)
    if kind.log is not None:
        log = {"warning": logger.warning, "error": logger.error, "exception": logger.exception}[kind.log]
        log(kind.title, extra={"error": str(exc), "exception": type(exc).__name__})
    return _to_response(problem_for(exc))


for _exc_class in (*PROBLEMS, Exception):  # Exception: anything nobody expected, a bare 500
    app.exception_handler(_exc_class)(_problem)


IMAGE_SUFFIXES = tuple(f".{ext}" for ext in (*IMAGE_EXTS, "jpeg"))


def looks_like_image(path: str) -> bool:
    """True when the last segment of `path` ends in an image extension (any case): a client that
    asks for it is probably an <img> (an email proxy among them) and must get an image back."""
    return path.rsplit("/", 1)[-1].lower().endswith(IMAGE_SUFFIXES)


@app.not_found
def _not_found(exc: Exception) -> Response[Any]:
    path = app.current_event.path or ""
    if looks_like_image(path):
        # Unroutable but image-looking (`/v1//acme/x.png`, an extra segment, `/V1/...`): a neutral
        # pixel, never a brand's fallback, so no proxy caches an error and no brand is guessed at.
        return _to_response(service().blank("not-found"))
    return _to_response(problem(404, "Not found", "no route for this path"))


REMEMBERED_PATH = re.compile(r"/v1/(?P<brand>[a-z0-9][a-z0-9-]*)/(?P<file>[^/]+)")
"""The image route as the request memo's fast path reads it (anything else goes to the router)."""


def remembered(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The proxy response to an image request the service's request memo answers (a repeat: see
    `versa.web.request_memo`), built without the router; None for anything else, which the router then
    resolves in full. The answer is the one the router would give (same status, headers and body):
    the origin check, the expiry cap and the serialization are the router path's."""
    if event.get("httpMethod") != "GET":
        return None
    path = REMEMBERED_PATH.fullmatch(event.get("path") or "")
    match = FILE_RE.match(path["file"]) if path else None
    if path is None or match is None or match["ext"] not in IMAGE_EXTS:
        return None
    try:
        svc = service()
        if svc.memo is None or not _origin_ok(event):
            return None
    except Exception:  # no service or no secret store: the router answers (its error mapping) as it
        return None  # would without the memo
    req = _request_of(event, path["brand"], match["creative"], match["ext"], file_size(match))
    resp = svc.remembered(req)
    if resp is None:
        return None
    resp = _within_expiry(resp, event.get("queryStringParameters"))
    headers = {"Content-Type": [resp.content_type], **{k: [v] for k, v in resp.headers.items()}}
    body = resp.encoded if resp.encoded is not None else base64.b64encode(resp.body).decode()
    return {"statusCode": resp.status, "body": body, "isBase64Encoded": True, "multiValueHeaders": headers}


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one API Gateway REST proxy event (no logging/metrics/tracing wrappers)."""
    return remembered(event) or app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: the router with correlation-id logging, metrics flush (and the ColdStart
    metric on a container's first invocation), tracing, and one access log line per request
    (`versa.web.access`); a repeated image request is answered from the request memo before the router."""
    _notes.reset()
    start = time.perf_counter()
    response = remembered(event) or app.resolve(event, context)
    ms = (time.perf_counter() - start) * 1000
    line = record(event, response, ms, memo_hit=_notes.memo_hit, render_ms=_notes.render_ms)
    logger.info(ACCESS_MESSAGE, extra=line)
    if line["route"] == "creative":  # every image/page answer, however it was produced: the fallback rate
        metrics.add_metric(name="CreativeAnswers", unit=MetricUnit.Count, value=1)
        if line["fallback"] not in (None, "expired"):  # an old email opened late is expected
            metrics.add_metric(name="FallbackAnswers", unit=MetricUnit.Count, value=1)
    return response
