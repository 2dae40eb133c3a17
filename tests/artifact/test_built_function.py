"""The built artifact: `sam build` output (this machine's CPU) run the way Lambda runs it, against moto.

A session fixture builds `.aws-sam/build/` with `scripts/sam-build.sh --if-stale` (SAM CLI in its own
venv; a no-op when the inputs have not changed since the last build). Then, per sample event, a fresh
Python 3.12 (the interpreter the build used) runs with `-I -S -B`: isolated (no PYTHON* variables, no
user site), no site-packages at all, and no byte code written into the artifact (Lambda's /var/task and
/opt are read-only). Its `sys.path` is the stdlib plus only the function's directory and each layer's
`python/` directory, as Lambda's /var/task and /opt/python; fonts come from the fonts layer
(`VERSA_FONT_DIRS`) and `LD_LIBRARY_PATH` holds the FriBiDi layer's `lib/` (Lambda's /opt/lib). The
environment is the template's (bucket, table, queue, signing-key parameter, origin secret id) pointed at
the session's moto server, where the example packs are published with `versa.publish.Publisher`, the copy
table and the queue exist, the test keyring is an SSM SecureString and the origin secret a Secrets
Manager secret ({"current", "previous"}).

Set VERSA_SKIP_SAM=1 to skip this module (it needs Python 3.12 and PyPI for SAM CLI on first run).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import re
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM_DIR = ROOT / ".aws-sam"
BUILD = SAM_DIR / "build"
BUILD_SCRIPT = ROOT / "scripts" / "sam-build.sh"
EVENTS = ROOT / "events"
PACKS = ROOT / "examples" / "packs"
LAMBDA_LIMIT_BYTES = 262_144_000  # 250 MB unzipped, function and layers together
FUNCTION = "RenderFunction"
GENERATOR = "GeneratorFunction"
GENERATOR_MODEL = "artifact-test-model"
GENERATOR_TEXT = "30 % auf Winterjacken"
LAYERS = ("DepsLayer", "VersaLayer", "FontsLayer", "FribidiLayer")
ORIGIN_SECRET = "origin-secret-of-the-artifact-test"
PREVIOUS_ORIGIN_SECRET = "previous-origin-secret-of-the-artifact-test"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("VERSA_SKIP_SAM") == "1", reason="VERSA_SKIP_SAM=1: no sam build"),
]


@dataclass(frozen=True)
class Expect:
    status: int
    content_type: str
    image: tuple[str, tuple[int, int]] | None = None
    frames: int = 1


# A spread of what the function serves: both packs, every image format, RTL text (raqm), a countdown GIF,
# first renders that lease copy generation (DynamoDB conditional write, SQS send), an unknown brand (S3 404).
EXPECTED: dict[str, Expect] = {
    "mobile-de-evening": Expect(200, "image/png", ("PNG", (600, 300))),
    "rtl-ae-ar": Expect(200, "image/png", ("PNG", (600, 300))),
    "auto-accept-html": Expect(200, "image/webp", ("WEBP", (600, 300))),
    "outlook-mx-welcome": Expect(200, "image/jpeg", ("JPEG", (600, 200))),
    "gmail-proxy": Expect(200, "image/gif", ("GIF", (600, 240)), frames=30),
    "unknown-brand": Expect(404, "application/problem+json"),
}

# Runs inside the clean interpreter: argv[1] is a JSON job. Prints nothing itself (Powertools writes
# logs and metrics to stdout, as on Lambda); the report goes to the job's result file.
RUNNER = r"""
import json, sys, time
t0 = time.perf_counter()
job = json.loads(sys.argv[1])
sys.path[:0] = job["paths"]

# Every module compiled from source rather than loaded from its .pyc (SourceLoader.get_code compiles
# through source_to_code only when no valid byte code is cached).
import _frozen_importlib_external as _bootstrap
compiled = []
_source_to_code = _bootstrap.SourceLoader.source_to_code
def _counting_source_to_code(self, data, path, *, _optimize=-1):
    compiled.append(path)
    return _source_to_code(self, data, path, _optimize=_optimize)
