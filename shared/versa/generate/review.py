"""Review of generated copy: which slots need it, what serves meanwhile, and the reviewer's decisions.
Pure apart from the CopyStore port it is handed.

A slot requires review when its `generate.review` says so, else its creative's `review`, else the
pack's (default off). With review on, the worker stores a passing generation as `review` (not
served); only `approved` copy serves. Copy is looked up under its generation key AND its lineage key
(brand, creative, slot, locale and vary_by values; `versa.decide.keys.lineage_key`) in one read: an
approval writes the approved text under both, so when a brief, the voice or the model changes (a new
generation key), the lineage's approved text keeps serving until a successor is approved.

States of a generation key (`CopyStatus`):

    pending --worker--> generated            (review off)
    pending --worker--> review --approve--> approved
                               --reject---> rejected    (reason: the reviewer's comment)
    pending --worker--> rejected             (no candidate passed, or the writer failed)
    generated --approve/reject-->            (copy written before review was turned on)

`approved` and a reviewer's `rejected` are final and never expire (a new brief, voice or model makes a
new key and a new generation). Every decision is a conditional write on the item's version, so of two
reviewers deciding the same item one wins and the other gets `DecidedElsewhere`; each is recorded in
the item's `meta["decisions"]` (action, by, at, pack version, comment), and approvals also in the
lineage record's `meta["history"]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from versa.errors import CommentRequired, DecidedElsewhere, ReviewError, UnknownCopy, WrongStatus
from versa.pack.model import PackModel
from versa.ports import CopyItem, CopyStatus, CopyStore

APPROVABLE = frozenset({CopyStatus.review, CopyStatus.generated})
"""Statuses a reviewer may approve or reject."""
MAX_HISTORY = 50
"""Approvals a lineage record remembers (the oldest leave first)."""
LINEAGE_KIND = "lineage"
MAX_COMMENT = 2000


# ------------------------------------------------------------------------------------------ policy


def review_required(model: PackModel, creative_id: str, slot: str) -> bool:
    """Whether `slot`'s generated copy waits for approval: the slot's `generate.review`, else the
    creative's `review`, else the pack's. False for a slot that does not generate."""
    creative = model.creatives.get(creative_id)
    copy_slot = creative.copy_slots.get(slot) if creative else None
    if creative is None or copy_slot is None or copy_slot.generate is None:
        return False
    for choice in (copy_slot.generate.review, creative.review):
        if choice is not None:
            return choice
    return model.review


def visual_review_required(model: PackModel, creative_id: str, slot: str) -> bool:
    """Whether a visual slot's scenes wait for approval: its `generate.review` (on unless turned off;
    always in edit mode, which the pack refuses to turn off). False for a slot that does not generate."""
    creative = model.creatives.get(creative_id)
    visual = creative.visuals.get(slot) if creative else None
    if visual is None or visual.generate is None:
        return False
    return visual.generate.review or visual.generate.mode == "edit"


def serves(item: CopyItem | None, *, review: bool) -> bool:
    """Whether a generation key's (usable) item may serve: any usable item without review, only an
    approved one with it."""
    return item is not None and bool(item.text) and (not review or item.status is CopyStatus.approved)


def serving(gen: CopyItem | None, lineage: CopyItem | None, *, review: bool) -> CopyItem | None:
    """The item whose text a slot shows: the generation key's when it `serves`, else (review on) the
    lineage's approved text, else None (the default)."""
    if serves(gen, review=review):
        return gen
    if review and lineage is not None and lineage.status is CopyStatus.approved and lineage.text:
        return lineage
    return None


# ------------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Verdict:
    """One reviewer's decision on one item, as it is recorded."""

    action: str
    """approve or reject"""
    by: str
    at: datetime
    pack_version: str | None
    comment: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action, "by": self.by, "at": self.at.isoformat(), "pack_version": self.pack_version,
            "comment": self.comment,
        }


def _checked(item: CopyItem | None, key: str, verdict: Verdict) -> CopyItem:
    if item is None:
        raise UnknownCopy(key)
    if item.meta.get("kind") == LINEAGE_KIND:
        raise WrongStatus(key, "a lineage record", verdict.action)
    decisions = item.meta.get("decisions") or []
    if item.status not in APPROVABLE and decisions:
        last = decisions[-1]
        raise DecidedElsewhere(key, item.version, f"{last.get('action')}d by {last.get('by')} at {last.get('at')}")
    if item.status not in APPROVABLE:
        raise WrongStatus(key, item.status.value, verdict.action)
    if len(verdict.comment) > MAX_COMMENT:
        raise ReviewError(f"comment on {key}: {len(verdict.comment)} characters; at most {MAX_COMMENT}")
    return item


