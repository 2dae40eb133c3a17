"""What the OpenAPI document says beyond what the router knows: query parameters, statuses, headers.

Powertools generates the document's skeleton from the routes (paths, path parameters, summaries); the
routes run with validation off, so their signatures declare nothing else. This module states the rest
once, as data: the signing parameters, the render parameters, the signed overrides, the pack-declared
parameters (one free-form object, since each creative declares its own), every status each operation
can answer with its media type, and the response headers a client or a CDN relies on. `complete`
merges it into the generated skeleton; the result is built once per process and served as is, so
describing the API costs the request path nothing.

A fuzzer (tests/functional/test_openapi_fuzz.py) checks the answers of `versa serve` against it.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from versa.context.clients import DEVICES, EmailClient
from versa.context.model import DPR_MAX, DPR_MIN, MAX_WIDTH
from versa.context.params import MAX_RAW_LENGTH
from versa.signing.signer import KID_PATTERN, SCOPE_PATTERN
from versa.signing.urls import EXTENSIONS, SLUG_PATTERN
from versa.web.http import PROBLEM_TYPE

IMAGE_TYPES: Final = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/avif")
"""The media types of a rendered creative or its fallback (fallbacks may be any of them)."""
HTML_TYPE: Final = "text/html"

# ------------------------------------------------------------------------------------ parameters


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _header(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


SIGNING_PARAMETERS: Final = [
    _query("sig", "HMAC-SHA256 of the canonical path and query (everything but `sig`), base64url without "
           "padding. Required unless the server runs with signatures off; a wrong one answers 403.",
           {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}),
    _query("kid", "Id of the key that signed the URL (several keys verify during a rotation).",
           {"type": "string", "pattern": f"^{KID_PATTERN.pattern}$"}),
    _query("exp", "Expiry, unix seconds, covered by the signature; at or after it the URL answers 410 "
           "(an email proxy gets the fallback image).", {"type": "string", "pattern": "^[0-9]{1,12}$"}),
    _query("scope", "Scope the signature grants, compared exactly; the decision route needs `debug`.",
           {"type": "string", "pattern": f"^{SCOPE_PATTERN.pattern}$"}),
    _query("m", "Template signature: comma-joined sorted names of merge parameters, whose values the "
           "signature does not cover (their names and count are covered; each value is bounded by the "
           "pack's declaration).", {"type": "string"}),
]

OVERRIDE_PARAMETERS: Final = [
    _query("country", "Signed override: ISO 3166 alpha-2 country (ignored unless the signature covers it).",
           {"type": "string", "pattern": "^[A-Za-z]{2}$"}),
    _query("tz", "Signed override: IANA time zone, e.g. Europe/Berlin.", {"type": "string"}),
    _query("lang", "Signed override: a language tag, negotiated against the pack's locales.",
           {"type": "string"}),
    _query("device", "Signed override: device class.", {"type": "string", "enum": list(DEVICES)}),
    _query("client", "Signed override: client class (email proxies get images, never errors).",
           {"type": "string", "enum": [c.value for c in EmailClient]}),
    _query("at", "Signed override: the instant to decide for (ISO-8601 with an offset or Z), for previews.",
           {"type": "string", "format": "date-time"}),
]

RENDER_PARAMETERS: Final = [
    _query("dpr", f"Device pixel ratio, {DPR_MIN:g} to {DPR_MAX:g}.",
           {"type": "number", "minimum": DPR_MIN, "maximum": DPR_MAX}),
    _query("w", f"Output width in pixels: one of the creative's allowed widths (others answer 400; at most "
           f"{MAX_WIDTH}).", {"type": "integer", "minimum": 1, "maximum": MAX_WIDTH}),
    _query("theme", "Colour theme.", {"type": "string", "enum": ["light", "dark"]}),
]

DECLARED_PARAMETERS: Final = {
    "name": "declared",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "description": (
        "The parameters the creative's pack declares (names vary per creative; undeclared names are "
        "ignored). Each value is checked against its declaration and a value it refuses answers 400 "
        "naming the parameter and what is allowed. Merge parameters (filled in by an email tool) may "
        "carry any value of their type under a template signature; an empty value counts as absent."
    ),
    "schema": {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"title": "text", "type": "string", "maxLength": 1024,
                 "description": "Letters of any script, digits, space and .,'’-&!? unless the pack "
                                "declares a character set; bounded length; optional blocklist."},
                {"title": "int", "type": "string", "pattern": "^[+-]?[0-9]{1,18}$"},
                {"title": "number", "type": "string", "pattern": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"},
                {"title": "enum", "type": "string", "description": "One of the declared values, any case."},
                {"title": "bool", "type": "string",
                 "enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]},
                {"title": "datetime", "type": "string", "format": "date-time"},
            ],
        },
    },
}

IF_NONE_MATCH: Final = _header("If-None-Match", "ETags from an earlier answer: a match answers 304.")
ACCEPT: Final = _header("Accept", "Negotiates the format of `CREATIVE.auto` (behind the CDN, its "
                        "`x-versa-fmt` header decides instead).")
USER_AGENT: Final = _header("User-Agent", "Classifies the client; email image proxies get an image for "
                            "every failure on an image route, never an error status.")
ORIGIN_SECRET: Final = _header("x-versa-origin-secret", "Added by the CDN when the deployment sets an "
                               "origin secret; without the right value every creative route answers 403.")

SLUG_SCHEMA: Final = {"type": "string", "pattern": f"^{SLUG_PATTERN.pattern}$"}
SIZED_CREATIVE_SCHEMA: Final = {
    "type": "string",
    "pattern": f"^{SLUG_PATTERN.pattern}(@[1-9][0-9]{{1,3}}x[1-9][0-9]{{1,3}})?$",
    "description": "CREATIVE, or CREATIVE@WxH for one of its sizes (404 for a size it does not declare).",
}
FILE_SCHEMA: Final = {
    "type": "string",
    "pattern": f"^{SLUG_PATTERN.pattern}(@[1-9][0-9]{{1,3}}x[1-9][0-9]{{1,3}})?\\.({'|'.join(EXTENSIONS)})$",
    "description": (
        "CREATIVE.EXT, or CREATIVE@WxH.EXT for one of the creative's sizes (e.g. winter-sale@728x90.png; "
        "without a size: its first). Another extension or a malformed size answers 400 naming the allowed "
        "forms; a size the creative does not declare answers 404 (an email proxy gets the fallback image)."
    ),
}

# ------------------------------------------------------------------------------------- responses

_STRING = {"type": "string"}
CACHE_CONTROL: Final = {"description": "How long a browser, proxy or CDN may keep the answer: until the "
                        "variant can change, capped by the pack; 4xx briefly; 5xx `no-store`.",
                        "required": True, "schema": _STRING}
ETAG: Final = {"description": "The render key, quoted: any change of design, copy, parameters or engine "
               "changes it.", "schema": _STRING}
VARIANT: Final = {"description": "The design key of the variant served.", "schema": _STRING}
FALLBACK: Final = {"description": "Present when the answer is a fallback (the creative's fallback image, "
                   "or a blank pixel when there is no pack), with the reason.", "schema": _STRING}
PROBLEM_SCHEMA: Final = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "parameter": {"type": "string", "description": "The query or path parameter at fault (400)."},
        "allowed": {"type": "string", "description": "What the parameter allows (400)."},
    },
}


def _problem(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Cache-Control": CACHE_CONTROL, **headers},
        "content": {PROBLEM_TYPE: {"schema": PROBLEM_SCHEMA}},
    }


RETRY_AFTER: Final = {"description": "Seconds to wait before retrying (load shedding).", "schema": _STRING}

PROBLEMS: Final[dict[int, dict[str, Any]]] = {
    400: _problem("A parameter the creative does not allow (a declared value, w, dpr, theme, a signed "
                  "override, the extension); `parameter` and `allowed` say which and what."),
    403: _problem("No signature, a wrong one, one without the needed scope, or no origin secret."),
    404: _problem("Unknown brand, creative or size (or a click on a variant without a link)."),
    410: _problem("The signature has expired."),
    413: _problem("The request asks for more render work (pixels × frames) than a render may cost."),
    500: _problem("An unexpected failure (never answered to an email proxy on an image route)."),
    503: _problem("The brand's pack or a backing store is unavailable, or the server is shedding load.",
                  **{"Retry-After": RETRY_AFTER}),
}
METHOD_NOT_ALLOWED: Final = _problem("A method the route does not serve; `Allow` lists those it does.",
                                     Allow={"description": "The methods the route serves.", "schema": _STRING})


def _problems(*statuses: int) -> dict[str, Any]:
    return {str(status): copy.deepcopy(PROBLEMS[status]) for status in statuses}


def creative_responses() -> dict[str, Any]:
    """GET /v1/{brand}/{file}: an image (or the page) with caching headers, 304, or a problem."""
    content = {media: {"schema": {"type": "string", "format": "binary"}} for media in IMAGE_TYPES}
    content[HTML_TYPE] = {"schema": {"type": "string"}}
    return {
        "200": {
            "description": "The creative rendered for this request (an image, or the HTML page for `.html`), "
                           "or a fallback marked by X-Versa-Fallback. Email image proxies get status 200 "
                           "and an image for every failure.",
            "headers": {
                "Cache-Control": CACHE_CONTROL, "ETag": ETAG, "X-Versa-Variant": VARIANT,
                "X-Versa-Fallback": FALLBACK,
                "X-Versa-Copy": {"description": "`default` when generated copy was not available yet.",
                                 "schema": _STRING},
                "Vary": {"description": "`Accept` for `CREATIVE.auto`.", "schema": _STRING},
                "Content-Security-Policy": {"description": "On HTML pages.", "schema": _STRING},
            },
            "content": content,
        },
        "304": {
            "description": "If-None-Match matched the render's ETag: no body, fresh caching headers.",
            "headers": {"Cache-Control": CACHE_CONTROL, "ETag": {**ETAG, "required": True},
                        "X-Versa-Variant": VARIANT},
        },
        **_problems(400, 403, 404, 410, 413, 500, 503),
    }


def decision_responses() -> dict[str, Any]:
    return {
        "200": {
            "description": "The decision: matched rules and their reasons, design key, valid_until, the "
                           "pack version and each context signal with its source.",
            "headers": {"Cache-Control": CACHE_CONTROL},
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_problems(400, 403, 404, 410, 500, 503),
    }


def click_responses() -> dict[str, Any]:
    return {
        "302": {
            "description": "Redirect to the link of the variant this signed context gets (re-decided on "
                           "every click, never cached).",
            "headers": {"Location": {"description": "The variant's link.", "required": True, "schema": _STRING},
                        "Cache-Control": CACHE_CONTROL},
        },
        **_problems(400, 403, 404, 410, 500, 503),
    }


def _json_ok(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "headers": {"Cache-Control": CACHE_CONTROL},
                    "content": {"application/json": {"schema": {"type": "object"}}}}}


# --------------------------------------------------------------------------------------- merging

_SIGNED_ROUTE_PARAMETERS: Final = [*SIGNING_PARAMETERS, *OVERRIDE_PARAMETERS, DECLARED_PARAMETERS, ORIGIN_SECRET]

OPERATIONS: Final[dict[str, dict[str, Any]]] = {
    "/v1/{brand}/{file}": {
        "path": {"brand": SLUG_SCHEMA, "file": FILE_SCHEMA},
        "parameters": [*_SIGNED_ROUTE_PARAMETERS, *RENDER_PARAMETERS, IF_NONE_MATCH, ACCEPT, USER_AGENT],
        "responses": creative_responses,
    },
    "/v1/{brand}/{creative}/decision": {
        "path": {"brand": SLUG_SCHEMA, "creative": SIZED_CREATIVE_SCHEMA},
        "parameters": _SIGNED_ROUTE_PARAMETERS,
        "responses": decision_responses,
    },
    "/v1/{brand}/{creative}/click": {
        "path": {"brand": SLUG_SCHEMA, "creative": SLUG_SCHEMA},
        "parameters": _SIGNED_ROUTE_PARAMETERS,
        "responses": click_responses,
    },
    "/healthz": {"path": {}, "parameters": [], "responses": lambda: _json_ok("The function answers.")},
    "/openapi.json": {"path": {}, "parameters": [], "responses": lambda: _json_ok("This document.")},
}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (Powertools' skeleton, as JSON data) with the parameters, responses and headers above
    merged into each GET operation it holds; path parameters get their patterns. Returns a new dict."""
    doc = copy.deepcopy(document)
    for path, spec in OPERATIONS.items():
        operation = doc.get("paths", {}).get(path, {}).get("get")
        if operation is None:
            continue
        parameters = []
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and parameter["name"] in spec["path"]:
                parameter = {**parameter, "schema": {**spec["path"][parameter["name"]],
                                                     "title": parameter["schema"].get("title", "")}}
            parameters.append(parameter)
        parameters.extend(copy.deepcopy(spec["parameters"]))
        if parameters:
            operation["parameters"] = parameters
        operation["responses"] = spec["responses"]()
    doc.setdefault("components", {}).setdefault("responses", {})["MethodNotAllowed"] = copy.deepcopy(
        METHOD_NOT_ALLOWED
    )
    doc["info"]["description"] = (
        "Creative URLs are signed (see the `sig`, `kid`, `exp`, `scope` and `m` query parameters); only the "
        "parameters listed here and those the creative's pack declares are read. Routes answer GET; other "
        "methods answer 405 (components/responses/MethodNotAllowed), unrouted paths 404 problem+json. "
        f"A declared parameter's value longer than {MAX_RAW_LENGTH} characters answers 400."
    )
    return doc


__all__ = ["DECLARED_PARAMETERS", "IMAGE_TYPES", "OPERATIONS", "PROBLEMS", "SIGNING_PARAMETERS", "complete"]
