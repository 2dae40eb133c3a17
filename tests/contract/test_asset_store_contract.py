"""One contract for every AssetStore adapter: S3 (moto's standalone server, over HTTP) and the local folder
(`versa.adapters.local_assets`, run when it is importable); then what only S3 promises (media type,
immutable caching, no rewrite, the rejection tag, failures as StoreUnavailable)."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from PIL import Image

from versa.adapters.s3_assets import CACHE_CONTROL, S3AssetStore
from versa.ports import AssetMissing, AssetStore, StoreUnavailable


def png(color: tuple[int, int, int] = (20, 120, 200), size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> AssetStore:
    if request.param == "local":
        local = pytest.importorskip("versa.adapters.local_assets")
        made: AssetStore = local.LocalAssetStore(tmp_path / "assets")
        return made
    return S3AssetStore(request.getfixturevalue("s3_bucket"), client=request.getfixturevalue("s3_client"))


# ---------------------------------------------------------------------------------------- contract


def test_put_answers_the_content_address_and_get_the_same_bytes(store: AssetStore) -> None:
    # GIVEN an image
    data = png()
    # WHEN it is stored for a brand
    key = store.put("acme", data, "png")
    # THEN its key is the content address and reading it gives the very bytes
    assert key == AssetStore.key_for("acme", data, "png")
    assert key.startswith("generated/acme/") and key.endswith(".png")
    assert store.get(key) == data


def test_the_same_bytes_keep_their_key_and_other_brands_get_their_own(store: AssetStore) -> None:
    data = png((1, 2, 3))
    first = store.put("acme", data, "png")
    assert store.put("acme", data, "png") == first
    other = store.put("northwind", data, "png")
    assert other != first and other.startswith("generated/northwind/")
    assert store.get(first) == store.get(other) == data


def test_different_bytes_have_different_keys(store: AssetStore) -> None:
    a, b = png((255, 0, 0)), png((0, 255, 0))
    assert store.put("acme", a, "png") != store.put("acme", b, "png")


def test_a_key_never_stored_is_missing(store: AssetStore) -> None:
    absent = AssetStore.key_for("acme", b"never stored", "png")
    with pytest.raises(AssetMissing):
        store.get(absent)


@pytest.mark.parametrize("key", ["packs/acme/current.json", "generated/acme/../../etc/passwd",
                                 "generated/ACME/" + "0" * 64 + ".png", "generated/acme/" + "0" * 64 + ".gif"])
def test_what_is_not_a_generated_key_is_missing(store: AssetStore, key: str) -> None:
    with pytest.raises(AssetMissing):
        store.get(key)


@pytest.mark.parametrize(("brand", "ext"), [("Acme", "png"), ("../x", "png"), ("acme", "gif"), ("acme", "")])
def test_put_refuses_what_is_not_a_brand_or_an_image_extension(store: AssetStore, brand: str, ext: str) -> None:
    with pytest.raises(ValueError):
        store.put(brand, png(), ext)


def test_reject_is_idempotent(store: AssetStore) -> None:
    key = store.put("acme", png((9, 9, 9)), "png")
    store.reject(key)
    store.reject(key)


def test_concurrent_puts_of_the_same_bytes_agree(store: AssetStore) -> None:
    # GIVEN eight writers storing the same image at once
    data = png((77, 66, 55), (64, 64))
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: store.put("acme", data, "png"), range(8)))
    # THEN they all got the one key, and it holds the bytes whole
    assert len(set(keys)) == 1 and store.get(keys[0]) == data


def test_jpeg_and_webp_keep_their_extension(store: AssetStore) -> None:
    for ext, fmt in (("jpg", "JPEG"), ("webp", "WEBP")):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (5, 6, 7)).save(out, fmt)
        key = store.put("acme", out.getvalue(), ext)
        assert key.endswith(f".{ext}") and store.get(key) == out.getvalue()


# ------------------------------------------------------------------------------------- S3 promises


@pytest.fixture
def versioned(s3_client: Any) -> str:
    """A bucket with versioning on, as the stack's is (a rewrite would show as a second version)."""
    name = f"versa-assets-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    s3_client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_s3_objects_carry_their_media_type_and_immutable_caching(s3_client: Any, versioned: str) -> None:
    store = S3AssetStore(versioned, client=s3_client)
    key = store.put("acme", png(), "png")
    head = s3_client.head_object(Bucket=versioned, Key=key)
    assert head["ContentType"] == "image/png"
    assert head["CacheControl"] == CACHE_CONTROL and "immutable" in CACHE_CONTROL


