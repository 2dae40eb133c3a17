"""HTML output: a pack's Jinja2 template rendered in the sandbox, with helpers for image markup.

Templates run in `versa.pack.sandbox.BoundedSandbox` with autoescape and can read only their own pack's
`templates/` folder. They receive the copy, the resolved tokens, the decision, the link and alt text,
and helpers that produce `<picture>`/`srcset` and email-safe `<img>` markup whose URLs are signed by the
core's URL builder, so the images they point at reproduce this page's context exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateError, TemplateNotFound, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from versa.context.locale import comma, resolve_digits
from versa.decide.rules import Decision
from versa.decide.variants import splits_on_visitor
from versa.errors import RenderError, UnknownCreative
from versa.pack.assets import AssetError, read_pack_file
from versa.pack.links import is_allowed_link
from versa.pack.model import Creative, Pack
from versa.pack.sandbox import BoundedSandbox
from versa.signing.signer import RESERVED_PARAMS, VISITOR_PARAM, Keyring, signed_url
from versa.signing.urls import click_path, creative_path

PICTURE_FORMATS = ("avif", "webp")
MAX_PAGE_CHARS = 512 * 1024
"""A rendered page longer than this is a failed template (the fallback fragment is served)."""


MAX_TEMPLATE_BYTES = 512 * 1024
"""A template (or anything it includes, imports or extends) larger than this is refused."""


class PackTemplateLoader(BaseLoader):
    """Templates from a pack's `templates/` folder, each read as a regular file inside the pack: a
    symbolic or hard link, a device, a FIFO or a socket is refused (a TemplateNotFound naming the file
    and what it is), for the page's template and for every `{% include %}`, `{% import %}` and
    `{% extends %}` alike, and no link is followed between the check and the read."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        ref = f"templates/{template}"
        try:
            source = read_pack_file(self.root, ref, max_bytes=MAX_TEMPLATE_BYTES).decode("utf-8")
        except (AssetError, OSError, UnicodeDecodeError) as exc:
            raise TemplateNotFound(template, f"{ref}: {exc}") from None
        return source, None, lambda: True  # immutable within a pack version


@lru_cache(maxsize=64)
def _environment(root: str, version: str) -> SandboxedEnvironment:
    """One sandbox per pack version (templates are immutable within a version)."""
    return BoundedSandbox(
        loader=PackTemplateLoader(root), autoescape=True, undefined=StrictUndefined, auto_reload=False
    )


_ALT_ENV = BoundedSandbox(autoescape=False, undefined=StrictUndefined)
"""Alt text is an attribute value escaped by the markup helpers, so it is rendered unescaped."""


@lru_cache(maxsize=256)
def _alt_template(source: str) -> Template:
    return _ALT_ENV.from_string(source)


def unsafe_accesses(source: str) -> Iterator[str]:
    """Attribute or item names a template reads that start with an underscore (sandbox escape attempts)."""
    env = SandboxedEnvironment(autoescape=True)
    tree = env.parse(source)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            yield name


def _carried(request: Any, creative: Creative) -> dict[str, str]:
    """The request's context parameters, to sign into the image URLs of the page; a split creative's
    URLs carry `vid` (the page's own, blanked by the edge, else empty: the cookie or the default arm)."""
    carried = {k: v for k, v in request.query.items() if k not in RESERVED_PARAMS and k not in ("w", "dpr")}
    if splits_on_visitor(creative):
        carried.setdefault(VISITOR_PARAM, "")
    return carried


def page_expiry(request: Any) -> datetime | None:
    """The page URL's own expiry (`exp`, unix seconds), which every URL the page derives carries too,
    so no image or click link outlives the page that holds it; None when the page does not expire."""
    exp = str(request.query.get("exp", ""))
    if not (exp.isascii() and exp.isdigit()) or len(exp) > 12:
        return None
    return datetime.fromtimestamp(int(exp), tz=UTC)


