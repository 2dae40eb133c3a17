"""`versa diff` on a crafted pair (tests/diffpacks.py): one rule added, one token changed, one creative
removed; exactly those are reported, with before/after images in the HTML report."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from diffpacks import write_pair
from services import run_cli
from versa.authoring.diff import diff_packs
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS


def near(pixel: object, rgb: tuple[int, int, int]) -> bool:
    """Within 3 per channel (the PNG encoder may quantise a flat fill by a step or two)."""
    assert isinstance(pixel, tuple)
    return all(abs(int(a) - b) <= 3 for a, b in zip(pixel, rgb, strict=True))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_pair(tmp_path)


def test_exactly_the_added_rule_the_changed_token_and_the_removed_creative_are_reported(pair: tuple[Path, Path]) -> None:
    # GIVEN the two versions
    old, new = (load_pack(p, checks=PACK_CHECKS).model for p in pair)

    # WHEN they are compared
    diff = diff_packs(old, new)
    by = {c.creative: c for c in diff.creatives}

    # THEN hero gains one design (the dach rule's: German on cream paper) and keeps its two, whose keys
    # moved only because a token they do not draw changed
    hero = by["hero"]
    assert hero.status == "kept"
    assert [(c.kind, c.rules) for c in hero.changes] == [("added", ("dach",))]
    added = hero.changes[0]
    assert added.after is not None and added.after.locale == "de"
    assert added.after.colors["paper"] == "#fff4d6"
    assert added.example["country"] in {"DE", "AT", "CH"}
    assert (hero.unchanged, hero.rekeyed) == (2, 2)
    # AND banner's two designs (en, de) changed, in their layers (the accent fill)
    banner = by["banner"]
    assert sorted((c.kind, c.after.locale if c.after else "") for c in banner.changes) == [
        ("changed", "de"), ("changed", "en"),
    ]  # fmt: skip
    assert all("layers" in c.parts for c in banner.changes)
    assert banner.unchanged == 0
    # AND promo is gone with both its designs
    promo = by["promo"]
    assert promo.status == "removed"
    assert sorted((c.kind, c.before.locale if c.before else "") for c in promo.changes) == [
        ("removed", "de"), ("removed", "en"),
    ]  # fmt: skip
    assert (diff.count("added"), diff.count("removed"), diff.count("changed")) == (1, 2, 2)


def test_a_version_compared_with_itself_reports_nothing(pair: tuple[Path, Path]) -> None:
    old = load_pack(pair[0], checks=PACK_CHECKS).model
    diff = diff_packs(old, old)
    assert diff.empty
    assert diff.summary()[-1] == "total: no design changed"


def test_command_prints_the_summary_and_writes_the_report_with_before_and_after(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN `versa diff OLD NEW -o report.html` runs
    report = tmp_path / "report.html"
    code, out, err = run_cli(capsys, "diff", str(pair[0]), str(pair[1]), "-o", str(report))

    # THEN the summary names each creative's counts and the totals
    assert code == 0, err
    lines = out.splitlines()
    assert "hero: 1 added, 0 removed, 0 changed, 2 unchanged (2 with a new key, same image)" in lines
    assert "banner: 0 added, 0 removed, 2 changed, 0 unchanged" in lines
    assert "promo: creative removed: 0 added, 2 removed, 0 changed, 0 unchanged" in lines
    assert "total: 1 added, 2 removed, 2 changed" in lines
    assert sum(1 for line in lines if line.startswith("  + ")) == 1
    assert sum(1 for line in lines if line.startswith("  ~ ")) == 2
    assert sum(1 for line in lines if line.startswith("  - ")) == 2

    # AND the report holds the images: before and after for the added and changed designs, before only
    # for the removed ones; the added one shows white paper before and cream after
    page = report.read_text(encoding="utf-8")
    images = [Image.open(io.BytesIO(base64.b64decode(b))) for b in re.findall(r"data:image/png;base64,([^\"]+)", page)]
    assert len(images) == 2 + 2 * 2 + 2
    assert page.count("creative or size removed") == 2
    before, after = images[0].convert("RGB"), images[1].convert("RGB")
    assert before.size == after.size == (300, 100)
    assert near(before.getpixel((295, 95)), (0xFF, 0xFF, 0xFF))
    assert near(after.getpixel((295, 95)), (0xFF, 0xF4, 0xD6))
    # the changed banner: red before, blue after
    assert images[2].convert("RGB").getpixel((295, 55)) != images[3].convert("RGB").getpixel((295, 55))


def test_command_compares_one_creative(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "diff", str(pair[0]), str(pair[1]), "banner")
    assert code == 0, err
    assert [line.split(":")[0] for line in out.splitlines()[1:] if not line.startswith(" ")] == ["banner", "total"]


def test_two_brands_are_refused(pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "x" / "other"
    other.mkdir(parents=True)
    (other / "pack.yaml").write_text((pair[0] / "pack.yaml").read_text().replace("brand: shop", "brand: other"))
    code, _, err = run_cli(capsys, "diff", str(pair[0]), str(other))
    assert code == 1
    assert "compare two versions of one brand" in err


def test_unchanged_designs_of_a_pack_against_itself_are_its_variants() -> None:
    # GIVEN an example pack compared with itself
    from versa.decide.variants import enumerate_variants

    model = load_pack(Path(__file__).resolve().parents[2] / "examples" / "packs" / "northwind", checks=PACK_CHECKS).model
    diff = diff_packs(model, model)

    # THEN every creative's unchanged designs are exactly `versa variants`' count, none re-keyed
    assert diff.empty
    for c in diff.creatives:
        assert (c.unchanged, c.rekeyed) == (len(enumerate_variants(model, c.creative).variants), 0)


def test_report_draws_only_the_first_changes_asked_for(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.html"
    code, _, err = run_cli(capsys, "diff", str(pair[0]), str(pair[1]), "-o", str(report), "--max-images", "1")
    assert code == 0, err
    page = report.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2  # the first change, before and after
    assert page.count("not drawn (past --max-images)") == 2 * 2 + 2
