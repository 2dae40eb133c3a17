"""Impressions from real-time log records: what counts as a view, and sampled counts scaled."""

from __future__ import annotations

import pytest

from versa.context.clients import EmailClient, classify_client
from versa.relevance import ArmCounts
from versa.relevance.impressions import REALTIME_FIELDS, ImpressionTally, is_view, parse_record

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def test_a_record_reads_by_the_configured_field_order() -> None:
    line = "\t".join(["1764590400.123", "200", "/v1/acme/winter-sale.png", "-", "DE", CHROME, "3320", "-", "r1"]) + "\n"
    record = parse_record(line)
    assert list(record) == list(REALTIME_FIELDS)
    assert record["cs-uri-query"] is None and record["c-country"] == "DE" and record["asn"] == "3320"
    with pytest.raises(ValueError, match=r"has 2 values, expected 9 \(timestamp, sc-status"):
        parse_record("1\t2")


@pytest.mark.parametrize(
    ("status", "user_agent", "asn", "counts"),
    [
        (200, CHROME, 3320, True),  # a reader's browser
        (304, CHROME, 3320, True),  # the browser revalidating its copy: still a view
        (404, CHROME, 3320, False),  # no image shown
        (200, "Mozilla/5.0", 714, False),  # Apple Mail Privacy Protection prefetch
        (200, "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", 15169, False),
        (200, "Googlebot-Image/1.0", None, False),  # a crawler
        (200, "python-requests/2.32", None, False),  # an HTTP library
    ],
)
def test_only_browsers_successful_responses_are_views(status: int, user_agent: str, asn: int | None, counts: bool) -> None:
    assert is_view(status, classify_client(user_agent, asn)) is counts


def test_sampled_views_are_scaled_by_the_rate() -> None:
    # GIVEN a 10% sampled log with 7 views of one arm, 1 of another, and two proxy fetches
    tally = ImpressionTally(rate=10)
    for _ in range(7):
        tally.add("acme/winter-sale/t", "all", "a~1", "optimized", status=200, client=EmailClient.browser)
    tally.add("acme/winter-sale/t", "all", "b~2", "holdout", status=200, client="browser")
    for _ in range(2):
        tally.add("acme/winter-sale/t", "all", "a~1", "optimized", status=200, client=EmailClient.apple_mpp)
    # WHEN the batch is taken
    [(scope, counters)] = tally.take().items()
    # THEN each sampled view stands for ten, proxies count for nothing, and the tally starts over
    assert scope == "acme/winter-sale/t"
    assert counters.arm("all", "a~1") == ArmCounts(70, 0)
    assert counters.arm("all", "b~2", ["holdout"]) == ArmCounts(10, 0)
    assert tally.skipped == 2
    assert tally.take() == {}
    with pytest.raises(ValueError, match=r"sampling rate 0: allowed a whole percentage 1\.\.100"):
        ImpressionTally(rate=0)


def test_a_late_record_is_replayed_under_the_epoch_in_force_when_it_was_served() -> None:
    from datetime import UTC, datetime, timedelta

    from versa.relevance.replay import snapshot_at
    from versa.relevance.snapshot import AllocationSnapshot

    t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
    epochs = {n: AllocationSnapshot(rule="r", epoch=n, valid_until=t0 + timedelta(hours=n + 1), arms=("a",),
                                    holdout=frozenset(), tables={"*": ("a",) * 100}) for n in range(4)}
    latest = epochs[3]  # epoch n is in force from (12 + n):00 to (13 + n):00
    assert snapshot_at(latest, epochs.get, t0 + timedelta(hours=3, minutes=30)) is epochs[3]
    assert snapshot_at(latest, epochs.get, t0 + timedelta(hours=2, minutes=59)) is epochs[2]
    assert snapshot_at(latest, epochs.get, t0 + timedelta(hours=1)) is epochs[1]
    assert snapshot_at(latest, epochs.get, t0 - timedelta(hours=5)) is epochs[0]
    assert snapshot_at(latest, epochs.get, t0 - timedelta(hours=5), max_back=1) is epochs[2]
    assert snapshot_at(None, epochs.get, t0) is None
