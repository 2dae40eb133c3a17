"""AWS faults through the real adapters over real loopback HTTP: S3 unreachable, slow or serving a
corrupt pack; DynamoDB throttled, slow or unreachable; publishes that fail midway; rollback.

Faults come from small HTTP servers on free loopback ports: a proxy in front of moto that can stall,
fail chosen requests or stop listening, and a DynamoDB stand-in that answers the JSON protocol.

"Bounded" is checked by behaviour, never by a stopwatch (a loaded machine makes any time bound flaky):
the attempts each client sent (counted as botocore sends them, and as the fault servers receive them),
the error that ended the call (a read timeout, a refused connection), the timeouts and retry settings
the adapters' clients are made with, and the pauses the adapter itself asks for.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import shutil
import socket
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from versa.adapters import dynamo_copy, s3_packs
from versa.adapters.dynamo_copy import DynamoCopyStore
from versa.adapters.s3_packs import PackLayout, Pointer, S3PackStore
from versa.errors import PackError, UnknownBrand
from versa.pack.bundle import BundleError, build_bundle, extract_bundle
from versa.pack.loader import load_pack
from versa.ports import StoreUnavailable
from versa.publish.s3 import PublishConflict, Publisher, PublishError, UnknownVersion
from versa.render.checks import PACK_CHECKS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
BRAND = "northwind"
"""The example pack these tests publish (the lighter one: publishing lints it and draws its fallbacks)."""
NOW = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
FAST = Config(connect_timeout=0.3, read_timeout=0.3, retries={"mode": "standard", "total_max_attempts": 2})
"""S3 timeouts for the slow-S3 test, so it stays quick (the defaults are checked separately)."""
ATTEMPTS = 2
"""Every AWS call the adapters make is tried at most twice (botocore standard mode, one retry)."""


# ------------------------------------------------------------------------------------ fault servers

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class LoopbackHTTP:
    """An HTTP server on a free loopback port answering with `respond(method, path, headers, body)`;
    it records every request, can stall before answering, and `stop()` closes the port."""

    respond: Callable[[str, str, dict[str, str], bytes], Reply]
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self
        self._connections: set[socket.socket] = set()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                owner._connections.add(self.connection)

            def handle_one(self) -> None:
                with contextlib.suppress(ConnectionError):  # the client gave up (a timeout test)
                    self._handle()

            def _handle(self) -> None:
                headers = {k: v for k, v in self.headers.items()}
                body = self._body()
                record = Seen(self.command, self.path, headers)
                owner.seen.append(record)
                if owner.delay:
                    time.sleep(owner.delay)
                status, out_headers, payload = owner.respond(self.command, self.path, headers, body)
                record.status = status
                self.send_response(status)
                for name, value in out_headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                length = out_headers.get("content-length", str(len(payload)))
                self.send_header("Content-Length", length if self.command == "HEAD" else str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_one

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Stop listening and drop open keep-alive connections: the port is then closed."""
        self._server.shutdown()
        self._server.server_close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


def forward_to(upstream: str) -> Callable[[str, str, dict[str, str], bytes], Reply]:
    """A responder that forwards each request to `upstream` (moto) and relays the answer."""
    target = urlsplit(upstream)

    def respond(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        headers = {k: v for k, v in headers.items() if k.lower() != "transfer-encoding"}
        headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    return respond


def s3_error(status: int, code: str) -> Reply:
    body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>injected</Message></Error>"
    return status, {"content-type": "application/xml"}, body.encode()


def dynamo_error(code: str, status: int = 400) -> Reply:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
    return status, {"content-type": "application/x-amz-json-1.0"}, json.dumps(body).encode()


@dataclass
class Attempts:
    """Every HTTP request a botocore client sends, retries included, recorded as it is sent: a count
    that works where no server sees the request (a closed port) or sees it late (a timeout)."""

    urls: list[str] = field(default_factory=list)

    def __call__(self, request: Any, **_: Any) -> None:
        self.urls.append(request.url)

    def __len__(self) -> int:
        return len(self.urls)


def attempts(client: Any) -> Attempts:
    """Start counting the requests `client` sends."""
    sent = Attempts()
    client.meta.events.register("before-send", sent)
    return sent


def closed_port() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def servers() -> Iterator[list[LoopbackHTTP]]:
    """Fault servers a test starts; all stopped at the end."""
    started: list[LoopbackHTTP] = []
    yield started
    for server in started:
        server.stop()


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Events:
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, event: str, /, **fields: str) -> None:
        self.seen.append((event, fields))

    def named(self, event: str) -> list[dict[str, str]]:
        return [f for e, f in self.seen if e == event]


