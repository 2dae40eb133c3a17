"""Handler benchmark: the Lambda handler in-process, cold starts, and a loopback load run.

    .venv/bin/python bench/bench_handler.py            # full run (about a minute)
    .venv/bin/python bench/bench_handler.py --quick    # smoke run

Every request is for the benchmark card (`bench/packs/card`, served as brand `bench`, the creative `baseline.py` draws by hand),
as an API Gateway REST proxy event with a template-signed URL whose merge parameter `name` the email
tool fills in. Rows (milliseconds):

- `baseline/png`           one render + encode of the card by plain Pillow (`baseline.py`), in-process.
- `handler/png uncached`   `versa.api.lambda_handler` on an event with a name used nowhere else in the
                           run, so nothing comes from the render memo: routing, signature, context,
                           decision, copy lookup (SQLite), render, encode, base64. Ratio vs baseline/png.
- `handler/png memoized`   the same event every call: the render memo answers.
- `handler/png 304`        the same event with its ETag in If-None-Match.
- `cold/baseline`          a fresh `python` process that imports Pillow and Jinja2 and draws and encodes
                           the card once (`baseline.py`), spawn to exit.
- `cold/handler`           a fresh `python` process that imports the Lambda handler module, lets it
                           build the service from settings (the composition root, as on a Lambda cold
                           start) and answers one image event, spawn to exit. Ratio vs cold/baseline.
- `load/...`               `versa serve` on a loopback port, hit by client threads over keep-alive
                           HTTP/1.1 until a request count or a time limit; the row's median is p50 and
                           its notes give requests/s, p99 and errors (which must be zero).

Results go to `bench/results/handler.json` (the harness's rows, plus the cold-start breakdown and the
load runs in full).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import http.client
import itertools
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from baseline import NAMES, BaselineCard, values_for
from harness import RESULTS_DIR, Results, Stats

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CARD_PACK = BENCH / "packs" / "card"
CARD_PATH = "/v1/bench/card.png"
BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
QUIET_ENV = {
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


# ------------------------------------------------------------------------------------- requests


def unique_name(i: int) -> str:
    """Request i's name: the baseline's rotation, then a letter suffix that makes it unique
    (Alex, Sam, ..., Alexa, Sama, ...) so the headline keeps its two lines."""
    name, n = NAMES[i % len(NAMES)], i // len(NAMES)
    suffix = ""
    while n:
        n, r = divmod(n - 1, 26)
        suffix = chr(ord("a") + r) + suffix
    return name + suffix


class Urls:
    """Template-signed card URLs: one signature, any `name` filled in."""

    def __init__(self, keyring: Any) -> None:
        from versa.signing.signer import sign

        self.signature = sign(CARD_PATH, {"name": "*|FNAME|*"}, keyring, merge_names=["name"])

    def query(self, name: str) -> list[tuple[str, str]]:
        return sorted({**self.signature, "name": name}.items())

    def target(self, name: str) -> str:
        return CARD_PATH + "?" + urlencode(self.query(name), quote_via=quote)

    def event(self, name: str, extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
        """An API Gateway REST proxy event for the card with `name` (what /{proxy+} delivers)."""
        from versa.web.server import to_event

        headers = [("User-Agent", BROWSER_UA), ("Accept", "image/png,image/*;q=0.8"),
                   ("CloudFront-Viewer-Country", "US"), ("CloudFront-Viewer-Time-Zone", "America/New_York"),
                   *(extra_headers or {}).items()]
        return to_event("GET", self.target(name), headers, "130.176.212.71")


@dataclass
class Context:
    """What Powertools reads of a Lambda context."""

    aws_request_id: str = "bench"
    function_name: str = "versa-render"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:versa-render"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def state_dir(tmp: Path) -> tuple[Path, Any]:
    """A local state directory with its development keyring (created on first use)."""
    from versa.signing.devkeys import load_or_create_dev_keyring

    state = tmp / "state"
    return state, load_or_create_dev_keyring(state)


def packs_dir(tmp: Path) -> Path:
    """A directory of pack directories holding the card pack under its brand's name (`bench`)."""
    packs = tmp / "packs"
    if not packs.is_dir():
        shutil.copytree(CARD_PACK, packs / "bench")
    return packs


