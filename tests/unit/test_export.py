"""`versa export`: one file per design × size × format, the manifest, weight budgets, resuming after a kill,
and the generated 3,000-design pack."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from versa.cli.export_run import JOURNAL
from versa.cli.main import main
from versa.errors import PackError
from versa.pack.budgets import DISPLAY_SIZES, parse_weight
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"
ACME = str(EXAMPLES / "acme")
NORTHWIND = str(EXAMPLES / "northwind")
SHARED = str(ROOT / "shared")


def variants_count(capsys: pytest.CaptureFixture[str], pack: str, *creative: str, sizes: str | None = None) -> int:
    """The `count` of `versa variants --json` (summed over creatives)."""
    assert main(["variants", pack, *creative, "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    if sizes is None:
        return sum(r["count"] for r in reports)
    wanted = sizes.split(",")
    return sum(n for r in reports for size, n in r["sizes"].items() if size in wanted)


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`versa export ARGS --no-progress` in this process: (exit status, stdout, stderr)."""
    try:
        code = main(["export", *args, "--no-progress"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def manifest(out_dir: Path) -> tuple[list[dict[str, str]], dict[str, Any]]:
    with (out_dir / "manifest.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------ the files


def test_manifest_rows_are_the_variant_count_times_the_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a creative whose designs all draw differently, and its count from `versa variants --json`
    count = variants_count(capsys, NORTHWIND, "welcome")

    # WHEN it is exported as PNG and JPEG
    code, out, err = export(capsys, NORTHWIND, "welcome", "--formats", "png,jpg", "-o", str(tmp_path), "-j", "1")

    # THEN there is one manifest row per variant and format, in both manifests, each a real file
    assert code == 0, err
    rows, doc = manifest(tmp_path)
    assert count == 8
    assert len(rows) == len(doc["files"]) == doc["count"] == count * 2
    assert doc["variants"] == count
    assert len({(r["design_key"], r["size"], r["format"]) for r in rows}) == len(rows)
    assert {r["format"] for r in rows} == {"png", "jpg"}
    for row, record in zip(rows, doc["files"], strict=True):
        path = tmp_path / row["file"]
        assert row["file"] == record["file"]
        assert int(row["bytes"]) == path.stat().st_size == record["bytes"]
        assert row["sha256"] == sha256(path) == record["sha256"]
        assert path.read_bytes()[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb")
    # and every file differs from every other
    assert len({r["sha256"] for r in rows}) == len(rows)
    assert f"{count * 2} file(s) = {count} variant(s)" in out


def test_two_processes_write_the_same_files_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the same export on one process and on a pool of two
    one, two = tmp_path / "one", tmp_path / "two"
    assert export(capsys, NORTHWIND, "segment-hero", "--formats", "png,webp", "-o", str(one), "-j", "1")[0] == 0
    code, out, err = export(capsys, NORTHWIND, "segment-hero", "--formats", "png,webp", "-o", str(two), "-j", "2")

    # THEN the pool wrote every file, byte for byte the same, and the manifests are identical
    assert code == 0, err
    assert "on 2 process(es)" in out
    assert (one / "manifest.csv").read_text(encoding="utf-8") == (two / "manifest.csv").read_text(encoding="utf-8")
    rows, _ = manifest(two)
    assert len(rows) == 36 * 2
    assert all(sha256(two / r["file"]) == r["sha256"] for r in rows)


def test_the_manifest_says_what_selects_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN acme's leaderboard, exported as PNG
    code, _, err = export(capsys, ACME, "leaderboard", "-o", str(tmp_path), "-j", "1")
    assert code == 0, err
    rows, doc = manifest(tmp_path)

    # THEN the German variant names the country that selects it, the rule fired, its copy and link
    (dach,) = [r for r in doc["files"] if r["rules"] == ["dach"]]
    assert dach["attributes"]["country"] in ("DE", "AT", "CH")
    assert dach["locale"] == "de"
    assert dach["copy"]["cta"] == "Entdecken"
    assert dach["link"] == "https://acme.example/de/sale"
    (row,) = [r for r in rows if r["file"] == dach["file"]]
    assert row["rules"] == "dach"
    assert f"country={dach['attributes']['country']}" in row["attributes"]
    assert row["copy.cta"] == "Entdecken"
    # and a 728x90 file is a display ad with the default 150 KB budget
    assert (row["channel"], row["budget_bytes"], row["over_budget"]) == ("display", str(150 * 1024), "no")


@pytest.mark.parametrize("creative", ["welcome", "segment-hero"])
def test_each_file_is_what_a_request_in_its_context_gets(
    creative: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an exported creative whose designs depend on the country, the daypart and a parameter
    assert export(capsys, NORTHWIND, creative, "-o", str(tmp_path / "out"), "-j", "1")[0] == 0
    assert main(["variants", NORTHWIND, creative, "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    params = set(load_pack(Path(NORTHWIND), checks=PACK_CHECKS).model.creative(creative).params)
    _, doc = manifest(tmp_path / "out")
    files = {(r["design_key"], r["size"]): r["file"] for r in doc["files"]}

    for variant in report["variants"]:
        # WHEN `versa render` draws each variant's example context
        example = variant["example"]
        flags = ["--tz", example["tz"], "--at", example["at"], "--lang", example["lang"], "--size", variant["size"]]
        if example.get("country"):
            flags += ["--country", example["country"]]
        flags += [arg for name in sorted(params & set(example)) if example[name] is not None
                  for arg in ("--param", f"{name}={example[name]}")]
        drawn = tmp_path / "drawn.png"
        assert main(["render", NORTHWIND, creative, *flags, "-o", str(drawn)]) == 0
        capsys.readouterr()

        # THEN it is the exported file, byte for byte
        assert drawn.read_bytes() == (tmp_path / "out" / files[(variant["design_key"], variant["size"])]).read_bytes()


def test_identical_bytes_only_where_the_drawing_is_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the leaderboard, whose rules set a language and a link: a viewer asking for German outside the
    # DACH countries sees the DACH banner with the default link (another design, the same pixels)
    code, _, err = export(capsys, ACME, "leaderboard", "--formats", "png", "-o", str(tmp_path), "-j", "1")
    assert code == 0, err
    _, doc = manifest(tmp_path)

    # THEN files share a checksum only when what is drawn (locale, copy, size, format) is the same
    by_sum: dict[str, list[dict[str, Any]]] = {}
    for record in doc["files"]:
        by_sum.setdefault(record["sha256"], []).append(record)
    for same in by_sum.values():
        assert len({(r["locale"], json.dumps(r["copy"]), r["size"], r["format"]) for r in same}) == 1
        assert len({r["link"] for r in same}) == len(same)  # they differ in their link
    assert len(by_sum) == 6  # one picture per locale


# ------------------------------------------------------------------------------------- resuming


def test_a_killed_export_resumes_without_rendering_finished_files_again(tmp_path: Path) -> None:
    # GIVEN an export of 272 files on two worker processes, killed (SIGKILL, workers and all) part-way
    out_dir = tmp_path / "out"
    command = [sys.executable, "-m", "versa.cli", "export", ACME, "winter-sale", "--sizes", "320x50",
               "--formats", "png", "-o", str(out_dir), "-j", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": SHARED}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    journal = out_dir / JOURNAL
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and len(journal.read_text(encoding="utf-8").splitlines()) > 30:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    lines = journal.read_text(encoding="utf-8").splitlines()
    finished = [json.loads(line)["file"] for line in lines[1:]]
    assert 30 <= len(finished) < 272, "the export was killed part-way"
    assert not (out_dir / "manifest.csv").exists()
    mtimes = {f: (out_dir / f).stat().st_mtime_ns for f in finished}

    # (a worker killed between writing and renaming leaves its temporary file; make sure one is there)
    (out_dir / "winter-sale" / ".winter-sale_320x50_0000000000000000.png.99999.tmp").write_bytes(b"half")

    # WHEN the same command runs again
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    # THEN it verifies and keeps every journaled file and renders exactly the others
    assert done.returncode == 0, done.stderr
    assert f"resuming: {len(finished)} of 272 file(s) already written and verified" in done.stderr
    assert f"rendered {272 - len(finished)} (" in done.stdout
    assert {f: (out_dir / f).stat().st_mtime_ns for f in finished} == mtimes
    rows, _ = manifest(out_dir)
    assert len(rows) == 272
    assert all(r["sha256"] == sha256(out_dir / r["file"]) for r in rows)
    assert not list(out_dir.rglob("*.tmp"))


def test_ctrl_c_finishes_the_files_in_flight_and_says_how_to_resume(tmp_path: Path) -> None:
    # GIVEN an export on two worker processes
    out_dir = tmp_path / "out"
    command = [sys.executable, "-m", "versa.cli", "export", ACME, "winter-sale", "--sizes", "320x50",
               "-o", str(out_dir), "-j", "2", "--no-progress"]
    proc = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": SHARED}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    journal = out_dir / JOURNAL
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text(encoding="utf-8").splitlines()) > 10:
            break
        time.sleep(0.02)

    # WHEN it is interrupted as Ctrl-C does (SIGINT to the whole group, the workers too)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)

    # THEN it stops early with 130, every journaled file whole, and says how to resume
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()[1:]]
    assert 10 < len(entries) < 272
    assert all(sha256(out_dir / e["file"]) == e["sha256"] for e in entries)
    assert not (out_dir / "manifest.csv").exists()
    assert "Traceback" not in err


def test_a_journaled_file_changed_since_is_rendered_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a finished export, one of whose files is then overwritten
    assert export(capsys, ACME, "leaderboard", "-o", str(tmp_path), "-j", "1")[0] == 0
    rows, _ = manifest(tmp_path)
    spoiled = tmp_path / rows[3]["file"]
    spoiled.write_bytes(b"not the picture")
    kept = tmp_path / rows[0]["file"]
    kept_mtime = kept.stat().st_mtime_ns

    # WHEN the export runs again
    code, out, err = export(capsys, ACME, "leaderboard", "-o", str(tmp_path), "-j", "1")

    # THEN only that file is rendered again, and it is the picture once more
    assert code == 0, err
    assert "1 journaled file(s) missing or changed since" in err
    assert "rendered 1 (" in out and "9 already done and verified" in out
    assert sha256(spoiled) == rows[3]["sha256"]
    assert kept.stat().st_mtime_ns == kept_mtime


def test_another_pack_version_renders_everything_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], example_copy: Callable[..., Path]
) -> None:
    # GIVEN an export, and then the pack is edited
    pack = example_copy("acme")
    out_dir = tmp_path / "out"
    assert export(capsys, str(pack), "leaderboard", "-o", str(out_dir), "-j", "1")[0] == 0
    text = (pack / "pack.yaml").read_text(encoding="utf-8")
    (pack / "pack.yaml").write_text(text.replace("Shop now", "Buy now"), encoding="utf-8")

    # WHEN exported again into the same folder
    code, out, err = export(capsys, str(pack), "leaderboard", "-o", str(out_dir), "-j", "1")

    # THEN nothing is taken from the old journal
    assert code == 0, err
    assert "from another pack version" in err
    assert "rendered 10 (" in out


# -------------------------------------------------------------------------------------- budgets


def test_a_file_over_its_budget_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], example_copy: Callable[..., Path]
) -> None:
    # GIVEN the leaderboard in an "email" channel of 8 KB, and winter-sale's 300x250 left to the default
    def edit(data: dict[str, Any]) -> None:
        data["budgets"] = {"channels": {"email": "8KB"}, "creatives": {"leaderboard": "email"}}

    pack = example_copy("acme", edit)

    # WHEN it is exported as PNG and JPEG
    code, _, err = export(capsys, str(pack), "leaderboard", "--formats", "png,jpg", "-o", str(tmp_path), "-j", "1")

    # THEN each file over 8 KB is named in a warning with its weight and the budget, and marked
    assert code == 0, err
    rows, _ = manifest(tmp_path)
    heavy = [r for r in rows if int(r["bytes"]) > 8 * 1024]
    light = [r for r in rows if int(r["bytes"]) <= 8 * 1024]
    assert heavy and light
    assert f"{len(heavy)} file(s) over their weight budget" in err
    for r in heavy:
        assert r["over_budget"] == "yes"
        assert f"{r['file']}: " in err
        assert f"over the email budget of 8 KB ({int(r['bytes']):,} > 8,192 bytes)" in err
    assert all(r["over_budget"] == "no" and r["file"] not in err for r in light)


def test_budgets_in_the_pack() -> None:
    # GIVEN weights as people write them
    assert parse_weight("150KB") == parse_weight("150 kb") == 153_600
    assert parse_weight("1.5MB") == 1_572_864
    assert parse_weight(2000) == 2000
    for bad in ("lots", "150GB", 0, True):
        with pytest.raises(ValueError, match="weight"):
            parse_weight(bad)
    # and the default display budget: the IAB sizes only
    model = load_pack(Path(ACME), checks=PACK_CHECKS).model
    assert model.budgets.budget_for("winter-sale", (300, 250)) == ("display", 153_600)
    assert model.budgets.budget_for("winter-sale", (1080, 1080)) is None
    assert (300, 250) in DISPLAY_SIZES


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ({"creatives": {"leaderbord": "1MB"}}, "creatives.leaderbord: no such creative (creatives: winter-sale, leaderboard)"),
        ({"creatives": {"leaderboard": "emial"}}, "'emial' is neither a channel (display) nor a weight like 150KB"),
        ({"channels": {"email": "big"}}, "'big' is not a weight"),
        ({"channels": {"E mail": "1MB"}}, "channel 'E mail'"),
    ],
)
def test_bad_budgets_are_pack_errors(budgets: dict[str, Any], message: str, example_copy: Callable[..., Path]) -> None:
    pack = example_copy("acme", lambda data: data.update(budgets=budgets))
    with pytest.raises(PackError) as caught:
        load_pack(pack, checks=PACK_CHECKS)
    assert "budgets" in str(caught.value)
    assert message in str(caught.value)