def edited_pack(tmp_path: Path, brand: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of an example pack with its pack.yaml changed."""
    dest = tmp_path / f"{brand}-{uuid.uuid4().hex[:6]}"
    shutil.copytree(EXAMPLES / brand, dest)
    data = yaml.safe_load((dest / "pack.yaml").read_text())
    change(data)
    (dest / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return dest


def renamed(name: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["name"] = name

    return change


def pointer(s3: Any, bucket: str, brand: str = BRAND) -> Pointer:
    return Pointer.from_json(s3.get_object(Bucket=bucket, Key=PackLayout().pointer_key(brand))["Body"].read())


@pytest.fixture(scope="module")
def brand_seed(s3_client: Any) -> tuple[str, str]:
    """A bucket with the example pack published (once per module); its name and the version."""
    bucket = f"versa-seed-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    return bucket, Publisher(bucket, client=s3_client).publish(EXAMPLES / BRAND).version


@pytest.fixture
def brand_v1(s3_client: Any, s3_bucket: str, brand_seed: tuple[str, str]) -> str:
    """The pack as published, copied into this test's fresh bucket; its version."""
    seed, version = brand_seed
    for obj in s3_client.list_objects_v2(Bucket=seed)["Contents"]:
        s3_client.copy_object(
            Bucket=s3_bucket, Key=obj["Key"], CopySource={"Bucket": seed, "Key": obj["Key"]}
        )
    return version


@pytest.fixture
def proxied(
    servers: list[LoopbackHTTP], moto_endpoint: str, aws_client: Callable[..., Any]
) -> Callable[..., tuple[LoopbackHTTP, Any]]:
    """`proxied(config=DEFAULT_CONFIG)`: a proxy in front of moto, and an S3 client that goes through it."""

    def make(config: Config = s3_packs.DEFAULT_CONFIG) -> tuple[LoopbackHTTP, Any]:
        proxy = LoopbackHTTP(forward_to(moto_endpoint))
        servers.append(proxy)
        return proxy, aws_client("s3", proxy.url, config)

    return make


# ------------------------------------------------------------------------------------- S3 reads


def test_default_timeouts_are_bounded(aws_env: None, tmp_path: Path) -> None:
    """Every S3 and DynamoDB call on the request path is bounded: the clients the stores make for
    themselves have short connect and read timeouts and one retry (what the fault tests below rely on)."""
    import boto3

    for config in (s3_packs.DEFAULT_CONFIG, dynamo_copy.DEFAULT_CONFIG):
        assert config.connect_timeout <= 1 and config.read_timeout <= 1
        assert config.retries == {"mode": "standard", "total_max_attempts": ATTEMPTS}
    session = boto3.session.Session()
    made = {
        "s3": S3PackStore("b", checks=PACK_CHECKS, cache_dir=tmp_path, session=session).client.meta.config,
        "dynamodb": DynamoCopyStore("copy", session=session).client.meta.config,
    }
    expected = {"s3": s3_packs.DEFAULT_CONFIG, "dynamodb": dynamo_copy.DEFAULT_CONFIG}
    for service, config in made.items():
        wanted = expected[service]
        assert (config.connect_timeout, config.read_timeout) == (wanted.connect_timeout, wanted.read_timeout)
        assert config.retries == wanted.retries


def test_s3_unreachable_serves_the_last_good_pack(
    proxied: Callable[..., tuple[LoopbackHTTP, Any]], s3_bucket: str, brand_v1: str, tmp_path: Path
) -> None:
    """S3 unreachable: the last good pack is served after one refused request and its one retry; until
    the next revalidation interval S3 is not asked again; a brand never loaded is unavailable (not
    unknown), and asking again at once is answered from memory, without a request."""
    # GIVEN a store that loaded the pack through a proxy
    proxy, client = proxied()
    clock, events = Clock(), Events()
    store = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=client, cache_dir=tmp_path, clock=clock, on_event=events)
    good = store.current(BRAND)
    sent = attempts(client)
    # WHEN S3 stops answering (the port closes) and the pointer is due for revalidation
    proxy.stop()
    clock.advance(31)
    served = store.current(BRAND)
    # THEN the last good pack is served after the bounded attempts, and the staleness is recorded
    assert served is good
    assert len(sent) == ATTEMPTS and all(u.endswith(f"/packs/{BRAND}/current.json") for u in sent.urls), sent
    assert events.named("pack_stale") == [{"brand": BRAND, "reason": "unreachable", "serving": brand_v1}]
    # AND until the next interval the store does not try S3 again
    assert store.current(BRAND) is good and len(sent) == ATTEMPTS
    # AND a brand it never loaded is unavailable, not unknown; a retry soon after sends nothing
    with pytest.raises(StoreUnavailable) as first:
        store.current("acme")
    assert isinstance(first.value.__cause__, StoreUnavailable)
    assert isinstance(first.value.__cause__.__cause__, EndpointConnectionError)
    assert len(sent) == 2 * ATTEMPTS
    with pytest.raises(StoreUnavailable):
        store.current("acme")
    assert len(sent) == 2 * ATTEMPTS


