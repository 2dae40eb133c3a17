"""Attacks with pack files that are not what they seem: links, hard links, devices, FIFOs, sockets.

Every file of a pack must be a regular file inside the pack. Each test plants one such file where a
pack keeps its files and checks that `versa validate`, `versa lint`, the directory store or the
template loader refuses it, naming the file and what it is, and that nothing outside the pack leaks.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packissues import unlocated
from versa.adapters.directory import DirectoryPackStore
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.cli.main import main
from versa.composition import build_renderer
from versa.errors import PackError
from versa.pack.assets import NotRegularFile, iter_pack_files, read_pack_file
from versa.pack.loader import load_pack
from versa.ports import NullQueue
from versa.render.checks import PACK_CHECKS
from versa.render.html import HtmlPages
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.http import HttpResponse
from versa.web.service import CreativeRequest, RenderService, ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"
KEYS = Keyring({"k1": b"k" * 32}, "k1")
SECRET = "AKIA-TOP-SECRET-CREDENTIAL"
LINK_RULE = "every pack file must be a regular file inside the pack"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside every pack, standing for ~/.aws/credentials on a publishing machine."""
    path = tmp_path / "credentials"
    path.write_text(f"[default]\naws_secret_access_key = {SECRET}\n", encoding="utf-8")
    return path


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    """A copy of the example packs (acme, northwind) to plant files in."""
    root = tmp_path / "packs"
    shutil.copytree(EXAMPLES, root)
    return root