_bootstrap.SourceLoader.source_to_code = _counting_source_to_code
stdlib = [p for p in sys.path if p not in job["paths"]]

import app
t1 = time.perf_counter()

class FakeContext:
    function_name = "versa-render"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:versa-render"
    aws_request_id = "artifact-test-0001"
    log_group_name = "/aws/lambda/versa-render"
    log_stream_name = "2026/12/01/[$LATEST]artifact"
    def get_remaining_time_in_millis(self):
        return 10_000

with open(job["event"], encoding="utf-8") as f:
    event = json.load(f)
result = app.lambda_handler(event, FakeContext())
t2 = time.perf_counter()
openai_after_first = sorted(m for m in sys.modules if m == "openai" or m.startswith("openai."))

from PIL import __version__ as pillow, features
from versa.render.fonts import FAMILIES, resolve_family
from versa.settings import Settings

font_dirs = Settings().font_dirs
fonts = {name: resolve_family(name, font_dirs).path for name in FAMILIES}
with open("/proc/self/maps", encoding="utf-8") as f:
    fribidi = sorted({line.split()[-1] for line in f if "libfribidi" in line})
outside = sorted(
    name for name, module in list(sys.modules.items())
    if (path := getattr(module, "__file__", None))
    and not any(path.startswith(root) for root in job["paths"] + stdlib)
)
report = {
    "result": result,
    "openai_after_first": openai_after_first,
    "sys_path": sys.path,
    "app_file": app.__file__,
    "python": sys.version.split()[0],
    "pillow": pillow,
    "raqm": features.check("raqm"),
    "fribidi_version": features.version("fribidi"),
    "fribidi_mapped": fribidi,
    "fonts": fonts,
    "modules_outside_path": outside,
    "compiled_from_source": sorted(set(compiled)),
    "dont_write_bytecode": sys.flags.dont_write_bytecode,
    "import_ms": (t1 - t0) * 1e3,
    "first_request_ms": (t2 - t1) * 1e3,
}
with open(job["result"], "w", encoding="utf-8") as f:
    json.dump(report, f)
