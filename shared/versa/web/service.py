"""The render service: one request for a creative in, one HTTP response out.

It ties the pure core (context, rules, keys, HTTP semantics) to the ports (packs, copy, queue) and the
renderer, and it owns the failure contract: once a request is understood (brand, creative and
parameters are valid), any downstream failure — a render error, a render over its time budget, an
output over the size cap — serves the creative's fallback with status 200, a short max-age and
`X-Versa-Fallback: <reason>`; a pack store that cannot produce the pack serves a blank pixel the same
way (the creative's fallback lives in the pack), and a failing copy store renders the slots' defaults.
A request from an email image proxy never gets a 4xx/5xx on an image route. Time-dependent output
(countdowns, the TTL) uses the decision's instant, `ctx.now`, which a signed `at` may set. Errors for
browsers and JSON routes are raised as VersaError subclasses and mapped to problem+json by one table
(`versa.web.http.PROBLEMS`, applied by versa.web.api's exception handlers).
"""

from __future__ import annotations

import base64
import concurrent.futures
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from versa.budget import release_memory, run_with_deadline
from versa.context.clients import EmailClient, classify_client, is_proxy
from versa.context.headers import CF_ASN, X_CLIENT, X_FMT, parse_asn
from versa.context.model import Source
from versa.context.resolve import ContextOptions, RequestContext, resolve
from versa.decide.keys import generation_key, lineage_key
from versa.decide.rules import CopyRef, Decision, context_options, decide, lookup_for
from versa.decide.visuals import VISUAL_PREFIX
from versa.errors import (
    OutputTooLarge,
    Overloaded,
    ParamError,
    RenderError,
    RenderTimeout,
    SignatureError,
    SignatureExpired,
    UnknownBrand,
    UnknownCreative,
    VersaError,
)
from versa.generate.review import review_required, serves, serving, visual_review_required
from versa.pack.links import link_problem, with_utm
from versa.pack.model import SLUG, CacheSettings, Creative, Pack, countdown_layers
from versa.pack.sizes import size_of
from versa.ports import (
    CopyItem,
    CopyStore,
    GenerationQueue,
    GenerationRequest,
    ImageRenderer,
    OriginSecrets,
    PackStore,
    Rendered,
    StoreUnavailable,
)
from versa.relevance.counters import Counters
from versa.relevance.impressions import is_view
from versa.relevance.serving import (
    ARM_PARAM,
    SEND_PARAM,
    ArmChoice,
    SnapshotReader,
    choose_arms,
    clicked,
    parse_pins,
)
from versa.signing.signer import SIG_PARAM, Keyring, SignedInfo, signed_url, verify
from versa.web.http import (
    CSP,
    HttpResponse,
    cache_control,
    cap_lifetime,
    etag_for,
    etag_matches,
    fallback_cache_control,
    json_response,
    redirect,
    ttl_seconds,
)
from versa.web.request_memo import RequestKey, RequestMemo, request_key

if TYPE_CHECKING:
    from versa.settings import Settings

MAX_REMEMBERED_LEASES = 10_000
MAX_UNKNOWN_BRANDS = 1024
"""Unknown brand names remembered (negative cache); the oldest leave first."""
RENDER_WORKERS = 2
LARGE_RENDER_PIXELS = 4_000_000
"""After a render that drew at least this many pixels (x frames), freed memory goes back to the OS."""
MAX_CACHED_OPTIONS = 256
"""Context options kept per (pack version, creative, signed names); the set is cleared when full."""
SLUG_RE = re.compile(SLUG)
PREVIEW_SCOPE = "preview"
"""The signature scope that lets an image URL carry copy to draw (`copy.<slot>=text`): the studio's."""
PREVIEW_PREFIX = "copy."
PREVIEW_VISUAL_PREFIX = "visual."
"""The preview query names of visual slots (`visual.<slot>=<generated asset key>`): the studio's."""
GENERATED_KEY_RE = re.compile(r"generated/[a-z0-9][a-z0-9-]{0,62}/[0-9a-f]{64}\.(png|jpg|webp)")

# A 1x1 transparent PNG for email proxies asking for something that does not exist.
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def preview_texts(signed: SignedInfo | None, query: Mapping[str, str], creative: Creative) -> dict[str, str]:
    """Copy to draw instead of the slots' own, from `copy.<slot>` query values (and scenes, from
    `visual.<slot>` values that are generated asset keys): only with a signature of the `preview` scope
    (the studio's review panel) that covers each value, and only for the creative's slots; without one
    they are ignored, so the public path never takes text or an image from a URL."""
    if signed is None or signed.scope != PREVIEW_SCOPE:
        return {}
    texts = {
        name.removeprefix(PREVIEW_PREFIX): value
        for name, value in query.items()
        if name.startswith(PREVIEW_PREFIX) and name in signed.covered_names
        and name.removeprefix(PREVIEW_PREFIX) in creative.copy_slots
    }
    # A pending scene (`visual.<slot>=generated/...`): drawn from the asset store, never a pack path.
    texts.update({
        VISUAL_PREFIX + name.removeprefix(PREVIEW_VISUAL_PREFIX): value
        for name, value in query.items()
        if name.startswith(PREVIEW_VISUAL_PREFIX) and name in signed.covered_names
        and name.removeprefix(PREVIEW_VISUAL_PREFIX) in creative.visuals and GENERATED_KEY_RE.fullmatch(value)
    })
    return texts


