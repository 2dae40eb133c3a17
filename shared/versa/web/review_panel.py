"""The studio's review panel, apart from HTTP: what awaits review for a brand, each item with image
URLs that draw its text in the creative at every size (a pending scene: at every size of its aspect
class, through `visual.<slot>`), and the reviewer's decisions.

Previews go through the ordinary image route with the pending text as `copy.<slot>` in a URL signed
with the `preview` scope (`versa.web.service.preview_texts`): only a URL the studio signed can carry
copy; the public path ignores it. Each item's context (the locale and its vary_by values: a declared
parameter as itself, a bucket as its first value, a daypart as a local time in the middle of it) is
signed too, so the preview shows the design that audience gets.

`decide` takes the panel's JSON body and applies each decision through `versa.generate.review` with
the version the panel showed, so a reviewer never overwrites a decision they did not see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from versa.context.resolve import resolve
from versa.decide.rules import context_options, default_text
from versa.decide.rules import decide as decide_creative
from versa.errors import ParamError, ReviewError
from versa.generate import review
from versa.pack.model import Creative, Pack, size_name
from versa.ports import CopyItem, CopyStatus, CopyStore
from versa.signing.urls import creative_path
from versa.web.service import PREVIEW_PREFIX, PREVIEW_SCOPE, PREVIEW_VISUAL_PREFIX

Signer = Callable[..., str]
"""`sign(path, query, scope=...)`: the service's URL signer."""
MAX_LISTED = 200
MAX_DECISIONS = 200
OVERRIDES = ("country", "device", "client", "tz")
"""Context attributes a signed query value may set directly."""


@dataclass(frozen=True)
class DecisionRequest:
    """The panel's JSON body: `{"action": "approve"|"reject", "items": [{"key", "version"}], "comment",
    "by"}`, checked (ParamError names the field, the value and what is allowed)."""

    action: str
    items: tuple[tuple[str, int], ...]
    comment: str
    by: str

    @classmethod
    def parse(cls, body: Any) -> DecisionRequest:
        if not isinstance(body, dict):
            raise ParamError("body", type(body).__name__, 'a JSON object {"action", "items", "comment", "by"}')
        action = body.get("action")
        if action not in ("approve", "reject"):
            raise ParamError("action", action, "approve or reject")
        raw = body.get("items")
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_DECISIONS:
            raise ParamError("items", raw if not isinstance(raw, list) else len(raw),
                             f"a list of 1 to {MAX_DECISIONS} {{key, version}} objects")
        items = []
        for entry in raw:
            key = entry.get("key") if isinstance(entry, dict) else None
            version = entry.get("version") if isinstance(entry, dict) else None
            if not isinstance(key, str) or not key or not isinstance(version, int) or isinstance(version, bool):
                raise ParamError("items", entry, "objects with a string key and an integer version")
            items.append((key, version))
        comment, by = body.get("comment", ""), body.get("by", "")
        if not isinstance(comment, str) or len(comment) > review.MAX_COMMENT:
            raise ParamError("comment", comment, f"text of at most {review.MAX_COMMENT} characters")
        if not isinstance(by, str) or len(by) > 100:
            raise ParamError("by", by, "a name of at most 100 characters")
        return cls(action, tuple(items), comment.strip(), by.strip() or "studio")


def pending(store: CopyStore, pack: Pack, sign: Signer, now: datetime) -> dict[str, Any]:
    """The brand's copy awaiting review, each with what serves now and a preview URL per size."""
    page = store.list_items(pack.brand, status=CopyStatus.review, now=now, limit=MAX_LISTED)
    lineages = [str(item.meta["lineage"]) for item in page.items if item.meta.get("lineage")]
    approved = store.get_many(lineages, now=now) if lineages else {}
    rows = [_row(item, pack, sign, now, approved) for item in page.items]
    return {"brand": pack.brand, "pack_version": pack.version, "items": rows, "count": len(rows),
            "more": page.cursor is not None}


def _row(item: CopyItem, pack: Pack, sign: Signer, now: datetime, approved: Mapping[str, CopyItem]) -> dict[str, Any]:
    row = review.describe(item)
    creative = pack.model.creatives.get(str(row["creative"]))
    slot = str(row["slot"])
    if row["kind"] == "visual":
        return _visual_row(row, item, pack, sign, now, approved)
    if creative is None or slot not in creative.copy_slots:
        row.update(previews=[], serving=None, note="the current pack no longer has this creative or slot")
        return row
    lineage = approved.get(str(row["lineage"]))
    locale = str(row["locale"])
    row["serving"] = lineage.text if lineage is not None and lineage.text else default_text(
        creative.copy_slots[slot].default, locale, pack.model.default_locale
    )
    row["serving_source"] = "approved" if lineage is not None and lineage.text else "default"
    query = {**preview_query(pack, creative, slot, locale, row["vary"], now), PREVIEW_PREFIX + slot: item.text or ""}
    row["previews"] = [
        {
            "size": size_name(size),
            "width": size[0],
            "height": size[1],
            "url": sign(
                creative_path(pack.brand, str(row["creative"]), "png", None if size == creative.size else size),
                query, scope=PREVIEW_SCOPE,
            ),
        }
        for size in creative.all_sizes
    ]
    return row