def test_s3_slower_than_the_timeout_serves_the_last_good_pack(
    proxied: Callable[..., tuple[LoopbackHTTP, Any]], s3_bucket: str, brand_v1: str, tmp_path: Path
) -> None:
    """S3 slower than the client's read timeout: each attempt is cut off by the timeout (the answer
    would have been a 304 had the client waited), the store gives up after the bounded attempts and
    serves the last good pack, recording the timeout."""
    # GIVEN a store with 0.3 s timeouts that loaded the pack
    proxy, client = proxied(FAST)
    clock, events = Clock(), Events()
    store = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=client, cache_dir=tmp_path, clock=clock, on_event=events)
    good = store.current(BRAND)
    sent = attempts(client)
    # WHEN S3 takes longer than the read timeout to answer
    proxy.delay = 1.0
    clock.advance(31)
    served = store.current(BRAND)
    # THEN the last good pack is served after two attempts at the pointer, the timeout recorded
    assert served is good
    assert len(sent) == ATTEMPTS and all(u.endswith(f"/packs/{BRAND}/current.json") for u in sent.urls), sent
    assert [e["reason"] for e in events.named("pack_stale")] == ["timeout"]


def test_a_corrupt_new_version_keeps_the_last_good_pack(
    proxied: Callable[..., tuple[LoopbackHTTP, Any]],
    s3_client: Any,
    s3_bucket: str,
    brand_v1: str,
    tmp_path: Path,
) -> None:
    # GIVEN a store serving the pack
    proxy, client = proxied()
    clock, events = Clock(), Events()
    store = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=client, cache_dir=tmp_path / "cache", clock=clock, on_event=events)
    good = store.current(BRAND)
    # WHEN a corrupt bundle is published as a new version
    layout = PackLayout()
    bad = "badbadbadbad"
    s3_client.put_object(Bucket=s3_bucket, Key=layout.bundle_key(BRAND, bad), Body=b"not a tarball")
    s3_client.put_object(
        Bucket=s3_bucket, Key=layout.pointer_key(BRAND), Body=Pointer(bad, "now", brand_v1).to_json()
    )
    clock.advance(31)
    # THEN the last good pack keeps serving and the metric says why
    assert store.current(BRAND) is good
    assert events.named("pack_stale") == [{"brand": BRAND, "reason": "corrupt", "serving": brand_v1}]
    assert store.broken(BRAND) == "corrupt"
    # AND the broken version is not downloaded again while the pointer names it (a 304), but the
    # staleness is recorded at every revalidation
    bundle_gets = [s for s in proxy.seen if s.path.endswith(f"{bad}.tar.gz")]
    clock.advance(31)
    assert store.current(BRAND) is good
    assert [s for s in proxy.seen if s.path.endswith(f"{bad}.tar.gz")] == bundle_gets
    assert proxy.seen[-1].status == 304
    assert len(events.named("pack_stale")) == 2
    # AND nothing of the bad version is left in the cache
    assert not (tmp_path / "cache" / BRAND / bad).exists()


