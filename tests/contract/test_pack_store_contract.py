"""One contract for every PackStore adapter: the example packs from their directory, and the same
packs published to S3 (moto's standalone server, over HTTP)."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from versa.adapters.directory import DirectoryPackStore
from versa.adapters.s3_packs import PackLayout, Pointer, S3PackStore
from versa.errors import UnknownBrand
from versa.pack.bundle import build_bundle
from versa.pack.loader import load_pack
from versa.ports import PackStore
from versa.publish.s3 import Publisher
from versa.render.checks import PACK_CHECKS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
BRANDS = ["acme", "lumen", "northwind"]


@pytest.fixture(scope="module")
def published(s3_client: Any) -> str:
    """A bucket (prefix `stage/`) with every example pack published."""
    bucket = f"versa-packs-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    publisher = Publisher(bucket, prefix="stage", client=s3_client)
    for brand in BRANDS:
        publisher.publish(EXAMPLES / brand)
    return bucket


@pytest.fixture(params=["directory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PackStore:
    if request.param == "directory":
        return DirectoryPackStore(EXAMPLES, checks=PACK_CHECKS)
    bucket = request.getfixturevalue("published")
    return S3PackStore(
        bucket, checks=PACK_CHECKS, prefix="stage/", client=request.getfixturevalue("s3_client"), cache_dir=tmp_path
    )


# ---------------------------------------------------------------------------------------- contract


@pytest.mark.parametrize("brand", BRANDS)
def test_current_is_the_published_pack(store: PackStore, brand: str) -> None:
    # GIVEN the pack as loaded straight from its directory
    expected = load_pack(EXAMPLES / brand, checks=PACK_CHECKS)
    # WHEN the store serves the brand
    pack = store.current(brand)
    # THEN it is the same pack: same model, same content version, same files with the same bytes
    assert pack.model == expected.model
    assert pack.version == expected.version
    assert pack.files == expected.files
    for name in expected.files:
        assert (pack.root / name).read_bytes() == (expected.root / name).read_bytes()
    # AND a hand-made fallback (optional: one is drawn otherwise) resolves to a file in the store's copy
    for creative in pack.model.creatives.values():
        if creative.fallback is not None:
            assert pack.asset_path(creative.fallback).is_file()


def test_current_is_cached(store: PackStore) -> None:
    assert store.current("acme") is store.current("acme")


def test_brands(store: PackStore) -> None:
    assert store.brands() == BRANDS


@pytest.mark.parametrize("brand", ["nobody", "../acme", "ACME", ""])
def test_unknown_brand(store: PackStore, brand: str) -> None:
    with pytest.raises(UnknownBrand):
        store.current(brand)


# ------------------------------------------------------------------------------------- publishing


def test_the_same_pack_gives_the_same_bundle_bytes(tmp_path: Path) -> None:
    # GIVEN the same pack in two places, with different file times
    copy = tmp_path / "acme"
    shutil.copytree(EXAMPLES / "acme", copy)
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    # THEN its bundles are byte for byte the same
    a, b = load_pack(copy, checks=PACK_CHECKS), load_pack(EXAMPLES / "acme", checks=PACK_CHECKS)
    assert build_bundle(a.root, a.files) == build_bundle(b.root, b.files)


def test_publish_layout(published: str, s3_client: Any) -> None:
    # GIVEN the published examples
    layout = PackLayout("stage")
    for brand in BRANDS:
        pack = load_pack(EXAMPLES / brand, checks=PACK_CHECKS)
        # THEN the pointer names the version, first published, so with no previous one
        body = s3_client.get_object(Bucket=published, Key=layout.pointer_key(brand))["Body"].read()
        pointer = Pointer.from_json(body)
        assert (pointer.version, pointer.previous) == (pack.version, None)
        # AND the version's bundle is there, and is the deterministic bundle
        bundle = s3_client.get_object(Bucket=published, Key=f"stage/packs/{brand}/{pack.version}.tar.gz")
        assert bundle["Body"].read() == build_bundle(pack.root, pack.files)
        # AND every creative has a fallback the CDN can fail over to, at the request path, in each
        # image format the pack serves (and for `auto`)
        formats = {f for f in pack.model.render.formats if f != "html"} | {"png", "auto"}
        for creative in pack.model.creatives:
            for ext in formats:
                key = f"stage/fallbacks/v1/{brand}/{creative}.{ext}"
                obj = s3_client.get_object(Bucket=published, Key=key)
                image = Image.open(io.BytesIO(obj["Body"].read()))
                assert obj["ContentType"] == Image.MIME[str(image.format)]
                assert obj["CacheControl"].startswith("public, max-age=")


def test_publishing_again_is_a_no_op(published: str, s3_client: Any) -> None:
    # WHEN a published pack is published again
    result = Publisher(published, prefix="stage", client=s3_client).publish(EXAMPLES / "acme")
    # THEN nothing is uploaded and the pointer does not move
    assert (result.uploaded, result.pointer_changed, result.previous) == (False, False, result.version)


def test_versions(published: str, s3_client: Any) -> None:
    infos = Publisher(published, prefix="stage", client=s3_client).versions("acme")
    assert [(i.version, i.current) for i in infos] == [(load_pack(EXAMPLES / "acme", checks=PACK_CHECKS).version, True)]
    assert Publisher(published, prefix="stage", client=s3_client).versions("nobody") == []
