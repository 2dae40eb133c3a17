"""Cold start of the built render function, and the warm cost of the AWS adapters.

    make build && .venv/bin/python bench/bench_coldstart.py     # full run (a minute or two)
    .venv/bin/python bench/bench_coldstart.py --quick           # smoke run

Needs the x86_64 build in .aws-sam/build (`make build`, i.e. scripts/sam-build.sh); without it the
script says so and exits 0. A moto server runs in its own process on a loopback port; the benchmark
card (bench/packs/card, brand `bench`) and examples/packs/acme are published to it with
`versa.publish.Publisher`, next to the copy table, the queue and the signing keys in SSM.

Cold rows: a fresh process, spawn to first image (interpreter start, imports, setup, first request),
median of `--runs` rounds after one unmeasured round that warms the OS file cache; the kinds run
interleaved so machine drift hits them alike. Every process is the Python 3.12 the build used, run as
the artifact test runs it (`-I -S -B`: no site-packages, no PYTHON* variables, nothing written, as on
Lambda's read-only /var/task and /opt), the environment the stack sets, adapters pointed at moto:

- `cold/naive`     bench/naive_handler.py: the design card's whole package set imported at module level
                   (aws-lambda-powertools, boto3, pydantic, jinja2, pillow, openai), s3/dynamodb/sqs/ssm
                   clients built at import, then the card drawn by baseline.py, deployed the way SAM's
                   default Python builder builds a layer: no byte code (and /opt is read-only, so Lambda
                   compiles every module again on each cold start). Path: bench/, a copy of the built deps
                   layer without its .pyc files (the same packages), and `openai` installed with
                   `pip --target --no-compile` into .aws-sam/bench/openai.
- `cold/built`     the RenderFunction as `make build` builds it (`import app`, `app.lambda_handler`), with its
                   deps layer (byte-compiled by layers/deps/<arch>/Makefile) and versa layer, fonts from the
                   fonts layer, FriBiDi from its layer: one signed card request, so the composition root
                   reads the keys from SSM and the pack from S3. Target <= 0.5x cold/naive.
- `cold/naive+deps-pyc` cold/naive with byte code: the built (compiled) deps layer and a compiled copy of
                   the openai directory. The honest comparison: what the naive handler gets from the same
                   build fix (cold/built's notes give its ratio to this row too).
- `cold/built-deps-py-only` cold/built with the no-byte-code copy of the deps layer: the function as it was
                   built before the deps layer shipped .pyc files.

Warm rows (`warm/...`): `versa.api.lambda_handler` in this process, once wired to the S3 pack store,
DynamoDB copy store and SQS queue against moto, once to the directory pack store, SQLite copy store and
in-process queue; the same requests: the card with the render memo answering (`memoized`) and with a
unique merge name per call (`uncached`), and acme's winter-sale, whose headline is generated copy still
pending (each request looks the copy up and tries the lease: DynamoDB vs SQLite). Ratio: AWS over local.

Results: bench/results/coldstart.json (rows) and the cold-start breakdowns in coldstart-details.json.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from harness import RESULTS_DIR, Results, Stats, measure

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAM_DIR = ROOT / ".aws-sam"
BUILD = SAM_DIR / "build"
SIDE = SAM_DIR / "bench"
OPENAI_SPEC = "openai>=1.50"  # pyproject's `llm` extra
CARD_PACK = BENCH / "packs" / "card"
ACME_PACK = ROOT / "examples" / "packs" / "acme"
CARD_PATH = "/v1/bench/card.png"
ACME_PATH = "/v1/acme/winter-sale.png"
ORIGIN_SECRET = "bench-origin-secret"
EDGE_IP = "130.176.212.71"
BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
QUIET_ENV = {
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
}

# The child: imports the handler module, answers one event, reports when its first image was ready
# (wall clock, compared with the parent's instant just before spawning) and its own breakdown.
CHILD = r"""
import time
t0 = time.perf_counter()
import json, sys
job = json.loads(sys.argv[1])
sys.path[:0] = job["paths"]
handler = __import__(job["module"])
t1 = time.perf_counter()
class Context:
    function_name = "versa-render"; function_version = "$LATEST"; memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:versa-render"
    aws_request_id = "cold"; log_group_name = "/aws/lambda/versa-render"; log_stream_name = "cold"
    def get_remaining_time_in_millis(self): return 10000
with open(job["event"], encoding="utf-8") as f:
    event = json.load(f)
