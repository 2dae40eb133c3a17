"""`versa publish --repair` and the repair warning of `versa versions`, end to end against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import EndpointConnectionError
from PIL import Image

from services import run_cli as run
from versa.publish.s3 import Publisher, PublishError


def tiny_pack(root: Path, ink: str) -> Path:
    (root / "assets").mkdir(parents=True)
    Image.new("RGB", (60, 20), ink).save(root / "assets" / "fallback.png")
    creative = {
        "size": [60, 20],
        "fallback": "assets/fallback.png",
        "link": "https://example.com/",
        "layers": [{"id": "bg", "type": "background", "fill": "paper"}],
    }
    data = {
        "brand": "tiny",
        "locales": ["en"],
        "default_tz": "UTC",
        "tokens": {"colors": {"paper": ink}, "fonts": {"body": "sans"}},
        "creatives": {"promo": creative, "teaser": creative},
    }
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


class DiesAfter:
    """An S3 client that works for `calls` API calls, then fails every call (a publisher that crashed)."""

    def __init__(self, client: Any, calls: int) -> None:
        self._client, self._left = client, calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name in ("meta", "exceptions", "get_paginator") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._left -= 1
            if self._left < 0:
                raise EndpointConnectionError(endpoint_url="http://injected-fault")
            return attr(*args, **kwargs)

        return call


def fallback_versions(s3: Any, bucket: str) -> set[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="fallbacks/v1/tiny/")["Contents"]
    return {s3.head_object(Bucket=bucket, Key=o["Key"])["Metadata"]["version"] for o in listed}


def test_repair_after_a_failed_publish(
    tmp_path: Path, s3_bucket: str, s3_client: Any, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 published, and a publish of v2 that failed after its first fallback write
    common = ["--bucket", s3_bucket, "--endpoint-url", moto_endpoint, "--wait", "0"]
    code, out, _ = run(capsys, "publish", str(tiny_pack(tmp_path / "v1", "#111111")), *common)
    assert code == 0, out
    v1 = out.split()[2]
    # lock read, lock take, pointer read, bundle HEAD, bundle PUT, one fallback; then S3 is gone
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)  # so its lock has expired by now
    publisher = Publisher(s3_bucket, client=DiesAfter(s3_client, 6), clock=lambda: an_hour_ago)
    with pytest.raises(PublishError):
        publisher.publish(tiny_pack(tmp_path / "v2", "#222222"))
    assert len(fallback_versions(s3_client, s3_bucket)) == 2  # v1's and v2's: mixed
    # WHEN the versions are listed
    code, _, err = run(capsys, "versions", "tiny", *common)
    # THEN the listing says a repair is due, and how to run it
    assert code == 0 and "versa publish --repair tiny" in err
    # WHEN repaired (the dead publisher's lock has expired)
    code, out, err = run(capsys, "publish", "--repair", "tiny", *common)
    # THEN every fallback is v1's again, the pointer untouched, and a second repair has nothing to do
    assert code == 0, err
    assert out.startswith(f"repaired tiny {v1}") and "last operation: publish of" in out
    assert fallback_versions(s3_client, s3_bucket) == {v1}
    pointer = json.loads(s3_client.get_object(Bucket=s3_bucket, Key="packs/tiny/current.json")["Body"].read())
    assert pointer["version"] == v1
    code, out, err = run(capsys, "publish", "--repair", str(tmp_path / "v1"), *common)
    assert code == 0 and "nothing to repair" in out
    code, _, err = run(capsys, "versions", "tiny", *common)
    assert code == 0 and "repair" not in err


def test_repair_of_an_unpublished_brand_says_so(
    s3_bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "publish", "--repair", "nobody", "--bucket", s3_bucket, "--endpoint-url", moto_endpoint)
    assert code == 1 and "nothing published" in err


def test_a_negative_wait_is_refused(s3_bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "publish", "--repair", "tiny", "--bucket", s3_bucket, "--endpoint-url", moto_endpoint,
                       "--wait", "-1")
    assert code == 1 and "--wait" in err and "Traceback" not in err
