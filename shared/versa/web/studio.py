"""The preview studio: `versa serve`'s page at `/` for designers to try a creative in any context.

Choose a brand, a creative and one of its sizes, simulate the viewer (country, device, time zone and local time, language,
email client, output format, dpr and each declared parameter) and see the creative, its decision trace,
design key, provenance of every signal, the response headers, and every distinct variant the rules can
produce. The page is server-rendered with a little vanilla JS (`studio_assets/`); there is no build.

The browser never holds a key: on every change the page asks `/studio/urls` for URLs signed here with
the server's keyring. The signature covers the simulated context (`country`, `tz`, `device`, `lang`,
`client`, `at`), which is what lets those query values override the request's own signals; the
decision URL is signed with the `debug` scope its route requires. The studio is local-only: it is
mounted by `versa serve`, never by the deployed function.

Routes (all GET): `/` the page; `/studio/urls` signed URLs as JSON (the image and decision URLs name
the size in their path, `@WxH`, unless it is the first), or a problem+json naming the bad input;
`/studio/variants` the creative's distinct variants at the chosen size (cached per pack version);
`/studio/review?brand=` the brand's copy awaiting review with preview URLs (`versa.web.review_panel`);
`/studio/lint?brand=` the loaded pack's lint findings per creative with their place in pack.yaml
(`versa.web.lint_panel`);
`/studio/assets/{studio.css,studio.js}`. One POST: `/studio/review`, the review panel's decisions.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from versa.context.attributes import CLIENTS, DEVICES
from versa.context.params import ParamSpec
from versa.context.resolve import resolve
from versa.context.visitor import VISITOR_PARAM
from versa.decide.rules import context_options
from versa.decide.variants import enumerate_variants, mentions, splits_on_visitor
from versa.errors import PackError, ParamError, VersaError
from versa.pack.model import Creative, Pack, PackModel, parse_size, size_name
from versa.ports import CopyStore, StoreUnavailable
from versa.signing.urls import click_path, creative_path, decision_path
from versa.web import lint_panel, review_panel
from versa.web.http import HttpResponse, json_response, problem, problem_for
from versa.web.studio_grid import ROUTES as GRID_ROUTES
from versa.web.studio_grid import Dispatch, GridRoutes

if TYPE_CHECKING:
    from versa.settings import Settings

Response = tuple[int, list[tuple[str, str]], bytes]

FORMATS = ("png", "jpg", "webp", "gif", "auto")
PARAM_PREFIX = "p."
"""Form names of declared parameters (`p.first_name`), so they never clash with the studio's own."""
COMMON_ZONES = (
    "UTC", "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
    "Europe/London", "Europe/Berlin", "Europe/Paris", "Asia/Dubai", "Asia/Tokyo", "Australia/Sydney",
)  # fmt: skip
MAX_VARIANTS_LISTED = 400
SIZE_NAMES = {
    (300, 250): "medium rectangle", (728, 90): "leaderboard", (160, 600): "wide skyscraper",
    (320, 50): "mobile banner", (970, 250): "billboard", (300, 600): "half page",
    (1080, 1080): "square post", (1200, 628): "landscape post", (1080, 1920): "story",
}  # fmt: skip
"""What the size picker calls the standard sizes besides their pixels."""
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_ASSETS = {
    "studio.css": "text/css; charset=utf-8",
    "studio.js": "text/javascript; charset=utf-8",
    "grid.css": "text/css; charset=utf-8",
    "grid.js": "text/javascript; charset=utf-8",
}


class StudioBackend(Protocol):
    """What the studio needs of the service (`versa.web.service.RenderService` is one): the brands,
    a brand's current pack, and URLs signed with the service's keyring."""

    def brands(self) -> list[str]: ...

    def current_pack(self, brand: str) -> Pack: ...

    def sign(self, path: str, query: Mapping[str, str], *, scope: str | None = None) -> str: ...


@dataclass(frozen=True)
class Form:
    """The studio's inputs as the page sends them (raw strings; empty means "not simulated")."""

    brand: str = ""
    creative: str = ""
    size: str = ""
    country: str = ""
    tz: str = ""
    at: str = ""
    device: str = ""
    lang: str = ""
    client: str = ""
    fmt: str = "png"
    dpr: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, query: str) -> Form:
        values = {k: v[-1].strip() for k, v in parse_qs(query, keep_blank_values=True).items()}
        params = {k.removeprefix(PARAM_PREFIX): v for k, v in values.items() if k.startswith(PARAM_PREFIX)}
        own = {
            k: values.get(k, "")
            for k in ("brand", "creative", "size", "country", "tz", "at", "device", "lang", "client", "dpr")
        }
        return cls(**own, fmt=values.get("fmt") or "png", params=params)


