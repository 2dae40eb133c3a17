"""Attacks with pack YAML that costs more than it weighs, and with links that are not web pages.

Pack YAML is bounded before any model sees it (size, depth, expanded aliases); every parse failure is
a pack error naming the file and line; a failed load is remembered for a while by the pack stores;
`versa serve` serves the healthy brands when one pack is broken. A pack `link` (and a rule's) is an
https URL (http only with `allow_http_links: true`), and `/click` never redirects anywhere else.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import shutil
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from packissues import unlocated
from servers import Server, running_versa
from services import install
from versa.adapters.directory import DirectoryPackStore
from versa.adapters.s3_packs import S3PackStore
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer
from versa.errors import PackError
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.ports import NullQueue, PackStore, StoreUnavailable
from versa.render.checks import PACK_CHECKS
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web import api
from versa.web.service import RenderService, ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)
"""Nine levels of nine aliases: under 400 bytes of text, 9**9 (387 million) values expanded."""
DEEP_FLOW = "brand: acme\nlocales: " + "[" * 10_000 + "]" * 10_000 + "\n"
DEEP_BLOCK = "brand: acme\nlocales:\n" + "- " * 10_000 + "en\n"


def pack_with(tmp_path: Path, text: str, *, brand: str = "acme", name: str | None = None) -> Path:
    """A copy of the acme example (as `name`) whose pack.yaml is `text`."""
    root = tmp_path / (name or brand)
    shutil.copytree(EXAMPLES / "acme", root)
    (root / "pack.yaml").write_text(text, encoding="utf-8")
    return root


def acme_edited(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load((EXAMPLES / "acme" / "pack.yaml").read_text(encoding="utf-8"))
    edit(data)
    return pack_with(tmp_path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def refused(root: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return unlocated(caught.value.issues)


# ------------------------------------------------------------------------------------------- bounds


def test_alias_bomb_is_refused_early(tmp_path: Path) -> None:
    """A sub-kilobyte YAML alias bomb (387 million values expanded) → a pack error at the alias that crosses the node limit, no expansion."""
    assert len(ALIAS_BOMB) < 1024
    found = refused(pack_with(tmp_path, ALIAS_BOMB))
    assert len(found) == 1 and found[0].startswith("pack.yaml: line ")
    assert "values once aliases are expanded (at most 20,000 are allowed" in found[0]


def test_deep_flow_nesting_is_a_pack_error(tmp_path: Path) -> None:
    """10,000 nested flow lists (`[[[[…`) → a pack error naming the line and the depth limit, not a RecursionError."""
    found = refused(pack_with(tmp_path, DEEP_FLOW))
    assert found == [found[0]] and found[0].startswith("pack.yaml: line 2, column ")
    assert "nested deeper than 32 levels (at most 32 are allowed" in found[0]


def test_deep_block_nesting_is_a_pack_error(tmp_path: Path) -> None:
    """10,000 nested block lists on one line (`- - - …`) → a pack error with the depth limit."""
    found = refused(pack_with(tmp_path, DEEP_BLOCK))
    assert len(found) == 1 and "nested deeper than 32 levels" in found[0]


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    """A list that contains itself through an alias (`&a [*a]`) → refused as recursive, never handed to the model."""
    found = refused(pack_with(tmp_path, "brand: acme\nlocales: &l [en, *l]\n"))
    assert found == ["pack.yaml: line 2, column 18: alias *l names a node that contains it (recursive structures are refused)"]


def test_oversized_pack_yaml_is_refused_unread(tmp_path: Path) -> None:
    """A pack.yaml over the size cap (a 1 MiB comment) → refused by size before parsing."""
    found = refused(pack_with(tmp_path, "# " + "x" * 2**20 + "\nbrand: acme\n"))
    assert found == ["pack.yaml: is over 524,288 bytes: pack YAML may be at most 524,288 bytes"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("brand: acme\nlocales: [en]\nx: " + "9" * 5000 + "\n", "pack.yaml: line 3, column 4: value cannot be read"),
        ("brand: acme\nlocales: [en]\nx: 2026-02-30\n", "pack.yaml: line 3, column 4: value cannot be read: day is out of range"),
    ],
    ids=["5000-digit-integer", "impossible-date"],
)
def test_values_the_constructor_cannot_build_are_pack_errors(tmp_path: Path, text: str, expected: str) -> None:
    """A 5,000-digit integer or an impossible date (builtins raised by PyYAML's constructor) → a pack error at its line, not a 500."""
    assert refused(pack_with(tmp_path, text))[0].startswith(expected)


def test_bad_utf8_is_a_pack_error_with_its_line(tmp_path: Path) -> None:
    """pack.yaml with an invalid UTF-8 byte on line 2 → a pack error naming the line and the byte."""
    root = pack_with(tmp_path, "")
    (root / "pack.yaml").write_bytes(b"brand: acme\nname: \xff\n")
    assert refused(root) == ["pack.yaml: line 2: not UTF-8 text (byte 0xff at offset 18); save the file as UTF-8"]


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    """A `!!python/object/apply:os.system` tag → refused by the safe constructor as a pack error (nothing runs)."""
    marker = tmp_path / "ran"
    found = refused(pack_with(tmp_path, f"brand: !!python/object/apply:os.system ['touch {marker}']\n"))
    assert "could not determine a constructor" in found[0] and not marker.exists()


# ------------------------------------------------------------------------------- failures remembered


def test_directory_store_remembers_a_failed_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests for a broken pack (10,000-deep YAML) → one parse, then the error from memory; re-read only after the while and only if a file changed."""
    # GIVEN a broken acme, a clock we move, and a count of parses
    pack_with(tmp_path / "packs", DEEP_FLOW)
    now = [100.0]
    parses: list[Path] = []
    real = load_pack

    def counting(root: Path, **kwargs: Any) -> Pack:
        parses.append(root)
        return real(root, **kwargs)

    monkeypatch.setattr("versa.adapters.directory.load_pack", counting)
    store = DirectoryPackStore(tmp_path / "packs", failure_seconds=10, clock=lambda: now[0], checks=PACK_CHECKS)
    # WHEN it is asked for 50 times within the while, and again after it with nothing changed
    for _ in range(50):
        with pytest.raises(PackError):
            store.current("acme")
    now[0] += 11
    with pytest.raises(PackError):
        store.current("acme")
    # THEN it was parsed once
    assert len(parses) == 1
    # WHEN the pack is fixed and the while has passed
    shutil.copy(EXAMPLES / "acme" / "pack.yaml", tmp_path / "packs" / "acme" / "pack.yaml")
    now[0] += 11
    # THEN it loads (a second parse)
    assert store.current("acme").brand == "acme" and len(parses) == 2


def _bundle(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_s3_store_remembers_a_failed_load(aws_client: Callable[..., Any], moto_endpoint: str, tmp_path: Path) -> None:
    """An S3 pack version that is an alias bomb → StoreUnavailable, then answered from memory for failure_seconds without another S3 GET."""
    # GIVEN a bucket whose acme pointer names a version holding the alias bomb
    s3 = aws_client("s3", moto_endpoint)
    bucket = f"attacks-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    version = "0badc0de0badc0de"
    s3.put_object(Bucket=bucket, Key=f"packs/acme/{version}.tar.gz", Body=_bundle({"pack.yaml": ALIAS_BOMB.encode()}))
    s3.put_object(Bucket=bucket, Key="packs/acme/current.json",
                  Body=json.dumps({"version": version, "published_at": "2026-12-01T00:00:00Z"}).encode())
    gets: list[str] = []
    s3.meta.events.register("before-parameter-build.s3.GetObject", lambda params, **_: gets.append(params["Key"]))
    now = [100.0]
    store = S3PackStore(bucket, client=s3, failure_seconds=30, revalidate_seconds=5, cache_dir=tmp_path / "cache",
                        clock=lambda: now[0], checks=PACK_CHECKS)
    # WHEN asked for repeatedly within the while
    for _ in range(20):
        with pytest.raises(StoreUnavailable) as caught:
            store.current("acme")
    # THEN S3 was read once (pointer and bundle), and the error names the refusal
    assert gets == ["packs/acme/current.json", f"packs/acme/{version}.tar.gz"]
    assert "values once aliases are expanded" in str(caught.value)
    # WHEN the while has passed, S3 is asked again
    now[0] += 31
    with pytest.raises(StoreUnavailable):
        store.current("acme")
    assert len(gets) == 4


# ---------------------------------------------------------------------------------------- versa serve


@pytest.fixture
def broken_server(tmp_path: Path) -> Iterator[Server]:
    """`versa serve` (no signatures) on a free loopback port over northwind (healthy), acme
    (10,000-deep YAML) and bomb (an alias bomb); stopped by its PID."""
    packs = tmp_path / "packs"
    shutil.copytree(EXAMPLES / "northwind", packs / "northwind")
    pack_with(packs, DEEP_FLOW)
    pack_with(packs, ALIAS_BOMB, name="bomb")
    env = {"PYTHONPATH": os.pathsep.join(sys.path)}
    with running_versa(packs, state_dir=tmp_path / "state", extra_args=["--no-signatures"], env=env) as server:
        yield server


def _get(host: str, path: str, user_agent: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("GET", path, headers={"User-Agent": user_agent, "Accept": "image/png"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_versa_serve_survives_broken_packs(broken_server: Server) -> None:
    """`versa serve` with a 10,000-deep pack and an alias-bomb pack beside a healthy one → starts, serves the healthy brand, answers the broken ones without a 5xx to a proxy or a 500 to a browser."""
    host = broken_server.url.removeprefix("http://")
    # THEN the healthy brand renders
    ok = _get(host, "/v1/northwind/welcome.png", CHROME)
    assert ok.status == 200 and ok.getheader("X-Versa-Fallback") is None
    for brand, creative in (("acme", "winter-sale"), ("bomb", "winter-sale")):
        # an email proxy gets an image with a fallback reason, a browser never a 500
        proxy = _get(host, f"/v1/{brand}/{creative}.png", GMAIL)
        assert proxy.status == 200 and proxy.getheader("Content-Type", "").startswith("image/")
        assert proxy.getheader("X-Versa-Fallback")
        browser = _get(host, f"/v1/{brand}/{creative}.png", CHROME)
        assert browser.status != 500
        if browser.status >= 400:
            assert browser.getheader("Content-Type", "").startswith("application/problem+json")


def test_versa_serve_names_the_broken_packs_errors(broken_server: Server) -> None:
    """A broken pack at `versa serve` startup → the log names the brand, the file, the line and the limit it broke."""
    broken_server.stop()
    err = broken_server.log_text()
    assert "pack 'acme' failed to load" in err and "pack.yaml: line 2, column" in err
    assert "nested deeper than 32 levels" in err
    assert "pack 'bomb' failed to load" in err and "values once aliases are expanded" in err


# -------------------------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/phish",
    ],
)
def test_dangerous_link_schemes_are_refused_at_load(tmp_path: Path, link: str) -> None:
    """A creative `link` with a javascript:, data:, vbscript:, file: or protocol-relative URL → refused at load, naming the field and what is allowed."""
    root = acme_edited(tmp_path, lambda d: d["creatives"]["winter-sale"].update(link=link))
    found = refused(root)
    assert len(found) == 1 and found[0].startswith("pack.yaml: creatives.winter-sale.link: ")
    assert "https://" in found[0]


@pytest.mark.parametrize(
    "link",
    [
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "https://acme.example/sale\n",
        "https://acme.example\u200b.evil.example/",
        "https://acme.example/\u202egnp.exe",
        "https:\\\\evil.example",
        "https://acme.example@evil.example/",
    ],
    ids=["leading-space", "tab-inside-scheme", "trailing-newline", "zero-width-space", "bidi-override", "backslashes",
         "credentials"],
)
def test_link_whitespace_and_disguise_tricks_are_refused(tmp_path: Path, link: str) -> None:
    """Links hiding whitespace, control, invisible or bidi characters, backslashes or a `user@` disguise → refused at load."""
    root = acme_edited(tmp_path, lambda d: d["creatives"]["winter-sale"].update(link=link))
    found = refused(root)
    assert len(found) == 1 and found[0].startswith("pack.yaml: creatives.winter-sale.link: ")


def test_rule_link_with_javascript_is_refused(tmp_path: Path) -> None:
    """A rule that sets `link: javascript:…` for one variant → refused at the rule's set.link."""
    def edit(d: dict[str, Any]) -> None:
        d["creatives"]["winter-sale"]["rules"][0]["set"]["link"] = "javascript:alert(1)"

    found = refused(acme_edited(tmp_path, edit))
    assert found[0].startswith("pack.yaml: creatives.winter-sale.rules['evening-dark'].set.link: 'javascript:alert(1)' is not an allowed link")


def test_plain_http_needs_the_packs_consent(tmp_path: Path) -> None:
    """An http:// link → refused unless the pack sets allow_http_links: true (then it loads)."""
    def http(d: dict[str, Any]) -> None:
        d["creatives"]["winter-sale"]["link"] = "http://acme.example/sale"

    assert "(or http:// with allow_http_links: true)" in refused(acme_edited(tmp_path / "a", http))[0]

    def allowed(d: dict[str, Any]) -> None:
        http(d)
        d["allow_http_links"] = True

    assert load_pack(acme_edited(tmp_path / "b", allowed), checks=PACK_CHECKS).model.creatives["winter-sale"].link == "http://acme.example/sale"


class _TamperedStore(PackStore):
    """Hands out acme with a link that never passed the loader (as if one got through some other way)."""

    def __init__(self, link: str) -> None:
        pack = load_pack(EXAMPLES / "acme", checks=PACK_CHECKS)
        creative = pack.model.creatives["winter-sale"].model_copy(update={"link": link, "rules": []})
        model = pack.model.model_copy(update={"creatives": {**pack.model.creatives, "winter-sale": creative}})
        self.pack = Pack(model=model, root=pack.root, version=pack.version, files=pack.files)

    def current(self, brand: str) -> Pack:
        return self.pack

    def brands(self) -> list[str]:
        return ["acme"]


def test_click_never_redirects_to_a_bad_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/click for a variant whose link is javascript: (defence in depth, past the loader) → a problem+json answer, never a 302 to it."""
    keys = Keyring({"k1": b"k" * 32}, "k1")
    service = RenderService(
        _TamperedStore("javascript:alert(document.domain)"), SQLiteCopyStore(tmp_path / "copy.db"), NullQueue(),
        build_renderer(Settings(memo_items=0)), keys, config=ServiceConfig.from_settings(Settings(require_signature=False)),
    )
    install(service, monkeypatch)
    event = json.loads((ROOT / "events" / "click.json").read_text(encoding="utf-8"))
    event["queryStringParameters"] = {"at": "2026-12-01T10:00:00Z"}
    event["multiValueQueryStringParameters"] = {"at": ["2026-12-01T10:00:00Z"]}
    result = api.handle(event, None)
    headers = {k.lower(): v for k, v in {**(result.get("headers") or {}), **result["multiValueHeaders"]}.items()}
    body = base64.b64decode(result["body"]) if result.get("isBase64Encoded") else result["body"].encode()
    assert result["statusCode"] != 302 and "location" not in headers
    assert str(headers["content-type"]).find("application/problem+json") >= 0
    assert json.loads(body)["status"] == result["statusCode"] and b"javascript" not in body
