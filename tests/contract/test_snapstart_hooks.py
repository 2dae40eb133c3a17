"""SnapStart runtime hooks (`versa.web.lifecycle`), run as the runtime would run them: registered
through a `snapshot_restore_py` module (the runtime's; here a stand-in that records what is registered),
then called in order. Before the snapshot every brand's pack is loaded from S3 (moto) and its creatives
drawn; after a restore the random seed differs from the snapshot's, the request memo is empty, a pack
published since the snapshot is served at once (the pointer is read again although its revalidation
interval has not passed) and a rotated origin secret is honoured at once. Without the module nothing is
registered. SnapStart itself cannot run here."""

from __future__ import annotations

import json
import random
import shutil
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from services import EXAMPLES, keyed_settings
from versa.adapters.origin_secret import SecretsManagerOriginSecrets
from versa.adapters.s3_packs import S3PackStore
from versa.composition import build_service
from versa.publish.s3 import Publisher
from versa.render.checks import PACK_CHECKS
from versa.web import lifecycle
from versa.web.service import RenderService

CURRENT = "current-origin-secret-" + "1" * 16
NEXT = "next-origin-secret-" + "3" * 16


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Any]]]:
    """A `snapshot_restore_py` that records the registered hooks (with their arguments)."""
    hooks: dict[str, list[Any]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = lambda fn, *a, **k: hooks["before"].append((fn, a, k))  # type: ignore[attr-defined]
    module.register_after_restore = lambda fn, *a, **k: hooks["after"].append((fn, a, k))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    yield hooks


def run(hooks: list[Any], *, reverse: bool = False) -> None:
    for fn, args, kwargs in reversed(hooks) if reverse else hooks:
        fn(*args, **kwargs)


def test_without_the_runtime_library_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert lifecycle.install_snapstart_hooks(lambda: pytest.fail("built"), print) is False


@pytest.mark.slow
def test_hooks_warm_the_snapshot_and_refresh_what_is_time_bound(
    runtime: dict[str, list[Any]], s3_client: Any, aws_client: Callable[..., Any], moto_endpoint: str,
    tmp_path: Path,
) -> None:
    # GIVEN the example packs published to S3 and an origin secret in Secrets Manager
    bucket = f"versa-packs-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    publisher = Publisher(bucket, client=s3_client)
    for brand in ("acme", "northwind"):
        publisher.publish(EXAMPLES / brand)
    secrets = aws_client("secretsmanager", moto_endpoint)
    secret = f"versa/origin-{uuid.uuid4().hex[:10]}"
    secrets.create_secret(Name=secret, SecretString=json.dumps({"current": CURRENT}))
    # AND a service on them whose caches would otherwise hold for an hour
    svc = build_service(keyed_settings(tmp_path))
    svc.packs = S3PackStore(bucket, checks=PACK_CHECKS, client=s3_client, cache_dir=tmp_path / "cache",
                            revalidate_seconds=3600)
    svc.origin = SecretsManagerOriginSecrets(secret, client=secrets, max_age=3600)
    logged: list[tuple[str, dict[str, Any]]] = []
    log = lambda message, **props: logged.append((message, props))  # noqa: E731

    # WHEN the handler module registers the hooks and the runtime takes the snapshot
    assert lifecycle.install_snapstart_hooks(lambda: svc, log) is True
    assert len(runtime["before"]) == len(runtime["after"]) == 1
    run(runtime["before"], reverse=True)
    # THEN every brand's pack was loaded (its bundle in /tmp, in the snapshot) and nothing failed
    assert logged == []
    loaded = {brand: svc.current_pack(brand).version for brand in ("acme", "northwind")}
    assert svc.origin.accepts(CURRENT)

    # WHEN, after the snapshot, a new acme version is published and the secret rotates
    changed = tmp_path / "acme"
    shutil.copytree(EXAMPLES / "acme", changed)
    doc = yaml.safe_load((changed / "pack.yaml").read_text(encoding="utf-8"))
    doc["name"] = doc.get("name", "Acme") + " (republished)"
    (changed / "pack.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    publisher.publish(changed)
    secrets.put_secret_value(SecretId=secret, SecretString=json.dumps({"current": NEXT, "previous": CURRENT}))
    # (before the restore the caches still hold: an hour has not passed)
    assert svc.current_pack("acme").version == loaded["acme"] and not svc.origin.accepts(NEXT)
    # AND two copies are restored from the same snapshot state (same random state)
    random.seed(12345)
    snapshot_state = random.getstate()
    run(runtime["after"])
    first = random.random()
    random.setstate(snapshot_state)
    run(runtime["after"])
    second = random.random()
    # THEN each copy draws its own numbers
    assert first != second
    # AND the new pack version and the rotated secret are seen by the next request
    assert svc.current_pack("acme").version != loaded["acme"]
    assert svc.current_pack("northwind").version == loaded["northwind"]
    assert svc.origin.accepts(NEXT) and svc.origin.accepts(CURRENT)
    assert logged == []


def test_after_restore_empties_the_request_memo(tmp_path: Path) -> None:
    svc: RenderService = build_service(keyed_settings(tmp_path))
    assert svc.memo is not None
    svc.memo.put(("k",), body=b"x", pack_version="v", content_type="image/png", headers={}, etag='"e"',
                 cache=None, valid_until=None, expires=None, fixed_now=None, proxy_refetch=False)
    assert len(svc.memo) == 1
    lifecycle.after_restore(lambda: svc, print)
    assert len(svc.memo) == 0


def test_warm_up_never_fails_the_init() -> None:
    logged: list[str] = []

    def broken() -> RenderService:
        raise RuntimeError("SSM unreachable")

    assert lifecycle.warm_up(broken, lambda message, **_: logged.append(message)) == []
    assert logged == ["warm-up failed"]