def test_a_bundle_whose_content_is_not_its_version_is_corrupt(
    s3_client: Any, s3_bucket: str, brand_v1: str, tmp_path: Path
) -> None:
    # GIVEN a well-formed bundle of other content stored under a version name it does not hash to
    clock, events = Clock(), Events()
    store = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=s3_client, cache_dir=tmp_path, clock=clock, on_event=events)
    good = store.current(BRAND)
    other = load_pack(edited_pack(tmp_path, BRAND, renamed("Tampered")), checks=PACK_CHECKS)
    fake = "0123456789ab"
    layout = PackLayout()
    s3_client.put_object(Bucket=s3_bucket, Key=layout.bundle_key(BRAND, fake), Body=build_bundle(other.root, other.files))
    s3_client.put_object(
        Bucket=s3_bucket, Key=layout.pointer_key(BRAND), Body=Pointer(fake, "now").to_json()
    )
    clock.advance(31)
    # THEN it is refused and the good pack serves
    assert store.current(BRAND) is good
    assert [e["reason"] for e in events.named("pack_stale")] == ["corrupt"]


def test_revalidation_is_a_conditional_get_and_versions_are_fetched_once(
    proxied: Callable[..., tuple[LoopbackHTTP, Any]],
    s3_client: Any,
    s3_bucket: str,
    brand_v1: str,
    tmp_path: Path,
) -> None:
    proxy, client = proxied()
    clock, events = Clock(), Events()
    cache = tmp_path / "cache"
    store = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=client, cache_dir=cache, clock=clock, on_event=events)
    pointer_path = f"/{s3_bucket}/packs/{BRAND}/current.json"

    def gets(suffix: str) -> list[Seen]:
        return [s for s in proxy.seen if s.method == "GET" and s.path.split("?")[0].endswith(suffix)]

    # GIVEN a cold start: one pointer GET and one bundle GET
    v1 = store.current(BRAND)
    assert (len(gets("current.json")), len(gets(".tar.gz"))) == (1, 1)
    # WHEN asked again within the interval, THEN S3 is not asked at all
    clock.advance(29)
    assert store.current(BRAND) is v1 and len(proxy.seen) == 2
    # WHEN the interval passes, THEN the pointer is revalidated with If-None-Match and S3 answers 304
    clock.advance(2)
    assert store.current(BRAND) is v1
    revalidation = gets("current.json")[-1]
    assert revalidation.path.split("?")[0] == pointer_path
    assert revalidation.headers.get("If-None-Match", "").strip('"')
    assert revalidation.status == 304
    assert len(gets(".tar.gz")) == 1
    # WHEN a new version is published, THEN the next revalidation loads it with one more bundle GET
    publisher = Publisher(s3_bucket, client=s3_client)
    v2_version = publisher.publish(edited_pack(tmp_path, BRAND, renamed("Northwind v2"))).version
    clock.advance(31)
    v2 = store.current(BRAND)
    assert v2.version == v2_version and v2.model.name == "Northwind v2"
    assert gets("current.json")[-1].status == 200 and len(gets(".tar.gz")) == 2
    assert [e["version"] for e in events.named("pack_loaded")] == [brand_v1, v2_version]
    # WHEN it is rolled back, THEN the version already loaded is not fetched again
    publisher.rollback(BRAND, brand_v1)
    clock.advance(31)
    assert store.current(BRAND) is v1
    assert len(gets(".tar.gz")) == 2
    # AND a new store in the same container (same cache directory) reads it from disk, not S3
    fresh = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=client, cache_dir=cache, clock=clock)
    assert fresh.current(BRAND).version == brand_v1
    assert len(gets(".tar.gz")) == 2