"""


# ----------------------------------------------------------------------------------------- build


@pytest.fixture(scope="session")
def built() -> Path:
    """`.aws-sam/build`, (re)built by scripts/sam-build.sh when missing or stale."""
    done = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--if-stale"], cwd=ROOT, capture_output=True, text=True, timeout=900,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/sam-build.sh failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}")
    for name in (FUNCTION, GENERATOR, *LAYERS):
        assert (BUILD / name).is_dir(), f"{name} missing from {BUILD}"
    return BUILD


def test_the_build_records_and_pins_this_machines_architecture(built: Path) -> None:
    """What `make deploy` will deploy: the record names this machine's CPU, the built template allows
    only it, and every shared object in the build is for it (scripts/sam_arch.py)."""
    import platform

    import yaml

    host = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()]
    record = json.loads((SAM_DIR / "versa-architecture").read_text(encoding="utf-8"))
    assert record["architecture"] == host
    template = yaml.safe_load((built / "template.yaml").read_text(encoding="utf-8"))
    assert template["Parameters"]["Architecture"]["AllowedValues"] == [host]
    done = subprocess.run(["python3", str(ROOT / "scripts" / "sam_arch.py"), "detect", str(SAM_DIR)],
                          capture_output=True, text=True, timeout=60, check=True)
    found = json.loads(done.stdout)
    assert {arch for counts in found.values() for arch in counts} == {host}
    assert found["FribidiLayer"] == {host: 1} and found["DepsLayer"][host] > 10


@pytest.fixture(scope="session")
def python312(built: Path) -> str:
    """The interpreter the build used (SAM built the deps layer's wheels for it)."""
    exe = (SAM_DIR / "versa-python").read_text(encoding="utf-8").strip()
    assert Path(exe).is_file(), exe
    return exe


def _du(path: Path) -> int:
    """Bytes of the files under path, as `du -sb` counts them (directories and links included)."""
    total = path.lstat().st_size
    for item in path.rglob("*"):
        total += item.lstat().st_size
    return total


def test_unzipped_size_is_under_lambdas_limit(built: Path) -> None:
    sizes = {name: _du(built / name) for name in (FUNCTION, GENERATOR, *LAYERS)}
    total = sum(sizes.values())
    print("unzipped sizes (bytes):", json.dumps({**sizes, "total": total}))
    assert total < LAMBDA_LIMIT_BYTES, f"{total / 1e6:.1f} MB unzipped: over Lambda's 250 MB ({sizes})"


def test_build_has_what_the_function_needs(built: Path) -> None:
    assert (built / FUNCTION / "app.py").is_file()
    assert not (built / FUNCTION / "openai").exists(), "openai is not a render dependency"
    assert (built / "DepsLayer" / "python" / "PIL").is_dir()
    assert (built / "VersaLayer" / "python" / "versa" / "__init__.py").is_file()
    assert (built / "FribidiLayer" / "lib" / "libfribidi.so.0").is_file()
    assert not (built / "DepsLayer" / "python" / "openai").exists(), "openai is not a render dependency"


# Packages whose import is most of the cold start, by a module of each.
COMPILED_DEPS = (
    "pydantic/main.py", "pydantic_core/core_schema.py", "PIL/Image.py", "boto3/session.py",
    "botocore/client.py", "aws_lambda_powertools/logging/logger.py", "jinja2/environment.py",
    "fontTools/ttLib/ttFont.py", "yaml/__init__.py", "typing_extensions.py",
)


def test_deps_layer_ships_byte_code_for_the_runtime(built: Path, python312: str) -> None:
    """SAM's Python builder ships no .pyc and /opt is read-only: without byte code every cold start
    compiles the deps again. layers/deps/<arch>/Makefile compiles them, unchecked-hash, with Python 3.12."""
    probe = subprocess.run(
        [python312, "-I", "-c", "import importlib.util, sys; "
         "print(importlib.util.MAGIC_NUMBER.hex(), sys.implementation.cache_tag)"],
        capture_output=True, text=True, check=True,
    )
    magic_hex, tag = probe.stdout.split()
    assert tag == "cpython-312"
    header = bytes.fromhex(magic_hex) + (1).to_bytes(4, "little")  # flags 0b01: hash-based, unchecked
    site = built / "DepsLayer" / "python"
    for module in COMPILED_DEPS:
        source = site / module
        assert source.is_file(), module
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert pyc.is_file(), f"no {tag} byte code for {module}"
        assert pyc.read_bytes()[:8] == header, f"{pyc.relative_to(built)}: not unchecked-hash {tag} byte code"
    sources = list(site.rglob("*.py"))
    uncompiled = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").is_file()]
    assert len(uncompiled) <= len(sources) // 100, f"{len(uncompiled)} of {len(sources)} modules uncompiled"
    others = sorted({p.name.split(".")[-2] for p in site.rglob("*.pyc")} - {tag})
    assert not others, f"byte code of other interpreters: {others}"


def test_native_code_is_x86_64_and_runs_on_amazon_linux_2023(built: Path) -> None:
    """Every shared object in the layers is a 64-bit x86-64 ELF needing no glibc newer than 2.34."""
    libraries = [*built.glob("DepsLayer/python/**/*.so*"), *built.glob("FribidiLayer/lib/*.so*")]
    assert any("_imaging" in lib.name for lib in libraries)
    too_new: dict[str, str] = {}
    for lib in libraries:
        if lib.is_symlink() or not lib.is_file():
            continue
        data = lib.read_bytes()
        assert data[:5] == b"\x7fELF\x02" and data[18] == 0x3E, f"{lib} is not a 64-bit x86-64 ELF"
        versions = {tuple(int(n) for n in m.split(b".")) for m in re.findall(rb"GLIBC_(2\.[0-9]+(?:\.[0-9]+)?)", data)}
        if versions and max(versions) > (2, 34):
            too_new[str(lib.relative_to(built))] = ".".join(map(str, max(versions)))
    assert not too_new, f"need a glibc newer than Amazon Linux 2023's 2.34: {too_new}"


# ------------------------------------------------------------------------------------ AWS (moto)


@dataclass(frozen=True)
class Stack:
    endpoint: str
    bucket: str
    table: str
    queue_url: str
    key_parameter: str
    origin_secret_id: str


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, aws_client: Callable[..., Any], s3_client: Any, dynamodb_client: Any) -> Stack:
    """The stack's data plane on moto: packs published, copy table, queue, signing keys in SSM, the
    origin secret in Secrets Manager (mid-rotation: current and previous)."""
    from versa.adapters.dynamo_copy import create_table
    from versa.publish.s3 import Publisher
    from versa.signing.devkeys import keyring_to_json

    spec = importlib.util.spec_from_file_location("versa_test_keys", ROOT / "tests" / "keys.py")
    assert spec is not None and spec.loader is not None
    keys = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(keys)

    suffix = uuid.uuid4().hex[:10]
    bucket, table, queue, parameter = (f"versa-artifact-{suffix}", f"versa-copy-{suffix}",
                                       f"versa-generation-{suffix}", f"/versa/artifact-{suffix}/signing-key")
    s3_client.create_bucket(Bucket=bucket)
    publisher = Publisher(bucket, client=s3_client)
    for brand in ("acme", "northwind"):
        publisher.publish(PACKS / brand)
    create_table(dynamodb_client, table)
    queue_url = aws_client("sqs", moto_endpoint).create_queue(QueueName=queue)["QueueUrl"]
    aws_client("ssm", moto_endpoint).put_parameter(
        Name=parameter, Type="SecureString", Value=keyring_to_json(keys.TEST_KEYRING)
    )
    secret = aws_client("secretsmanager", moto_endpoint).create_secret(
        Name=f"versa/artifact-{suffix}/origin",
        SecretString=json.dumps({"current": ORIGIN_SECRET, "previous": PREVIOUS_ORIGIN_SECRET}),
    )["ARN"]
    return Stack(moto_endpoint, bucket, table, queue_url, parameter, secret)