def refusal(root: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return unlocated(caught.value.issues)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# ------------------------------------------------------------------------------------ validate / lint


def test_symlink_asset_to_a_secret_is_refused_by_validate(
    packs: Path, secret: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An asset that is a symlink to a credentials file outside the pack → `versa validate` exits 1 naming the file as a symbolic link."""
    # GIVEN acme's logo replaced by a link to the credentials file
    logo = packs / "acme" / "assets" / "logo.png"
    logo.unlink()
    logo.symlink_to(secret)
    # WHEN validated
    code, out = cli(capsys, "validate", str(packs / "acme"))
    # THEN it fails, naming the file and what it is, and nothing of the secret is printed
    assert code == 1
    assert f"assets/logo.png: is a symbolic link: {LINK_RULE}" in out
    assert SECRET not in out


def test_symlink_pointing_inside_the_pack_is_refused_too(packs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A symlink to another file of the same pack → refused by `versa lint` (links are refused wherever they point)."""
    # GIVEN a new asset that links to the pack's own logo
    (packs / "acme" / "assets" / "logo-copy.png").symlink_to("logo.png")
    # WHEN linted
    code, out = cli(capsys, "lint", str(packs / "acme"))
    # THEN it fails at the file
    assert code == 1
    assert f"assets/logo-copy.png: is a symbolic link: {LINK_RULE}" in out


def test_hard_link_to_a_secret_is_refused(packs: Path, secret: Path) -> None:
    """A hard link in the pack to a file outside it (no symlink to see) → refused as a hard link with its link count."""
    # GIVEN the credentials file hard-linked into the pack's templates
    os.link(secret, packs / "acme" / "templates" / "notes.html")
    # WHEN loaded
    found = refusal(packs / "acme")
    # THEN the second name of the file is refused
    assert found == [f"templates/notes.html: is a hard link (the same file has 2 names): {LINK_RULE} "
                     "(links are refused even when they point inside it); put a copy of the file there instead"]


def test_symlinked_folder_is_refused(packs: Path, tmp_path: Path, secret: Path) -> None:
    """The whole assets/ folder replaced by a symlink to a directory outside the pack → refused at the folder, nothing below it read."""
    # GIVEN assets/ moved out of the pack and linked back in
    outside = tmp_path / "elsewhere"
    shutil.move(str(packs / "acme" / "assets"), outside)
    shutil.copy(secret, outside / "credentials")
    (packs / "acme" / "assets").symlink_to(outside, target_is_directory=True)
    # WHEN loaded
    found = refusal(packs / "acme")
    # THEN the folder itself is named
    assert found == [f"assets: is a symbolic link: {LINK_RULE} (links are refused even when they point inside it); "
                     "put a copy of the file there instead"]


def test_symlinked_pack_yaml_is_refused(packs: Path, tmp_path: Path) -> None:
    """pack.yaml itself a symlink to a YAML file elsewhere → refused before it is parsed."""
    # GIVEN a valid pack.yaml that lives outside the pack, linked in
    outside = tmp_path / "pack.yaml"
    shutil.move(str(packs / "acme" / "pack.yaml"), outside)
    (packs / "acme" / "pack.yaml").symlink_to(outside)
    # THEN the load names pack.yaml as a link
    assert refusal(packs / "acme")[0].startswith(f"pack.yaml: is a symbolic link: {LINK_RULE}")


def test_fifo_in_a_pack_is_refused_without_blocking(packs: Path) -> None:
    """A FIFO named like a template (a read would block forever) → `versa validate` refuses it and returns."""
    # GIVEN a named pipe nobody writes to, in templates/
    os.mkfifo(packs / "acme" / "templates" / "footer.html")
    # WHEN validated in a separate process (a regression would hang there, not in the test runner)
    done = subprocess.run(
        [sys.executable, "-m", "versa.cli", "validate", str(packs / "acme")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    # THEN it fails at once, naming the FIFO
    assert done.returncode == 1
    assert f"templates/footer.html: is a FIFO (named pipe): {LINK_RULE}" in done.stderr


def test_unix_socket_in_a_pack_is_refused(packs: Path) -> None:
    """A Unix socket inside the pack → refused as a socket."""
    # GIVEN a bound socket in assets/ (short relative path: socket paths are limited in length)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cwd = Path.cwd()
    os.chdir(packs / "acme" / "assets")
    try:
        sock.bind("s.sock")
    finally:
        os.chdir(cwd)
    try:
        # THEN the load names it
        assert refusal(packs / "acme") == [
            f"assets/s.sock: is a socket: {LINK_RULE} (links are refused even when they point inside it); "
            "put a copy of the file there instead"
        ]
    finally:
        sock.close()


def test_device_file_in_a_pack_is_refused(packs: Path) -> None:
    """A character device (like /dev/zero) planted as an asset → refused as a device, never opened."""
    # GIVEN a device node, where the machine lets us create one
    try:
        os.mknod(packs / "acme" / "assets" / "zero.png", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating device nodes needs CAP_MKNOD")
    # THEN the load names it
    assert refusal(packs / "acme")[0].startswith(f"assets/zero.png: is a character device: {LINK_RULE}")


def test_font_token_through_a_link_is_refused(packs: Path) -> None:
    """A font file reached through a symlink to a system font → refused (fonts are pack files too)."""
    # GIVEN acme declaring a pack font whose file is a link to a system font
    system_font = next(Path("/usr/share/fonts").rglob("*.ttf"), None)
    if system_font is None:
        pytest.skip("no system TrueType font to link to")
    (packs / "acme" / "assets" / "Brand.ttf").symlink_to(system_font)
    pack_yaml = packs / "acme" / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text(encoding="utf-8").replace("fonts:", "fonts:\n    brand: assets/Brand.ttf", 1),
                         encoding="utf-8")
    # THEN the font file is refused
    assert refusal(packs / "acme")[0].startswith(f"assets/Brand.ttf: is a symbolic link: {LINK_RULE}")


def test_listing_for_bundles_refuses_a_link(packs: Path, secret: Path) -> None:
    """The reusable pack listing (what a bundler walks) meets a symlink → raises NotRegularFile instead of listing it as a file."""
    # GIVEN a link among the assets
    (packs / "acme" / "assets" / "z.png").symlink_to(secret)
    # WHEN the pack's files are listed
    with pytest.raises(NotRegularFile) as caught:
        list(iter_pack_files(packs / "acme"))
    # THEN the listing stops at the link, naming it
    assert caught.value.rel == "assets/z.png" and caught.value.kind == "symbolic link"


def test_link_swapped_in_after_the_check_is_not_followed(
    packs: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file swapped for a symlink between the check and the read (simulated: the check sees the target) → O_NOFOLLOW refuses the open."""
    # GIVEN a link whose check is fooled into seeing a regular file, as if the swap came after it
    (packs / "acme" / "templates" / "leak.html").symlink_to(secret)
    real_stat = os.stat

    def fooled(path: object, *args: object, **kwargs: object) -> os.stat_result:
        return real_stat(path, *args, **{**kwargs, "follow_symlinks": True})  # type: ignore[arg-type]

    monkeypatch.setattr("versa.pack.assets.os.stat", fooled)
    # WHEN the file is read
    with pytest.raises(NotRegularFile) as caught:
        read_pack_file(packs / "acme", "templates/leak.html")
    # THEN the open itself refused to follow the link
    assert caught.value.rel == "templates/leak.html"


# ------------------------------------------------------------------------------------------ serving


def test_directory_store_refuses_a_linked_pack_and_serves_the_others(packs: Path, secret: Path) -> None:
    """A brand whose pack holds a symlink → the directory store raises a PackError naming it; the other brand still loads."""
    # GIVEN acme with a linked asset, northwind intact
    (packs / "acme" / "assets" / "peaks.png").unlink()
    (packs / "acme" / "assets" / "peaks.png").symlink_to(secret)
    store = DirectoryPackStore(packs, checks=PACK_CHECKS)
    # WHEN each is asked for
    with pytest.raises(PackError) as caught:
        store.current("acme")
    # THEN acme is refused at the file and northwind is served
    assert [i.file for i in caught.value.issues] == ["assets/peaks.png"]
    assert store.current("northwind").brand == "northwind"


@pytest.fixture
def page_service(packs: Path, tmp_path: Path) -> Iterator[Callable[[str], tuple[RenderService, CreativeRequest]]]:
    """acme with a banner template that uses `directive`, loaded into a store that never re-checks (so
    files planted after the load reach the template loader, as a swap on a live server would)."""

    def build(directive: str) -> tuple[RenderService, CreativeRequest]:
        (packs / "acme" / "templates" / "banner.html").write_text(directive + "\n<a href=\"{{ link }}\">x</a>\n",
                                                                  encoding="utf-8")
        store = DirectoryPackStore(packs, recheck=3600, checks=PACK_CHECKS)
        store.current("acme")  # validated and cached before the file is planted
        service = RenderService(
            store, SQLiteCopyStore(tmp_path / "copy.db"), NullQueue(), build_renderer(Settings(memo_items=0)), KEYS,
            config=ServiceConfig.from_settings(Settings(require_signature=False)), html=HtmlPages(KEYS),
        )
        now = datetime(2026, 12, 1, 15, tzinfo=UTC)
        return service, CreativeRequest("acme", "winter-sale", "html", {}, {}, now, path="/v1/acme/winter-sale.html")

    yield build


def _page(service: RenderService, req: CreativeRequest) -> HttpResponse:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a blocking read would hang the thread, not the run
        return pool.submit(service.page, req).result(timeout=120)


def test_template_include_of_a_symlink_does_not_leak(
    page_service: Callable[[str], tuple[RenderService, CreativeRequest]], packs: Path, secret: Path
) -> None:
    """`{% include %}` of a template that became a symlink to a credentials file after validation → the page is the fallback fragment, the secret is not in it."""
    service, req = page_service('{% include "part.html" %}')
    (packs / "acme" / "templates" / "part.html").symlink_to(secret)
    resp = _page(service, req)
    assert resp.status == 200 and resp.headers["X-Versa-Fallback"] == "template-error"
    assert SECRET not in resp.body.decode()


def test_template_import_of_a_fifo_does_not_block(
    page_service: Callable[[str], tuple[RenderService, CreativeRequest]], packs: Path
) -> None:
    """`{% import %}` of a template that is a FIFO → refused without blocking the render; the fallback fragment answers."""
    service, req = page_service('{% import "macros.html" as m %}')
    os.mkfifo(packs / "acme" / "templates" / "macros.html")
    resp = _page(service, req)
    assert resp.status == 200 and resp.headers["X-Versa-Fallback"] == "template-error"


def test_template_extends_a_hard_link_is_refused(
    page_service: Callable[[str], tuple[RenderService, CreativeRequest]], packs: Path, secret: Path
) -> None:
    """`{% extends %}` of a hard link to a file outside the pack → refused; the secret is not rendered."""
    service, req = page_service('{% extends "base.html" %}')
    os.link(secret, packs / "acme" / "templates" / "base.html")
    resp = _page(service, req)
    assert resp.headers["X-Versa-Fallback"] == "template-error"
    assert SECRET not in resp.body.decode()


def test_image_asset_swapped_for_a_link_to_dev_zero_is_not_read(packs: Path, tmp_path: Path) -> None:
    """An image asset replaced, after the pack loaded, by a symlink to /dev/zero (an endless read) → the render refuses it and an email proxy gets the fallback image."""
    # GIVEN acme loaded and cached, then its peaks image swapped for a link to an endless device
    store = DirectoryPackStore(packs, recheck=3600, checks=PACK_CHECKS)
    store.current("acme")
    peaks = packs / "acme" / "assets" / "peaks.png"
    peaks.unlink()
    peaks.symlink_to("/dev/zero")
    service = RenderService(
        store, SQLiteCopyStore(tmp_path / "copy.db"), NullQueue(), build_renderer(Settings(memo_items=0)), KEYS,
        config=ServiceConfig.from_settings(Settings(require_signature=False)),
    )
    gmail = {"user-agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"}
    req = CreativeRequest("acme", "winter-sale", "png", gmail, {}, datetime(2026, 12, 1, 15, tzinfo=UTC),
                          path="/v1/acme/winter-sale.png")
    # WHEN an email proxy asks for the creative
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        resp = pool.submit(service.image, req).result(timeout=120)
    # THEN it gets the creative's fallback image, 200, marked
    assert resp.status == 200 and resp.headers.get("X-Versa-Fallback")
    assert resp.body == (packs / "acme" / "assets" / "fallback-winter-sale.png").read_bytes()