def test_a_deleted_pointer_unpublishes_the_brand(
    s3_client: Any, s3_bucket: str, brand_v1: str, tmp_path: Path
) -> None:
    clock = Clock()
    store = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=s3_client, cache_dir=tmp_path, clock=clock)
    store.current(BRAND)
    s3_client.delete_object(Bucket=s3_bucket, Key=PackLayout().pointer_key(BRAND))
    clock.advance(31)
    with pytest.raises(UnknownBrand):
        store.current(BRAND)


# --------------------------------------------------------------------------------- unsafe bundles


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


@pytest.mark.parametrize(
    "member",
    [
        _member("/etc/evil"),
        _member("../evil"),
        _member("assets/../../evil"),
        _member("assets//x"),
        _member("./pack.yaml"),
        _member("link", tarfile.SYMTYPE, "/etc/passwd"),
        _member("hard", tarfile.LNKTYPE, "pack.yaml"),
        _member("dev", tarfile.CHRTYPE),
        _member("blk", tarfile.BLKTYPE),
        _member("fifo", tarfile.FIFOTYPE),
    ],
    ids=lambda m: f"{m.name}:{m.type.decode()}",
)
def test_unsafe_bundle_members_are_refused(member: tarfile.TarInfo, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(BundleError):
        extract_bundle(_tar((_member("pack.yaml"), b"brand: x\n"), (member, b"x")), dest)
    assert not (tmp_path / "evil").exists()
    assert all(not p.is_symlink() for p in dest.rglob("*"))


def test_garbage_and_duplicates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError):
        extract_bundle(b"\x1f\x8b garbage", tmp_path)
    with pytest.raises(BundleError):
        extract_bundle(_tar((_member("a"), b"1"), (_member("a"), b"2")), tmp_path / "dup")


# -------------------------------------------------------------------------------------- DynamoDB


def dynamo_store(aws_client: Callable[..., Any], endpoint: str) -> DynamoCopyStore:
    """A store with the production timeouts and retries, pointed at `endpoint`."""
    return DynamoCopyStore("copy", client=aws_client("dynamodb", endpoint, dynamo_copy.DEFAULT_CONFIG))


@pytest.mark.parametrize("code", sorted(dynamo_copy.THROTTLING))
def test_dynamodb_throttled_raises_store_unavailable_quickly(
    code: str, servers: list[LoopbackHTTP], aws_client: Callable[..., Any]
) -> None:
    """DynamoDB throttling: a read and a lease each give up after the bounded attempts (one retry, no
    retry loop of the adapter's own) and raise StoreUnavailable naming the throttling."""
    # GIVEN DynamoDB answering every request with a throttling error
    stub = LoopbackHTTP(lambda *_: dynamo_error(code))
    servers.append(stub)
    store = dynamo_store(aws_client, stub.url)
    # WHEN copy is read, and a lease attempted
    with pytest.raises(StoreUnavailable, match="throttled"):
        store.get_many(["a", "b"], now=NOW)
    reads = len(stub.seen)
    with pytest.raises(StoreUnavailable, match="throttled"):
        store.lease("a", now=NOW, ttl=timedelta(seconds=30))
    # THEN each gave up after two attempts
    assert reads == ATTEMPTS and len(stub.seen) == 2 * ATTEMPTS
    assert [s.headers["X-Amz-Target"].split(".")[-1] for s in stub.seen] == ["BatchGetItem"] * 2 + ["UpdateItem"] * 2


