"""The studio's grid, time travel and "as seen by" (routes under `/studio/`, JSON, all GET).

- `/studio/grid`: the contact sheet of `versa sheet` for the studio's viewer: one cell per combination
  of a matrix (`matrix=country=US,DE device=mobile,desktop`, the same axes `versa sheet --matrix`
  takes) or per distinct design (`all=1`), each with its labels and the studio's signed preview URLs
  (image and debug-scoped decision), on top of the simulated viewer of the form.
- `/studio/moments`: time travel. For the form's zone and local date-time (the real clock when none),
  the daypart it falls in, the starts of the previous and next dayparts, and each moment the creative
  turns on (countdown deadlines, rule window bounds) with a minute before and after, as local
  date-times for the form's `at` field.
- `/studio/seen`: "as seen by". The creative's URL for the form's viewer (its `client` override left
  out, so the client is told from the request as in production) fetched through the real handler with
  the headers a browser, Gmail's image proxy, Apple Mail Privacy Protection's prefetch and Outlook
  desktop send; what each is served (status, type, frames, variant, rules, cache lifetime), the bytes
  as a data URL, and for Outlook, which plays no GIF animation, the first frame it shows.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from versa.authoring.matrix import MatrixError, matrix_cells, parse_matrix, variant_cells
from versa.authoring.sheet import context_text, rules_text, size_text
from versa.context.clients import classify_client, parse_user_agent
from versa.context.headers import parse_asn
from versa.context.timefeatures import daypart_of, next_daypart_boundary, to_utc
from versa.errors import ParamError
from versa.pack.conditions import Window
from versa.pack.model import Creative, Pack, countdown_layers, size_name
from versa.signing.urls import creative_path, decision_path
from versa.web.http import HttpResponse, json_response, problem, problem_for

Dispatch = Callable[[str, Mapping[str, str]], tuple[int, list[tuple[str, str]], bytes]]
"""GET a path (with its query) through the render handler with these request headers."""

ROUTES = ("/studio/grid", "/studio/moments", "/studio/seen")
FORMATS = ("png", "jpg", "webp", "gif", "auto")
"""The formats the studio's format picker offers (`versa.web.studio.FORMATS`)."""
MAX_GRID_CELLS = 60
"""The most thumbnails the studio's grid shows (each is one render)."""


@dataclass(frozen=True)
class Viewer:
    """A client as it fetches an image: what the studio calls it, and the headers it sends (as the
    CDN's origin receives them)."""

    id: str
    label: str
    headers: Mapping[str, str]
    note: str = ""


VIEWERS: tuple[Viewer, ...] = (
    Viewer("browser", "Browser (Chrome on macOS)", {
        "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/131.0.0.0 Safari/537.36",
        "Accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        "Accept-Language": "en-US,en;q=0.9",
        "CloudFront-Viewer-ASN": "7922", "CloudFront-Viewer-Country": "US",
        "CloudFront-Viewer-Time-Zone": "America/New_York",
    }),
    Viewer("gmail", "Gmail's image proxy", {
        "User-Agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "Accept-Encoding": "br,gzip",
        "CloudFront-Viewer-ASN": "15169", "CloudFront-Viewer-Country": "US",
        "CloudFront-Viewer-Time-Zone": "America/Los_Angeles",
    }, "fetches once for every reader and caches: its headers describe Google, not the reader"),
    Viewer("apple_mpp", "Apple Mail Privacy Protection", {
        "User-Agent": "Mozilla/5.0",
        "Accept": "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,"
                  "image/svg+xml,image/*;q=0.8,*/*;q=0.5",
        "Accept-Language": "en-US,en;q=0.9",
        "CloudFront-Viewer-ASN": "714", "CloudFront-Viewer-Country": "US",
        "CloudFront-Viewer-Time-Zone": "America/Los_Angeles",
    }, "prefetches when the mail arrives, maybe hours before it is read"),
    Viewer("outlook", "Outlook desktop (Windows)", {
        "User-Agent": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        "Accept": "image/*",
        "Accept-Language": "en-US",
        "CloudFront-Viewer-ASN": "7922", "CloudFront-Viewer-Country": "US",
        "CloudFront-Viewer-Time-Zone": "America/Chicago",
    }, "shows only the first frame of an animated GIF"),
)  # fmt: skip
"""The clients "as seen by" shows, with the headers each really sends (the events under events/
carry the same ones)."""


