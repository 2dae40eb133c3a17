"""The `versa` command line: help everywhere, one-line errors without tracebacks, JSON outputs, signing."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from packdata import find_layer

from versa.cli.main import build_parser, main
from versa.decide.variants import enumerate_variants
from versa.errors import SignatureInvalid
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.signing.devkeys import load_or_create_dev_keyring
from versa.signing.signer import verify

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
ACME = str(EXAMPLES / "acme")
NORTHWIND = str(EXAMPLES / "northwind")
VERSA = [sys.executable, "-m", "versa.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`versa ARGS` in a fresh process."""
    return subprocess.run([*VERSA, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `versa ARGS` in-process, expecting a clean failure; return stderr."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    err = capsys.readouterr().err
    assert code not in (0, None), err
    assert err.startswith("versa: error: "), err
    assert "Traceback" not in err
    return err


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


COMMANDS = _commands()


# ------------------------------------------------------------------------------------------- help


def test_the_core_commands_exist() -> None:
    assert {"validate", "lint", "schema", "decide", "variants", "sign"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a command
    # WHEN asked for --help
    with pytest.raises(SystemExit) as caught:
        main([command, "--help"])

    # THEN it prints its usage and exits 0
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: versa {command}")


def test_the_installed_entry_point_has_help() -> None:
    # GIVEN the `versa` script installed next to this interpreter
    script = Path(sys.executable).with_name("versa")

    # WHEN run with --help
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout

    # THEN it lists the commands
    for command in ("validate", "lint", "schema", "decide", "variants", "sign"):
        assert command in out


# ------------------------------------------------------------------------------------------ errors


def test_unknown_creative(capsys: pytest.CaptureFixture[str]) -> None:
    err = fails(capsys, "decide", ACME, "summer-sale")
    assert err.strip() == "versa: error: brand 'acme' has no creative 'summer-sale' (known: leaderboard, winter-sale)"


def test_broken_pack_prints_every_error(example_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a pack with two mistakes
    def break_it(data: dict[str, Any]) -> None:
        find_layer(data, "winter-sale", "headline")[0]["font"] = "dispaly"
        data["creatives"]["leaderboard"]["layers"][0]["fill"] = "inkk"

    root = example_copy("acme", break_it)

    # WHEN validated, decided or linted
    for command in (["validate", str(root)], ["decide", str(root), "winter-sale"], ["lint", str(root)]):
        err = fails(capsys, *command)

        # THEN each command prints both, located, with no traceback
        assert err.startswith("versa: error: pack 'acme' is invalid (2 error(s)):")
        assert "pack.yaml: creatives.winter-sale.layers['frame'].children['copy'].children['headline'].font: unknown font 'dispaly'; did you mean 'display'? (known: body, display)" in err
        assert "pack.yaml: creatives.leaderboard.layers[0].fill: unknown colour token 'inkk'" in err


def test_not_a_pack_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = fails(capsys, "validate", str(tmp_path / "nowhere"))
    assert "is not a pack directory" in err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--param", "tier=platinum"], "parameter 'tier': 'platinum' is not allowed (one of: gold, silver, basic)"),
        (["--param", "first_name=<script>"], "parameter 'first_name': '<script>' is not allowed"),
        (["--param", "tier"], "--param: 'tier' is not NAME=VALUE"),
        (["--param", "tierr=gold"], "--param: 'tierr' is not a parameter of cyber-week (declared: first_name, tier, uid)"),
        (["--tz", "Europe/Berln"], "--tz: unknown time zone 'Europe/Berln'"),
        (["--at", "next friday"], "--at: 'next friday' is not a date-time like 2026-12-01T19:30"),
        (["--country", "Germany"], "parameter 'country': 'Germany' is not allowed (a two-letter ISO 3166 country code)"),
    ],
)
def test_bad_flags_name_what_is_wrong(capsys: pytest.CaptureFixture[str], flags: list[str], expected: str) -> None:
    # GIVEN a decide command with one bad flag
    # WHEN run
    err = fails(capsys, "decide", NORTHWIND, "cyber-week", *flags)

    # THEN the error names the flag or parameter and what is allowed
    assert expected in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["decide", ACME, "winter-sale", "--device", "phone"])
    assert caught.value.code == 2
    assert "invalid choice: 'phone'" in capsys.readouterr().err


def test_errors_in_a_real_process_have_no_traceback(example_copy: Callable[..., Path]) -> None:
    # GIVEN a broken pack
    root = example_copy("acme", lambda d: find_layer(d, "winter-sale", "headline")[0].update(font="dispaly"))

    # WHEN the real command runs in its own process, for a broken pack and a bad flag
    broken = run("validate", str(root))
    bad_tz = run("decide", ACME, "winter-sale", "--tz", "Mars/Olympus")

    # THEN each exits non-zero with one clear message on stderr
    for proc in (broken, bad_tz):
        assert proc.returncode == 1
        assert proc.stderr.startswith("versa: error: ")
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""


# ------------------------------------------------------------------------------------------ decide


def test_decide_json_has_the_decision_and_the_context_provenance(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a simulated German mobile viewer at 19:30 in Berlin
    # WHEN decided with --json
    code = main(
        ["decide", ACME, "winter-sale", "--country", "DE", "--device", "mobile", "--tz", "Europe/Berlin",
         "--at", "2026-12-01T19:30", "--json"]
    )
    out = json.loads(capsys.readouterr().out)

    # THEN it carries the design key, the trace, valid_until and where every signal came from
    assert code == 0
    assert len(out["design_key"]) == 16
    assert out["valid_until"] == "2026-12-01T21:00:00+00:00"
    assert out["locale"] == "de"
    assert {"rule": "dach", "matched": True, "reason": "country in [DE, AT, CH] (country=DE)", "sets": ["lang", "link"]} in out["trace"]
    assert out["context"]["country"] == {"value": "DE", "source": "signed", "detail": "country"}
    assert out["context"]["daypart"]["value"] == "evening"
    assert out["context"]["daypart"]["source"] == "derived"
    assert out["context"]["now"]["value"] == "2026-12-01T18:30:00+00:00"


def test_decide_json_key_matches_the_library(capsys: pytest.CaptureFixture[str], simulate: Callable[..., Any]) -> None:
    from versa.decide.rules import decide

    main(["decide", NORTHWIND, "cyber-week", "--param", "tier=gold", "--client", "outlook", "--at", "2026-12-03T10:00-06:00", "--json"])
    out = json.loads(capsys.readouterr().out)
    pack = load_pack(NORTHWIND, checks=PACK_CHECKS)
    ctx = simulate(pack.model, "cyber-week", datetime(2026, 12, 3, 16, tzinfo=UTC), tier="gold", client="outlook")
    assert out["design_key"] == decide(pack.model, "cyber-week", ctx).design_key
    assert out["context"]["tier"] == {"value": "gold", "source": "merge", "detail": "tier"}
    assert out["matched"] == ["gold-tier", "outlook-solid"]


def test_decide_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["decide", ACME, "winter-sale", "--country", "DE", "--tz", "Europe/Berlin", "--at", "2026-12-01T19:30"])
    out = capsys.readouterr().out
    assert code == 0
    assert "✓ dach" in out
    assert "design key  " in out
    assert "valid until 2026-12-01T22:00:00+01:00" in out


# -------------------------------------------------------------------------------------- variants


@pytest.mark.parametrize(("pack", "creative"), [(ACME, "winter-sale"), (ACME, "leaderboard"), (NORTHWIND, "welcome")])
def test_variants_json_count_matches_the_library(pack: str, creative: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an example creative
    # WHEN `versa variants --json` runs
    code = main(["variants", pack, creative, "--json"])
    (report,) = json.loads(capsys.readouterr().out)

    # THEN its count and keys are those of enumerate_variants
    expected = enumerate_variants(load_pack(pack, checks=PACK_CHECKS).model, creative)
    assert code == 0
    assert report["count"] == len(expected.variants) == len(report["variants"])
    assert {v["design_key"] for v in report["variants"]} == {v.design_key for v in expected.variants}
    # and the count is designs x sizes: the per-size counts add up to it, one entry per declared size
    assert report["count"] == sum(report["sizes"].values())
    assert len(report["sizes"]) == len(expected.sizes)


def test_variants_of_every_creative(capsys: pytest.CaptureFixture[str]) -> None:
    main(["variants", NORTHWIND, "--json"])
    reports = json.loads(capsys.readouterr().out)
    assert [r["creative"] for r in reports] == ["cyber-week", "welcome", "segment-hero"]


# ------------------------------------------------------------------------------ validate / schema


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", ACME]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{ACME}: ok — brand acme, version ")
    assert "creatives: winter-sale, leaderboard" in out


def test_validate_refuses_a_brand_that_differs_from_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a valid pack copied into a folder of another name
    shutil.copytree(Path(ACME), tmp_path / "acme-copy")

    # WHEN it is validated
    code = main(["validate", str(tmp_path / "acme-copy")])

    # THEN it is refused, naming the field, both names and what to do
    assert code == 1
    assert (
        "pack.yaml: brand: 'acme' differs from the folder's name 'acme-copy'; a brand is served from the "
        "folder of its name, so rename the folder or the brand"
    ) in capsys.readouterr().err


def test_schema_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Versa rule pack (pack.yaml)"
    assert "creatives" in schema["properties"]


# ------------------------------------------------------------------------------------------- sign


def test_sign_prints_a_url_that_verifies(tmp_path: Path) -> None:
    # GIVEN an empty local state folder (the development key is created on first use)
    env = {"VERSA_STATE_DIR": str(tmp_path)}

    # WHEN a path is signed for the debug scope with a one-hour expiry
    proc = run("sign", "/v1/acme/winter-sale.png?country=DE&tz=Europe/Berlin", "--scope", "debug", "--expires", "3600", env=env)

    # THEN the last line is a URL that verifies with the development keyring, for that scope
    assert proc.returncode == 0, proc.stderr
    url = urlsplit(proc.stdout.strip().splitlines()[-1])
    assert f"{url.scheme}://{url.netloc}" == "http://127.0.0.1:8080"
    keyring = load_or_create_dev_keyring(tmp_path)
    query = parse_qsl(url.query, keep_blank_values=True)
    info = verify(url.path, query, keyring, now=datetime.now(UTC), required_scope="debug")
    assert info.scope == "debug"
    assert info.expires is not None and 3500 < (info.expires - datetime.now(UTC)).total_seconds() <= 3600
    assert {"country", "tz"} <= info.covered_names

    # AND a changed value no longer verifies
    forged = [(k, "FR" if k == "country" else v) for k, v in query]
    with pytest.raises(SignatureInvalid):
        verify(url.path, forged, keyring, now=datetime.now(UTC))


def test_sign_finds_the_projects_key_from_a_subfolder(tmp_path: Path) -> None:
    # GIVEN a project whose state folder was made at its top (the server's first run there)
    project = tmp_path / "project"
    (project / "packs" / "acme").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "VERSA_STATE_DIR"}

    def sign(cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*VERSA, "sign", "/v1/acme/winter-sale.png"], capture_output=True, text=True, env=env, cwd=cwd
        )

    at_top = sign(project)
    assert at_top.returncode == 0, at_top.stderr
    # WHEN a path is signed from a subfolder
    below = sign(project / "packs" / "acme")

    # THEN the same key signs (the same URL), and the command says which file it came from
    assert below.returncode == 0, below.stderr
    assert below.stdout == at_top.stdout
    assert f"signed with key dev1 from {project / '.versa' / 'keys.json'}" in below.stderr
    assert not (project / "packs" / "acme" / ".versa").exists()