# ----------------------------------------------------------------------------------- in-process


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile)."""
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


@contextlib.contextmanager
def logs_to_devnull() -> Iterator[None]:
    """Logging and metrics stay on (JSON log lines, EMF flushes are formatted and written), but to
    /dev/null rather than the terminal."""
    import logging

    devnull = Path(os.devnull).open("w")  # noqa: SIM115  (closed below)
    saved = sys.stdout, sys.stderr
    streams = [(h, h.stream) for lg in (logging.getLogger(), logging.getLogger("versa"))
               for h in lg.handlers if isinstance(h, logging.StreamHandler)]
    sys.stdout = sys.stderr = devnull
    for handler, _ in streams:
        handler.setStream(devnull)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for handler, stream in streams:
            handler.setStream(stream)
        devnull.close()


def in_process_rows(results: Results, tmp: Path, *, rounds: int) -> dict[str, Any]:
    """Plain Pillow and the handler as deployed (Powertools logging and metrics on, written to
    /dev/null; tracing off as without an X-Ray daemon), interleaved: each round runs every case once in a
    shuffled order (seeded by the round). Times are process CPU time (render threads included), so other processes' load on a
    shared machine is left out; each row's ratio is the median of per-round ratios to baseline/png,
    with quartiles in the notes."""
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from versa.composition import build_service
    from versa.settings import Settings
    from versa.web import api

    state, keyring = state_dir(tmp)
    service = build_service(Settings(packs_dir=packs_dir(tmp), state_dir=state),
                            metrics=api.PowertoolsMetrics(), log=api._log)
    api.configure(lambda: service)
    urls = Urls(keyring)
    context = Context()
    card = BaselineCard()
    counter = itertools.count()

    def call(event: dict[str, Any], status: int = 200) -> dict[str, Any]:
        result = api.lambda_handler(event, context)
        if result["statusCode"] != status:
            raise AssertionError(f"handler answered {result['statusCode']}: {str(result['body'])[:200]}")
        return result

    with logs_to_devnull():
        first = call(urls.event(NAMES[0]))
    nbytes = len(base64.b64decode(first["body"]))
    etag = first["multiValueHeaders"]["ETag"][0]
    same = urls.event(NAMES[0])
    revalidate = urls.event(NAMES[0], {"If-None-Match": etag})
    fresh = iter([urls.event(unique_name(i)) for i in range(8, 8 + rounds + 20)])
    cases: dict[str, Callable[[], Any]] = {
        "baseline/png": lambda: card.render(values_for(next(counter)), "png"),
        "handler/png uncached": lambda: call(next(fresh)),
        "handler/png memoized": lambda: call(same),
        "handler/png 304": lambda: call(revalidate, 304),
    }
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    with logs_to_devnull():
        for name in names:  # warm-up
            cases[name]()
        gc_was = gc.isenabled()
        gc.disable()
        try:
            for r in range(rounds):
                order = names[:]
                random.Random(r).shuffle(order)  # each case follows each other one as often
                for name in order:
                    start = time.process_time_ns()
                    cases[name]()
                    cpu[name].append((time.process_time_ns() - start) / 1e6)
        finally:
            if gc_was:
                gc.enable()
    base = cpu["baseline/png"]
    summary: dict[str, Any] = {}
    notes = {
        "baseline/png": "plain Pillow, level-6 PNG",
        "handler/png uncached": "unique merge name per call: no memo",
        "handler/png memoized": "the same event every call: request memo hit",
        "handler/png 304": "If-None-Match with the ETag",
    }
    for name in names:
        ratios = [a / b for a, b in zip(cpu[name], base, strict=True)]
        q1, q2, q3 = quartiles(ratios)
        summary[name] = {"cpu_ms_median": round(statistics.median(cpu[name]), 4),
                         "ratio_median": round(q2, 4), "ratio_q1": round(q1, 4), "ratio_q3": round(q3, 4)}
        row = results.add(name, stats_of(cpu[name]), nbytes=0 if name.endswith("304") else (
            len(card.render(values_for(0), "png")) if name == "baseline/png" else nbytes),
            baseline="baseline/png",
            notes=f"{notes[name]}; CPU, per-round ratio {q2:.4f} [{q1:.4f}, {q3:.4f}]")
        row.ratio = q2
    return summary


# ---------------------------------------------------------------------------------- cold starts

# Each child reports, with the wall clock, the instant its first image was ready; the parent took the
# instant just before spawning it. Their difference is "fresh process to first image" (interpreter
# start, imports, setup, first render), excluding the exit, which a Lambda container never pays.
COLD_HANDLER = """
import time
t0 = time.perf_counter()
from versa.web.api import lambda_handler  # what functions/render/app.py imports
t1 = time.perf_counter()
import json, sys
from versa.web import api
api.service()  # the composition root, which the first invocation runs
t2 = time.perf_counter()
event = json.loads(sys.argv[1])
class Ctx:
    aws_request_id = "cold"; function_name = "versa-render"; function_version = "$LATEST"
    memory_limit_in_mb = 1024; invoked_function_arn = "arn:aws:lambda:us-east-1:1:function:versa-render"
    def get_remaining_time_in_millis(self): return 30000