def test_s3_never_rewrites_a_stored_asset(s3_client: Any, versioned: str) -> None:
    # GIVEN an asset stored once
    store = S3AssetStore(versioned, client=s3_client)
    data = png((3, 3, 3))
    key = store.put("acme", data, "png")
    # WHEN the same bytes are put again, from a second store too
    store.put("acme", data, "png")
    S3AssetStore(versioned, client=s3_client).put("acme", data, "png")
    # THEN S3 holds one version of the object: the conditional put wrote nothing the second time
    versions = s3_client.list_object_versions(Bucket=versioned, Prefix=key)["Versions"]
    assert [v["Key"] for v in versions] == [key]


def test_s3_prefix_puts_the_generated_folder_under_it(s3_client: Any, s3_bucket: str) -> None:
    store = S3AssetStore(s3_bucket, prefix="/stage/", client=s3_client)
    key = store.put("acme", png(), "png")
    assert s3_client.get_object(Bucket=s3_bucket, Key=f"stage/{key}")["Body"].read() == png()
    assert store.get(key) == png()


def test_s3_reject_tags_the_object_for_the_lifecycle_rule(s3_client: Any, s3_bucket: str) -> None:
    # GIVEN a stored asset
    store = S3AssetStore(s3_bucket, client=s3_client)
    key = store.put("acme", png((4, 4, 4)), "png")
    assert s3_client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"] == []
    # WHEN it is rejected
    store.reject(key)
    # THEN it carries the tag the lifecycle rule expires, and still reads until then
    assert s3_client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"] == [
        {"Key": "versa-status", "Value": "rejected"}]
    assert store.get(key) == png((4, 4, 4))
    # AND rejecting an object already gone is nothing to do
    store.reject(AssetStore.key_for("acme", b"expired already", "png"))


def test_s3_lifecycle_rule_of_the_template_matches_the_tag() -> None:
    """The tag the adapter writes is the one template.yaml's lifecycle rule filters on."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    root = Path(__file__).resolve().parents[2]
    template = yaml.load((root / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)  # a SafeLoader
    rules = template["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [r for r in rules if r["Id"] == "expire-rejected-visuals"]
    assert rule["Status"] == "Enabled"
    assert rule["TagFilters"] == [{"Key": "versa-status", "Value": "rejected"}]
    assert rule["Prefix"] == "generated/" and 1 <= rule["ExpirationInDays"] <= 30


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_s3_failures_are_store_unavailable(aws_client: Callable[..., Any], s3_client: Any, s3_bucket: str) -> None:
    # GIVEN a store whose S3 endpoint refuses connections, and one whose bucket does not exist
    quick = Config(connect_timeout=0.3, read_timeout=0.3, retries={"mode": "standard", "total_max_attempts": 1})
    dead = S3AssetStore("versa-nowhere", client=aws_client("s3", f"http://127.0.0.1:{_closed_port()}", quick))
    no_bucket = S3AssetStore(f"versa-absent-{uuid.uuid4().hex[:8]}", client=s3_client)
    key = AssetStore.key_for("acme", png(), "png")
    # THEN every operation raises StoreUnavailable, chained to the cause
    for store in (dead, no_bucket):
        for act in (lambda s: s.put("acme", png(), "png"), lambda s: s.get(key), lambda s: s.reject(key)):
            with pytest.raises(StoreUnavailable) as info:
                act(store)
            assert info.value.__cause__ is not None