class Studio:
    """Serves the studio pages for `versa serve` (see the module docstring).

    `handle(raw_path)` returns (status, headers, body) for `/` and `/studio/...`; it never raises for
    a bad request (a problem+json answers it). `clock` is injectable for tests.
    """

    def __init__(
        self,
        service: StudioBackend,
        settings: Settings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        copy: CopyStore | None = None,
        dispatch: Dispatch | None = None,
    ) -> None:
        self.service = service
        # the grid, time travel and "as seen by" (versa.web.studio_grid)
        self.grid = GridRoutes(service.sign, self.signed_query, lambda: self._clock(), dispatch)
        self.copy = copy  # the copy store the review panel lists and decides in (None: no panel)
        # The studio hands signed URLs (debug scope included) to whoever can reach the page, which is
        # only acceptable with the local development key, never with a deployed keyring.
        self.signing_refused = settings is not None and settings.signing_key_parameter is not None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._variants: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._lint_lock = threading.Lock()

    # ------------------------------------------------------------------------------------- routing

    def handle(self, raw_path: str) -> Response:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        try:
            if path in ("/", "/studio"):
                return self._page(Form.parse(parts.query))
            if path == "/studio/urls":
                return _send(self.urls(Form.parse(parts.query)))
            if path == "/studio/variants":
                return _send(self.variants(Form.parse(parts.query)))
            if path == "/studio/review":
                return _send(self.review(Form.parse(parts.query).brand))
            if path in GRID_ROUTES:
                return _send(self.grid_route(path, parts.query))
            if path == "/studio/lint":
                return _send(self.lint(Form.parse(parts.query).brand))
            if path.startswith("/studio/assets/"):
                return _asset(path.removeprefix("/studio/assets/"))
            return _send(problem(404, "Not found", f"no studio route for {parts.path}"))
        except Exception as exc:  # the API's table; a local tool also says what broke
            return _send(problem_for(exc, reveal=True))

    def handle_post(self, raw_path: str, body: bytes) -> Response:
        """POST `/studio/review`: the review panel's decisions (a JSON body; see
        `versa.web.review_panel.DecisionRequest`). The server checks the method, media type and origin."""
        path = urlsplit(raw_path).path.rstrip("/")
        try:
            if path != "/studio/review":
                return _send(problem(404, "Not found", f"no studio route takes POST at {path}"))
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return _send(problem(400, "Bad request", "the body is not JSON"))
            return _send(self.decide(review_panel.DecisionRequest.parse(data)))
        except Exception as exc:
            return _send(problem_for(exc, reveal=True))

    # ------------------------------------------------------------------------------------ review

    def review(self, brand: str) -> HttpResponse:
        """The brand's copy awaiting review, with preview URLs signed for the `preview` scope."""
        if self.signing_refused:
            return problem(403, "Signing refused", "the studio signs only with the local development key")
        if self.copy is None:
            return problem(404, "Not found", "the review panel needs the copy store; this studio has none")
        pack = self.service.current_pack(brand)
        return json_response(review_panel.pending(self.copy, pack, self.service.sign, self._clock()))

    def decide(self, request: review_panel.DecisionRequest) -> HttpResponse:
        """Approve or reject; each item's result (see `versa.web.review_panel.decide`)."""
        if self.copy is None:
            return problem(404, "Not found", "the review panel needs the copy store; this studio has none")

        def pack_version(brand: str | None) -> str | None:
            try:
                return self.service.current_pack(brand).version if brand else None
            except Exception:  # a pack that does not load never blocks a decision
                return None

        return json_response(review_panel.decide(self.copy, pack_version, request, self._clock()))

    def grid_route(self, path: str, raw_query: str) -> HttpResponse:
        """One of `versa.web.studio_grid.ROUTES` for the form in `raw_query`."""
        if self.signing_refused:
            return problem(403, "Signing refused", "the studio signs only with the local development key")
        form = Form.parse(raw_query)
        pack = self.service.current_pack(form.brand)
        try:
            size = chosen_size(pack.model.creative(form.creative), form.size)
        except ParamError as exc:
            return problem_for(exc, field="size")
        return self.grid.handle(path, pack, form, size, raw_query)

    # -------------------------------------------------------------------------------------- lint

    def lint(self, brand: str) -> HttpResponse:
        """The loaded pack's lint findings per creative, located in pack.yaml (`versa.web.lint_panel`).
        One lint at a time: a second page waits for the first and gets its findings from lint's cache."""
        pack = self.service.current_pack(brand)
        with self._lint_lock:
            return json_response(lint_panel.report(pack))

    # ---------------------------------------------------------------------------------------- urls

    def urls(self, form: Form) -> HttpResponse:
        """Signed URLs for the simulated context, or a 400 problem naming the first bad input."""
        if self.signing_refused:
            return problem(
                403,
                "Signing refused",
                "the studio signs only with the local development key; unset VERSA_SIGNING_KEY_PARAMETER",
            )
        pack = self.service.current_pack(form.brand)
        creative = pack.model.creative(form.creative)
        try:
            size = chosen_size(creative, form.size)
        except ParamError as exc:
            return problem_for(exc, field="size")
        in_path = None if size == creative.size else size  # the first size: the plain path, as published
        try:
            query = self.signed_query(pack, form)
            fmt = form.fmt if form.fmt in FORMATS else _bad("fmt", form.fmt, "one of " + ", ".join(FORMATS))
            # Resolve the context here too, so a bad value is named before the image is even asked for.
            options = context_options(pack.model, form.creative, signed_names=frozenset(query))
            ctx = resolve({}, query, self._clock(), options)
        except ParamError as exc:
            field_name = PARAM_PREFIX + exc.name if exc.name in creative.params else exc.name
            return problem_for(exc, field=field_name)
        sign = self.service.sign
        body: dict[str, Any] = {
            "image_url": sign(creative_path(pack.brand, form.creative, fmt, in_path), query),
            "decision_url": sign(decision_path(pack.brand, form.creative, in_path), query, scope="debug"),
            "click_url": sign(click_path(pack.brand, form.creative), query),
            "html_url": (
                sign(creative_path(pack.brand, form.creative, "html", in_path), query)
                if creative.template
                else None
            ),
            "size": list(size),
            "dpr": ctx.dpr,
            "query": query,
            "pack_version": pack.version,
        }
        return json_response(body)

    def signed_query(self, pack: Pack, form: Form) -> dict[str, str]:
        """The query to sign: simulated overrides, render inputs and declared parameters (typed values
        are left to `resolve` to judge; only the local date-time is converted here, in the zone)."""
        creative = pack.model.creative(form.creative)
        query: dict[str, str] = {}
        for name in ("country", "tz", "device", "lang", "client"):
            value = getattr(form, name)
            if value:
                query[name] = value
        if form.at:
            query["at"] = local_to_instant(form.at, form.tz or pack.model.default_tz).isoformat()
        if form.dpr and form.dpr not in ("1", "1.0"):
            query["dpr"] = form.dpr
        for name in creative.params:
            value = form.params.get(name, "")
            if value:
                query[name] = value
        if splits_on_visitor(creative):  # a split creative's URLs carry vid (`p.vid=ID` picks an arm)
            query[VISITOR_PARAM] = form.params.get(VISITOR_PARAM, "")
        return query

    # ------------------------------------------------------------------------------------ variants

    def variants(self, form: Form) -> HttpResponse:
        """The creative's distinct variants at the chosen size (its first by default), with an example
        context each, and how many there are with every size (enumerated once per pack version)."""
        pack = self.service.current_pack(form.brand)
        creative = pack.model.creative(form.creative)
        try:
            size = size_name(chosen_size(creative, form.size))
        except ParamError as exc:
            return problem_for(exc, field="size")
        key = (pack.brand, pack.version, form.creative)
        with self._lock:
            full = self._variants.get(key)
        if full is None:
            try:
                full = enumerate_variants(pack.model, form.creative).to_json()
            except VersaError as exc:  # TooManyVariants: say so rather than fail the page
                full = {"count": None, "error": str(exc), "variants": []}
            with self._lock:
                for old in [k for k in self._variants if k[0] == key[0] and k[2] == key[2]]:
                    del self._variants[old]  # an earlier version of the pack
                self._variants[key] = full
        report = dict(full)
        if full.get("error") is None:
            report["all_count"] = full["count"]
            report["variants"] = [v for v in full["variants"] if v["size"] == size]
            report["count"] = len(report["variants"])
        report["size"] = size
        report["listed"] = min(len(report["variants"]), MAX_VARIANTS_LISTED)
        report["variants"] = report["variants"][:MAX_VARIANTS_LISTED]
        return json_response(report)

    # ---------------------------------------------------------------------------------------- page

    def _page(self, form: Form) -> Response:
        brands = self.service.brands()
        brand = form.brand if form.brand in brands else (brands[0] if brands else "")
        pack: Pack | None = None
        error = ""
        if brand:
            try:
                pack = self.service.current_pack(brand)
            except (PackError, StoreUnavailable) as exc:
                error = str(exc)
        else:
            error = "No packs found. Start `versa serve --packs DIR` with a directory of pack directories."
        page = render_page(brands, brand, pack, form, self._clock(), error)
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy", PAGE_CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        return 200, headers, page.encode()