def _decided(item: CopyItem, verdict: Verdict, status: CopyStatus, **changes: Any) -> CopyItem:
    decisions = [*item.meta.get("decisions", []), verdict.to_json()]
    meta = {**item.meta, "decisions": decisions, "reviewed_from": item.status.value}
    return replace(item, status=status, version=item.version + 1, expires_at=None, meta=meta, **changes)


def approved(item: CopyItem, verdict: Verdict) -> CopyItem:
    """`item` approved (pure): status approved, never expires, the verdict recorded."""
    return _decided(_checked(item, item.key, verdict), verdict, CopyStatus.approved)


def rejected(item: CopyItem, verdict: Verdict) -> CopyItem:
    """`item` rejected (pure): the comment is the reason, never expires, the verdict recorded."""
    _checked(item, item.key, verdict)
    if not verdict.comment.strip():
        raise CommentRequired(item.key)
    return _decided(item, verdict, CopyStatus.rejected, reason=f"rejected by {verdict.by}: {verdict.comment}")


def lineage_record(gen: CopyItem, previous: CopyItem | None, verdict: Verdict) -> CopyItem:
    """The lineage record after `gen` (approved) became the lineage's copy (pure)."""
    lineage = str(gen.meta.get("lineage") or "")
    entry = {"generation": gen.key, "text": gen.text, **verdict.to_json()}
    history = [*(previous.meta.get("history", []) if previous else []), entry][-MAX_HISTORY:]
    meta = {
        "kind": LINEAGE_KIND, "generation": gen.key, "history": history,
        **{k: gen.meta[k] for k in ("brand", "creative", "slot", "locale", "vary") if k in gen.meta},
    }
    version = previous.version + 1 if previous else 1
    return CopyItem(lineage, CopyStatus.approved, text=gen.text, version=version, meta=meta)


def approve(
    store: CopyStore, key: str, verdict: Verdict, *, expected_version: int | None = None
) -> CopyItem:
    """Approve the stored item `key` (at `expected_version` when given, else as read now) and make its
    text its lineage's approved copy. Raises UnknownCopy, WrongStatus, DecidedElsewhere."""
    item = _read(store, key, expected_version, verdict)
    new = approved(item, verdict)
    if not store.put_result(new, expected_version=item.version):
        raise DecidedElsewhere(key, item.version)
    if new.meta.get("lineage"):
        _write_lineage(store, new, verdict)
    return new


def reject(store: CopyStore, key: str, verdict: Verdict, *, expected_version: int | None = None) -> CopyItem:
    """Reject the stored item `key` with the verdict's comment. Raises UnknownCopy, WrongStatus,
    CommentRequired, DecidedElsewhere."""
    item = _read(store, key, expected_version, verdict)
    new = rejected(item, verdict)
    if not store.put_result(new, expected_version=item.version):
        raise DecidedElsewhere(key, item.version)
    return new


def _read(store: CopyStore, key: str, expected_version: int | None, verdict: Verdict) -> CopyItem:
    item = _checked(store.get(key), key, verdict)
    if expected_version is not None and item.version != expected_version:
        raise DecidedElsewhere(key, expected_version)
    return item


def _write_lineage(store: CopyStore, gen: CopyItem, verdict: Verdict, attempts: int = 5) -> None:
    """Point the lineage record at `gen`, conditionally (a concurrent approval in the same lineage is
    re-read and written over: the later approval wins)."""
    lineage = str(gen.meta["lineage"])
    for _ in range(attempts):
        previous = store.get(lineage)
        record = lineage_record(gen, previous, verdict)
        if previous is None:
            if store.put_new(record, now=verdict.at):
                return
        elif store.put_result(record, expected_version=previous.version):
            return
    raise ReviewError(
        f"copy {gen.key} is approved, but its lineage {lineage} could not be pointed at it after {attempts} "
        "attempts (approvals racing in the same lineage); it serves under its own key, the lineage keeps the other"
    )


def describe(item: CopyItem) -> dict[str, Any]:
    """What a listing shows of one item (JSON-ready)."""
    meta: Mapping[str, Any] = item.meta
    decisions = list(meta.get("decisions", []))
    return {
        "key": item.key,
        "status": item.status.value,
        "version": item.version,
        "brand": item.brand,
        "creative": meta.get("creative"),
        "slot": meta.get("slot"),
        "locale": meta.get("locale"),
        "vary": dict(meta.get("vary") or {}),
        "kind": "visual" if meta.get("kind") == "visual" else "copy",
        "lineage": meta.get("lineage"),
        "text": item.text,
        "reason": item.reason,
        "model": meta.get("model"),
        "expires_at": item.expires_at.isoformat() if item.expires_at else None,
        "decisions": decisions,
    }


__all__ = [
    "APPROVABLE",
    "Verdict",
    "approve",
    "approved",
    "describe",
    "lineage_record",
    "reject",
    "rejected",
    "review_required",
    "serves",
    "serving",
    "visual_review_required",
]