def test_sign_a_template_with_merge_names(tmp_path: Path) -> None:
    # GIVEN a URL whose first_name an email tool fills in per recipient
    env = {"VERSA_STATE_DIR": str(tmp_path)}
    proc = run("sign", "/v1/northwind/cyber-week.png?first_name=*|FNAME|*&tier=gold", "--merge", "first_name", "--base-url", "", env=env)

    # WHEN the tool replaces the placeholder
    line = proc.stdout.strip().splitlines()[-1]
    assert "first_name=*|FNAME|*" in line
    filled = line.replace("*|FNAME|*", "Ana")
    url = urlsplit(filled)

    # THEN it still verifies, with first_name left open and tier covered
    info = verify(url.path, parse_qsl(url.query), load_or_create_dev_keyring(tmp_path), now=datetime.now(UTC))
    assert info.merge_names == ("first_name",)
    assert "tier" in info.covered_names


def test_sign_refuses_a_relative_path(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path))
    err = fails(capsys, "sign", "v1/acme/winter-sale.png")
    assert "PATH must start with /" in err


def test_sign_with_a_keyring_file_verifies_with_that_keyring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a deployed-style keyring file
    import base64
    import json

    from versa.signing.devkeys import keyring_from_json
    from versa.signing.signer import verify

    text = json.dumps({"active": "k9", "keys": {"k9": base64.b64encode(b"s" * 32).decode()}})
    keys = tmp_path / "keys.json"
    keys.write_text(text, encoding="utf-8")
    # WHEN a path is signed with --keys
    from versa.cli.main import main

    assert main(["sign", "/v1/acme/winter-sale.png?country=DE", "--keys", str(keys), "--base-url", ""]) == 0
    url = capsys.readouterr().out.strip().splitlines()[-1]
    # THEN it verifies with that keyring
    path, _, query = url.partition("?")
    pairs: dict[str, list[str]] = {}
    for item in query.split("&"):
        name, _, value = item.partition("=")
        pairs.setdefault(name, []).append(value)
    from datetime import UTC, datetime

    info = verify(path, pairs, keyring_from_json(text), now=datetime.now(UTC))
    assert info.kid == "k9"