# ---------------------------------------------------------------------------------------- invoke


@pytest.fixture(scope="module")
def invoke(built: Path, python312: str, stack: Stack, tmp_path_factory: pytest.TempPathFactory
           ) -> Callable[..., dict[str, Any]]:
    """`invoke(event_name, secret=True)`: the report of a fresh clean interpreter that imported `app` and
    answered that event, with CloudFront's origin secret header unless `secret` is false (cached)."""
    tmp = tmp_path_factory.mktemp("artifact")
    function_dir = built / FUNCTION
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "HOME": str(tmp / "home"),
        "LD_LIBRARY_PATH": f"{function_dir}:{function_dir / 'lib'}:{built / 'FribidiLayer' / 'lib'}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_LAMBDA_FUNCTION_NAME": "versa-render",
        "VERSA_PACK_BUCKET": stack.bucket,
        "VERSA_PACK_PREFIX": "",
        "VERSA_COPY_TABLE": stack.table,
        "VERSA_GENERATION_QUEUE": stack.queue_url,
        "VERSA_COPY_MODEL": GENERATOR_MODEL,  # as the stack sets it: the generation keys name the model
        "VERSA_SIGNING_KEY_PARAMETER": stack.key_parameter,
        "VERSA_AWS_ENDPOINT_URL": stack.endpoint,
        "VERSA_FONT_DIRS": str(built / "FontsLayer" / "fonts"),
        "VERSA_ORIGIN_SECRET_ID": stack.origin_secret_id,
        "VERSA_STATE_DIR": str(tmp / "state-never-written"),
        "POWERTOOLS_SERVICE_NAME": "versa",
        "POWERTOOLS_METRICS_NAMESPACE": "Versa",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    paths = [str(function_dir), *(str(built / layer / "python") for layer in ("DepsLayer", "VersaLayer"))]
    cache: dict[tuple[str, bool], dict[str, Any]] = {}

    def run(name: str, secret: bool = True) -> dict[str, Any]:
        if (name, secret) in cache:
            return cache[name, secret]
        event = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
        if secret:  # what CloudFront adds to every origin request (the function refuses others)
            event["headers"]["x-versa-origin-secret"] = ORIGIN_SECRET
            event["multiValueHeaders"]["x-versa-origin-secret"] = [ORIGIN_SECRET]
        stem = f"{name}{'' if secret else '.no-secret'}"
        event_path, result_path = tmp / f"{stem}.event.json", tmp / f"{stem}.result.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        job = {"paths": paths, "event": str(event_path), "result": str(result_path)}
        done = subprocess.run(
            [python312, "-I", "-S", "-B", "-c", RUNNER, json.dumps(job)],
            cwd=function_dir, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        if done.returncode != 0 or not result_path.is_file():
            pytest.fail(f"{name}: the clean interpreter failed ({done.returncode}):\n"
                        f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
        cache[name, secret] = report = json.loads(result_path.read_text(encoding="utf-8"))
        assert not (tmp / "state-never-written").exists(), "the function wrote local state (read-only on Lambda)"
        return report

    return run


def _headers(result: dict[str, Any]) -> dict[str, str]:
    out = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        out[name.lower()] = str(values[-1])
    return out


@pytest.mark.parametrize("name", list(EXPECTED))
def test_event_through_built_function(name: str, invoke: Callable[..., dict[str, Any]]) -> None:
    from PIL import Image

    expect = EXPECTED[name]
    report = invoke(name)
    result = report["result"]
    headers = _headers(result)
    assert result["statusCode"] == expect.status, str(result.get("body"))[:500]
    assert headers["content-type"].split(";")[0] == expect.content_type
    if expect.image is None:
        return
    assert result["isBase64Encoded"] is True
    body = base64.b64decode(result["body"], validate=True)
    with Image.open(io.BytesIO(body)) as image:
        assert (image.format, image.size) == expect.image
        assert getattr(image, "n_frames", 1) == expect.frames
        image.load()  # decodes: the bytes are a whole, valid image


def test_clean_interpreter_sees_only_function_and_layers(built: Path, invoke: Callable[..., dict[str, Any]]) -> None:
    report = invoke("mobile-de-evening")
    assert report["python"].startswith("3.12.")
    assert report["app_file"] == str(built / FUNCTION / "app.py")
    roots = [str(built / FUNCTION), str(built / "DepsLayer" / "python"), str(built / "VersaLayer" / "python")]
    assert report["sys_path"][:3] == roots
    assert not [p for p in report["sys_path"] if "site-packages" in p or str(ROOT / ".venv") in p]
    assert report["modules_outside_path"] == []


def test_layers_byte_code_is_used_not_compiled_again(built: Path, invoke: Callable[..., dict[str, Any]]) -> None:
    """Run with -B like Lambda's read-only /opt, the deps and versa layers' modules load from their .pyc:
    none is compiled from source on a cold start (only the function's own app.py, a single module)."""
    report = invoke("mobile-de-evening")
    assert report["dont_write_bytecode"] == 1
    layers = [str(built / layer) for layer in ("DepsLayer", "VersaLayer")]
    recompiled = [p for p in report["compiled_from_source"] if p.startswith(tuple(layers))]
    assert not recompiled, f"{len(recompiled)} layer modules compiled at import: {recompiled[:10]}"
    in_artifact = [p for p in report["compiled_from_source"] if p.startswith(str(built))]
    assert in_artifact == [str(built / FUNCTION / "app.py")]


def test_raqm_with_the_layers_fribidi(built: Path, invoke: Callable[..., dict[str, Any]]) -> None:
    report = invoke("rtl-ae-ar")
    assert report["raqm"] is True, "Pillow's raqm is not active in the built function"
    assert report["fribidi_version"], "raqm loaded no FriBiDi"
    layer_lib = (built / "FribidiLayer" / "lib" / "libfribidi.so.0").resolve()
    assert [Path(p).resolve() for p in report["fribidi_mapped"]] == [layer_lib], report["fribidi_mapped"]


def test_fonts_come_from_the_fonts_layer(built: Path, invoke: Callable[..., dict[str, Any]]) -> None:
    fonts_dir = built / "FontsLayer" / "fonts"
    report = invoke("rtl-ae-ar")
    elsewhere = {family: path for family, path in report["fonts"].items() if Path(path).parent != fonts_dir}
    assert not elsewhere, f"families not in the fonts layer: {elsewhere}"


def test_openai_is_never_imported(invoke: Callable[..., dict[str, Any]]) -> None:
    for name in ("mobile-de-evening", "outlook-mx-welcome"):
        assert invoke(name)["openai_after_first"] == [], "the render path imported openai"


def test_first_renders_lease_and_enqueue_copy_generation(
    stack: Stack, invoke: Callable[..., dict[str, Any]], aws_client: Callable[..., Any], dynamodb_client: Any
) -> None:
    """acme's headline generates copy: the first render (a copy default) leases it in DynamoDB and sends
    the generation request to SQS, both through the built function's own clients."""
    report = invoke("mobile-de-evening")
    assert _headers(report["result"]).get("x-versa-copy") == "default"
    items = dynamodb_client.scan(TableName=stack.table)["Items"]
    assert items, "no lease written to the copy table"
    attributes = aws_client("sqs", stack.endpoint).get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert int(attributes["ApproximateNumberOfMessages"]) >= 1, "no generation request on the queue"


def test_request_without_origin_secret_is_refused(invoke: Callable[..., dict[str, Any]]) -> None:
    """The origin secret is read from Secrets Manager as the stack sets it up: a request that bypassed
    CloudFront gets 403."""
    result = invoke("mobile-de-evening", secret=False)["result"]
    assert result["statusCode"] == 403
    assert _headers(result)["content-type"].startswith("application/problem+json")


# ------------------------------------------------------------------------------------ the generator

# Runs inside the clean interpreter: argv[1] is a JSON job with an SQS event.
GENERATOR_RUNNER = r"""
import json, sys
job = json.loads(sys.argv[1])
sys.path[:0] = job["paths"]
stdlib = [p for p in sys.path if p not in job["paths"]]
import app

class FakeContext:
    function_name = "versa-generator"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:versa-generator"
    aws_request_id = "artifact-generator-0001"
    log_group_name = "/aws/lambda/versa-generator"
    log_stream_name = "2026/12/01/[$LATEST]artifact"
    def get_remaining_time_in_millis(self):
        return 280_000

with open(job["event"], encoding="utf-8") as f:
    event = json.load(f)
result = app.lambda_handler(event, FakeContext())
import openai
outside = sorted(
    name for name, module in list(sys.modules.items())
    if (path := getattr(module, "__file__", None))
    and not any(path.startswith(root) for root in job["paths"] + stdlib)
)
with open(job["result"], "w", encoding="utf-8") as f:
    json.dump({"result": result, "openai_file": openai.__file__, "modules_outside_path": outside,
               "python": sys.version.split()[0]}, f)
"""


def test_the_generator_ships_openai_in_its_own_code(built: Path) -> None:
    assert (built / GENERATOR / "app.py").is_file()
    assert (built / GENERATOR / "openai" / "__init__.py").is_file()
    assert not (built / "DepsLayer" / "python" / "openai").exists()
    assert not (built / "VersaLayer" / "python" / "openai").exists()


def test_built_generator_consumes_an_sqs_batch_and_writes_copy(
    built: Path, python312: str, stack: Stack, invoke: Callable[..., dict[str, Any]],
    aws_client: Callable[..., Any], dynamodb_client: Any, tmp_path: Path,
) -> None:
    """The render function's miss (acme's headline, German) queued a generation; the built generator,
    in a clean Python 3.12 with only its code and the layers, consumes the batch moto's queue delivers:
    the key from Secrets Manager, the model at the local OpenAI-compatible server, the copy written to
    DynamoDB, no item failed."""
    from openai_server import running_openai_server
    from versa.adapters.dynamo_spending import create_state_table

    # GIVEN the render function's first request (it leased and queued the headline's generation)
    assert _headers(invoke("mobile-de-evening")["result"]).get("x-versa-copy") == "default"
    suffix = uuid.uuid4().hex[:10]
    state = f"versa-state-{suffix}"
    create_state_table(dynamodb_client, state)
    secret = aws_client("secretsmanager", stack.endpoint).create_secret(
        Name=f"versa/artifact-{suffix}/openai", SecretString="sk-artifact")["ARN"]
    kill = f"/versa-artifact-{suffix}/copy-kill-switch"
    aws_client("ssm", stack.endpoint).put_parameter(Name=kill, Value="false", Type="String")
    sqs = aws_client("sqs", stack.endpoint)
    messages = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10,
                                   MessageSystemAttributeNames=["All"])["Messages"]
    arn = sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    event = {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1",
    } for m in messages]}
    keys = [json.loads(m["Body"])["key"] for m in messages]
    [german] = [json.loads(m["Body"]) for m in messages
                if json.loads(m["Body"])["slot"] == "headline" and json.loads(m["Body"])["locale"] == "de"]
    function_dir = built / GENERATOR
    paths = [str(function_dir), *(str(built / layer / "python") for layer in ("DepsLayer", "VersaLayer"))]
    with running_openai_server() as fake:
        fake.script(GENERATOR_MODEL, {"candidates": ["Cheap winter gear, 30 % off", GENERATOR_TEXT]})
        env = {
            "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC", "HOME": str(tmp_path / "home"),
            "LD_LIBRARY_PATH": f"{function_dir}:{built / 'FribidiLayer' / 'lib'}",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_LAMBDA_FUNCTION_NAME": "versa-generator",
            "VERSA_PACK_BUCKET": stack.bucket, "VERSA_PACK_PREFIX": "", "VERSA_COPY_TABLE": stack.table,
            "VERSA_GENERATOR_TABLE": state, "VERSA_COPY_MODEL": GENERATOR_MODEL,
            "VERSA_OPENAI_SECRET_ID": secret, "OPENAI_BASE_URL": fake.base_url,
            "VERSA_COPY_KILL_SWITCH_PARAMETER": kill, "VERSA_AWS_ENDPOINT_URL": stack.endpoint,
            "VERSA_AWS_READ_TIMEOUT": "10", "VERSA_COPY_ATTEMPTS": "1",
            "VERSA_FONT_DIRS": str(built / "FontsLayer" / "fonts"),
            "VERSA_STATE_DIR": str(tmp_path / "state-never-written"),
            "POWERTOOLS_SERVICE_NAME": "versa-generator", "POWERTOOLS_METRICS_NAMESPACE": "Versa",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        event_path, result_path = tmp_path / "sqs.event.json", tmp_path / "sqs.result.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        job = {"paths": paths, "event": str(event_path), "result": str(result_path)}
        # WHEN the built generator handles the batch
        done = subprocess.run(
            [python312, "-I", "-S", "-B", "-c", GENERATOR_RUNNER, json.dumps(job)],
            cwd=function_dir, env=env, capture_output=True, text=True, timeout=180, check=False,
        )
        asked = fake.requests()
    if done.returncode != 0 or not result_path.is_file():
        pytest.fail(f"the clean interpreter failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    report = json.loads(result_path.read_text(encoding="utf-8"))
    # THEN no item failed, the model was asked with the key from Secrets Manager, the copy is stored
    assert report["result"] == {"batchItemFailures": []}, done.stdout[-3000:]
    assert report["python"].startswith("3.12.") and report["modules_outside_path"] == []
    assert report["openai_file"].startswith(str(function_dir)), report["openai_file"]
    assert asked and all(body["model"] == GENERATOR_MODEL for body in asked), done.stdout[-3000:]
    item = dynamodb_client.get_item(TableName=stack.table, Key={"pk": {"S": german["key"]}})["Item"]
    assert (item["status"]["S"], item["text"]["S"]) == ("generated", GENERATOR_TEXT)
    statuses = {k: dynamodb_client.get_item(TableName=stack.table, Key={"pk": {"S": k}})["Item"]["status"]["S"]
                for k in keys}
    assert "pending" not in statuses.values(), statuses
    assert not (tmp_path / "state-never-written").exists()