# -------------------------------------------------------------------------------------------- helpers


def local_to_instant(local: str, zone_name: str) -> datetime:
    """A datetime-local value (`2026-12-01T19:30`, seconds optional) as an aware instant in `zone_name`.

    Raises ParamError naming `tz` for an unknown zone and `at` for a malformed date-time.
    """
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ParamError("tz", zone_name, "an IANA time zone name, e.g. Europe/Berlin") from None
    try:
        naive = datetime.fromisoformat(local)
    except ValueError:
        raise ParamError("at", local, "a local date-time such as 2026-12-01T19:30") from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=zone)


def chosen_size(creative: Creative, text: str) -> tuple[int, int]:
    """The size a form names (``WxH``, one the creative declares), or the creative's first size when
    it names none; raises ParamError naming `size`, the value and the sizes allowed."""
    if not text:
        return creative.size
    try:
        size = parse_size(text)
    except ValueError:
        size = None
    if size not in creative.all_sizes:
        raise ParamError("size", text, "one of " + ", ".join(size_name(s) for s in creative.all_sizes))
    return size


def size_label(size: tuple[int, int], first: bool) -> str:
    """How the size picker shows a size: its pixels, its standard name, and whether it is the default."""
    extra = [name for name in (SIZE_NAMES.get(size), "default" if first else None) if name]
    return f"{size[0]}×{size[1]}" + (f" · {', '.join(extra)}" if extra else "")