class GridForm(Protocol):
    """What the routes read of the studio's form (`versa.web.studio.Form`)."""

    @property
    def brand(self) -> str: ...

    @property
    def creative(self) -> str: ...

    @property
    def fmt(self) -> str: ...

    @property
    def tz(self) -> str: ...

    @property
    def at(self) -> str: ...

    @property
    def params(self) -> Mapping[str, str]: ...


class GridRoutes:
    """The three routes above, on the studio's signing, its form's signed query and its clock."""

    def __init__(
        self,
        sign: Callable[..., str],
        signed_query: Callable[[Pack, Any], dict[str, str]],
        clock: Callable[[], datetime],
        dispatch: Dispatch | None = None,
    ) -> None:
        self.sign = sign
        self.signed_query = signed_query
        self.clock = clock
        self.dispatch = dispatch

    def handle(
        self, path: str, pack: Pack, form: GridForm, size: tuple[int, int], raw_query: str
    ) -> HttpResponse:
        """Answer one of `ROUTES` for the form's creative at `size` (one it declares)."""
        extra = {k: v[-1] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        creative = pack.model.creative(form.creative)
        try:
            if path == "/studio/grid":
                return self.grid(pack, creative, form, size, extra.get("matrix", ""), extra.get("all") == "1")
            if path == "/studio/moments":
                return json_response(self.moments(pack, creative, form))
            return self.seen(pack, creative, form, size)
        except ParamError as exc:
            return problem_for(exc, field=exc.name)

    # ------------------------------------------------------------------------------------- grid

    def grid(
        self, pack: Pack, creative: Creative, form: GridForm, size: tuple[int, int], matrix: str, everything: bool
    ) -> HttpResponse:
        """The cells (see the module docstring), or a 400 naming the bad axis or the cap."""
        base = self.signed_query(pack, form)
        now = self.clock()
        try:
            if everything:
                cells = variant_cells(pack.model, form.creative, sizes=[size], max_cells=MAX_GRID_CELLS)
            else:
                axes = parse_matrix(matrix.split(), pack.model, form.creative)
                cells = matrix_cells(pack.model, form.creative, axes, base, now, size=size, max_cells=MAX_GRID_CELLS)
        except MatrixError as exc:
            return problem(400, "Bad matrix", str(exc), field="matrix")
        fmt = form.fmt if form.fmt in FORMATS else "png"
        sign = self.sign
        out = []
        for cell in cells:
            in_path = None if cell.size == creative.size else cell.size
            query = dict(cell.query)
            if "dpr" in base:  # the studio's render input stays, whatever the cell's viewer
                query["dpr"] = base["dpr"]
            out.append({
                "label": dict(cell.label),
                "context": context_text(cell),
                "rules": rules_text(cell),
                "size_text": size_text(cell),
                "matched": list(cell.decision.matched),
                "design_key": cell.decision.design_key,
                "daypart": cell.context.daypart,
                "size": list(cell.size),
                "image_url": sign(creative_path(pack.brand, form.creative, fmt, in_path), query),
                "decision_url": sign(decision_path(pack.brand, form.creative, in_path), query, scope="debug"),
            })  # fmt: skip
        return json_response({
            "count": len(out),
            "designs": len({c["design_key"] for c in out}),
            "size": size_name(size),
            "all": everything,
            "cells": out,
        })  # fmt: skip

    # ---------------------------------------------------------------------------------- moments

    def moments(self, pack: Pack, creative: Creative, form: GridForm) -> dict[str, Any]:
        """Time travel's steps from the form's moment (see the module docstring)."""
        zone_name = form.tz or pack.model.default_tz
        at = self.signed_query(pack, form).get("at")  # the form's local date-time, in its zone
        now = datetime.fromisoformat(at).astimezone(UTC) if at else self.clock().replace(second=0, microsecond=0)
        zone = ZoneInfo(zone_name)
        dayparts = pack.model.dayparts
        local = now.astimezone(zone)
        starts = [
            to_utc(datetime.combine(local.date() + timedelta(days=d), part.start), zone)
            for d in (-3, -2, -1, 0)
            for part in dayparts
        ]
        current = max(s for s in starts if s <= now)
        previous = max(s for s in starts if s < current)
        following = next_daypart_boundary(now, zone, dayparts)

        def wall(instant: datetime) -> str:
            return instant.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")

        marks: list[dict[str, str]] = []
        for layer in countdown_layers(creative.layers):
            deadline = layer.deadline
            if deadline is None and layer.deadline_param:
                raw = form.params.get(layer.deadline_param, "")
                try:
                    deadline = datetime.fromisoformat(raw) if raw else None
                except ValueError:
                    deadline = None
                deadline = deadline if deadline is not None and deadline.tzinfo is not None else None
            if deadline is not None:
                marks.append(_mark(f"countdown {layer.id or ''}".strip() + " deadline", deadline, wall))
        for rule in creative.rules:
            for node in rule.when.walk():
                if isinstance(node, Window):
                    start, end = node.bounds(zone)
                    for bound, what in ((start, "starts"), (end, "ends")):
                        if bound is not None:
                            marks.append(_mark(f"rule {rule.id} {what}", bound, wall))
        return {
            "zone": zone_name,
            "local": wall(now),
            "weekday": f"{local:%a}",
            "daypart": daypart_of(local.time(), dayparts),
            "previous": {"at": wall(previous), "daypart": daypart_of(previous.astimezone(zone).time(), dayparts)},
            "next": {"at": wall(following), "daypart": daypart_of(following.astimezone(zone).time(), dayparts)},
            "deadlines": marks,
        }

    # ------------------------------------------------------------------------------------- seen

    def seen(self, pack: Pack, creative: Creative, form: GridForm, size: tuple[int, int]) -> HttpResponse:
        """What each of `VIEWERS` is served for the form's viewer (see the module docstring)."""
        if self.dispatch is None:
            return problem(404, "Not found", "'as seen by' needs the local server's handler; this studio has none")
        in_path = None if size == creative.size else size
        query = {k: v for k, v in self.signed_query(pack, form).items() if k != "client"}
        if "at" not in query:  # one moment for every client, so they differ only by who asks
            query["at"] = self.clock().replace(microsecond=0).isoformat()
        fmt = form.fmt if form.fmt in FORMATS else "png"
        sign = self.sign
        image_path = sign(creative_path(pack.brand, form.creative, fmt, in_path), query)
        decision = sign(decision_path(pack.brand, form.creative, in_path), query, scope="debug")
        out = [self._seen_by(viewer, image_path, decision) for viewer in VIEWERS]
        return json_response({"url": image_path, "format": fmt, "clients": out})

    def _seen_by(self, viewer: Viewer, image_path: str, decision_path_: str) -> dict[str, Any]:
        assert self.dispatch is not None
        ua = viewer.headers.get("User-Agent")
        client = classify_client(ua, parse_asn(viewer.headers.get("CloudFront-Viewer-ASN", "")))
        status, headers, body = self.dispatch(image_path, viewer.headers)
        got = {name.lower(): value for name, value in headers}
        content_type = got.get("content-type", "")
        frames, shown = 0, None
        if content_type.startswith("image/"):
            try:
                from PIL import Image

                image = Image.open(io.BytesIO(body))
                frames = int(getattr(image, "n_frames", 1))
                if viewer.id == "outlook" and frames > 1:
                    image.seek(0)
                    first = io.BytesIO()
                    image.convert("RGBA").save(first, format="PNG")
                    shown = _data_url("image/png", first.getvalue())
            except Exception:  # the served bytes are shown as they are
                frames = 0
        d_status, _, d_body = self.dispatch(decision_path_, viewer.headers)
        matched: list[str] = []
        if d_status == 200:
            import json

            matched = list(json.loads(d_body).get("matched", []))
        return {
            "id": viewer.id,
            "label": viewer.label,
            "note": viewer.note,
            "headers": dict(viewer.headers),
            "classified": str(client),
            "device": parse_user_agent(ua)[0],
            "status": status,
            "content_type": content_type,
            "frames": frames,
            "animated": frames > 1,
            "bytes": len(body),
            "variant": got.get("x-versa-variant"),
            "fallback": got.get("x-versa-fallback"),
            "cache_control": got.get("cache-control"),
            "matched": matched,
            "image": _data_url(content_type, body) if content_type.startswith("image/") else None,
            "shown": shown,
        }


def _mark(what: str, instant: datetime, wall: Callable[[datetime], str]) -> dict[str, str]:
    return {
        "what": what,
        "at": wall(instant),
        "before": wall(instant - timedelta(minutes=1)),
        "after": wall(instant + timedelta(minutes=1)),
    }


def _data_url(content_type: str, body: bytes) -> str:
    return f"data:{content_type.split(';')[0]};base64,{base64.b64encode(body).decode('ascii')}"


__all__ = ["MAX_GRID_CELLS", "ROUTES", "VIEWERS", "Dispatch", "GridRoutes", "Viewer"]
