"""`versa warm` end to end: the command run as a process against the local OpenAI-compatible server
(tests/openai_server.py, answering northwind's segment-hero briefs from the fixture), writing the SQLite
copy store `versa serve` uses. Counts and the estimate, the budget refusals, the daily token budget
stopping a run, Ctrl-C and resume, failures grouped in the summary, and `--remote` against moto's SQS
and DynamoDB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

import example_copy as ex
from openai_server import FakeOpenAI, running_openai_server
from servers import versa_command
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.cli.main import main
from versa.generate.warm import CharCounter, Estimate, estimate, warm_requests
from versa.generate.write import prepare
from versa.ports import CopyStatus, GenerationRequest
from versa.render.scene import FontBook

PACK = str(ex.PACKS / ex.BRAND)
KEYS = 24
"""segment-hero: two generated slots x three segments x four locales."""
HANG_GUARD_S = 60


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    return server


def answers(delay: float = 0.0, *, failing_seg: str | None = None) -> list[dict[str, Any]]:
    """The fixture's script; with `failing_seg`, that segment's answers break guardrails (a banned word)."""
    out = []
    for entry in ex.by_prompt():
        if failing_seg and f"seg={failing_seg}" in entry["match"]:
            entry = {**entry, "candidates": ["Cheap gear, guaranteed"]}
        out.append({**entry, "delay": delay} if delay else entry)
    return out


def environment(state: Path, fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERSA_", "OPENAI_"))}
    env.update(VERSA_STATE_DIR=str(state), VERSA_COPY_MODEL=ex.model_name(), OPENAI_BASE_URL=fake.base_url,
               OPENAI_API_KEY="test-key", VERSA_COPY_ATTEMPTS="1", PYTHONUNBUFFERED="1", **extra)
    return env


def warm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*versa_command(), "warm", PACK, ex.CREATIVE, "--tokenizer", "chars", *args], env=env,
        capture_output=True, text=True, timeout=HANG_GUARD_S, stdin=subprocess.DEVNULL,
    )


def stored(state: Path) -> dict[str, Any]:
    """Every key under the segment-hero model with something stored, by key."""
    store = SQLiteCopyStore(state / "copy.sqlite3")
    return {r.key: item for r in requests() if (item := store.get(r.key)) is not None}


def requests() -> list[GenerationRequest]:
    return warm_requests(ex.pack(), ex.CREATIVE, model=ex.model_name())


def cli(args: list[str]) -> int:
    """`versa ARGS` in this process: its exit status (errors exit through SystemExit)."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


def prompts(fake: FakeOpenAI) -> list[str]:
    return [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in fake.requests()]


# -------------------------------------------------------------------------------- count, estimate