result = handler.lambda_handler(event, Context())
t2 = time.perf_counter()
ready = time.time()
import base64
png = base64.b64decode(result["body"]) if result.get("isBase64Encoded") else b""
ok = result["statusCode"] == 200 and png.startswith(b"\x89PNG")
with open(job["result"], "w", encoding="utf-8") as f:
    json.dump({"ok": ok, "status": result["statusCode"], "body": "" if ok else str(result.get("body"))[:300],
               "ready": ready, "import_ms": (t1 - t0) * 1e3, "first_request_ms": (t2 - t1) * 1e3,
               "modules": len(sys.modules), "openai": "openai" in sys.modules}, f)
"""


def say(message: str) -> None:
    print(f"bench_coldstart: {message}", flush=True)


# ------------------------------------------------------------------------------------------ setup


def artifact_python() -> str | None:
    """The interpreter of the last build, or None without a complete build."""
    marker = SAM_DIR / "versa-python"
    needed = [BUILD / "RenderFunction" / "app.py", *(BUILD / layer for layer in
              ("DepsLayer/python", "VersaLayer/python", "FontsLayer/fonts", "FribidiLayer/lib"))]
    if not marker.is_file() or not all(p.exists() for p in needed):
        return None
    exe = marker.read_text(encoding="utf-8").strip()
    return exe if Path(exe).is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone server in its own process on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **AWS_ENV},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass(frozen=True)
class Stack:
    endpoint: str
    bucket: str
    table: str
    queue_url: str
    key_parameter: str
    keyring: Any
    origin_secret_id: str = ""


def make_stack(endpoint: str) -> Stack:
    """Bucket with the card and acme packs published, copy table, queue, keyring in SSM, origin secret in
    Secrets Manager (all on moto)."""
    import boto3
    from botocore.config import Config

    from versa.adapters.dynamo_copy import create_table
    from versa.publish.s3 import Publisher
    from versa.signing.devkeys import keyring_to_json
    from versa.signing.signer import Keyring

    assert endpoint.startswith("http://127.0.0.1:")
    config = Config(connect_timeout=2, read_timeout=10, s3={"addressing_style": "path"})
    session = boto3.session.Session()

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint, config=config)

    suffix = uuid.uuid4().hex[:8]
    keyring = Keyring({"bench1": secrets.token_bytes(32)}, "bench1")
    stack = Stack(endpoint, f"versa-bench-{suffix}", f"versa-bench-copy-{suffix}", "",
                  f"/versa/bench-{suffix}/signing-key", keyring)
    s3 = client("s3")
    s3.create_bucket(Bucket=stack.bucket)
    publisher = Publisher(stack.bucket, client=s3)
    with tempfile.TemporaryDirectory(prefix="versa-bench-pack-") as tmp:
        card = Path(tmp) / "bench"  # the card pack's brand is `bench`
        shutil.copytree(CARD_PACK, card)
        publisher.publish(card)
    publisher.publish(ACME_PACK)
    create_table(client("dynamodb"), stack.table)
    queue_url = client("sqs").create_queue(QueueName=f"versa-bench-{suffix}")["QueueUrl"]
    client("ssm").put_parameter(Name=stack.key_parameter, Type="SecureString", Value=keyring_to_json(keyring))
    origin = client("secretsmanager").create_secret(
        Name=f"versa/bench-{suffix}/origin", SecretString=json.dumps({"current": ORIGIN_SECRET})
    )["ARN"]
    return Stack(stack.endpoint, stack.bucket, stack.table, queue_url, stack.key_parameter, keyring, origin)


class Requests:
    """Signed API Gateway events for the card (template-signed: any `name`) and acme's winter-sale."""

    def __init__(self, keyring: Any) -> None:
        from versa.signing.signer import sign

        self.card_signature = sign(CARD_PATH, {"name": "*|FNAME|*"}, keyring, merge_names=["name"])
        self.acme_signature = sign(ACME_PATH, {}, keyring)

    @staticmethod
    def _event(path: str, query: dict[str, str], extra: list[tuple[str, str]]) -> dict[str, Any]:
        from versa.web.server import to_event

        target = path + "?" + urlencode(sorted(query.items()), quote_via=quote)
        headers = [("User-Agent", BROWSER_UA), ("Accept", "image/png,image/*;q=0.8"),
                   ("CloudFront-Viewer-Country", "DE"), ("CloudFront-Viewer-Time-Zone", "Europe/Berlin"),
                   ("CloudFront-Is-Desktop-Viewer", "true"), *extra]
        return to_event("GET", target, headers, EDGE_IP)

    def card(self, name: str, extra: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        return self._event(CARD_PATH, {**self.card_signature, "name": name}, extra or [])

    def acme(self) -> dict[str, Any]:
        return self._event(ACME_PATH, dict(self.acme_signature), [])


# -------------------------------------------------------------------------------------- openai side


def openai_dir(python: str) -> Path:
    """`openai` (and what it needs) installed with `pip --target` for the naive handler, without byte
    code (like a SAM-built layer). Reused while the interpreter is the same."""
    target = SIDE / "openai"
    stamp = SIDE / "openai.stamp"
    want = f"{python} {OPENAI_SPEC}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == want and (target / "openai").is_dir():
        return target
    say(f"installing {OPENAI_SPEC} into {target.relative_to(ROOT)} (pip --target, for the naive handler)")
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                    "--only-binary=:all:", "--target", str(target), OPENAI_SPEC], check=True)
    stamp.write_text(want, encoding="utf-8")
    return target


