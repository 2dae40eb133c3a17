"""One access log line per request: what was asked, what was answered, and why.

`record(event, response, ms, notes)` builds the line's fields from the API Gateway event and the
proxy response (never from the body): status, route, brand, creative, the variant (design key), the
fallback reason, CloudFront's request id, the duration and whether the render memo answered. The
handler logs it through Powertools Logger as the message `access`, so one CloudWatch Logs Insights
query (docs/RUNBOOK.md) charts any of them without a metric per brand.

`RequestNotes` collects what only the service knows during a request (a memo hit) through the metrics
sink it already calls; it is per thread, as the local server answers requests on threads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

_CREATIVE = re.compile(r"^/v1/(?P<brand>[^/]+)/(?P<creative>[^/]+?)(?:/(?P<action>decision|click))?$")
_FILE = re.compile(r"^(?P<creative>.+?)(?:@\d+x\d+)?\.(?P<ext>[A-Za-z0-9]+)$")

ACCESS_MESSAGE = "access"
"""The log message of the access line (filter on it: `filter message = "access"`)."""


class RequestNotes(threading.local):
    """Facts about the request in flight that the response does not carry (one per thread)."""

    memo_hit: bool = False
    render_ms: float | None = None

    def reset(self) -> None:
        """Forget the previous request's facts (called as each request starts)."""
        self.memo_hit = False
        self.render_ms = None


def route_of(path: str) -> tuple[str, str | None, str | None]:
    """(route, brand, creative) for a request path: route is one of `creative`, `decision`, `click`,
    `healthz`, `openapi` or `other`; brand and creative only for the /v1 routes (None otherwise)."""
    if path in ("/healthz", "/openapi.json"):
        return path.strip("/").removesuffix(".json"), None, None
    match = _CREATIVE.match(path)
    if match is None:
        return "other", None, None
    action = match["action"]
    if action:
        name = match["creative"].split("@", 1)[0]
        return action, match["brand"], name
    file = _FILE.match(match["creative"])
    return "creative", match["brand"], file["creative"] if file else match["creative"]


def _header(message: Mapping[str, Any], name: str) -> str | None:
    """The first value of header `name` (lower case) in an event or proxy response, from `headers` or
    `multiValueHeaders` (Powertools answers REST events with the latter)."""
    for key, value in (message.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    for key, values in (message.get("multiValueHeaders") or {}).items():
        if key.lower() == name and values:
            return str(values[0])
    return None


def record(
    event: Mapping[str, Any], response: Mapping[str, Any], ms: float, *, memo_hit: bool, render_ms: float | None = None
) -> dict[str, Any]:
    """The access line's fields for one API Gateway REST proxy `event` answered by `response` in `ms`
    (`render_ms`: the decision and render alone, when there was one). Absent facts are None (a problem
    response has no variant; only a fallback has a reason; Powertools leaves None fields out)."""
    path = str(event.get("path") or "")
    route, brand, creative = route_of(path)
    return {
        "status": int(response.get("statusCode") or 0),
        "route": route,
        "path": path,
        "brand": brand,
        "creative": creative,
        "variant": _header(response, "x-versa-variant"),
        "fallback": _header(response, "x-versa-fallback"),
        "cf_request_id": _header(event, "x-amz-cf-id"),
        "duration_ms": round(ms, 2),
        "render_ms": None if render_ms is None else round(render_ms, 2),
        "memo_hit": memo_hit,
    }


__all__ = ["ACCESS_MESSAGE", "RequestNotes", "record", "route_of"]
