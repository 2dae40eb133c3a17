"""`versa publish / versions / rollback` end to end against moto's standalone server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from services import run_cli as run

PACKS = Path(__file__).resolve().parents[2] / "examples" / "packs"


def test_publish_versions_rollback_round_trip(
    tmp_path: Path, s3_bucket: str, s3_client: Any, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the northwind pack and an edited copy of it (a second version)
    edited = tmp_path / "northwind"
    shutil.copytree(PACKS / "northwind", edited)
    text = (edited / "pack.yaml").read_text(encoding="utf-8").replace("name: Northwind Supply", "name: Northwind Supply v2")
    (edited / "pack.yaml").write_text(text, encoding="utf-8")
    common = ["--bucket", s3_bucket, "--endpoint-url", moto_endpoint]

    # WHEN both are published
    code1, out1, _ = run(capsys, "publish", str(PACKS / "northwind"), *common)
    code2, out2, _ = run(capsys, "publish", str(edited), *common)

    # THEN each publish flips the pointer and writes the fallbacks
    assert code1 == 0 and code2 == 0, (out1, out2)
    first = out1.split()[2]
    second = out2.split()[2]
    assert first != second
    assert "fallback" in out1
    pointer = json.loads(s3_client.get_object(Bucket=s3_bucket, Key="packs/northwind/current.json")["Body"].read())
    assert pointer["version"] == second

    # WHEN the versions are listed and the brand rolled back
    code, listing, _ = run(capsys, "versions", "northwind", *common)
    assert code == 0
    assert f"* {second}" in listing and first in listing
    code, out, _ = run(capsys, "rollback", "northwind", "--to", first, *common)

    # THEN the pointer names the first version again
    assert code == 0, out
    pointer = json.loads(s3_client.get_object(Bucket=s3_bucket, Key="packs/northwind/current.json")["Body"].read())
    assert pointer["version"] == first


def test_publish_refuses_an_invalid_pack_and_keeps_the_pointer(
    tmp_path: Path, s3_bucket: str, s3_client: Any, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a published pack and a broken edit of it
    common = ["--bucket", s3_bucket, "--endpoint-url", moto_endpoint]
    assert run(capsys, "publish", str(PACKS / "northwind"), *common)[0] == 0
    before = s3_client.get_object(Bucket=s3_bucket, Key="packs/northwind/current.json")["Body"].read()
    broken = tmp_path / "northwind"
    shutil.copytree(PACKS / "northwind", broken)
    text = (broken / "pack.yaml").read_text(encoding="utf-8").replace("font: display", "font: dispaly", 1)
    (broken / "pack.yaml").write_text(text, encoding="utf-8")

    # WHEN it is published
    code, _, err = run(capsys, "publish", str(broken), *common)

    # THEN it is refused with the located error, and the pointer is unchanged
    assert code == 1
    assert "unknown font 'dispaly'" in err and "Traceback" not in err
    after = s3_client.get_object(Bucket=s3_bucket, Key="packs/northwind/current.json")["Body"].read()
    assert after == before


def test_publish_without_bucket_names_the_missing_setting(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERSA_PACK_BUCKET", raising=False)
    code, _, err = run(capsys, "publish", str(PACKS / "acme"))
    assert code == 1
    assert "--bucket is required" in err


def test_publish_prints_what_it_changes_before_the_pointer_flips(
    tmp_path: Path, s3_bucket: str, s3_client: Any, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from diffpacks import write_pair
    from versa.publish.s3 import Publisher

    # GIVEN the crafted pair: one rule added, one token changed, one creative removed
    old, new = write_pair(tmp_path)
    common = ["--bucket", s3_bucket, "--endpoint-url", moto_endpoint]

    # WHEN the old version is published, then the new one
    code1, _, err1 = run(capsys, "publish", str(old), *common)
    code2, out2, err2 = run(capsys, "publish", str(new), *common)

    # THEN the first had nothing to compare with, and the second printed versa diff's summary
    assert code1 == 0 and code2 == 0, (err1, err2)
    assert "shop: nothing published yet to compare with" in err1
    lines = err2.splitlines()
    assert "hero: 1 added, 0 removed, 0 changed, 2 unchanged (2 with a new key, same image)" in lines
    assert "promo: creative removed: 0 added, 2 removed, 0 changed, 0 unchanged" in lines
    assert "total: 1 added, 2 removed, 2 changed" in lines
    assert out2.startswith("published shop ")

    # AND the summary is made while the pointer still names the published version
    seen: list[str] = []

    def before_flip(published: Any, release: Any) -> None:
        pointer = json.loads(s3_client.get_object(Bucket=s3_bucket, Key="packs/shop/current.json")["Body"].read())
        seen.append(pointer["version"])
        assert published is not None and set(published.creatives) == {"hero", "banner"}

    import boto3

    client = boto3.client("s3", endpoint_url=moto_endpoint)
    current = json.loads(s3_client.get_object(Bucket=s3_bucket, Key="packs/shop/current.json")["Body"].read())
    result = Publisher(s3_bucket, client=client).publish(old, before_flip=before_flip)
    assert seen == [current["version"]]
    assert result.pointer_changed and result.previous == current["version"]