class HtmlPages:
    """Renders creatives' HTML templates (and their fallback fragment) with image URLs signed by
    `keyring`, prefixed with `base_url`."""

    def __init__(self, keyring: Keyring, *, base_url: str = "") -> None:
        self.keyring = keyring
        self.base_url = base_url.rstrip("/")

    def render_html(
        self, pack: Pack, decision: Decision, ctx: Any, texts: Mapping[str, str], request: Any,
        *, click_query: Mapping[str, str] | None = None,
    ) -> str:
        """The creative's template rendered for `decision`; raises UnknownCreative when the creative has
        no template and RenderError when the template (or its alt text) fails. `click_query` is signed
        into the click URL besides the page's context (the service puts the arms the page shows there,
        so the click is credited to them)."""
        creative = pack.model.creative(decision.creative)
        if creative.template is None:
            raise UnknownCreative(pack.brand, f"{decision.creative}.html (the creative has no template)")
        env = _environment(str(pack.root), pack.version)
        carried = _carried(request, creative)
        expires = page_expiry(request)
        try:
            alt = _alt(creative.alt, decision.locale, pack.model.default_locale, texts)
        except TemplateError as exc:
            raise RenderError(f"alt text of {decision.creative}: {exc}") from exc
        width, height = decision.size
        sized = None if decision.size == creative.size else decision.size
        allowed_widths = creative.widths_at(decision.size)

        def url(ext: str, w: int | None = None) -> str:
            query = dict(carried)
            if w is not None and w != width:
                query["w"] = str(w)
            return self.base_url + signed_url(
                creative_path(pack.brand, decision.creative, ext, sized), query, self.keyring, expires=expires
            )

        def img(alt: str = alt, width: int = width, fmt: str = "png") -> Markup:
            h = round(height * width / decision.size[0])
            return Markup(
                f'<img src="{escape(url(fmt, width if width in allowed_widths else None))}" '
                f'width="{width}" height="{h}" alt="{escape(alt)}" '
                'style="display:block;border:0;outline:none;max-width:100%;height:auto">'
            )

        def picture(alt: str = alt, sizes: str = f"{width}px") -> Markup:
            widths = allowed_widths
            allowed = set(pack.model.render.formats)
            sources = []
            for fmt in PICTURE_FORMATS:
                if fmt in allowed:
                    srcset = ", ".join(f"{escape(url(fmt, w))} {w}w" for w in widths)
                    sources.append(f'<source type="image/{fmt}" srcset="{srcset}" sizes="{escape(sizes)}">')
            fallback_srcset = ", ".join(f"{escape(url('png', w))} {w}w" for w in widths)
            return Markup(
                "<picture>" + "".join(sources)
                + f'<img src="{escape(url("png"))}" srcset="{fallback_srcset}" sizes="{escape(sizes)}" '
                f'width="{width}" height="{height}" alt="{escape(alt)}" style="max-width:100%;height:auto">'
                + "</picture>"
            )

        click = self.base_url + signed_url(
            click_path(pack.brand, decision.creative), {**carried, **(click_query or {})}, self.keyring, expires=expires
        )
        variables = {
            "brand": pack.brand,
            "creative": decision.creative,
            "locale": decision.locale,
            "lang": decision.locale,
            "comma": comma(decision.locale),
            "_digits": resolve_digits(creative.digits, pack.model.render.digits, locale=decision.locale),
            "copy": dict(texts),
            "tokens": {"colors": dict(decision.colors), "fonts": dict(decision.fonts), "spacing": dict(decision.spacing)},
            "decision": {"design_key": decision.design_key, "matched": list(decision.matched), "locale": decision.locale},
            "link": decision.link or "",
            "click_url": click,
            "alt": alt,
            "params": dict(ctx.params),
            "picture": picture,
            "img": img,
            "image_url": url,
        }
        try:
            template = env.get_template(creative.template)
            page = template.render(variables)
        except TemplateError as exc:
            raise RenderError(f"template {creative.template}: {exc}") from exc
        except (ArithmeticError, MemoryError, RecursionError, TypeError, ValueError, LookupError) as exc:
            # The sandbox refuses some work with plain exceptions (a range over MAX_RANGE is an
            # OverflowError), and a pack's template can divide by zero or index past a list: all are
            # the template failing, answered with the fallback fragment, never a 5xx.
            raise RenderError(f"template {creative.template}: {type(exc).__name__}: {exc}") from exc
        if len(page) > MAX_PAGE_CHARS:
            raise RenderError(f"template {creative.template} rendered {len(page)} characters, over {MAX_PAGE_CHARS}")
        return page

    def fallback_html(self, pack: Pack, decision: Decision, request: Any) -> str:
        """A plain fragment for when the template fails: the creative's PNG route, signed like the page."""
        creative = pack.model.creative(decision.creative)
        sized = None if decision.size == creative.size else decision.size
        url = self.base_url + signed_url(
            creative_path(pack.brand, decision.creative, "png", sized), _carried(request, creative), self.keyring,
            expires=page_expiry(request),
        )
        width, height = decision.size
        link = decision.link if is_allowed_link(decision.link, allow_http=pack.model.allow_http_links) else "#"
        return (
            f'<a href="{escape(link)}"><img src="{escape(url)}" width="{width}" '
            f'height="{height}" alt="" style="display:block;border:0;max-width:100%;height:auto"></a>'
        )


def _alt(alt: Mapping[str, str], locale: str, default_locale: str, texts: Mapping[str, str]) -> str:
    """The creative's alt text in `locale` (else the default locale's), rendered with the copy; without
    one, the first copy text."""
    source = alt.get(locale) or alt.get(default_locale)
    if not source:
        return next(iter(texts.values()), "")
    return _alt_template(source).render(**texts)