def _visual_row(row: dict[str, Any], item: CopyItem, pack: Pack, sign: Signer, now: datetime,
                approved: Mapping[str, CopyItem]) -> dict[str, Any]:
    """A pending scene: what serves now (the lineage's approved scene or the default image) and a preview
    of the creative with the scene in place at each size of the scene's aspect class."""
    creative = pack.model.creatives.get(str(row["creative"]))
    slot = str(row["slot"])
    if creative is None or slot not in creative.visuals:
        row.update(previews=[], serving=None, note="the current pack no longer has this creative or visual slot")
        return row
    lineage = approved.get(str(row["lineage"]))
    row["serving"] = lineage.text if lineage is not None and lineage.text else creative.visuals[slot].default
    row["serving_source"] = "approved" if lineage is not None and lineage.text else "default"
    aspect = row["vary"].get("aspect")
    query = {**preview_query(pack, creative, slot, pack.model.default_locale, row["vary"], now),
             PREVIEW_VISUAL_PREFIX + slot: item.text or ""}
    ctx = resolve({}, query, now, context_options(pack.model, str(row["creative"]), signed_names=frozenset(query)))
    row["previews"] = [
        {
            "size": size_name(size),
            "width": size[0],
            "height": size[1],
            "url": sign(
                creative_path(pack.brand, str(row["creative"]), "png", None if size == creative.size else size),
                query, scope=PREVIEW_SCOPE,
            ),
        }
        for size in creative.all_sizes
        if (ref := decide_creative(pack.model, str(row["creative"]), ctx, size=size).visuals.get(slot)) is not None
        and ref.vary.get("aspect") == aspect
    ]
    return row


def preview_query(
    pack: Pack, creative: Creative, slot: str, locale: str, vary: Mapping[str, Any], now: datetime
) -> dict[str, str]:
    """A signed context that reaches this slot's audience (a copy slot, else a visual slot): the locale,
    and each vary_by value as a parameter, a context override (a bucket's first value) or, for a daypart,
    a local time within it."""
    query = {"lang": locale}
    copy_slot = creative.copy_slots.get(slot)
    visual = creative.visuals.get(slot)
    spec = copy_slot.generate if copy_slot is not None else (visual.generate if visual is not None else None)
    buckets = spec.vary_by if spec is not None else {}
    for attr, value in vary.items():
        if attr in ("lang", "aspect"):
            continue
        if attr in creative.params:
            query[attr] = str(value)
            continue
        bucket = buckets.get(attr)
        concrete: str | None = str(value)
        if isinstance(bucket, dict):
            members = bucket.get(str(value))
            concrete = str(members[0]) if isinstance(members, list) and members else None
        if concrete is None:
            continue
        if attr in OVERRIDES:
            query[attr] = concrete.upper() if attr == "country" else concrete
        elif attr == "daypart":
            at = daypart_instant(pack, concrete, query.get("tz") or pack.model.default_tz, now)
            if at is not None:
                query["at"] = at
    return query


def daypart_instant(pack: Pack, name: str, zone: str, now: datetime) -> str | None:
    """An instant today (in `zone`) in the middle of the daypart `name`, ISO 8601; None if unknown."""
    parts = list(pack.model.dayparts)
    for index, part in enumerate(parts):
        if part.name != name:
            continue
        tz = ZoneInfo(zone)
        day = now.astimezone(tz).date()
        start = datetime.combine(day, part.start, tz)
        end = datetime.combine(day, parts[(index + 1) % len(parts)].start, tz)
        if end <= start:
            end += timedelta(days=1)
        return (start + (end - start) / 2).isoformat()
    return None


def decide(store: CopyStore, pack_version: Callable[[str | None], str | None], request: DecisionRequest,
           now: datetime) -> dict[str, Any]:
    """Each decision applied (approve needs nothing more; reject needs the comment); one result per
    item, `ok` or the error (unknown copy, decided elsewhere, wrong status) with its HTTP status."""
    from versa.web.http import problem_kind

    results = []
    for key, version in request.items:
        try:
            current = store.get(key)
            verdict = review.Verdict(request.action, request.by, now, pack_version(current.brand if current else None),
                                     request.comment)
            act = review.approve if request.action == "approve" else review.reject
            done = act(store, key, verdict, expected_version=version)
        except ReviewError as exc:
            kind = problem_kind(exc)
            results.append({"key": key, "ok": False, "status": kind.status, "title": kind.title, "detail": str(exc)})
            continue
        results.append({"key": key, "ok": True, "copy_status": done.status.value, "version": done.version})
    return {"action": request.action, "results": results, "decided": sum(r["ok"] for r in results)}


__all__ = ["DecisionRequest", "daypart_instant", "decide", "pending", "preview_query"]