def source_only_copy(source: Path, dest: Path) -> Path:
    """A copy of a layer directory without byte code: what SAM's Python builder ships."""
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def count_pyc(directory: Path) -> int:
    return sum(1 for _ in directory.rglob("*.pyc"))


def compiled_copy(source: Path, dest: Path, python: str) -> Path:
    """A byte-compiled copy of a layer directory (unchecked-hash .pyc, as layers/versa/Makefile does)."""
    shutil.copytree(source, dest, symlinks=True)
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    str(dest)], check=True, stdout=subprocess.DEVNULL)
    return dest


# -------------------------------------------------------------------------------------------- cold


@dataclass(frozen=True)
class Kind:
    name: str
    module: str
    paths: list[str]
    what: str


def child_env(stack: Stack, home: Path) -> dict[str, str]:
    """The render function's environment (template.yaml), pointed at moto; quiet Powertools."""
    function_dir = BUILD / "RenderFunction"
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "HOME": str(home),
        "LD_LIBRARY_PATH": f"{function_dir}:{function_dir / 'lib'}:{BUILD / 'FribidiLayer' / 'lib'}",
        **AWS_ENV,
        "AWS_LAMBDA_FUNCTION_NAME": "versa-render",
        "VERSA_PACK_BUCKET": stack.bucket,
        "VERSA_PACK_PREFIX": "",
        "VERSA_COPY_TABLE": stack.table,
        "VERSA_GENERATION_QUEUE": stack.queue_url,
        "VERSA_SIGNING_KEY_PARAMETER": stack.key_parameter,
        "VERSA_AWS_ENDPOINT_URL": stack.endpoint,
        "VERSA_FONT_DIRS": str(BUILD / "FontsLayer" / "fonts"),
        "VERSA_ORIGIN_SECRET_ID": stack.origin_secret_id,
        "VERSA_STATE_DIR": str(home / "state"),
        "POWERTOOLS_SERVICE_NAME": "versa",
        "POWERTOOLS_METRICS_NAMESPACE": "Versa",
        **QUIET_ENV,
    }


def cold_run(python: str, kind: Kind, event_file: Path, env: dict[str, str], tmp: Path) -> dict[str, float]:
    result_file = tmp / f"{kind.name.replace('/', '_')}.json"
    result_file.unlink(missing_ok=True)
    job = {"paths": kind.paths, "module": kind.module, "event": str(event_file), "result": str(result_file)}
    spawned = time.time()
    began = time.perf_counter()
    done = subprocess.run([python, "-I", "-S", "-B", "-c", CHILD, json.dumps(job)], env=env,
                          cwd=BUILD / "RenderFunction", capture_output=True, text=True, check=False, timeout=120)
    wall = (time.perf_counter() - began) * 1e3
    if done.returncode != 0 or not result_file.is_file():
        raise RuntimeError(f"{kind.name}: cold process failed ({done.returncode}):\n{done.stderr[-4000:]}")
    report = json.loads(result_file.read_text(encoding="utf-8"))
    if not report["ok"]:
        raise RuntimeError(f"{kind.name}: first request answered {report['status']}: {report['body']}")
    if kind.module == "app" and report["openai"]:
        raise RuntimeError("the built function imported openai")
    return {"to_first_image_ms": (report["ready"] - spawned) * 1e3, "process_wall_ms": wall,
            "import_ms": report["import_ms"], "first_request_ms": report["first_request_ms"],
            "modules": float(report["modules"])}


def stats_of(samples: list[float]) -> Stats:
    p90 = statistics.quantiles(samples, n=10, method="inclusive")[8] if len(samples) > 1 else samples[0]
    return Stats(median_ms=statistics.median(samples), p90_ms=p90, min_ms=min(samples), n=len(samples))