# ----------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([ACME, "skyscraper"], "has no creative 'skyscraper' (known: leaderboard, winter-sale)"),
        ([ACME, "leaderboard", "--formats", "png,bmp"], "--formats: 'bmp' is not a format acme exports (allowed: png, jpg, webp, gif)"),
        ([ACME, "leaderboard", "--formats", "html"], "'html' is not a format acme exports (an HTML page is not a file to export)"),
        ([ACME, "leaderboard", "--sizes", "300x250"], "--sizes: 300x250 is not a size of leaderboard (sizes: 728x90)"),
        ([ACME, "winter-sale", "--sizes", "300by250"], "--sizes: '300by250' is not a size: write WIDTHxHEIGHT"),
        ([ACME, "--sizes", "123x45"], "--sizes: 123x45 is not a size of any creative of acme (sizes: 600x300, 300x250"),
        ([ACME, "leaderboard", "-j", "0"], "--jobs: 0 is not a number of processes"),
    ],
)
def test_bad_input_names_the_value_and_what_is_allowed(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = export(capsys, *args, "-o", str(tmp_path / "out"))
    assert code not in (0, None)
    assert err.startswith("versa: error: ")
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_sizes_choose_which_variants(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN two of the pack's sizes, for every creative
    count = variants_count(capsys, NORTHWIND, sizes="300x250,728x90")

    # WHEN the pack is exported at those sizes
    code, _, err = export(capsys, NORTHWIND, "--sizes", "300x250,728x90", "-o", str(tmp_path), "-j", "1")

    # THEN only the creatives with those sizes are there, one row per variant at them
    assert code == 0, err
    rows, _ = manifest(tmp_path)
    assert count == 24
    assert len(rows) == count
    assert {r["creative"] for r in rows} == {"segment-hero"}
    assert {r["size"] for r in rows} == {"300x250", "728x90"}


# ---------------------------------------------------------------------------- 3,000 designs


def test_the_generated_pack_has_3000_designs(tmp_path: Path) -> None:
    # GIVEN the committed generator
    subprocess.run([sys.executable, str(ROOT / "examples" / "generate_big_pack.py"), str(tmp_path)],
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": SHARED})

    # WHEN its designs are counted by `versa variants --json`
    done = subprocess.run([sys.executable, "-m", "versa.cli", "variants", str(tmp_path / "big"), "--json"],
                          check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SHARED})

    # THEN there are 3,000, all at 300x250
    (report,) = json.loads(done.stdout)
    assert report["count"] == 3000
    assert report["sizes"] == {"300x250": 3000}
    assert len({v["design_key"] for v in report["variants"]}) == 3000
