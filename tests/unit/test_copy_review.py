"""Review of generated copy, pure: which slots require it, what serves (generation key, then the
lineage's approved text, then the default), and the decisions' state machine and records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from copy_pack import copy_pack_data
from versa.errors import CommentRequired, DecidedElsewhere, UnknownCopy, WrongStatus
from versa.generate.review import (
    APPROVABLE,
    LINEAGE_KIND,
    MAX_HISTORY,
    Verdict,
    approved,
    describe,
    lineage_record,
    rejected,
    review_required,
    serving,
)
from versa.pack.model import PackModel
from versa.ports import CopyItem, CopyStatus

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def model(pack: bool | None = None, creative: bool | None = None, slot: bool | None = None) -> PackModel:
    data: dict[str, Any] = copy_pack_data()
    if pack is not None:
        data["review"] = pack
    if creative is not None:
        data["creatives"]["promo"]["review"] = creative
    if slot is not None:
        data["creatives"]["promo"]["copy"]["headline"]["generate"]["review"] = slot
    return PackModel.model_validate(data)


def item(status: CopyStatus, text: str | None = "Gear up, 20% off", **changes: Any) -> CopyItem:
    meta = {"lineage": "lin1", "slot": "headline", "creative": "promo", "brand": "shop", "locale": "en",
            "vary": {"seg": "vip"}}
    return CopyItem("g1", status, text=text, version=2, brand="shop", meta=meta,
                    expires_at=NOW + timedelta(days=7), **changes)


def verdict(action: str = "approve", comment: str = "", by: str = "ana") -> Verdict:
    return Verdict(action, by, NOW, "v7", comment)


# ------------------------------------------------------------------------------------------ policy


@pytest.mark.parametrize(
    ("pack", "creative", "slot", "expected"),
    [
        (None, None, None, False),  # off unless asked
        (True, None, None, True),  # the pack's default
        (True, False, None, False),  # the creative overrides the pack
        (False, True, None, True),
        (True, True, False, False),  # the slot overrides both
        (None, None, True, True),
    ],
)
def test_the_slot_then_the_creative_then_the_pack_decide_review(
    pack: bool | None, creative: bool | None, slot: bool | None, expected: bool
) -> None:
    assert review_required(model(pack, creative, slot), "promo", "headline") is expected


def test_a_slot_that_does_not_generate_or_does_not_exist_never_requires_review() -> None:
    m = model(pack=True)
    assert review_required(m, "promo", "nope") is False
    assert review_required(m, "nope", "headline") is False


# ---------------------------------------------------------------------------------------- serving


def test_without_review_any_usable_generation_serves() -> None:
    assert serving(item(CopyStatus.generated), None, review=False) == item(CopyStatus.generated)
    assert serving(None, None, review=False) is None


def test_with_review_only_approved_copy_serves_and_the_lineage_stands_in() -> None:
    # GIVEN the lineage's approved text and a newer generation awaiting review
    lineage = CopyItem("lin1", CopyStatus.approved, text="Older approved", meta={"kind": LINEAGE_KIND})
    waiting = item(CopyStatus.review)
    # THEN the lineage's text serves while the new one waits (and a merely generated one too)
    assert serving(waiting, lineage, review=True) is lineage
    assert serving(item(CopyStatus.generated), lineage, review=True) is lineage
    # AND once the generation is approved it serves itself
    assert serving(item(CopyStatus.approved), lineage, review=True) == item(CopyStatus.approved)
    # AND with nothing approved the default serves (None)
    assert serving(waiting, None, review=True) is None
    assert serving(None, CopyItem("lin1", CopyStatus.rejected, reason="x"), review=True) is None


# --------------------------------------------------------------------------------------- decisions


@pytest.mark.parametrize("status", sorted(APPROVABLE))
def test_approval_records_the_verdict_and_never_expires(status: CopyStatus) -> None:
    done = approved(item(status), verdict(comment="on brand"))
    assert done.status is CopyStatus.approved and done.version == 3 and done.expires_at is None
    assert done.text == "Gear up, 20% off"
    assert done.meta["decisions"] == [
        {"action": "approve", "by": "ana", "at": NOW.isoformat(), "pack_version": "v7", "comment": "on brand"}
    ]
    assert done.meta["reviewed_from"] == status.value and done.meta["lineage"] == "lin1"


def test_rejection_needs_a_comment_which_becomes_the_reason() -> None:
    with pytest.raises(CommentRequired, match="g1"):
        rejected(item(CopyStatus.review), verdict("reject", "  "))
    done = rejected(item(CopyStatus.review), verdict("reject", "too pushy", by="bo"))
    assert done.status is CopyStatus.rejected and done.reason == "rejected by bo: too pushy"
    assert done.expires_at is None and done.meta["decisions"][-1]["comment"] == "too pushy"


@pytest.mark.parametrize("status", [CopyStatus.pending, CopyStatus.rejected])
def test_leases_and_failed_generations_cannot_be_decided(status: CopyStatus) -> None:
    with pytest.raises(WrongStatus, match=f"is {status.value}"):
        approved(item(status, text=None, reason="no candidate passed"), verdict())


def test_deciding_what_a_reviewer_already_decided_names_who_did() -> None:
    first = approved(item(CopyStatus.review), verdict(by="ana"))
    with pytest.raises(DecidedElsewhere, match="approved by ana"):
        rejected(first, verdict("reject", "no", by="bo"))


def test_a_lineage_record_cannot_itself_be_decided() -> None:
    record = lineage_record(approved(item(CopyStatus.review), verdict()), None, verdict())
    with pytest.raises(WrongStatus, match="lineage record"):
        approved(record, verdict())


def test_the_lineage_record_points_at_the_latest_approval_and_keeps_a_bounded_history() -> None:
    # GIVEN a first approval
    first = approved(item(CopyStatus.review), verdict(by="ana"))
    record = lineage_record(first, None, verdict(by="ana"))
    assert (record.key, record.status, record.text, record.version) == ("lin1", CopyStatus.approved, first.text, 1)
    assert record.brand is None and record.expires_at is None  # never listed, never expires
    assert record.meta["kind"] == LINEAGE_KIND and record.meta["generation"] == "g1"
    assert record.meta["slot"] == "headline" and record.meta["vary"] == {"seg": "vip"}
    # WHEN successors are approved again and again
    for n in range(MAX_HISTORY + 5):
        successor = CopyItem(f"g{n + 2}", CopyStatus.approved, text=f"Text {n}", meta={"lineage": "lin1"})
        record = lineage_record(successor, record, verdict(by=f"r{n}"))
    # THEN it serves the latest, and remembers the last MAX_HISTORY approvals
    assert record.text == f"Text {MAX_HISTORY + 4}" and record.version == MAX_HISTORY + 6
    assert len(record.meta["history"]) == MAX_HISTORY and record.meta["history"][-1]["by"] == f"r{MAX_HISTORY + 4}"


def test_a_listing_describes_where_the_copy_goes_and_its_decisions() -> None:
    row = describe(approved(item(CopyStatus.review), verdict(comment="ok")))
    assert row["key"] == "g1" and row["status"] == "approved" and row["creative"] == "promo"
    assert row["vary"] == {"seg": "vip"} and row["decisions"][0]["by"] == "ana" and row["expires_at"] is None


def test_unknown_copy_names_the_key() -> None:
    assert "zz" in str(UnknownCopy("zz"))