def _cache_settings(pack: Pack, creative: Creative) -> CacheSettings:
    """The creative's cache settings, else the pack's."""
    return creative.cache or pack.model.cache


def _blank_response(reason: str) -> HttpResponse:
    """The 1x1 transparent PNG, 200, cached for a minute, marked as a fallback."""
    return HttpResponse(
        200, BLANK_PNG, "image/png", {"Cache-Control": "public, max-age=60", "X-Versa-Fallback": reason}
    )


class Metrics(Protocol):
    """Where the service reports what happened (Powertools Metrics in Lambda, a log locally).
    `props` are high-cardinality details (brand, creative, variant): logged, never metric dimensions."""

    def count(self, name: str, value: float = 1, /, **props: Any) -> None: ...

    def timing(self, name: str, ms: float, /, **props: Any) -> None: ...


class NullMetrics:
    """Metrics that go nowhere (the default)."""

    def count(self, name: str, value: float = 1, /, **props: Any) -> None:
        return None

    def timing(self, name: str, ms: float, /, **props: Any) -> None:
        return None


class HtmlRenderer(Protocol):
    """What the service needs of an HTML renderer (`versa.render.html.HtmlPages` is one)."""

    def render_html(self, pack: Pack, decision: Decision, ctx: RequestContext, texts: Mapping[str, str],
                    request: CreativeRequest, *, click_query: Mapping[str, str] | None = None) -> str: ...

    def fallback_html(self, pack: Pack, decision: Decision, request: CreativeRequest) -> str: ...


