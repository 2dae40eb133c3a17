"""The relevance loop end to end on the local server: `versa serve` over HTTP, a pack with an optimized rule,
an allocation snapshot written into the SQLite relevance store.

- many visitors see the arms of the snapshot's table, each visitor exactly its bucket's arm, so the
  arms come in the table's proportion; responses live no longer than the snapshot;
- the server counts each browser's view as an impression of the arm served (a bot's view is not);
- a click through the page's click URL is credited to the arm the page showed (a bot's is not);
- the optimizer then moves weight toward the arm with more clicks, and the server serves the next epoch.
"""

from __future__ import annotations

import http.client
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from servers import Server, running_versa
from services import signed_query, write_test_keys
from versa.adapters.sqlite_relevance import SQLiteRelevanceStore
from versa.context.visitor import visitor_bucket
from versa.pack.loader import load_pack
from versa.pack.model import Rule
from versa.relevance import Counters, arm_id, policy_for, reallocate
from versa.relevance.buckets import BUCKETS
from versa.relevance.store import scope_of
from versa.render.checks import PACK_CHECKS
from versa.signing.signer import creative_path

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

PACK = """
brand: optco
locales: [en]
default_tz: UTC
tokens:
  colors: {paper: "#ffffff", ink: "#111111"}
  fonts: {display: sans-bold}
creatives:
  hero:
    size: [120, 60]
    link: https://example.com/sale
    template: hero.html
    layers:
      - {type: background, fill: paper}
      - {type: text, slot: cta, box: [10, 20, 100, 20], font: display, size: 12, color: ink}
    copy:
      cta: {default: "Shop now"}
    rules:
      - id: paper-test
        optimize: clicks
        min_sample: 20
        min_share: 0.05
        reallocate: 15m
        arms:
          - {id: white}
          - {id: grey, set: {tokens.colors.paper: "#dddddd"}}
"""
HERO = creative_path("optco", "hero", "png")
PAGE = creative_path("optco", "hero", "html")
SCOPE = scope_of("optco", "hero", "paper-test")
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"}
BOT = {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
GREY_SHARE = 0.7  # of the buckets outside the holdout


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("packs")
    (root / "optco" / "templates").mkdir(parents=True)
    (root / "optco" / "pack.yaml").write_text(PACK, encoding="utf-8")
    (root / "optco" / "templates" / "hero.html").write_text('<a href="{{ click_url }}">{{ img() }}</a>', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_keys(tmp_path_factory.mktemp("serve") / "state")


@pytest.fixture(scope="module")
def served(packs: Path, state: Path) -> Iterator[Server]:
    # a cache of 0 s: the test sees each snapshot it writes at once (the default is a minute)
    with running_versa(packs, state_dir=state, env={"VERSA_ALLOCATION_CACHE_SECONDS": "0"}) as server:
        yield server


class Client:
    """One keep-alive connection to a server."""

    def __init__(self, server: Server) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def get(self, target: str, headers: Mapping[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
        self.conn.request("GET", target, headers=dict(headers or BROWSER))
        resp = self.conn.getresponse()
        return resp, resp.read()


def _url(path: str, vid: str) -> str:
    return f"{path}?{urlencode(signed_query(path, merge={'vid': vid}))}"


def _arm(resp: http.client.HTTPResponse) -> tuple[str, int]:
    """(arm id, epoch) from the served response's X-Versa-Arm (`rule:arm_key:epoch:group`)."""
    _, key, epoch, _ = (resp.getheader("X-Versa-Arm") or "").split(":")
    return arm_id(key), int(epoch)


def test_arms_follow_the_table_views_and_clicks_are_counted_and_the_optimizer_learns(
    packs: Path, state: Path, served: Server
) -> None:
    # GIVEN the rule's first allocation, reshaped: 70% of the optimized buckets grey, the holdout as dealt
    rule: Rule = load_pack(packs / "optco", checks=PACK_CHECKS).model.creative("hero").rules[0]
    policy = policy_for(rule)
    white, grey = policy.arms
    now = datetime.now(UTC)
    first = reallocate(policy, Counters(), None, now, random.Random(7))
    optimized = [b for b in range(BUCKETS) if b not in first.holdout]
    greys = set(optimized[: round(GREY_SHARE * len(optimized))])
    table = tuple(first.table("*")[b] if b in first.holdout else grey if b in greys else white for b in range(BUCKETS))
    snapshot = replace(first, tables={"*": table}, valid_until=now + timedelta(minutes=15))
    store = SQLiteRelevanceStore(state / "relevance.sqlite3")
    assert store.put_snapshot(SCOPE, snapshot)
    client = Client(served)

    # WHEN 600 visitors view the creative (and a bot fetches it too)
    ids = [f"reader-{i:04d}" for i in range(600)]
    shown: dict[str, str] = {}
    for vid in ids:
        resp, _ = client.get(_url(HERO, vid))
        assert resp.status == 200
        shown[vid], epoch = _arm(resp)
        assert epoch == 1
        max_age = int(re.search(r"max-age=(\d+)", resp.getheader("Cache-Control") or "").group(1))  # type: ignore[union-attr]
        assert 0 < max_age <= 15 * 60  # never past the next reallocation
    bot, _ = client.get(_url(HERO, "reader-0000"), BOT)
    assert bot.status == 200

    # THEN each visitor saw exactly its bucket's arm, so the arms come in the table's proportion
    expected = {vid: arm_id(table[visitor_bucket(vid) or 0]) for vid in ids}
    assert shown == expected
    share = sum(1 for a in shown.values() if a == "grey") / len(ids)
    table_share = table.count(grey) / BUCKETS
    assert abs(share - table_share) < 4 * (table_share * (1 - table_share) / len(ids)) ** 0.5
    assert set(shown.values()) == {"white", "grey"}
    # AND every browser view is an impression of the arm served, the bot's is not
    counts = store.counters(SCOPE)
    impressions = {arm_id(arm): 0 for arm in policy.arms}
    for (_, arm, _), n, _ in counts.items():
        impressions[arm_id(arm)] += n
    assert impressions == {a: sum(1 for s in shown.values() if s == a) for a in ("white", "grey")}

    # WHEN 40 white readers click through the page, and a bot follows one of the links
    clickers = [vid for vid in ids if shown[vid] == "white"][:40]
    for vid in clickers:
        resp, body = client.get(_url(PAGE, vid))
        assert resp.status == 200
        href = body.decode().split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert ":white~" in href or "%3Awhite~" in href
        click, _ = client.get(href)
        assert click.status == 302 and click.getheader("Location", "").startswith("https://example.com/sale")
    bot_click, _ = client.get(href, BOT)
    assert bot_click.status == 302

    # THEN the clicks are credited to the white arm, and only the readers'
    clicks = {arm_id(arm): 0 for arm in policy.arms}
    for (_, arm, _), _, c in store.counters(SCOPE).items():
        clicks[arm_id(arm)] += c
    assert clicks == {"white": 40, "grey": 0}

    # WHEN the optimizer runs
    nxt = store.run_optimizer(SCOPE, policy, now + timedelta(minutes=15), random.Random(1))

    # THEN it moves weight to the arm with more clicks (the holdout untouched), and the server serves it
    assert nxt.epoch == 2 and nxt.holdout == snapshot.holdout
    assert nxt.shares("all")[white] > snapshot.shares("all")[white]
    assert all(nxt.table("all")[b] == table[b] for b in snapshot.holdout)
    resp, _ = client.get(_url(HERO, ids[0]))
    assert _arm(resp) == (arm_id(nxt.table("all")[visitor_bucket(ids[0]) or 0]), 2)
    store.close()