def _bad(name: str, value: str, allowed: str) -> str:
    raise ParamError(name, value, allowed)


def _send(resp: HttpResponse) -> Response:
    headers = [("Content-Type", resp.content_type), *resp.headers.items()]
    if not any(name.lower() == "cache-control" for name, _ in headers):
        headers.append(("Cache-Control", "no-store"))
    return resp.status, headers, resp.body


def _asset(name: str) -> Response:
    if name not in _ASSETS:
        return _send(problem(404, "Not found", f"no studio asset {name!r}"))
    body = resources.files("versa.web").joinpath("studio_assets", name).read_bytes()
    return 200, [("Content-Type", _ASSETS[name]), ("Cache-Control", "no-cache")], body


def _template() -> Template:
    return Template(resources.files("versa.web").joinpath("studio_assets", "studio.html").read_text("utf-8"))


def mentioned_values(model: PackModel, attr: str) -> dict[str, list[str]]:
    """Values of `attr` that any rule compares against (or any copy `vary_by` buckets; for `tz`, also
    the zones rule windows are stated in), each with the ids of the rules (or slots) that mention it,
    in first-seen order."""
    found: dict[str, list[str]] = {}
    for creative in model.creatives.values():
        for mention in mentions(creative, attr, window_zones=True):
            found.setdefault(str(mention.value), []).append(mention.by)
    return {value: list(dict.fromkeys(ids)) for value, ids in found.items()}


def daypart_presets(model: PackModel) -> list[tuple[str, str]]:
    """(daypart name, local HH:MM in the middle of it) for the time shortcuts."""
    parts = list(model.dayparts)
    out = []
    for index, part in enumerate(parts):
        start = datetime.combine(datetime(2000, 1, 1), part.start)
        nxt = datetime.combine(datetime(2000, 1, 1), parts[(index + 1) % len(parts)].start)
        if nxt <= start:
            nxt += timedelta(days=1)
        middle = start + (nxt - start) / 2
        out.append((part.name, middle.strftime("%H:%M")))
    return out


