"""Attacks on the pack bundle (issue 8, classes 1 and 7): files that are not what they seem when a pack
is bundled by `versa publish`, and hostile archives when the S3 pack store unpacks a bundle.

Building refuses anything in a pack that is not a regular file inside it, naming the file; extracting
refuses links, devices, absolute and `..` paths, very deep or long names, and too many members or bytes,
always as a BundleError (a PackError), never a crash and never a write outside the destination.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from versa.adapters.s3_packs import PackLayout, Pointer, S3PackStore
from versa.errors import PackError
from versa.pack import bundle
from versa.pack.bundle import (
    MAX_BUNDLE_MEMBERS,
    MAX_MEMBER_DEPTH,
    BundleError,
    build_bundle,
    extract_bundle,
)
from versa.pack.loader import MAX_PACK_BYTES
from versa.ports import StoreUnavailable
from versa.publish.s3 import Publisher
from versa.render.checks import PACK_CHECKS

SECRET = b"aws_secret_access_key = not-for-the-cdn\n"


# ------------------------------------------------------------------------------------------ helpers


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A small valid pack `tiny` in tmp_path/pack."""
    root = tmp_path / "pack"
    (root / "assets").mkdir(parents=True)
    (root / "templates").mkdir()
    Image.new("RGB", (60, 20), "#336699").save(root / "assets" / "fallback.png")
    data = {
        "brand": "tiny",
        "locales": ["en"],
        "default_tz": "UTC",
        "tokens": {"colors": {"paper": "#ffffff"}, "fonts": {"body": "sans"}},
        "creatives": {
            "promo": {
                "size": [60, 20],
                "fallback": "assets/fallback.png",
                "link": "https://example.com/",
                "layers": [{"id": "bg", "type": "background", "fill": "paper"}],
            }
        },
    }
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the pack that must never be published."""
    path = tmp_path / "credentials"
    path.write_bytes(SECRET)
    return path


def pack_files(root: Path) -> list[str]:
    """What a loader would list: every non-dot file, links followed (the bundle must not trust it)."""
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def assert_refused(root: Path, name: str, what: str, s3_client: Any, bucket: str) -> None:
    """Bundling `root` and publishing it are both refused naming `name`; nothing reaches the bucket."""
    with pytest.raises(BundleError, match=what) as refused:
        build_bundle(root, pack_files(root))
    assert refused.value.issues[0].file == name
    with pytest.raises(PackError) as published:
        Publisher(bucket, client=s3_client).publish(root)
    assert name in str(published.value)
    assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def tar_gz(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


PACK_YAML = (member("pack.yaml"), b"brand: x\n")


@pytest.fixture
def dest(tmp_path: Path) -> Iterator[Path]:
    """An empty extraction directory; after the test, nothing may exist beside it or be a link in it."""
    out = tmp_path / "box" / "out"
    out.mkdir(parents=True)
    yield out
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"], "something was written outside"
    assert not any(p.is_symlink() for p in out.rglob("*"))


# ------------------------------------------------------------------------------------------ building


def test_symlink_to_a_secret_in_a_pack(pack: Path, secret: Path, s3_client: Any, s3_bucket: str) -> None:
    """A pack file that is a symlink to a credentials file outside the pack → publish refuses it, naming it; nothing uploaded."""
    (pack / "templates" / "notes.txt").symlink_to(secret)
    assert_refused(pack, "templates/notes.txt", "symbolic link", s3_client, s3_bucket)


def test_symlinked_directory_in_a_pack(pack: Path, tmp_path: Path, s3_client: Any, s3_bucket: str) -> None:
    """A pack directory that is a symlink to a directory outside the pack → publish refuses it, naming it."""
    outside = tmp_path / "home"
    outside.mkdir()
    (outside / "id_rsa").write_bytes(SECRET)
    (pack / "assets" / "more").symlink_to(outside, target_is_directory=True)
    assert_refused(pack, "assets/more", "symbolic link", s3_client, s3_bucket)


def test_hard_link_to_a_secret_in_a_pack(pack: Path, secret: Path, s3_client: Any, s3_bucket: str) -> None:
    """A pack file that is a hard link to a file outside the pack (st_nlink 2) → publish refuses it, naming it."""
    os.link(secret, pack / "templates" / "notes.txt")
    assert_refused(pack, "templates/notes.txt", "hard link", s3_client, s3_bucket)


def test_fifo_in_a_pack(pack: Path, s3_client: Any, s3_bucket: str) -> None:
    """A FIFO in a pack (reading it would block publish forever) → refused at once, naming it, never opened."""
    os.mkfifo(pack / "assets" / "pipe.png")
    assert_refused(pack, "assets/pipe.png", "FIFO", s3_client, s3_bucket)


def test_socket_in_a_pack(pack: Path, s3_client: Any, s3_bucket: str) -> None:
    """A Unix socket in a pack → publish refuses it, naming it."""
    path = pack / "assets" / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        assert_refused(pack, "assets/s.sock", "socket", s3_client, s3_bucket)
    finally:
        server.close()


def test_device_in_a_pack(pack: Path, s3_client: Any, s3_bucket: str) -> None:
    """A character device (like /dev/zero, an endless read) in a pack → publish refuses it, naming it."""
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root; the extraction side is tested without it")
    os.mknod(pack / "assets" / "zero.png", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    assert_refused(pack, "assets/zero.png", "device", s3_client, s3_bucket)


def test_file_swapped_for_a_symlink_after_the_check(
    pack: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack file replaced by a symlink after the tree was checked → the read itself refuses it (no TOCTOU leak)."""
    target = pack / "templates" / "notes.txt"
    target.write_text("harmless", encoding="utf-8")
    files = pack_files(pack)
    target.unlink()
    target.symlink_to(secret)
    # the race: the swap lands between the tree check and the read
    monkeypatch.setattr(bundle, "check_pack_tree", lambda root: None)
    with pytest.raises(BundleError, match="symbolic link") as refused:
        build_bundle(pack, files)
    assert refused.value.issues[0].file == "templates/notes.txt"