@dataclass(frozen=True)
class CreativeRequest:
    """A request as the edge delivered it: lower-cased headers and the decoded query."""

    brand: str
    creative: str
    ext: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    now: datetime
    path: str = ""
    multi_query: Mapping[str, list[str]] = field(default_factory=dict)
    size: tuple[int, int] | None = None
    """The size the path names (`creative@WxH.ext`), None for the creative's first."""

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name (the headers are stored lower-cased), or None."""
        return self.headers.get(name.lower())


@dataclass
class ServiceConfig:
    """The settings the service reads: same names as in `versa.settings.Settings`, which declares their
    defaults and meaning (build with `from_settings`)."""

    require_signature: bool
    render_budget_ms: int
    copy_lease_seconds: int
    unknown_brand_seconds: float
    render_queue: int
    copy_model: str | None
    """The model that writes copy (None: the offline writer): copy is stored under its generation key."""
    visual_model: str | None
    """The model that paints visual slots (None: the offline painter): scenes are stored under its key."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceConfig:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class RenderService:
    """One per process: answers the image, page, decision and click routes from the ports, the
    renderers and the keyring (built by `versa.composition.build_service`)."""

    def __init__(
        self,
        packs: PackStore,
        copy: CopyStore,
        queue: GenerationQueue,
        renderer: ImageRenderer,
        keyring: Keyring,
        *,
        config: ServiceConfig,
        metrics: Metrics | None = None,
        html: HtmlRenderer | None = None,
        origin: OriginSecrets | None = None,
        log: Callable[..., None] | None = None,
        memo: RequestMemo | None = None,
        allocations: SnapshotReader | None = None,
        credit: Callable[[str, Counters], None] | None = None,
        impressions: Callable[[str, Counters], None] | None = None,
    ) -> None:
        self.packs = packs
        self.copy = copy
        self.queue = queue
        self.renderer = renderer
        self.keyring = keyring
        self.config = config
        self.metrics: Metrics = metrics or NullMetrics()
        self.html = html
        self.origin = origin  # None: no origin check (local); see versa.web.api
        self.log = log or (lambda *a, **k: None)
        self.memo = memo  # None: every request is decided (see versa.web.request_memo)
        self.allocations = allocations  # None: optimized rules show their own set (no relevance store)
        self.credit = credit  # adds a click's counts to the relevance store
        self.impressions = impressions  # `versa serve` only: counts its own impressions (the CDN logs do in AWS)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=RENDER_WORKERS, thread_name_prefix="versa-render"
        )
        self._in_flight = 0
        self._flight_lock = threading.Lock()
        self._unknown: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        self._unknown_lock = threading.Lock()
        self._leases: OrderedDict[str, datetime] = OrderedDict()  # pending generation keys, until when
        self._leases_lock = threading.Lock()
        self._options: dict[tuple[str, str, str, frozenset[str]], ContextOptions] = {}

    # ------------------------------------------------- the studio's facade (and `versa serve`'s)

    def brands(self) -> list[str]:
        """Brands the pack store knows, sorted."""
        return self.packs.brands()

    def current_pack(self, brand: str) -> Pack:
        """The brand's current pack; raises UnknownBrand, PackError or StoreUnavailable."""
        return self.packs.current(brand)

    def sign(self, path: str, query: Mapping[str, str], *, scope: str | None = None) -> str:
        """`path` with `query`, signed with this service's keyring (see `versa.signing.signer.signed_url`)."""
        return signed_url(path, query, self.keyring, scope=scope)

    def forget_time_bound(self) -> None:
        """Drop what this process remembers by the clock (after a SnapStart restore, when the instants
        the snapshot holds mean nothing): the request memo, unknown brands, pending copy keys, and
        the pack store's and origin secret's caches where they keep one (`forget_cached`)."""
        if self.memo is not None:
            self.memo.clear()
        with self._unknown_lock:
            self._unknown.clear()
        with self._leases_lock:
            self._leases.clear()
        for port in (self.packs, self.copy, self.origin):
            forget = getattr(port, "forget_cached", None)
            if callable(forget):
                forget()

    # ---------------------------------------------------------------------------- understanding

    def client_of(self, req: CreativeRequest) -> EmailClient:
        """The client class from the headers alone (the CDN's x-versa-client, else User-Agent and ASN),
        known before the pack is: it decides whether a failure is answered with an image."""
        cdn = (req.header(X_CLIENT) or "").strip().lower()
        if cdn in EmailClient.__members__:
            return EmailClient(cdn)
        return classify_client(req.header("user-agent"), parse_asn((req.header(CF_ASN) or "").strip()))

    def is_proxy_request(self, req: CreativeRequest) -> bool:
        """True when an email image proxy sent the request (see `client_of`)."""
        return is_proxy(self.client_of(req))

    def blank(self, reason: str) -> HttpResponse:
        """The transparent pixel for an email proxy asking for something Versa cannot name."""
        return self._blank(reason)

    def _check_names(self, req: CreativeRequest) -> None:
        if not SLUG_RE.match(req.brand):
            raise UnknownBrand(req.brand)
        if not SLUG_RE.match(req.creative):
            raise UnknownCreative(req.brand, req.creative)

    def _signature(self, req: CreativeRequest, *, scope: str | None = None) -> SignedInfo | None:
        query = req.multi_query or {k: [v] for k, v in req.query.items()}
        if not self.config.require_signature and scope is None and SIG_PARAM not in req.query:
            return None
        return verify(req.path, query, self.keyring, now=req.now, required_scope=scope)

    def _context(self, pack: Pack, req: CreativeRequest, signed: SignedInfo | None) -> RequestContext:
        names = signed.covered_names if signed else frozenset()
        if not self.config.require_signature and signed is None:
            names = frozenset(req.query)  # signatures off (local demos): the query is trusted
        return resolve(req.headers, req.query, req.now, self._context_options(pack, req.creative, names))

    def _context_options(self, pack: Pack, creative_id: str, signed_names: frozenset[str]) -> ContextOptions:
        """`context_options` built (and validated) once per pack version, creative and signed names,
        not once per request."""
        key = (pack.brand, pack.version, creative_id, signed_names)
        options = self._options.get(key)
        if options is None:
            if len(self._options) >= MAX_CACHED_OPTIONS:
                self._options.clear()
            options = self._options[key] = context_options(pack.model, creative_id, signed_names=signed_names)
        return options

    def _decided(
        self, req: CreativeRequest, *, scope: str | None = None
    ) -> tuple[Pack, Creative, RequestContext, Decision, ArmChoice, SignedInfo | None]:
        """Pack, creative, context, decision, the arms shown and the signature for a non-image route;
        every failure raises (versa.web.api maps it to problem+json)."""
        self._check_names(req)
        pack = self._current_pack(req.brand)
        creative = pack.model.creative(req.creative)
        signed = self._signature(req, scope=scope)
        ctx = self._context(pack, req, signed)
        decision, choice = self._decide(pack, creative, req, ctx, signed)
        return pack, creative, ctx, decision, choice, signed

    def _trusted(self, req: CreativeRequest, signed: SignedInfo | None, name: str) -> str | None:
        """A query value the signature covers (any value when signatures are off and none was given)."""
        value = req.query.get(name)
        if value is None:
            return None
        if signed is not None:
            return value if name in signed.covered_names else None
        return value if not self.config.require_signature else None

    def _decide(
        self, pack: Pack, creative: Creative, req: CreativeRequest, ctx: RequestContext, signed: SignedInfo | None
    ) -> tuple[Decision, ArmChoice]:
        """The decision with the arms the allocation gives this request's visitor bucket (and segment),
        or, per optimized rule, the reason it shows none (in the trace). A signed `send` pins the epoch
        (email). The decision's `valid_until` is capped at the snapshot's: no response outlives the
        allocation it showed."""
        try:
            pins = parse_pins(self._trusted(req, signed, SEND_PARAM))
        except ValueError as exc:
            raise ParamError(
                SEND_PARAM, req.query.get(SEND_PARAM, ""), "an epoch number, or rule:epoch entries separated by commas"
            ) from exc
        lookup = lookup_for(ctx)
        bucket = lookup("vid")
        choice = choose_arms(
            pack.brand, req.creative, creative, lookup, bucket if isinstance(bucket, int) else None,
            self.allocations, pins,
        )
        decision = decide(pack.model, req.creative, ctx, size=req.size, arms=choice.arms, no_arm=choice.reasons)
        if choice.valid_until is not None and (decision.valid_until is None or choice.valid_until < decision.valid_until):
            decision = replace(decision, valid_until=choice.valid_until)
        return decision, choice

    def _count(self, counts: dict[str, Counters], what: str) -> None:
        """Add counts to the relevance store; a failing store is logged, never the request's failure."""
        add = self.credit if what == "click" else self.impressions
        if add is None:
            return
        for scope, tally in counts.items():
            try:
                add(scope, tally)
            except Exception as exc:
                self.metrics.count("RelevanceCountErrors", what=what, scope=scope)
                self.log("relevance count failed", what=what, scope=scope, error=repr(exc))

    # ------------------------------------------------------------------------------------ copy

    def _texts(self, pack: Pack, creative: Creative, decision: Decision, now: datetime) -> tuple[dict[str, str], bool]:
        """Copy to show per slot (and, under `visual:SLOT`, each visual slot's image: an approved
        generated asset key, else its default), and whether any generating slot fell back to its default.
        Copy is looked up under its generation key (the copy key with the configured model; a visual's
        key with the visual model); a key this process knows is pending (leased, not yet written) costs
        no store read until its lease or the short default-copy TTL runs out, or the in-process worker
        says it was written. A slot that requires review (`versa.generate.review`) serves approved items
        only: its lineage key is read in the same batch, so the lineage's approved text serves while a
        newer generation waits for a reviewer."""
        refs = [
            (ref, generation_key(ref.key, self.config.copy_model), self._lineage(pack, decision, ref), "")
            for ref in decision.copy.values() if ref.key
        ]
        refs += [
            (ref, generation_key(ref.key, self.config.visual_model), self._visual_lineage(pack, decision, ref),
             VISUAL_PREFIX)
            for ref in decision.visuals.values() if ref.key
        ]
        texts = {name: ref.default for name, ref in decision.copy.items()}
        texts.update({VISUAL_PREFIX + name: ref.default for name, ref in decision.visuals.items()})
        if not refs:
            return texts, False
        pending = {key for _, key, _, _ in refs if self._pending(key, now)}
        wanted = [key for _, key, _, _ in refs if key not in pending]
        wanted += [lineage for _, _, lineage, _ in refs if lineage]
        malformed: list[str] = []
        found: dict[str, CopyItem] = {}
        if wanted:
            try:
                found = self.copy.get_many(wanted, now=now, malformed=malformed)
            except Exception as exc:  # any copy store failure renders the defaults
                self.metrics.count("CopyStoreErrors", brand=pack.brand, reason=repr(exc))
                return texts, True
        if malformed:
            self.metrics.count("CopyMalformed", len(malformed), brand=pack.brand, keys=malformed)
        missing = []
        defaulted = False
        for ref, key, lineage, prefix in refs:
            item = found.get(key)
            if not serves(item, review=lineage is not None):
                missing.append((ref, key, prefix))
            chosen = serving(item, found.get(lineage) if lineage else None, review=lineage is not None)
            if chosen is not None and chosen.text:
                texts[prefix + ref.slot] = chosen.text
            else:
                defaulted = True
        if missing:
            self.metrics.count("CopyMisses", len(missing), brand=pack.brand, creative=decision.creative)
            if pending:
                self.metrics.count("CopyPendingRemembered", len(pending), brand=pack.brand)
            fresh = [(ref, key, prefix) for ref, key, prefix in missing if key not in pending]
            if fresh:
                hold = min(self.config.copy_lease_seconds, _cache_settings(pack, creative).default_copy_ttl)
                self._enqueue(pack, creative, decision, fresh, now, hold=timedelta(seconds=hold))
        return texts, defaulted

    @staticmethod
    def _lineage(pack: Pack, decision: Decision, ref: CopyRef) -> str | None:
        """The slot's lineage key when its copy requires review, else None (nothing more is read)."""
        if not review_required(pack.model, decision.creative, ref.slot):
            return None
        return lineage_key(pack.brand, decision.creative, ref.slot, decision.locale, ref.vary)

    @staticmethod
    def _visual_lineage(pack: Pack, decision: Decision, ref: CopyRef) -> str | None:
        """A visual slot's lineage key (no locale; the aspect class among its vary values) when its scenes
        require review, else None."""
        if not visual_review_required(pack.model, decision.creative, ref.slot):
            return None
        return lineage_key(pack.brand, decision.creative, ref.slot, "", ref.vary)

    def _enqueue(
        self, pack: Pack, creative: Creative, decision: Decision, refs: list[tuple[CopyRef, str, str]],
        now: datetime, *, hold: timedelta,
    ) -> None:
        """Take the store's lease for each missing key; only the keys whose lease this request won are
        queued. Each key is remembered as pending for `hold` either way."""
        lease = timedelta(seconds=self.config.copy_lease_seconds)
        requests = []
        for ref, key, prefix in refs:
            try:
                won = self.copy.lease(key, now=now, ttl=lease)
            except Exception:  # StoreUnavailable or worse: generation waits for a later request
                return
            self._remember_pending(key, now + hold)
            if not won:
                continue
            requests.append(self._request(pack, creative, decision, ref, key, visual=bool(prefix)))
        if requests:
            try:
                self.queue.enqueue(requests)
            except Exception as exc:  # the queue is best effort; the lease expires and retries
                self.metrics.count("QueueErrors", reason=str(exc))

    @staticmethod
    def _request(
        pack: Pack, creative: Creative, decision: Decision, ref: CopyRef, key: str, *, visual: bool
    ) -> GenerationRequest:
        """The generation request a missing copy or visual key queues."""
        if visual:
            spec = creative.visuals[ref.slot].generate
            assert spec is not None
            vary = {k: v for k, v in ref.vary.items() if k != "aspect"}
            return GenerationRequest(
                key=key, brand=pack.brand, creative=decision.creative, slot=ref.slot,
                locale=pack.model.default_locale, brief=spec.brief,
                constraints=spec.model_dump(mode="json", exclude={"brief", "vary_by"}),
                vary=vary, default=ref.default, kind="visual", aspect=ref.vary.get("aspect", ""),
            )
        gen = creative.copy_slots[ref.slot].generate
        assert gen is not None
        return GenerationRequest(
            key=key, brand=pack.brand, creative=decision.creative, slot=ref.slot,
            locale=decision.locale, brief=gen.brief,
            constraints=gen.model_dump(mode="json", exclude={"brief", "vary_by"}),
            vary=dict(ref.vary), default=ref.default,
        )

    def _pending(self, key: str, now: datetime) -> bool:
        with self._leases_lock:
            until = self._leases.get(key)
            if until is None:
                return False
            if until > now:
                return True
            del self._leases[key]
            return False

    def _remember_pending(self, key: str, until: datetime) -> None:
        with self._leases_lock:
            self._leases[key] = until
            self._leases.move_to_end(key)
            while len(self._leases) > MAX_REMEMBERED_LEASES:
                self._leases.popitem(last=False)

    def copy_written(self, key: str) -> None:
        """The in-process worker wrote (or gave up on) `key`: the next request reads the store again."""
        with self._leases_lock:
            self._leases.pop(key, None)

    # ---------------------------------------------------------------------------------- routes

    def _current_pack(self, brand: str) -> Pack:
        """The brand's pack; an unknown brand is remembered for `unknown_brand_seconds` (in a bounded
        table), so a stream of requests for a made-up brand costs no storage lookup each."""
        ttl = self.config.unknown_brand_seconds
        now = time.monotonic()
        with self._unknown_lock:
            known = self._unknown.get(brand)
            if known is not None:
                if known[0] > now:
                    raise UnknownBrand(brand, known[1])
                del self._unknown[brand]
        try:
            return self.packs.current(brand)
        except UnknownBrand as exc:
            if ttl > 0:
                with self._unknown_lock:
                    self._unknown[brand] = (now + ttl, tuple(exc.known))
                    while len(self._unknown) > MAX_UNKNOWN_BRANDS:
                        self._unknown.popitem(last=False)
            raise

    def image(self, req: CreativeRequest) -> HttpResponse:
        """GET /v1/{brand}/{creative}.{ext} for image formats: the failure contract made total. Whatever
        fails, an email proxy gets an image with status 200 and `X-Versa-Fallback`; a browser gets the
        error (mapped to problem+json, an unexpected one to a bare 500). Every response's cache
        lifetime ends by the signed URL's expiry."""
        key = None
        if self.memo is not None:
            key = request_key(req)
            hit = self._memo_hit(key, req)
            if hit is not None:
                return self._expiry_capped(req, hit)
        try:
            client = self.client_of(req)
        except Exception:
            client = EmailClient.gmail  # cannot tell: answer as to a proxy, the safe side
        proxy = is_proxy(client)
        try:
            return self._expiry_capped(req, self._image(req, client, key))
        except Exception as exc:
            if not proxy:
                raise
            if not isinstance(exc, VersaError):
                self.log("image route failed", brand=req.brand, creative=req.creative, error=repr(exc))
            reason = "overloaded" if isinstance(exc, Overloaded) else "internal"
            return self._expiry_capped(req, self._last_resort(req, reason))

    def _last_resort(self, req: CreativeRequest, reason: str) -> HttpResponse:
        """The creative's fallback if its pack is at hand, else the neutral pixel; never raises."""
        try:
            pack = self._current_pack(req.brand)
            creative = pack.model.creative(req.creative)
            return self._fallback(pack, req.creative, creative, reason, req.size)
        except Exception:
            return self._blank(reason, brand=req.brand, creative=req.creative)

    def _expiry_capped(self, req: CreativeRequest, resp: HttpResponse) -> HttpResponse:
        """`resp` with its Cache-Control cut so that max-age plus any stale allowance ends by the URL's
        `exp` (read from the query: an unverified `exp` can only shorten a lifetime). The answer to an
        already expired link (the `expired` fallback) is exempt: it is what stays true after `exp`."""
        exp = req.query.get("exp", "")
        cache = resp.headers.get("Cache-Control")
        if not (exp.isascii() and exp.isdigit()) or len(exp) > 12 or cache is None or resp.headers.get("X-Versa-Fallback") == "expired":
            return resp
        remaining = int(exp) - math.floor(req.now.timestamp())
        return resp.with_headers(**{"Cache-Control": cap_lifetime(cache, remaining)})

    def remembered(self, req: CreativeRequest) -> HttpResponse | None:
        """The request memo's answer to an image request (as `image` would give it), or None when the
        memo is off or has no live answer; never raises. Checked again by `image`, so a caller may
        fall back to it."""
        if self.memo is None:
            return None
        try:
            hit = self._memo_hit(request_key(req), req)
        except Exception:
            return None
        return None if hit is None else self._expiry_capped(req, hit)

    def _memo_hit(self, key: RequestKey, req: CreativeRequest) -> HttpResponse | None:
        """The remembered answer to this request with its max-age computed for now, a 304 when
        If-None-Match names its ETag; None (decide in full) when there is none, the link has expired,
        the decision's `valid_until` has passed or the brand's pack changed."""
        assert self.memo is not None
        entry = self.memo.get(key)
        if entry is None:
            return None
        if entry.expires is not None and req.now >= entry.expires:
            return None  # the full path refuses it (410, or the `expired` fallback for a proxy)
        decided_at = entry.fixed_now or req.now
        if entry.valid_until is not None and decided_at >= entry.valid_until:
            self.memo.drop(key)
            return None
        try:
            version = self._current_pack(req.brand).version
        except Exception:
            return None
        if version != entry.pack_version:
            self.memo.drop(key)
            return None
        ttl = ttl_seconds(decided_at, entry.valid_until, entry.cache)
        cache = cache_control(ttl, entry.cache, unbounded=entry.valid_until is None,
                              proxy_refetch=entry.proxy_refetch)
        headers = {"Cache-Control": cache, **entry.headers}
        self.metrics.count("RequestMemoHits")
        if etag_matches(req.header("if-none-match"), entry.etag):
            return HttpResponse(304, b"", entry.content_type, headers)
        return HttpResponse(200, entry.body, entry.content_type, headers, encoded=entry.encoded)

    def _image(self, req: CreativeRequest, client: EmailClient, key: RequestKey | None = None) -> HttpResponse:
        proxy = is_proxy(client)
        try:
            self._check_names(req)
            pack = self._current_pack(req.brand)
            creative = pack.model.creative(req.creative)
        except (UnknownBrand, UnknownCreative):
            if proxy:
                return self._blank("unknown-creative")
            raise
        except Exception as exc:
            # No pack means no creative fallback to serve: a blank image, 200, briefly cached, so no
            # client (an email proxy least of all) keeps an error. The CDN's origin group covers the
            # failures that happen outside the handler.
            reason = "pack-store" if isinstance(exc, StoreUnavailable) else "pack-error"
            self.log("pack unavailable", brand=req.brand, reason=reason, error=repr(exc))
            return self._blank(reason, brand=req.brand, creative=req.creative)
        if req.size is not None and req.size not in creative.all_sizes:
            if proxy:
                return self._fallback(pack, req.creative, creative, "unknown-size", None)
            size_of(pack.brand, req.creative, creative, req.size)  # raises UnknownSize: a 404 naming the sizes
        try:
            signed = self._signature(req)
            ctx = self._context(pack, req, signed)
        except (SignatureError, ParamError) as exc:
            if proxy:
                reason = "expired" if isinstance(exc, SignatureExpired) else "bad-request"
                return self._fallback(pack, req.creative, creative, reason, req.size)
            raise
        try:
            # Signed send-time values may name the client (previews, ESP-declared proxies): use the context's.
            preview = preview_texts(signed, req.query, creative)
            return self._render_image(pack, creative, req, ctx, EmailClient(ctx.client), preview=preview,
                                      signed=signed, key=key)
        except ParamError:  # a width, dpr or format the creative does not allow, or too much work
            if proxy:
                return self._fallback(pack, req.creative, creative, "bad-request", req.size)
            raise
        except Overloaded:
            if proxy:
                return self._fallback(pack, req.creative, creative, "overloaded", req.size)
            raise

    def _render_image(
        self, pack: Pack, creative: Creative, req: CreativeRequest, ctx: RequestContext, client: EmailClient,
        *, preview: Mapping[str, str] | None = None, signed: SignedInfo | None = None,
        key: RequestKey | None = None,
    ) -> HttpResponse:
        start = time.perf_counter()
        decision, choice = self._decide(pack, creative, req, ctx, signed)
        texts, default_used = self._texts(pack, creative, decision, req.now)
        texts.update(preview or {})
        fmt = self._format(pack, creative, req, client)
        robust = client is EmailClient.apple_mpp
        # `ctx.now` is the instant the decision was made for (the request clock, or a signed `at`):
        # countdowns and the TTL use it too, so valid_until and "now" come from one timeline.
        future = self._submit_render(
            pack, decision, texts=texts, params=ctx.params, fmt=fmt,
            width=ctx.width, dpr=ctx.dpr, now=ctx.now, tz=ctx.tz, robust=robust,
        )
        try:
            rendered: Rendered = future.result(timeout=self.config.render_budget_ms / 1000)
        except ParamError:
            raise
        except (concurrent.futures.TimeoutError, TimeoutError):
            future.cancel()  # not started yet: never starts; running: stops at its next deadline check
            return self._fallback(pack, req.creative, creative, "render-timeout", req.size)
        except RenderError as exc:
            reason = "too-large" if isinstance(exc, OutputTooLarge) else "render-error"
            if isinstance(exc, RenderTimeout):
                reason = "render-timeout"
            self.log("render failed", reason=reason, error=str(exc))
            return self._fallback(pack, req.creative, creative, reason, req.size)
        except Exception as exc:
            self.log("render crashed", error=repr(exc))
            return self._fallback(pack, req.creative, creative, "render-error", req.size)
        elapsed = (time.perf_counter() - start) * 1000
        props: dict[str, Any] = {"brand": pack.brand, "creative": req.creative, "variant": decision.design_key}
        if rendered.memo_hit:  # Renders counts real renders only; a memo answer is a MemoHit
            self.metrics.count("MemoHits", **props)
        else:
            self.metrics.count("Renders", **props)
        self.metrics.timing("RenderTime", elapsed, **props)

        cache = _cache_settings(pack, creative)
        loop = rendered.loop_seconds
        ttl = ttl_seconds(ctx.now, decision.valid_until, cache, copy_default_used=default_used, loop_seconds=loop)
        time_sensitive = decision.valid_until is not None or loop is not None
        headers = {
            "Cache-Control": cache_control(
                ttl, cache, unbounded=decision.valid_until is None and loop is None,
                proxy_refetch=client is EmailClient.gmail and time_sensitive,
            ),
            "ETag": etag_for(rendered.render_key),
            "X-Versa-Variant": decision.design_key,
        }
        if req.ext == "auto":
            headers["Vary"] = "Accept"
        if default_used:
            headers["X-Versa-Copy"] = "default"
        if any(ref.key and texts.get(VISUAL_PREFIX + name) == ref.default for name, ref in decision.visuals.items()):
            headers["X-Versa-Visual"] = "default"
        if choice.shown:
            headers["X-Versa-Arm"] = choice.click_param()
        if preview:
            headers["Cache-Control"] = "private, no-store"
            headers["X-Versa-Copy"] = "preview"
        elif choice.shown and self.impressions is not None and is_view(200, self.client_of(req)):
            self._count(choice.counts(impressions=1), "impression")
        entry = None
        if (not preview and key is not None and self.memo is not None and not default_used and loop is None
                and not choice.shown):  # an arm's answers are decided each time: the allocation moves, impressions count
            now_signal = ctx.signals.get("now")
            entry = self.memo.put(
                key, body=rendered.body, pack_version=pack.version, content_type=rendered.content_type,
                headers={k: v for k, v in headers.items() if k != "Cache-Control"}, etag=headers["ETag"],
                cache=cache, valid_until=decision.valid_until, expires=signed.expires if signed else None,
                fixed_now=ctx.now if now_signal is not None and now_signal.source is Source.signed else None,
                proxy_refetch=client is EmailClient.gmail and time_sensitive,
            )
        if etag_matches(req.header("if-none-match"), headers["ETag"]):
            return HttpResponse(304, b"", rendered.content_type, headers)
        return HttpResponse(200, rendered.body, rendered.content_type, headers, entry.encoded if entry else None)

    def _submit_render(self, pack: Pack, decision: Decision, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Hand the render to the pool with its deadline, or shed it (Overloaded) when every worker is
        busy and `render_queue` renders already wait. A render counts until it really stops, so renders
        the service gave up on but that still run keep their slot."""
        limit = RENDER_WORKERS + self.config.render_queue
        budget = self.config.render_budget_ms / 1000
        with self._flight_lock:
            if self._in_flight >= limit:
                self.metrics.count("Shed", brand=pack.brand, creative=decision.creative)
                raise Overloaded(max(1, math.ceil(budget)))
            self._in_flight += 1
        try:
            future = self._pool.submit(
                run_with_deadline, time.monotonic() + budget, self._render_and_release, pack, decision, **kwargs
            )
        except BaseException:
            self._render_done(None)
            raise
        future.add_done_callback(self._render_done)
        return future

    def _render_done(self, _: object) -> None:
        with self._flight_lock:
            self._in_flight -= 1

    def _render_and_release(self, pack: Pack, decision: Decision, **kwargs: Any) -> Rendered:
        """The renderer's render; after a large one (or one that failed) freed memory goes back to the OS."""
        try:
            rendered = self.renderer.render(pack, decision, **kwargs)
        except BaseException:
            release_memory()
            raise
        if not rendered.memo_hit and rendered.width * rendered.height * rendered.frames >= LARGE_RENDER_PIXELS:
            release_memory()
        return rendered

    def _format(self, pack: Pack, creative: Creative, req: CreativeRequest, client: EmailClient) -> str:
        if req.ext != "auto":
            return req.ext
        allowed = pack.model.render.formats
        animated = bool(countdown_layers(creative.layers))
        accept = req.header("accept")
        if req.header(X_CLIENT) is not None:
            # Behind the CDN only the keyed x-versa-fmt may decide (the raw Accept is not in the cache
            # key): it names the best format the viewer accepts, and each implies the ones below it.
            cdn = (req.header(X_FMT) or "").strip().lower()
            accept = {"avif": "image/avif,image/webp,image/png", "webp": "image/webp,image/png"}.get(cdn, "image/png")
        return self.renderer.negotiate(accept, str(client), allowed, animated=animated)

    def _fallback(
        self, pack: Pack, creative_id: str, creative: Creative, reason: str, size: tuple[int, int] | None = None
    ) -> HttpResponse:
        """The creative's fallback at `size` (its first size when None or not one it declares)."""
        self.metrics.count("Fallbacks", reason=reason, brand=pack.brand, creative=creative_id)
        cache = _cache_settings(pack, creative)
        if size not in creative.all_sizes:
            size = None
        try:
            body = self.renderer.render_fallback(pack, creative_id, size)
        except Exception as exc:  # counted above already
            published = self._published_fallback(pack, creative_id, creative, size)
            if published is None:
                self.log("fallback unreadable", brand=pack.brand, creative=creative_id, error=repr(exc))
                return _blank_response(reason)
            body = published
        return HttpResponse(
            200, body, self.renderer.content_type(body),
            {"Cache-Control": fallback_cache_control(cache), "X-Versa-Fallback": reason},
        )

    def _published_fallback(
        self, pack: Pack, creative_id: str, creative: Creative, size: tuple[int, int] | None
    ) -> bytes | None:
        """For a creative without a `fallback` file and none drawn (the Lambda draws none): the one
        `versa publish` uploaded for that size, if the pack store has it; never raises."""
        if creative.fallback is not None:
            return None
        at = size or creative.size
        name = f"{creative_id}@{at[0]}x{at[1]}" if creative.sizes else creative_id
        try:
            return self.packs.published_fallback(pack, name)
        except Exception:
            return None

    def _blank(self, reason: str, **props: Any) -> HttpResponse:
        self.metrics.count("Fallbacks", reason=reason, **props)
        return _blank_response(reason)

    def decision(self, req: CreativeRequest) -> HttpResponse:
        """GET /v1/{brand}/{creative}/decision — needs a signature with the debug scope."""
        pack, _, ctx, decision, _, _ = self._decided(req, scope="debug")
        body = decision.to_json()
        body["pack_version"] = pack.version
        body["context"] = ctx.provenance()
        return json_response(body)

    def click(self, req: CreativeRequest) -> HttpResponse:
        """GET /v1/{brand}/{creative}/click — re-decide from the same signed context, 302 to the link with
        the campaign tags (`utm`) of the pack and creative added."""
        pack, creative, ctx, decision, choice, signed = self._decided(req)
        if not decision.link:
            raise UnknownCreative(req.brand, f"{req.creative} (no link)")
        self._check_click_link(pack, req, decision)
        self._credit_click(pack, creative, req, ctx, choice, signed)
        self.log("click", brand=pack.brand, creative=req.creative, variant=decision.design_key,
                 link=decision.link, matched=list(decision.matched))
        self.metrics.count("Clicks", brand=pack.brand, creative=req.creative, variant=decision.design_key)
        return redirect(with_utm(decision.link, pack.model.utm_for(req.creative)))

    def _credit_click(
        self, pack: Pack, creative: Creative, req: CreativeRequest, ctx: RequestContext, choice: ArmChoice,
        signed: SignedInfo | None,
    ) -> None:
        """Credit the click to the arms that were shown: the signed `arm` value a web page's click URL
        carries, else (email) the arms of the epoch a signed `send` pins. A click with neither, or from
        a bot, a prefetcher or a proxy (`is_view`), credits nothing."""
        if self.credit is None or not is_view(200, self.client_of(req)):
            return
        shown = self._trusted(req, signed, ARM_PARAM)
        if shown:
            try:
                choice = clicked(pack.brand, req.creative, creative, shown, lookup_for(ctx))
            except ValueError as exc:
                self.log("click arm unreadable", brand=pack.brand, creative=req.creative, error=str(exc))
                return
        elif self._trusted(req, signed, SEND_PARAM) is None:
            return  # the latest allocation may not be what this visitor saw: credit nothing
        self._count(choice.counts(clicks=1), "click")

    def _check_click_link(self, pack: Pack, req: CreativeRequest, decision: Decision) -> None:
        """Defence in depth: never redirect to a link the pack's rules would refuse (javascript:,
        data:, //host, hidden characters...), even if one got past loading; a 404 problem instead."""
        problem = link_problem(decision.link, allow_http=pack.model.allow_http_links)
        if problem is None:
            return
        self.log("click refused", brand=pack.brand, creative=req.creative, variant=decision.design_key, error=problem)
        self.metrics.count("ClicksRefused", brand=pack.brand, creative=req.creative, variant=decision.design_key)
        raise UnknownCreative(req.brand, f"{req.creative} (no usable link)")

    def page(self, req: CreativeRequest) -> HttpResponse:
        """GET /v1/{brand}/{creative}.html — the pack's template in the sandbox; its cache lifetime
        ends by the URL's expiry, like the images it links to."""
        return self._expiry_capped(req, self._page(req))

    def _page(self, req: CreativeRequest) -> HttpResponse:
        pack, creative, ctx, decision, choice, _ = self._decided(req)
        texts, default_used = self._texts(pack, creative, decision, req.now)
        if self.html is None:
            raise VersaError("HTML rendering is not configured")
        cache = _cache_settings(pack, creative)
        try:
            html = self.html.render_html(
                pack, decision, ctx, texts, req, click_query={ARM_PARAM: choice.click_param()} if choice.shown else None
            )
        except RenderError as exc:
            # A broken template still yields a usable fragment: the creative's image route, which has
            # its own failure contract.
            self.log("template failed", brand=pack.brand, creative=req.creative, error=str(exc))
            self.metrics.count("Fallbacks", reason="template-error", brand=pack.brand, creative=req.creative)
            html = self.html.fallback_html(pack, decision, req)
            return HttpResponse(
                200, html.encode(), "text/html; charset=utf-8",
                {"Cache-Control": fallback_cache_control(cache), "Content-Security-Policy": CSP,
                 "X-Versa-Fallback": "template-error", "X-Versa-Variant": decision.design_key},
            )
        ttl = ttl_seconds(ctx.now, decision.valid_until, cache, copy_default_used=default_used)
        return HttpResponse(
            200, html.encode(), "text/html; charset=utf-8",
            {
                "Cache-Control": cache_control(ttl, cache, unbounded=decision.valid_until is None),
                "Content-Security-Policy": CSP,
                "X-Versa-Variant": decision.design_key,
            },
        )