def render_page(
    brands: list[str], brand: str, pack: Pack | None, form: Form, now: datetime, error: str = ""
) -> str:
    """The whole studio page, every dynamic value escaped (attributes and text alike)."""
    e = html.escape
    brand_options = "".join(_option(b, b, b == brand) for b in brands)
    creative_options = size_options = fields = countries = zones = ""
    boot: dict[str, Any] = {"brand": brand, "creative": None}
    title = "Versa studio"
    if pack is not None:
        model = pack.model
        title = f"{model.name or model.brand} · Versa studio"
        creative_id = form.creative if form.creative in model.creatives else next(iter(model.creatives))
        creative = model.creatives[creative_id]
        creative_options = "".join(
            _option(cid, _creative_label(cid, c), cid == creative_id) for cid, c in model.creatives.items()
        )
        try:
            size = chosen_size(creative, form.size)
        except ParamError:
            size = creative.size  # a size another creative has (a shared link, say): the first one
        size_options = "".join(
            _option(size_name(s), size_label(s, index == 0), s == size)
            for index, s in enumerate(creative.all_sizes)
        )
        countries = "".join(
            _option(value, f"{value} · {', '.join(ids)}")
            for value, ids in mentioned_values(model, "country").items()
        )
        zone_names = [model.default_tz, *mentioned_values(model, "tz"), *COMMON_ZONES]
        zones = "".join(
            _option(z, "pack default" if z == model.default_tz else "") for z in dict.fromkeys(zone_names)
        )
        fields = _context_fields(model, creative, form, now) + _param_fields(creative, form)
        boot = {
            "brand": brand,
            "creative": creative_id,
            "size": list(size),
            "sizes": [size_name(s) for s in creative.all_sizes],
            "default_tz": model.default_tz,
            "params": {name: spec.type for name, spec in creative.params.items()},
            "has_template": creative.template is not None,
        }
        description = creative.description
    else:
        description = ""
    data = (
        json.dumps(boot, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return _template().substitute(
        title=e(title),
        brand_options=brand_options,
        creative_options=creative_options,
        size_options=size_options,
        description=e(description),
        fields=fields,
        country_options=countries,
        zone_options=zones,
        error=e(error),
        error_hidden="" if error else "hidden",
        boot_json=data,
    )


def _creative_label(creative_id: str, creative: Creative) -> str:
    more = len(creative.all_sizes) - 1
    others = f" and {more} more size{'s' if more > 1 else ''}" if more else ""
    return f"{creative_id} — {creative.size[0]}×{creative.size[1]}{others}"


def _option(value: str, label: str = "", selected: bool = False) -> str:
    sel = " selected" if selected else ""
    lab = f' label="{html.escape(label)}"' if label else ""
    return f'<option value="{html.escape(value)}"{lab}{sel}>{html.escape(label or value)}</option>'


def _select(name: str, label: str, choices: Iterable[tuple[str, str]], current: str, hint: str = "") -> str:
    options = "".join(_option(v, lab, v == current) for v, lab in choices)
    return _field(
        name, label, f'<select id="f-{html.escape(name)}" name="{html.escape(name)}">{options}</select>', hint
    )


def _field(name: str, label: str, control: str, hint: str = "") -> str:
    hint_html = f'<small class="hint">{html.escape(hint)}</small>' if hint else ""
    return (
        f'<div class="field" data-field="{html.escape(name)}"><label for="f-{html.escape(name)}">{html.escape(label)}</label>'
        f"{control}{hint_html}</div>"
    )


def _input(name: str, value: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{html.escape(v)}"' for k, v in attrs.items())
    return (
        f'<input id="f-{html.escape(name)}" name="{html.escape(name)}" value="{html.escape(value)}"{extra}>'
    )


def _context_fields(model: PackModel, creative: Creative, form: Form, now: datetime) -> str:
    zone = form.tz or model.default_tz
    try:
        local_now = now.astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0, tzinfo=None)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        local_now = now.replace(second=0, microsecond=0, tzinfo=None)
    at = form.at or local_now.isoformat(timespec="minutes")
    presets = "".join(
        f'<button type="button" class="chip" data-time="{html.escape(hhmm)}">{html.escape(name)}</button>'
        for name, hhmm in daypart_presets(model)
    )
    fresh = not form.brand  # first visit: a concrete, typical viewer; afterwards exactly what was chosen
    country = form.country or ("US" if fresh else "")
    device = form.device or ("desktop" if fresh else "")
    out = [
        _field(
            "country",
            "Country",
            _input(
                "country",
                country,
                list="countries",
                maxlength="2",
                placeholder="none (pack default)",
                autocomplete="off",
                spellcheck="false",
            ),
            "ISO code; suggestions are the countries this pack's rules mention",
        ),
        _select("device", "Device", [("", "auto (User-Agent)"), *((d, d) for d in DEVICES)], device),
        _field(
            "tz",
            "Time zone",
            _input("tz", form.tz or model.default_tz, list="zones", autocomplete="off", spellcheck="false"),
        ),
        _field(
            "at",
            "Local date-time",
            _input("at", at, type="datetime-local", step="1")
            + f'<div class="chips" role="group" aria-label="Daypart shortcuts">{presets}'
            '<button type="button" class="chip ghost" data-time="">real clock</button></div>',
            "In the zone above; empty uses the real clock",
        ),
        _select(
            "lang",
            "Language",
            [("", "auto (Accept-Language)"), *((loc, loc) for loc in model.locales)],
            form.lang,
        ),
        _select(
            "client",
            "Email client",
            [(c, c) for c in CLIENTS],
            form.client or "browser",
            "Signed override; real proxies are detected from the User-Agent",
        ),
        '<div class="row">'
        + _select("fmt", "Format", [(f, f) for f in FORMATS], form.fmt if form.fmt in FORMATS else "png")
        + _field("dpr", "DPR", _input("dpr", form.dpr or "1", type="number", min="1", max="3", step="0.5"))
        + "</div>",
    ]
    return "".join(out)


def _param_fields(creative: Creative, form: Form) -> str:
    split = splits_on_visitor(creative)
    if not creative.params and not split:
        return ""
    out = ['<h3 class="group">Parameters</h3>']
    for name, spec in creative.params.items():
        out.append(_param_field(name, spec, form.params.get(name)))
    if split:
        name = PARAM_PREFIX + VISITOR_PARAM
        control = _input(name, form.params.get(VISITOR_PARAM, ""), autocomplete="off", spellcheck="false")
        out.append(_field(name, VISITOR_PARAM, control, "visitor id: its bucket picks the split's arm; empty: the default arm"))
    return "".join(out)


def _param_field(name: str, spec: ParamSpec, given: str | None) -> str:
    form_name = PARAM_PREFIX + name
    samples = spec.sample_values()
    first = samples[0] if samples else spec.default
    value = given if given is not None else ("" if first is None else _text(first))
    hint = spec.description or ""
    tags = " · ".join(
        t
        for t in (
            spec.type,
            "merge" if spec.merge else "",
            f"default {_text(spec.default)}" if spec.default is not None else "",
        )
        if t
    )
    label = f"{name}"
    if spec.type == "enum":
        choices = [("", "(absent)"), *((v, v) for v in spec.values or [])]
        return _select(form_name, label, choices, value, f"{tags}. {hint}".strip(" ."))
    if spec.type == "bool":
        checked = {"checked": "checked"} if value.lower() in ("true", "1", "yes", "on") else {}
        control = f'<input type="hidden" name="{html.escape(form_name)}" value="false">' + _input(
            form_name, "true", type="checkbox", **checked
        )
        return _field(form_name, label, control, f"{tags}. {hint}".strip(" ."))
    attrs: dict[str, str] = {"autocomplete": "off", "spellcheck": "false"}
    if spec.type in ("int", "number"):
        attrs["inputmode"] = "numeric" if spec.type == "int" else "decimal"
    if spec.type == "text":
        attrs["maxlength"] = str(spec.max_len * 2)  # let over-long values through for the server to name
    if spec.type == "datetime":
        attrs["placeholder"] = "2026-12-01T09:00:00+01:00"
    if samples:
        attrs["list"] = f"samples-{name}"
    datalist = (
        f'<datalist id="samples-{html.escape(name)}">'
        + "".join(_option(_text(s)) for s in samples)
        + "</datalist>"
        if samples
        else ""
    )
    return _field(
        form_name, label, _input(form_name, value, **attrs) + datalist, f"{tags}. {hint}".strip(" .")
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | time):
        return value.isoformat()
    return str(value)


__all__ = [
    "Form",
    "Studio",
    "chosen_size",
    "daypart_presets",
    "local_to_instant",
    "mentioned_values",
    "render_page",
    "size_label",
]