def test_dry_run_counts_every_key_and_estimates_them(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN prices per million tokens
    env = environment(tmp_path, fake, VERSA_COPY_PRICE_IN="0.15", VERSA_COPY_PRICE_OUT="0.60")
    # WHEN the plan is asked for
    result = warm(env, "--dry-run", "--json")
    # THEN it names every key the enumeration gives, all to write, with the characters ÷ 4 estimate
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    expected = requests()
    assert out["keys"] == out["todo"] == len(expected) == KEYS
    assert out["by_slot"] == {"segment-hero.headline": 12, "segment-hero.cta": 12}
    assert [GenerationRequest(**r) for r in out["requests"]] == expected
    total = Estimate()
    for request in expected:
        total += estimate(prepare(ex.pack(), request, model=ex.model_name(), fonts=FontBook()).write, CharCounter())
    got = out["estimate"]
    assert (got["prompt_tokens"], got["completion_tokens"]) == (total.prompt_tokens, total.completion_tokens)
    assert got["tokenizer"] == "characters ÷ 4"
    assert got["cost"] == pytest.approx((total.prompt_tokens * 0.15 + total.completion_tokens * 0.60) / 1e6)
    # AND nothing was asked of the model or stored
    assert fake.requests() == [] and stored(tmp_path) == {}


def test_the_text_plan_shows_count_estimate_and_an_unknown_cost_without_prices(tmp_path: Path, fake: FakeOpenAI) -> None:
    result = warm(environment(tmp_path, fake), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"{KEYS} copy key(s)" in result.stdout and f"to write   {KEYS}" in result.stdout
    assert "characters ÷ 4" in result.stdout and "cost       unknown" in result.stdout


def test_the_requests_are_those_the_service_queues_on_a_miss(tmp_path: Path) -> None:
    from collections.abc import Sequence

    from versa.adapters.directory import DirectoryPackStore
    from versa.composition import build_renderer
    from versa.ports import GenerationQueue
    from versa.render.checks import PACK_CHECKS
    from versa.settings import Settings
    from versa.signing.signer import Keyring
    from versa.web.service import RenderService, ServiceConfig

    class Holding(GenerationQueue):
        def __init__(self) -> None:
            self.requests: list[GenerationRequest] = []

        def enqueue(self, requests: Sequence[GenerationRequest]) -> None:
            self.requests.extend(requests)

    # GIVEN the service with the model configured and a queue that keeps what it is handed
    settings = Settings(packs_dir=ex.PACKS, state_dir=tmp_path, require_signature=False, memo_items=0,
                        copy_model=ex.model_name())
    queue = Holding()
    service = RenderService(
        DirectoryPackStore(ex.PACKS, checks=PACK_CHECKS), SQLiteCopyStore(tmp_path / "copy.db"), queue,
        build_renderer(settings), Keyring({"k1": b"k" * 32}, "k1"), config=ServiceConfig.from_settings(settings),
    )
    # WHEN recipients of two segments in two locales open the email
    for seg, locale in (("vip", "es"), ("lapsed", "ar")):
        assert service.image(ex.request(seg, locale)).status == 200
    # THEN each request the service queued is one of warm's, field for field
    warmed = {r.key: r for r in requests()}
    assert len(queue.requests) == 4
    assert all(warmed[q.key] == q for q in queue.requests)


# ---------------------------------------------------------------------------------------- budget


def test_over_budget_refuses_and_generates_nothing(tmp_path: Path, fake: FakeOpenAI) -> None:
    fake.script(ex.model_name(), by_prompt=answers())
    # WHEN the estimate is over --budget
    result = warm(environment(tmp_path, fake), "--budget", "0.0001", "--price-in", "1", "--price-out", "4")
    # THEN it refuses, saying why, and nothing is generated or leased
    assert result.returncode == 1
    assert "is over --budget 0.0001" in result.stderr and "nothing was generated" in result.stderr
    assert fake.requests() == [] and stored(tmp_path) == {}
    # AND a budget without prices, or no answer to the question, refuses too
    no_prices = warm(environment(tmp_path, fake), "--budget", "5")
    assert no_prices.returncode == 1 and "cost is unknown without prices" in no_prices.stderr
    unanswered = warm(environment(tmp_path, fake))
    assert unanswered.returncode == 1 and "pass --yes" in unanswered.stderr
    assert fake.requests() == [] and stored(tmp_path) == {}


def test_the_daily_token_budget_stops_the_run_with_a_summary(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN a daily budget a few generations spend (the server reports 50 prompt tokens and more per call)
    fake.script(ex.model_name(), by_prompt=answers())
    env = environment(tmp_path, fake, VERSA_COPY_DAILY_TOKENS="200")
    # WHEN a run within --budget starts (one at a time)
    result = warm(env, "--budget", "1", "--price-in", "1", "--price-out", "1", "--concurrency", "1")
    # THEN it stops once the brand's budget is spent, says so and how to resume
    assert result.returncode == 1, result.stderr
    assert "daily token budget" in result.stdout and "resume" in result.stdout
    asked = len(fake.requests())
    written = {k: i for k, i in stored(tmp_path).items() if i.status is not CopyStatus.pending}
    assert 0 < asked < KEYS and len(written) == asked
    assert f"generated {asked}" in result.stdout and f"not done {KEYS - asked}" in result.stdout
    # AND the key it was stopped at is not left leased
    leased = [i for i in stored(tmp_path).values() if i.status is CopyStatus.pending and i.expires_at
              and i.expires_at.timestamp() > time.time()]
    assert leased == []


# ------------------------------------------------------------------------------- run and resume


def test_a_run_generates_every_key_and_groups_failures_and_a_second_run_skips_them(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    # GIVEN a model whose answers for the vip segment break a guardrail
    fake.script(ex.model_name(), by_prompt=answers(failing_seg="vip"))
    env = environment(tmp_path, fake)
    # WHEN the pack is warmed
    result = warm(env, "--yes", "--price-in", "0.15", "--price-out", "0.60")
    # THEN every key was asked once: the vip ones stored as rejected, grouped by the guardrail, the rest generated
    assert result.returncode == 0, result.stderr
    assert len(fake.requests()) == KEYS
    items = stored(tmp_path)
    assert len(items) == KEYS
    vip = [i for i in items.values() if i.meta["vary"]["seg"] == "vip"]
    assert {i.status for i in vip} == {CopyStatus.rejected} and len(vip) == 8
    assert all(i.status is CopyStatus.generated for i in items.values() if i not in vip)
    assert "generated 16, rejected 8" in result.stdout
    assert "guardrails: banned" in result.stdout
    spent_in = sum(i.meta["prompt_tokens"] for i in items.values())
    assert f"tokens    {spent_in:,} in" in result.stdout
    # WHEN it is run again
    again = warm(env, "--yes")
    # THEN nothing is asked: the generated keys are done, the rejected ones wait for their hour
    assert again.returncode == 0, again.stderr
    assert len(fake.requests()) == KEYS
    assert "to write   0" in again.stdout and "16 already stored" in again.stdout and "8 rejected" in again.stdout
    # AND --retry-rejected asks again for exactly the failed ones
    fake.script(ex.model_name(), by_prompt=answers())
    retried = warm(env, "--yes", "--retry-rejected")
    assert retried.returncode == 0, retried.stderr
    assert len(fake.requests()) == KEYS + 8
    assert all(i.status is CopyStatus.generated for i in stored(tmp_path).values())


def _wait_for(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not predicate():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)


def test_ctrl_c_stores_what_is_in_flight_and_a_second_run_does_only_the_rest(tmp_path: Path, fake: FakeOpenAI) -> None:
    # GIVEN a slow model
    fake.script(ex.model_name(), by_prompt=answers(delay=0.4))
    env = environment(tmp_path, fake)
    process = subprocess.Popen(
        [*versa_command(), "warm", PACK, ex.CREATIVE, "--tokenizer", "chars", "--yes", "--concurrency", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    try:
        # WHEN it is interrupted a few generations in
        _wait_for(lambda: len(fake.requests()) >= 4)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=HANG_GUARD_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # THEN it stops with 130, having stored every generation it had started, and says how to resume
    assert process.returncode == 130, err
    first = prompts(fake)
    done = [i for i in stored(tmp_path).values() if i.status is CopyStatus.generated]
    assert 4 <= len(done) == len(first) < KEYS
    assert "resume" in out and f"not done {KEYS - len(done)}" in out
    assert "stopping" in err
    # WHEN the same command runs again
    fake.script(ex.model_name(), by_prompt=answers())
    result = warm(env, "--yes")
    # THEN it generates only the rest: the server never sees a prompt twice, and every key is stored
    assert result.returncode == 0, result.stderr
    every = prompts(fake)
    assert len(every) == KEYS and len(set(every)) == KEYS
    assert f"generated {KEYS - len(done)}" in result.stdout and f"{len(done)} already stored" in result.stdout
    assert all(i.status is CopyStatus.generated for i in stored(tmp_path).values())
    assert len(stored(tmp_path)) == KEYS


# ---------------------------------------------------------------------------------------- writers


def test_the_offline_writer_stores_the_defaults_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith(("VERSA_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path))
    assert cli(["warm", PACK, ex.CREATIVE, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "offline writer" in out and f"defaults stored {KEYS}" in out
    store = SQLiteCopyStore(tmp_path / "copy.sqlite3")
    offline = warm_requests(ex.pack(), ex.CREATIVE, model=None)
    items = [store.get(r.key) for r in offline]
    assert all(i is not None and i.status is CopyStatus.generated and i.meta["generated"] is False for i in items)
    fonts = FontBook()
    defaults = [prepare(ex.pack(), r, model=None, fonts=fonts).write.default for r in offline]
    assert [i.text for i in items if i is not None] == defaults


def test_the_kill_switch_and_an_unknown_model_refuse_before_anything(
    tmp_path: Path, fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment(tmp_path, fake).items():
        if name.startswith(("VERSA_", "OPENAI_")):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("VERSA_COPY_KILL_SWITCH", "true")
    assert cli(["warm", PACK, ex.CREATIVE, "--yes"]) == 1
    assert "VERSA_COPY_KILL_SWITCH is on" in capsys.readouterr().err
    monkeypatch.delenv("VERSA_COPY_KILL_SWITCH")
    # (no script for the model: the server does not know it)
    assert cli(["warm", PACK, ex.CREATIVE, "--yes"]) == 1
    assert "does not know this model" in capsys.readouterr().err
    assert [r for r in fake.requests() if "messages" in r] == [] and stored(tmp_path) == {}


# ----------------------------------------------------------------------------------------- remote


def test_remote_leases_in_the_table_and_enqueues_every_request(
    tmp_path: Path, moto_endpoint: str, aws_client: Callable[..., Any], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from versa.adapters.dynamo_copy import DynamoCopyStore, create_table

    # GIVEN the deployed queue and copy table (on moto)
    sqs = aws_client("sqs", moto_endpoint)
    dynamodb = aws_client("dynamodb", moto_endpoint)
    suffix = os.urandom(4).hex()
    queue_url = sqs.create_queue(QueueName=f"warm-{suffix}")["QueueUrl"]
    table = f"warm-copy-{suffix}"
    create_table(dynamodb, table)
    for name in [k for k in os.environ if k.startswith(("VERSA_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("VERSA_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("VERSA_COPY_TABLE", table)
    monkeypatch.setenv("VERSA_AWS_READ_TIMEOUT", "10")
    args = ["warm", PACK, ex.CREATIVE, "--remote", "--queue-url", queue_url, "--model", ex.model_name(),
            "--tokenizer", "chars", "--yes"]
    # WHEN the pack is warmed remotely
    assert cli(args) == 0
    out = capsys.readouterr().out
    # THEN the queue holds exactly the requests, one message each
    bodies: list[dict[str, Any]] = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        bodies += [json.loads(m["Body"]) for m in got]
        if not got and len(bodies) >= KEYS:
            break
    expected = [json.loads(json.dumps(asdict(r))) for r in requests()]
    assert sorted(bodies, key=lambda b: b["key"]) == sorted(expected, key=lambda b: b["key"])
    assert f"enqueued {KEYS}" in out
    # AND each key is leased in the table, where the generator reads it back
    store = DynamoCopyStore(table, client=dynamodb)
    assert {store.get(r.key).status for r in requests()} == {CopyStatus.pending}  # type: ignore[union-attr]
    # WHEN it runs again before the generator has written them
    assert cli(args) == 0
    again = capsys.readouterr().out
    # THEN nothing more is enqueued: every key is leased
    assert "to write   0" in again
    assert sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []) == []


def test_remote_needs_the_queue_the_table_and_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith(("VERSA_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path))
    assert cli(["warm", PACK, "--remote"]) == 1
    assert "--queue-url or VERSA_GENERATION_QUEUE" in capsys.readouterr().err
    assert cli(["warm", PACK, "--remote", "--queue-url", "http://127.0.0.1:1/q"]) == 1
    assert "VERSA_COPY_TABLE" in capsys.readouterr().err
    monkeypatch.setenv("VERSA_COPY_TABLE", "t")
    assert cli(["warm", PACK, "--remote", "--queue-url", "http://127.0.0.1:1/q"]) == 1
    assert "--model or VERSA_COPY_MODEL" in capsys.readouterr().err



def test_the_per_minute_rate_holds_generations_back_without_losing_any(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import versa.cli.warm_run as warm_run
    from versa.cli.warm_run import Events, LocalRun, OnePack
    from versa.composition import build_worker
    from versa.generate.warm import Tally
    from versa.generate.worker import Limits, Spending
    from versa.settings import Settings

    # GIVEN the offline writer, one generation a minute, and a clock that moves 30 s each time it is read
    monkeypatch.setattr(warm_run, "RATE_WAIT", 0.01)
    settings = Settings(state_dir=tmp_path)
    store = SQLiteCopyStore(tmp_path / "copy.sqlite3")
    events = Events()
    worker = build_worker(settings, store, OnePack(ex.pack()), metrics=events, log=events.log)
    clock = iter(range(0, 10_000, 30))
    worker.spending = Spending(Limits(per_minute=1), clock=lambda: float(next(clock)))
    held: list[str] = []
    original = events.count

    def count(name: str, value: float = 1, /, **props: Any) -> None:
        if name == "CopyGenerationStopped":
            held.append(str(props.get("bound")))
        original(name, value, **props)

    monkeypatch.setattr(events, "count", count)
    todo = warm_requests(ex.pack(), ex.CREATIVE, model=None)[:6]
    # WHEN six keys are warmed two at a time
    tally = Tally()
    outcome = LocalRun(worker, store, events, 600, {}, concurrency=2).run(todo, tally)
    # THEN the rate held some back, and every key was still written once, none stopped
    assert held and set(held) == {"rate"}
    assert (tally.defaults, outcome.not_done, outcome.stopped) == (6, 0, "")
    assert all(store.get(r.key).status is CopyStatus.generated for r in todo)  # type: ignore[union-attr]