def test_dynamodb_unreachable_raises_store_unavailable_quickly(aws_client: Callable[..., Any]) -> None:
    """DynamoDB unreachable (nothing listens): the refused connection is tried once more, then the read
    raises StoreUnavailable caused by the connection error."""
    store = dynamo_store(aws_client, closed_port())
    sent = attempts(store.client)
    with pytest.raises(StoreUnavailable) as caught:
        store.get_many(["a"], now=NOW)
    assert isinstance(caught.value.__cause__, EndpointConnectionError)
    assert len(sent) == ATTEMPTS


def test_dynamodb_slower_than_the_timeout_raises_store_unavailable(
    servers: list[LoopbackHTTP], aws_client: Callable[..., Any]
) -> None:
    """DynamoDB slower than the production read timeout (0.5 s; the stub answers after 1.5 s): each of
    the bounded attempts is cut off by the read timeout, and the read raises StoreUnavailable."""
    stub = LoopbackHTTP(lambda *_: (200, {}, b'{"Responses": {}}'), delay=1.5)
    servers.append(stub)
    store = dynamo_store(aws_client, stub.url)
    sent = attempts(store.client)
    with pytest.raises(StoreUnavailable) as caught:
        store.get_many(["a"], now=NOW)
    assert isinstance(caught.value.__cause__, ReadTimeoutError)
    assert len(sent) == ATTEMPTS


def _batch_reply(found: list[str], unprocessed: list[str]) -> Reply:
    items = [
        {"pk": {"S": k}, "status": {"S": "generated"}, "text": {"S": k.upper()}, "version": {"N": "1"}}
        for k in found
    ]
    body: dict[str, Any] = {"Responses": {"copy": items}, "UnprocessedKeys": {}}
    if unprocessed:
        body["UnprocessedKeys"] = {"copy": {"Keys": [{"pk": {"S": k}} for k in unprocessed]}}
    return 200, {"content-type": "application/x-amz-json-1.0"}, json.dumps(body).encode()