# ----------------------------------------------------------------------------------------- sizes


def test_render_size_draws_that_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    out = tmp_path / "lb.png"
    assert main(["render", ACME, "winter-sale", "--size", "728x90", "--at", "2026-12-01T19:30", "-o", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size == (728, 90)
    assert "728x90 image/png" in capsys.readouterr().err


def test_render_to_an_html_file_writes_the_page_with_urls_the_server_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import html as html_lib
    import re

    # GIVEN a local state folder (the development key the server would use)
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path / "state"))
    out = tmp_path / "page.html"

    # WHEN a creative with a template is rendered to page.html for a German viewer
    code = main(["render", ACME, "winter-sale", "--country", "DE", "--base-url", "http://127.0.0.1:9", "-o", str(out)])

    # THEN the page is written: the German link, and image URLs for that base that verify with the key
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert 'href="https://acme.example/de/sale"' in page
    srcs = [html_lib.unescape(m) for m in re.findall(r'<img src="([^"]+)"', page)]
    assert srcs and all(src.startswith("http://127.0.0.1:9/v1/acme/winter-sale.png?") for src in srcs)
    keyring = load_or_create_dev_keyring(tmp_path / "state")
    url = urlsplit(srcs[0])
    verify(url.path, parse_qsl(url.query, keep_blank_values=True), keyring, now=datetime.now(UTC))
    assert "page.html: HTML page" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["winter-sale", "-o", "x.avif"],
         "-o x.avif: 'avif' is not a format this pack renders (render.formats: png, jpg, webp, gif, html)"),
        (["winter-sale", "--format", "avif", "-o", "x.png"],
         "--format: 'avif' is not a format this pack renders (render.formats: png, jpg, webp, gif, html)"),
        (["leaderboard", "-o", "x.html"],
         "leaderboard has no HTML page (give it a `template:`); render an image format instead"),
    ],
)
def test_render_offers_only_what_the_pack_renders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert said in fails(capsys, "render", ACME, *argv)
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.parametrize(
    ("value", "said"),
    [("72x", "'72x' is not a size: write WIDTHxHEIGHT in px"),
     ("250x250", "250x250 is not a size of winter-sale (sizes: 600x300, 300x250, 728x90")],
)
def test_render_and_decide_refuse_a_size_naming_the_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, said: str
) -> None:
    assert said in fails(capsys, "render", ACME, "winter-sale", "--size", value, "-o", str(tmp_path / "x.png"))
    assert said in fails(capsys, "decide", ACME, "winter-sale", "--size", value)


def test_decide_size_names_the_size_with_its_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decide", ACME, "winter-sale", "--size", "160x600", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == "160x600"
    assert main(["decide", ACME, "winter-sale", "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert default["size"] == "600x300" and default["design_key"] != out["design_key"]


def test_variants_first_line_counts_designs_times_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["variants", ACME, "leaderboard"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    report = enumerate_variants(load_pack(Path(ACME), checks=PACK_CHECKS).model, "leaderboard")
    assert first.startswith(f"leaderboard: {len(report.variants)} variant(s): ")
    assert "× 1 size(s) (728x90)" in first