# ---------------------------------------------------------------------------------------- extracting


def test_very_deep_member_path(dest: Path) -> None:
    """A member 1,500 directories deep (it used to crash the extractor with RecursionError) → BundleError naming the depth."""
    deep = "/".join(["d"] * 1500) + "/x.png"
    with pytest.raises(BundleError, match="levels deep"):
        extract_bundle(tar_gz(PACK_YAML, (member(deep), b"x")), dest)


def test_member_just_past_the_depth_cap(dest: Path) -> None:
    """A member one level deeper than the cap (short names) → refused, while one at the cap is accepted."""
    at_cap = "/".join(["d"] * (MAX_MEMBER_DEPTH - 1)) + "/ok"
    assert extract_bundle(tar_gz(PACK_YAML, (member(at_cap), b"x")), dest) == ["pack.yaml", at_cap]
    too_deep = "/".join(["e"] * MAX_MEMBER_DEPTH) + "/no"
    with pytest.raises(BundleError, match="levels deep"):
        extract_bundle(tar_gz((member(too_deep), b"x"),), dest / "second")


def test_very_long_member_name(dest: Path) -> None:
    """A member whose name is a few kilobytes long → BundleError (name too long), no OSError."""
    with pytest.raises(BundleError, match="longer than"):
        extract_bundle(tar_gz(PACK_YAML, (member("a" * 200 + "/" + "b" * 4000), b"x")), dest)


def test_absolute_member_path(dest: Path) -> None:
    """A member named /tmp/... (absolute) → BundleError, nothing written outside the destination."""
    target = dest.parent / "escaped"
    with pytest.raises(BundleError, match="relative"):
        extract_bundle(tar_gz(PACK_YAML, (member(str(target)), b"x")), dest)
    assert not target.exists()


def test_dotdot_member_path(dest: Path) -> None:
    """A member named assets/../../escaped → BundleError, nothing written outside the destination."""
    with pytest.raises(BundleError, match=r"'\.\.'"):
        extract_bundle(tar_gz(PACK_YAML, (member("assets/../../escaped"), b"x")), dest)


def test_symlink_member(dest: Path) -> None:
    """A symlink member pointing at /etc/passwd, then a file written through it → BundleError, no link created."""
    bundle = tar_gz(PACK_YAML, (member("assets", tarfile.SYMTYPE, "/etc"), b""), (member("assets/passwd"), b"x"))
    with pytest.raises(BundleError, match="is a link"):
        extract_bundle(bundle, dest)