result = lambda_handler(event, Ctx())
t3 = time.perf_counter()
ready = time.time()
assert result["statusCode"] == 200 and result["isBase64Encoded"], result["statusCode"]
print(json.dumps({"ready": ready, "import_ms": (t1 - t0) * 1e3, "build_ms": (t2 - t1) * 1e3,
                  "first_image_ms": (t3 - t2) * 1e3}))
"""

COLD_BASELINE = """
import time
t0 = time.perf_counter()
import sys
sys.path.insert(0, sys.argv[1])
from baseline import BaselineCard, values_for
t1 = time.perf_counter()
data = BaselineCard().render(values_for(0), "png")
t2 = time.perf_counter()
ready = time.time()
assert data.startswith(b"\\x89PNG")
import json
print(json.dumps({"ready": ready, "import_ms": (t1 - t0) * 1e3, "first_image_ms": (t2 - t1) * 1e3}))
"""


def cold_run(code: str, arg: str, env: dict[str, str]) -> dict[str, float]:
    """One fresh process: spawn-to-first-image and process wall time (ms), plus its own breakdown."""
    spawned = time.time()
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, arg], env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    wall = (time.perf_counter() - began) * 1e3
    if done.returncode != 0:
        raise RuntimeError(f"cold-start process failed:\n{done.stdout}\n{done.stderr}")
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    ready = report.pop("ready")
    return {"to_first_image_ms": (ready - spawned) * 1e3, "process_wall_ms": wall, **report}


def stats_of(samples: list[float]) -> Stats:
    p90 = statistics.quantiles(samples, n=10, method="inclusive")[8] if len(samples) > 1 else samples[0]
    return Stats(median_ms=statistics.median(samples), p90_ms=p90, min_ms=min(samples), n=len(samples))


def cold_rows(results: Results, tmp: Path, *, runs: int) -> dict[str, Any]:
    state, keyring = state_dir(tmp)
    event = json.dumps(Urls(keyring).event(NAMES[0]))
    env = {**os.environ, **QUIET_ENV, "VERSA_PACKS_DIR": str(packs_dir(tmp)), "VERSA_STATE_DIR": str(state)}
    kinds = {"baseline": (COLD_BASELINE, str(BENCH)), "handler": (COLD_HANDLER, event)}
    samples: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    for i in range(runs + 1):  # interleaved, so drift on a busy machine hits both alike
        for kind, (code, arg) in kinds.items():
            sample = cold_run(code, arg, env)
            if i:  # the first round only warms the OS file cache
                samples[kind].append(sample)
    summary = {
        kind: {key: round(statistics.median(s[key] for s in runs_), 2) for key in runs_[0]}
        for kind, runs_ in samples.items()
    }
    what = {
        "baseline": "fresh python to first image: import Pillow+Jinja2, draw, encode",
        "handler": "fresh python to first image: import handler, build service, one event",
    }
    for kind in kinds:
        extra = ", ".join(f"{k.removesuffix('_ms')} {v:.0f}" for k, v in summary[kind].items()
                          if k != "to_first_image_ms")
        results.add(f"cold/{kind}", stats_of([s["to_first_image_ms"] for s in samples[kind]]),
                    baseline="cold/baseline", notes=f"{what[kind]} (medians, ms: {extra})")
    return summary


# ----------------------------------------------------------------------------------- load run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Load:
    name: str
    requests: int
    errors: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float
    clients: int
    ok_per_s: float = 0.0
    """Requests answered 200 with a PNG, per second."""
    error_kinds: dict[str, int] | None = None
    """Failed requests by kind: `STATUS reason` or the exception (connection refused/reset...)."""


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str, Any]:
    state, keyring = state_dir(tmp)
    port = free_port()
    log = tmp / "serve.log"
    env = {**os.environ, **QUIET_ENV, "VERSA_STATE_DIR": str(state)}
    versa = Path(sys.executable).with_name("versa")
    with log.open("wb") as out:
        process = subprocess.Popen([str(versa), "serve", "--packs", str(packs_dir(tmp)), "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    deadline = time.monotonic() + 60
    while "Versa is serving" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"versa serve did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)
    return process, f"127.0.0.1:{port}", keyring


def load_run(name: str, address: str, targets: Iterator[str], *, clients: int, max_requests: int,
             max_seconds: float) -> Load:
    """`clients` threads, each on one keep-alive connection, until `max_requests` or `max_seconds`."""
    host, port = address.split(":")
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    issued = itertools.count()
    stop_at = time.monotonic() + max_seconds

    def next_target() -> str | None:
        with lock:
            if next(issued) >= max_requests or time.monotonic() >= stop_at:
                return None
            return next(targets)

    def client() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"User-Agent": BROWSER_UA, "Accept": "image/png"}
        try:
            while (target := next_target()) is not None:
                start = time.perf_counter()
                try:
                    conn.request("GET", target, headers=headers)
                    resp = conn.getresponse()
                    body = resp.read()
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors.append(repr(exc))
                    conn.close()
                    conn = http.client.HTTPConnection(host, int(port), timeout=30)
                    continue
                elapsed = (time.perf_counter() - start) * 1e3
                with lock:
                    if resp.status != 200 or not body.startswith(b"\x89PNG"):
                        errors.append(f"{resp.status} {resp.getheader('X-Versa-Fallback')}")
                    latencies.append(elapsed)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, name=f"load-{i}") for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    kinds: dict[str, int] = {}
    for error in errors:
        kinds[error] = kinds.get(error, 0) + 1
    return Load(name, len(latencies), len(errors), round(seconds, 3), round(len(latencies) / seconds, 1),
                round(statistics.median(latencies), 3), round(cuts[89], 3), round(cuts[98], 3),
                round(min(latencies), 3), round(max(latencies), 3), clients,
                round((len(latencies) - len(errors)) / seconds, 1), kinds)


def load_rows(results: Results, tmp: Path, *, quick: bool, clients: list[int]) -> list[Load]:
    process, address, keyring = start_server(tmp)
    urls = Urls(keyring)
    runs: list[Load] = []
    try:
        warm_names = itertools.cycle([urls.target(n) for n in NAMES])
        host, port = address.split(":")
        for name in NAMES:  # render the eight variants once: the run measures a warm container
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("GET", urls.target(name), headers={"User-Agent": BROWSER_UA, "Accept": "image/png"})
            conn.getresponse().read()
            conn.close()
        fresh = (urls.target(unique_name(i)) for i in itertools.count(10_000))
        plans: list[tuple[str, Iterator[str], int, float, str, int]] = []
        for n in clients:
            plans += [
                (f"load/memoized c{n}", warm_names, 300 if quick else 1500, 5 if quick else 10,
                 "8 variants, each already rendered (memo)", n),
                (f"load/uncached c{n}", fresh, 100 if quick else 400, 5 if quick else 10,
                 "a unique merge name per request: every one renders", n),
            ]
        for name, targets, max_requests, max_seconds, what, n in plans:
            run = load_run(name, address, targets, clients=n, max_requests=max_requests,
                           max_seconds=max_seconds)
            runs.append(run)
            stats = Stats(median_ms=run.p50_ms, p90_ms=run.p90_ms, min_ms=run.min_ms, n=run.requests)
            kinds = ", ".join(f"{k} x{v}" for k, v in (run.error_kinds or {}).items())
            results.add(name, stats, notes=f"{run.requests_per_s:.0f} req/s ({run.ok_per_s:.0f} ok), p99 "
                                           f"{run.p99_ms:.1f} ms, {run.errors} errors{f' ({kinds})' if kinds else ''}, "
                                           f"{n} clients; {what}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return runs


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16],
                        help="client threads of each load run (default 1 4 16)")
    parser.add_argument("--rounds", type=int, default=400, help="interleaved in-process rounds (default 400)")
    parser.add_argument("--only", choices=["inproc", "cold", "load"], help="run one part only")
    parser.add_argument("--quick", action="store_true", help="smoke run: few samples, short load run")
    args = parser.parse_args(argv)

    results = Results("handler")
    with tempfile.TemporaryDirectory(prefix="versa-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "inproc").mkdir()
        (tmp / "cold").mkdir()
        (tmp / "load").mkdir()
        inproc = cold = {}
        loads: list[Load] = []
        if args.only in (None, "inproc"):
            inproc = in_process_rows(results, tmp / "inproc", rounds=60 if args.quick else args.rounds)
        if args.only in (None, "cold"):
            cold = cold_rows(results, tmp / "cold", runs=3 if args.quick else 10)
        if args.only in (None, "load"):
            loads = load_rows(results, tmp / "load", quick=args.quick, clients=args.clients)

    print(f"== {results.name} ==")
    print(results.table())
    data = results.to_dict()
    data["in_process_cpu"] = inproc
    data["load_average"] = os.getloadavg()
    data["cold_start_breakdown_ms"] = cold
    data["load"] = [asdict(run) for run in loads]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "handler.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    failed = [run for run in loads if run.errors]
    for run in failed:
        print(f"error: {run.name} had {run.errors} failed requests", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

