"""`versa serve` stops its copy worker cleanly on SIGTERM: queued generations are dropped (their leases
left to expire), a generation that is still running when the grace period ends is abandoned, the
process exits with status 0 and says so in its log. The model is the local OpenAI-compatible server,
scripted not to answer in time."""

from __future__ import annotations

import signal
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_copy_race import _race_pack

from openai_server import FakeOpenAI, running_openai_server
from servers import running_versa
from versa.adapters.local_queue import SHUTDOWN_GRACE_SECONDS

MODEL = "slow-model"
WAIT_S = 30.0
"""Bound on waiting for the server to reach a point (a hang, not a speed check)."""
EXIT_BOUND_S = SHUTDOWN_GRACE_SECONDS + 25.0
"""The grace period plus a generous margin for the rest of the stop on a loaded machine."""
PATH = "/v1/shop/promo.png?at=2026-12-01T20:00:00Z&seg="


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


def _get(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return dict(response.headers)


@pytest.mark.slow
def test_sigterm_drops_queued_generations_and_abandons_a_running_one(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN `versa serve` whose model takes far longer than the grace period to answer
    fake.script(MODEL, {"candidates": ["VIP evenings: 20% off"], "delay": 120.0})
    packs, state = tmp_path / "packs", tmp_path / "state"
    _race_pack(packs)
    env = {"VERSA_COPY_MODEL": MODEL, "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key",
           "VERSA_COPY_ATTEMPTS": "1", "VERSA_COPY_TIMEOUT": "300"}
    with running_versa(packs, state_dir=state, extra_args=["--no-signatures"], env=env) as served:
        # AND a generation running (the model has been asked) with two more queued behind it
        assert _get(served.url + PATH + "vip").get("X-Versa-Copy") == "default"
        deadline = time.monotonic() + WAIT_S
        while not fake.requests():
            assert time.monotonic() < deadline, served.log_text()
            time.sleep(0.05)
        for seg in ("lapsed", "outdoor"):
            assert _get(served.url + PATH + seg).get("X-Versa-Copy") == "default"
        # WHEN the process is sent SIGTERM
        served.process.send_signal(signal.SIGTERM)
        # THEN it exits by itself, cleanly, within the grace period and a margin (nothing hangs)
        assert served.process.wait(timeout=EXIT_BOUND_S) == 0
        log = served.log_text()
    # AND its log says what was left undone and what becomes of it
    assert "versa: stopping" in log
    assert ("versa: copy worker stopped: 2 queued generation(s) dropped, a running generation was "
            "abandoned; their leases expire within 600 s and a later miss asks again") in log
    # AND the dropped generations never reached the model; all three keys keep their pending lease
    assert len(fake.requests()) == 1
    with sqlite3.connect(state / "copy.sqlite3") as db:
        assert db.execute("SELECT status, COUNT(*) FROM copy_items GROUP BY status").fetchall() == [("pending", 3)]