def cold_rows(results: Results, python: str, stack: Stack, tmp: Path, *, runs: int, pyc: bool) -> dict[str, Any]:
    deps = BUILD / "DepsLayer" / "python"  # as `make build` built it: byte-compiled
    versa_layer = BUILD / "VersaLayer" / "python"
    function_dir = BUILD / "RenderFunction"
    side = openai_dir(python)
    deps_pyc = count_pyc(deps)
    if not deps_pyc:
        say("warning: the built deps layer has no byte code (built before layers/deps/<arch>/Makefile?)")
    deps_py_only = source_only_copy(deps, tmp / "deps-py-only")
    kinds = [
        Kind("cold/naive", "naive_handler", [str(BENCH), str(deps_py_only), str(side)],
             "naive handler: whole package set + 4 clients at import, baseline card; deps without byte code"),
        Kind("cold/built", "app", [str(function_dir), str(deps), str(versa_layer)],
             "built RenderFunction + layers as `make build` builds them: SSM keys, S3 pack, signed card request"),
    ]
    if pyc:
        say("byte-compiling a copy of the openai directory")
        side_pyc = compiled_copy(side, tmp / "openai-pyc", python)
        kinds += [
            Kind("cold/naive+deps-pyc", "naive_handler", [str(BENCH), str(deps), str(side_pyc)],
                 "cold/naive with the built (byte-compiled) deps layer and compiled openai"),
            Kind("cold/built-deps-py-only", "app", [str(function_dir), str(deps_py_only), str(versa_layer)],
                 "cold/built with the deps layer's byte code removed (as SAM's Python builder ships it)"),
        ]
    event = Requests(stack.keyring).card("Alex", [("x-versa-origin-secret", ORIGIN_SECRET)])
    event_file = tmp / "card-event.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    (tmp / "home").mkdir(exist_ok=True)
    env = child_env(stack, tmp / "home")
    samples: dict[str, list[dict[str, float]]] = {kind.name: [] for kind in kinds}
    for i in range(runs + 1):  # interleaved; round 0 only warms the file cache (and leases nothing: no copy)
        for kind in kinds:
            sample = cold_run(python, kind, event_file, env, tmp)
            if i:
                samples[kind.name].append(sample)
    if (tmp / "home" / "state").exists():
        raise RuntimeError("the built function wrote local state (Lambda's file system is read-only)")
    summary = {name: {key: round(statistics.median(s[key] for s in runs_), 2) for key in runs_[0]}
               for name, runs_ in samples.items()}
    baselines = {"cold/naive": "cold/naive", "cold/built": "cold/naive",
                 "cold/naive+deps-pyc": "cold/naive+deps-pyc", "cold/built-deps-py-only": "cold/naive"}
    for kind in kinds:
        s = summary[kind.name]
        results.add(kind.name, stats_of([x["to_first_image_ms"] for x in samples[kind.name]]),
                    baseline=baselines[kind.name],
                    notes=f"{kind.what} (medians: import {s['import_ms']:.0f} ms, first request "
                          f"{s['first_request_ms']:.0f} ms, {s['modules']:.0f} modules)")
    if pyc:  # the honest comparison: the built function against the naive handler given byte code too
        built, naive_pyc = (next(r for r in results.rows if r.name == n) for n in ("cold/built", "cold/naive+deps-pyc"))
        built.notes += f"; {built.stats.median_ms / naive_pyc.stats.median_ms:.2f}x cold/naive+deps-pyc"
    return {"runs": runs, "deps_layer_pyc": deps_pyc, "medians": summary, "samples": samples}


# -------------------------------------------------------------------------------------------- warm


@dataclass
class Context:
    aws_request_id: str = "warm"
    function_name: str = "versa-render"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:versa-render"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def unique_names(start: int) -> Iterator[str]:
    """Alex0001, Sam0002, ...: each a merge name used once (the headline keeps its two lines)."""
    first = ("Alex", "Sam", "Priya", "José", "Mei", "Noah", "Zoë", "Kenji")
    for i in itertools.count(start):
        yield f"{first[i % len(first)]}{i:05d}"