def test_unprocessed_keys_are_retried(servers: list[LoopbackHTTP], aws_client: Callable[..., Any]) -> None:
    # GIVEN DynamoDB that processes one key per call
    def respond(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        keys = [k["pk"]["S"] for k in json.loads(body)["RequestItems"]["copy"]["Keys"]]
        return _batch_reply(keys[:1], keys[1:])

    stub = LoopbackHTTP(respond)
    servers.append(stub)
    # THEN every key is read, asking again for the unprocessed ones
    found = dynamo_store(aws_client, stub.url).get_many(["a", "b", "c"], now=NOW)
    assert sorted(found) == ["a", "b", "c"] and found["c"].text == "C"
    assert len(stub.seen) == 3


def test_keys_that_stay_unprocessed_make_the_store_unavailable(
    servers: list[LoopbackHTTP], aws_client: Callable[..., Any]
) -> None:
    """Keys DynamoDB never processes: the read re-asks once per pause of UNPROCESSED_BACKOFF, each
    pause jittered to between half and all of its step (so the whole wait is bounded by their sum),
    then raises StoreUnavailable."""
    stub = LoopbackHTTP(
        lambda m, p, h, body: _batch_reply(
            [], [k["pk"]["S"] for k in json.loads(body)["RequestItems"]["copy"]["Keys"]]
        )
    )
    servers.append(stub)
    pauses: list[float] = []
    client = aws_client("dynamodb", stub.url, dynamo_copy.DEFAULT_CONFIG)
    store = DynamoCopyStore("copy", client=client, sleep=pauses.append)
    with pytest.raises(StoreUnavailable, match="unprocessed"):
        store.get_many(["a"], now=NOW)
    assert len(stub.seen) == 1 + len(dynamo_copy.UNPROCESSED_BACKOFF)
    assert len(pauses) == len(dynamo_copy.UNPROCESSED_BACKOFF), pauses
    for pause, step in zip(pauses, dynamo_copy.UNPROCESSED_BACKOFF, strict=True):
        assert step / 2 <= pause <= step, (pauses, dynamo_copy.UNPROCESSED_BACKOFF)


# -------------------------------------------------------------------------------------- publishing


def test_an_invalid_pack_is_never_uploaded(
    s3_client: Any, s3_bucket: str, brand_v1: str, tmp_path: Path
) -> None:
    before = s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"]

    def break_it(data: dict[str, Any]) -> None:
        data["creatives"]["cyber-week"]["layers"][0]["type"] = "hologram"

    with pytest.raises(PackError):
        Publisher(s3_bucket, client=s3_client).publish(edited_pack(tmp_path, BRAND, break_it))
    assert s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == before
    assert pointer(s3_client, s3_bucket).version == brand_v1


def test_a_pack_with_lint_errors_is_never_uploaded(
    s3_client: Any, s3_bucket: str, brand_v1: str, tmp_path: Path
) -> None:
    def unkeyable(data: dict[str, Any]) -> None:
        rule = {"id": "ios-only", "when": {"os": ["ios"]}, "set": {"link": "https://northwind.example/ios"}}
        data["creatives"]["cyber-week"].setdefault("rules", []).append(rule)

    before = s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"]
    with pytest.raises(PackError, match="cache key"):
        Publisher(s3_bucket, client=s3_client).publish(edited_pack(tmp_path, BRAND, unkeyable))
    assert s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == before
    assert pointer(s3_client, s3_bucket).version == brand_v1


def test_an_s3_error_midway_leaves_the_pointer(
    proxied: Callable[..., tuple[LoopbackHTTP, Any]],
    s3_client: Any,
    s3_bucket: str,
    brand_v1: str,
    tmp_path: Path,
) -> None:
    # GIVEN S3 refusing the fallback uploads of a new version
    proxy, client = proxied(Config(read_timeout=5))
    forward = proxy.respond

    def respond(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if method == "PUT" and "/fallbacks/" in path:
            return s3_error(403, "AccessDenied")
        return forward(method, path, headers, body)

    proxy.respond = respond
    # WHEN the new version is published
    with pytest.raises(PublishError, match="fallback"):
        Publisher(s3_bucket, client=client).publish(edited_pack(tmp_path, BRAND, renamed("Northwind v2")))
    # THEN the pointer still names the old version
    assert pointer(s3_client, s3_bucket).version == brand_v1
    assert not [s for s in proxy.seen if s.method == "PUT" and s.path.endswith("current.json")]


def test_a_pointer_written_without_the_lock_is_a_conflict(
    proxied: Callable[..., tuple[LoopbackHTTP, Any]],
    s3_client: Any,
    s3_bucket: str,
    brand_v1: str,
    tmp_path: Path,
) -> None:
    # GIVEN a second published version, and someone who rolls the pointer back to v1 by hand (not
    # through the brand's lock) just before this publisher flips it
    other = Publisher(s3_bucket, client=s3_client).publish(edited_pack(tmp_path, BRAND, renamed("Other")))
    proxy, client = proxied(Config(read_timeout=5))
    forward = proxy.respond
    raced: list[str] = []

    def respond(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if method == "PUT" and path.split("?")[0].endswith("current.json") and not raced:
            raced.append(brand_v1)
            s3_client.put_object(
                Bucket=s3_bucket, Key=PackLayout().pointer_key(BRAND),
                Body=Pointer(brand_v1, "now", other.version).to_json(),
            )
        return forward(method, path, headers, body)

    proxy.respond = respond
    # WHEN this one flips, THEN it is refused, the hand-written pointer stays, and the fallbacks
    # were brought back to the version it names
    with pytest.raises(PublishConflict, match="fallbacks now match"):
        Publisher(s3_bucket, client=client).publish(edited_pack(tmp_path, BRAND, renamed("Mine")))
    assert pointer(s3_client, s3_bucket).version == brand_v1
    listed = s3_client.list_objects_v2(Bucket=s3_bucket, Prefix=f"fallbacks/v1/{BRAND}/")["Contents"]
    versions = {s3_client.head_object(Bucket=s3_bucket, Key=o["Key"])["Metadata"]["version"] for o in listed}
    assert versions == {brand_v1}


def test_rollback_flips_back_and_invalidates(
    s3_client: Any, cloudfront_client: Any, s3_bucket: str, distribution: str, tmp_path: Path
) -> None:
    # GIVEN two published versions, with a CDN distribution configured
    publisher = Publisher(
        s3_bucket, client=s3_client, distribution_id=distribution, cloudfront_client=cloudfront_client
    )
    v1 = publisher.publish(EXAMPLES / BRAND)
    v2 = publisher.publish(edited_pack(tmp_path, BRAND, renamed("Northwind v2")))
    assert (v2.previous, v2.pointer_changed, v2.uploaded) == (v1.version, True, True)
    # WHEN rolled back to the first
    result = publisher.rollback(BRAND, v1.version)
    # THEN the pointer names it again, remembering what it replaced
    current = pointer(s3_client, s3_bucket)
    assert (current.version, current.previous) == (v1.version, v2.version)
    assert (result.previous, result.pointer_changed) == (v2.version, True)
    assert {i.version: i.current for i in publisher.versions(BRAND)} == {v1.version: True, v2.version: False}
    # AND every publish and the rollback invalidated the brand's paths
    listed = cloudfront_client.list_invalidations(DistributionId=distribution)["InvalidationList"]
    ids = {item["Id"] for item in listed.get("Items", [])}
    assert {v1.invalidation_id, v2.invalidation_id, result.invalidation_id} <= ids
    batch = cloudfront_client.get_invalidation(DistributionId=distribution, Id=result.invalidation_id)
    assert batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == [f"/v1/{BRAND}/*"]


def test_rollback_to_an_unknown_version_changes_nothing(s3_client: Any, s3_bucket: str, brand_v1: str) -> None:
    with pytest.raises(UnknownVersion):
        Publisher(s3_bucket, client=s3_client).rollback(BRAND, "0000000000ff")
    assert pointer(s3_client, s3_bucket).version == brand_v1


def test_the_disk_cache_keeps_only_the_versions_held_in_memory(
    s3_client: Any, s3_bucket: str, brand_v1: str, tmp_path: Path
) -> None:
    """/tmp outlives many publishes in a warm container: versions evicted from memory leave the disk."""
    clock = Clock()
    cache = tmp_path / "cache"
    store = S3PackStore(s3_bucket, checks=PACK_CHECKS, client=s3_client, cache_dir=cache, clock=clock, keep_versions=2)
    publisher = Publisher(s3_bucket, client=s3_client)
    # a version left on disk by an earlier process (a SnapStart snapshot, a reused container)
    (cache / BRAND / ("0" * 16)).mkdir(parents=True)
    # GIVEN v1 loaded, WHEN two more versions are published and loaded in turn
    seen = [store.current(BRAND).version]
    for n in (2, 3):
        publisher.publish(edited_pack(tmp_path / f"v{n}", BRAND, renamed(f"Northwind v{n}")))
        clock.advance(31)
        seen.append(store.current(BRAND).version)
    # THEN the disk holds exactly the two versions in memory: the newest two, the current one among them
    assert brand_v1 == seen[0] and len(set(seen)) == 3
    assert sorted(p.name for p in (cache / BRAND).iterdir()) == sorted(seen[1:])