def test_hard_link_member(dest: Path) -> None:
    """A hard-link member to a file outside the bundle → BundleError, no link created."""
    with pytest.raises(BundleError, match="is a link"):
        extract_bundle(tar_gz(PACK_YAML, (member("secret", tarfile.LNKTYPE, "/etc/passwd"), b"")), dest)


def test_device_and_fifo_members(dest: Path) -> None:
    """Character-device, block-device and FIFO members → BundleError each, nothing created."""
    for kind in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
        with pytest.raises(BundleError, match="not a regular file"):
            extract_bundle(tar_gz(PACK_YAML, (member("node", kind), b"")), dest / kind.decode())
    assert not any(p.name == "node" for p in dest.rglob("*"))


def test_too_many_members(dest: Path) -> None:
    """A bundle of more members than the cap (tiny files) → BundleError before it fills the disk with inodes."""
    members = [(member(f"assets/f{i}"), b"") for i in range(MAX_BUNDLE_MEMBERS + 1)]
    with pytest.raises(BundleError, match="more than"):
        extract_bundle(tar_gz(*members), dest)


def test_too_many_bytes(dest: Path) -> None:
    """A bundle whose files unpack past the pack size limit (zeros: a small gzip) → BundleError, the big file never written."""
    big = b"\0" * (MAX_PACK_BYTES + 1)
    bundle = tar_gz(PACK_YAML, (member("assets/huge.png"), big))
    assert len(bundle) < 1_000_000
    with pytest.raises(BundleError, match="more than"):
        extract_bundle(bundle, dest)
    assert not (dest / "assets" / "huge.png").exists()


def test_header_bomb(dest: Path) -> None:
    """A PAX header of 80 MiB (past the unpacked-size cap, tiny once gzipped) → BundleError, not 80 MiB in memory."""
    info = member("pack.yaml")
    info.pax_headers = {"comment": "x" * (80 * 2**20)}
    bundle = tar_gz((info, b"brand: x\n"))
    with pytest.raises(BundleError):
        extract_bundle(bundle, dest)


def test_garbage_and_truncated_bundles(dest: Path) -> None:
    """Bytes that are not a tar.gz, and a bundle cut in half → BundleError each, never a crash."""
    whole = tar_gz(PACK_YAML, (member("assets/a.png"), b"x" * 10_000))
    for n, data in enumerate((b"\x1f\x8b not gzip", b"plain text", whole[: len(whole) // 2])):
        with pytest.raises(BundleError):
            extract_bundle(data, dest / str(n))


def test_deep_path_bundle_served_by_the_s3_store(s3_client: Any, s3_bucket: str, tmp_path: Path) -> None:
    """A pointer to a bundle with a 1,500-deep member, in S3 → the pack store reports the brand unavailable, no crash."""
    layout, version = PackLayout(), "deadbeef0001"
    deep = "/".join(["d"] * 1500) + "/x"
    s3_client.put_object(Bucket=s3_bucket, Key=layout.bundle_key("tiny", version), Body=tar_gz((member(deep), b"x")))
    s3_client.put_object(Bucket=s3_bucket, Key=layout.pointer_key("tiny"), Body=Pointer(version, "now").to_json())
    store = S3PackStore(s3_bucket, client=s3_client, cache_dir=tmp_path / "cache", checks=PACK_CHECKS)
    with pytest.raises(StoreUnavailable, match="corrupt"):
        store.current("tiny")
    assert not any(p.is_symlink() for p in (tmp_path / "cache").rglob("*"))


def test_a_pack_reached_through_a_linked_root_is_still_checked(pack: Path, secret: Path, tmp_path: Path) -> None:
    """A pack named through a symlinked path, holding a symlink to a secret → the root is followed, the inner link refused."""
    (pack / "templates" / "notes.txt").symlink_to(secret)
    alias = tmp_path / "alias"
    alias.symlink_to(pack, target_is_directory=True)
    with pytest.raises(BundleError, match="symbolic link") as refused:
        build_bundle(alias, pack_files(alias))
    assert refused.value.issues[0].file == "templates/notes.txt"
    (pack / "templates" / "notes.txt").unlink()
    assert build_bundle(alias, pack_files(alias)) == build_bundle(pack, pack_files(pack))