def warm_rows(results: Results, stack: Stack, tmp: Path, *, repeat: int, min_time: float) -> None:
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from versa.composition import build_service
    from versa.settings import Settings
    from versa.signing.devkeys import keyring_to_json
    from versa.web import api

    packs = tmp / "packs"
    shutil.copytree(CARD_PACK, packs / "bench")
    shutil.copytree(ACME_PACK, packs / "acme")
    state = tmp / "state"
    state.mkdir()
    (state / "keys.json").write_text(keyring_to_json(stack.keyring), encoding="utf-8")
    services = {
        "local": build_service(Settings(packs_dir=packs, state_dir=state)),
        "aws": build_service(Settings(
            pack_bucket=stack.bucket, copy_table=stack.table, generation_queue=stack.queue_url,
            signing_key_parameter=stack.key_parameter, aws_endpoint_url=stack.endpoint, state_dir=state,
        )),
    }
    requests = Requests(stack.keyring)
    context = Context()
    names = unique_names(1)

    def call(event: dict[str, Any]) -> dict[str, Any]:
        result = api.lambda_handler(event, context)
        if result["statusCode"] != 200 or not base64.b64decode(result["body"]).startswith(b"\x89PNG"):
            raise AssertionError(f"handler answered {result['statusCode']}: {str(result['body'])[:200]}")
        return result

    plans: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
        ("card memoized", lambda: requests.card("Alex"), "the render memo answers"),
        ("card uncached", lambda: requests.card(next(names)), "unique merge name: renders every time"),
        ("acme memoized", requests.acme, "generated copy pending: copy lookup + lease try, memo render"),
    ]
    for label, make, what in plans:
        for backend in ("local", "aws"):
            api.configure(lambda svc=services[backend]: svc)  # type: ignore[misc]
            if label.endswith("memoized"):
                event = make()
                call(event)
                stats = measure(lambda event=event: call(event), repeat=repeat, min_time=min_time)
            else:
                events = iter([make() for _ in range(max(repeat * 20, 600))])
                stats = measure(lambda events=events: call(next(events)), repeat=repeat, min_time=min_time,
                                max_repeat=max(repeat * 20, 600) - 10)
            base = f"warm/local {label}"
            row = results.add(f"warm/{backend} {label}", stats, baseline=base,
                              notes=what if backend == "local" else "")
            if backend == "aws":
                local = next(r for r in results.rows if r.name == base)
                row.notes = (f"{what}; +{stats.median_ms - local.stats.median_ms:.2f} ms per request over "
                             "local (S3 pack store, DynamoDB copy store, SQS queue on moto)")


# -------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured cold starts per kind (default 7)")
    parser.add_argument("--repeat", type=int, default=30, help="minimum warm samples per row (default 30)")
    parser.add_argument("--min-time", type=float, default=1.0, help="minimum seconds per warm row (default 1)")
    parser.add_argument("--no-pyc", action="store_true",
                        help="skip the cold/naive+deps-pyc and cold/built-deps-py-only rows")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 cold runs, few warm samples, only cold/naive and cold/built")
    args = parser.parse_args(argv)

    python = artifact_python()
    if python is None:
        say("skipped: no complete build in .aws-sam/build (run `make build`, i.e. scripts/sam-build.sh, first)")
        return 0
    runs, repeat, min_time = (3, 5, 0.0) if args.quick else (args.runs, args.repeat, args.min_time)
    pyc = not (args.no_pyc or args.quick)

    for name, value in {**AWS_ENV, **QUIET_ENV}.items():
        os.environ[name] = value
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    SIDE.mkdir(parents=True, exist_ok=True)
    built_at = time.strftime("%Y-%m-%d %H:%M", time.localtime((BUILD / "template.yaml").stat().st_mtime))
    say(f"artifact built {built_at}; interpreter {python}")

    results = Results("coldstart")
    details: dict[str, Any] = {}
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="versa-coldstart-") as tmp_name:
        tmp = Path(tmp_name)
        stack = make_stack(endpoint)
        (tmp / "cold").mkdir()
        (tmp / "warm").mkdir()
        details["cold"] = cold_rows(results, python, stack, tmp / "cold", runs=runs, pyc=pyc)
        warm_rows(results, stack, tmp / "warm", repeat=repeat, min_time=min_time)
    results.report()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "coldstart-details.json").write_text(json.dumps(details, indent=2) + "\n", encoding="utf-8")
    built = next(r for r in results.rows if r.name == "cold/built")
    verdict = "meets" if built.ratio is not None and built.ratio <= 0.5 else "MISSES"
    say(f"cold/built / cold/naive = {built.ratio:.2f} ({verdict} the <= 0.5 target)")
    naive_pyc = next((r for r in results.rows if r.name == "cold/naive+deps-pyc"), None)
    if naive_pyc is not None:
        say(f"cold/built / cold/naive+deps-pyc = {built.stats.median_ms / naive_pyc.stats.median_ms:.2f} "
            "(against the naive handler given byte-compiled deps too)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
