"""Replaying a logged request's decision: which arm of which optimized rule it showed, in which segment.

The decision is a function of the URL, the viewer's fields and the time, so a real-time log record
that names them is enough to know what a view showed, whether the CDN or the render function answered
it. The viewer fields are normalized here with the same code the request path uses: the visitor
bucket with `versa.context.visitor.edge_query` (the Python twin of the viewer-request function), the
rest with `versa.context.resolve.resolve` over the headers CloudFront would have added (country, ASN)
and the logged User-Agent.

Pure: no IO, no environment, no clock (`now` is the record's timestamp).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote

from versa.context.headers import CF_ASN, CF_COUNTRY
from versa.context.resolve import resolve
from versa.context.visitor import X_VISITOR_BUCKET, edge_query, parse_bucket_header
from versa.decide.rules import Decision, context_options, decide, lookup_for
from versa.pack.model import Pack, Rule
from versa.relevance.serving import Shown, choose_arms
from versa.relevance.snapshot import AllocationSnapshot
from versa.signing.signer import SIG_PARAM
from versa.signing.urls import FILE_RE, IMAGE_EXTS, file_size

PATH_PREFIX = "/v1/"


@dataclass(frozen=True)
class LoggedRequest:
    """One viewer request as a real-time log record names it."""

    brand: str
    creative: str
    size: tuple[int, int] | None
    query: tuple[tuple[str, str], ...]
    """The decoded query as the viewer sent it (`vid` still filled)."""
    headers: Mapping[str, str]
    """Lower-cased viewer headers rebuilt from the record's fields (user-agent, country, ASN, cookie)."""
    now: datetime
    status: int
    request_id: str | None = None


def logged_request(record: Mapping[str, str | None]) -> LoggedRequest | None:
    """The image request a parsed record (`versa.relevance.impressions.parse_record`) names, or None
    when it names no creative image (the HTML page, the click route, a health check, a malformed path
    or timestamp): such records are not impressions."""
    stem = unquote(record.get("cs-uri-stem") or "")
    if not stem.startswith(PATH_PREFIX):
        return None
    parts = stem[len(PATH_PREFIX):].split("/")
    if len(parts) != 2:
        return None
    match = FILE_RE.match(parts[1])
    if match is None or match["ext"] not in IMAGE_EXTS:
        return None
    try:
        now = datetime.fromtimestamp(float(record.get("timestamp") or ""), UTC)
        status = int(record.get("sc-status") or "")
    except ValueError:
        return None
    headers: dict[str, str] = {}
    for name, field in (("user-agent", "cs-user-agent"), (CF_COUNTRY, "c-country"), (CF_ASN, "asn"),
                        ("cookie", "cs-cookie")):
        value = record.get(field)
        if value:
            headers[name] = unquote(value)
    query = tuple(parse_qsl(record.get("cs-uri-query") or "", keep_blank_values=True))
    return LoggedRequest(parts[0], match["creative"], file_size(match), query, headers, now, status,
                         record.get("x-edge-request-id"))


def viewer_headers(req: LoggedRequest, *, cookie_on: bool) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and query the origin would see for `req` after the edge's visitor step: `vid`
    blanked and the bucket in `x-versa-vb` (as cdn/viewer-request.js does)."""
    pairs, visitor = edge_query(list(req.query), req.headers.get("cookie"), cookie_on=cookie_on,
                                request_id=req.request_id)
    headers = dict(req.headers)
    if visitor.bucket is not None:
        headers[X_VISITOR_BUCKET] = str(visitor.bucket)
    return headers, dict(pairs)


def snapshot_at(
    latest: AllocationSnapshot | None, epoch_of: Callable[[int], AllocationSnapshot | None], when: datetime,
    *, max_back: int = 3,
) -> AllocationSnapshot | None:
    """The snapshot in force at `when`: the earliest epoch still valid then, going back from `latest`
    at most `max_back` epochs (a record delivered late, across a reallocation, is replayed under the
    allocation that served it). `epoch_of(n)` reads epoch n."""
    current = latest
    for _ in range(max_back):
        if current is None or current.epoch == 0:
            break
        previous = epoch_of(current.epoch - 1)
        if previous is None or previous.valid_until <= when:
            break
        current = previous
    return current


def optimized_rules_of(pack: Pack, creative_id: str) -> list[Rule]:
    """The creative's rules with `optimize`, in order."""
    return [rule for rule in pack.model.creative(creative_id).rules if rule.optimize is not None]


def replay(
    pack: Pack, req: LoggedRequest, snapshot_of: Callable[[str], AllocationSnapshot | None], *,
    cookie_on: bool = False,
) -> tuple[Decision, list[Shown]]:
    """The decision `req` was served and the arms it showed (a matched optimized rule with an arm).

    The query is taken as signed: a logged 200 or 304 means the origin verified the URL's signature for
    this cache key. Raises the decision's own errors (UnknownCreative, ParamError, ...) for a request
    the service would have refused."""
    headers, query = viewer_headers(req, cookie_on=cookie_on)
    signed = frozenset(name for name in query if name != SIG_PARAM)
    ctx = resolve(headers, query, req.now, context_options(pack.model, req.creative, signed))
    lookup = lookup_for(ctx)
    bucket = parse_bucket_header(headers.get(X_VISITOR_BUCKET))
    # the request path's own choice (`versa.relevance.serving.choose_arms`), under the snapshot in force;
    # where serving shows no arm when the store fails, a replay raises it (the record is retried)
    failed: list[Exception] = []

    def read(scope: str, _pinned: int | None) -> AllocationSnapshot | None:
        try:
            return snapshot_of(scope)
        except Exception as exc:
            failed.append(exc)
            raise

    choice = choose_arms(pack.brand, req.creative, pack.model.creative(req.creative), lookup, bucket, read)
    if failed:
        raise failed[0]
    decision = decide(pack.model, req.creative, ctx, size=req.size, arms=choice.arms)
    return decision, list(choice.shown)


__all__ = ["LoggedRequest", "logged_request", "optimized_rules_of", "replay", "snapshot_at", "viewer_headers"]
