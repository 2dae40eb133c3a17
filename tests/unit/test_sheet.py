"""Contact sheets: matrix parsing, cell enumeration (a product of the values; `--all` = the variant
count), the PNG's cells and labels, and the HTML's signed links."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from PIL import Image, ImageDraw

from versa.authoring.matrix import (
    MatrixError,
    count_cells,
    matrix_cells,
    parse_matrix,
    variant_cells,
)
from versa.authoring.sheet import FRAME, LABEL_SIZE, PAD, THUMB_H, THUMB_W
from versa.cli.main import main
from versa.decide.variants import enumerate_variants
from versa.pack.loader import load_pack
from versa.pack.model import Pack
from versa.render.checks import PACK_CHECKS
from versa.render.fonts import get_font, resolve_family

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
NOON = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def acme() -> Pack:
    return load_pack(EXAMPLES / "acme", checks=PACK_CHECKS)


@pytest.fixture(scope="module")
def northwind() -> Pack:
    return load_pack(EXAMPLES / "northwind", checks=PACK_CHECKS)


# ------------------------------------------------------------------------------------------ parsing


def test_matrix_cells_are_the_product_of_the_values_in_order(acme: Pack) -> None:
    # GIVEN three axes of 3, 2 and 2 values
    axes = parse_matrix(["country=us,DE,JP", "device=mobile,desktop", "daypart=morning,evening"], acme.model, "winter-sale")
    # WHEN the cells are made
    cells = matrix_cells(acme.model, "winter-sale", axes, {}, NOON)
    # THEN there are 3 x 2 x 2, the first axis varying slowest, countries upper-cased
    assert count_cells(axes) == len(cells) == 12
    assert [dict(c.label) for c in cells[:3]] == [
        {"country": "US", "device": "mobile", "daypart": "morning"},
        {"country": "US", "device": "mobile", "daypart": "evening"},
        {"country": "US", "device": "desktop", "daypart": "morning"},
    ]
    # AND each cell is decided as its context: the daypart and country rules fire where they should
    assert cells[0].context.daypart == "morning" and cells[1].context.daypart == "evening"
    assert "dach" in cells[4].decision.matched and "dach" not in cells[0].decision.matched
    assert "mobile-big-button" in cells[0].decision.matched and "mobile-big-button" not in cells[2].decision.matched


def test_a_size_axis_and_the_base_viewer(acme: Pack) -> None:
    axes = parse_matrix(["size=728x90,300x250"], acme.model, "winter-sale")
    cells = matrix_cells(acme.model, "winter-sale", axes, {"country": "DE"}, NOON)
    assert [c.size for c in cells] == [(728, 90), (300, 250)]
    assert all(c.context.country == "DE" and c.decision.size == c.size for c in cells)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("countri=US", "--matrix countri: not an attribute a sheet can vary for winter-sale (allowed: country, tz"),
        ("device=phone", "--matrix device=phone: not allowed (allowed: mobile, tablet, desktop, tv)"),
        ("country=USA", "--matrix country=USA: not allowed (allowed: two-letter ISO 3166 codes"),
        ("lang=sv", "--matrix lang=sv: not allowed (allowed: en, de, fr, ar, ja, zh)"),
        ("daypart=brunch", "--matrix daypart=brunch: not allowed (allowed: morning, afternoon, evening, night)"),
        ("tz=Mars/Base", "--matrix tz=Mars/Base: not allowed (allowed: IANA time zones"),
        ("size=1x1", "--matrix size=1x1: not allowed (allowed: 600x300, 300x250"),
        ("country", "--matrix 'country': write NAME=VALUE,VALUE"),
        ("country=", "--matrix country: no values"),
    ],
)
def test_a_bad_axis_is_named_with_what_is_allowed(acme: Pack, spec: str, says: str) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_matrix([spec], acme.model, "winter-sale")
    assert str(caught.value).startswith(says), str(caught.value)


def test_a_declared_parameter_is_an_axis_judged_by_its_type(northwind: Pack) -> None:
    axes = parse_matrix(["tier=gold,basic"], northwind.model, "cyber-week")
    cells = matrix_cells(northwind.model, "cyber-week", axes, {}, NOON)
    assert ["gold-tier" in c.decision.matched for c in cells] == [True, False]
    with pytest.raises(MatrixError, match=r"--matrix tier=platinum: not allowed \(.*gold.*silver.*basic"):
        parse_matrix(["tier=platinum"], northwind.model, "cyber-week")


def test_twice_the_same_axis_or_both_clocks_are_refused(acme: Pack) -> None:
    with pytest.raises(MatrixError, match="given twice"):
        parse_matrix(["country=US", "country=DE"], acme.model, "winter-sale")
    with pytest.raises(MatrixError, match="either at= or daypart="):
        parse_matrix(["at=2026-12-01T08:00", "daypart=night"], acme.model, "winter-sale")


def test_the_cap_is_checked_before_anything_is_decided(acme: Pack) -> None:
    axes = parse_matrix(["country=US,DE,JP,FR", "device=mobile,desktop,tablet"], acme.model, "winter-sale")
    with pytest.raises(MatrixError, match=r"makes 12 cells, over the cap of 10: narrow it .* or raise --max-cells"):
        matrix_cells(acme.model, "winter-sale", axes, {}, NOON, max_cells=10)


# --------------------------------------------------------------------------------------------- --all


@pytest.mark.parametrize(("brand", "creative", "size"), [("northwind", "cyber-week", None), ("acme", "winter-sale", (728, 90))])
def test_all_is_one_cell_per_variant(acme: Pack, northwind: Pack, brand: str, creative: str, size: tuple[int, int] | None) -> None:
    pack = {"acme": acme, "northwind": northwind}[brand]
    sizes = [size] if size else None
    report = enumerate_variants(pack.model, creative, sizes=sizes)
    cells = variant_cells(pack.model, creative, sizes=sizes, max_cells=10_000)
    assert len(cells) == len(report.variants) > 20
    assert [c.decision.design_key for c in cells] == [v.design_key for v in report.variants]
    # every design is reached by its cell's own query (what its signed URL asks for)
    assert all("note" not in c.label for c in cells)


# ---------------------------------------------------------------------------------------------- PNG


def _frames(image: Image.Image) -> list[tuple[int, int]]:
    """Top-left corners of the thumbnail frames: a FRAME-coloured pixel with FRAME to its right and below."""
    rgb = image.convert("RGB")
    frame = tuple(int(FRAME[i : i + 2], 16) for i in (1, 3, 5))
    px = rgb.load()
    assert px is not None
    corners = []
    for y in range(rgb.height - THUMB_H):
        for x in range(rgb.width - THUMB_W):
            edges = px[x, y] == frame and px[x + 1, y] == frame and px[x, y + 1] == frame and px[x + THUMB_W, y] == frame
            if edges and (x == 0 or px[x - 1, y] != frame) and (y == 0 or px[x, y - 1] != frame):
                corners.append((x, y))
    return corners


def test_png_sheet_has_one_labelled_cell_per_combination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a 3 x 2 matrix
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path / "state"))
    out = tmp_path / "sheet.png"
    # WHEN the sheet is drawn by the command
    code = main([
        "sheet", str(EXAMPLES / "acme"), "winter-sale", "--matrix", "country=US,DE,JP", "device=mobile,desktop",
        "--at", "2026-12-01T19:30", "--tz", "America/New_York", "-o", str(out),
    ])  # fmt: skip
    assert code == 0
    sheet = Image.open(out)
    # THEN it holds six framed thumbnails in rows of two (the last axis's values)
    corners = _frames(sheet)
    assert len(corners) == 6
    assert len({x for x, _ in corners}) == 2 and len({y for _, y in corners}) == 3
    # AND under each, its context is written in bold: the third cell reads "country=DE · device=mobile"
    x, y = sorted(corners, key=lambda c: (c[1], c[0]))[2]
    bold = get_font(resolve_family("sans-bold"), LABEL_SIZE)
    expected = Image.new("RGB", (THUMB_W, 17), "#ffffff")
    ImageDraw.Draw(expected).text((0, 0), "country=DE · device=mobile", font=bold, fill="#111827")
    top = y + 1 + THUMB_H + 8
    label = sheet.convert("RGB").crop((x + 1, top, x + 1 + THUMB_W, top + 17))
    assert label.tobytes() == expected.tobytes()
    wrong = Image.new("RGB", (THUMB_W, 17), "#ffffff")
    ImageDraw.Draw(wrong).text((0, 0), "country=DE · device=desktop", font=bold, fill="#111827")
    assert label.tobytes() != wrong.tobytes()
    assert x + 1 == PAD


def test_html_sheet_links_each_cell_to_a_signed_url_and_its_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from versa.signing.devkeys import load_or_create_dev_keyring
    from versa.signing.signer import verify

    state = tmp_path / "state"
    monkeypatch.setenv("VERSA_STATE_DIR", str(state))
    out = tmp_path / "sheet.html"
    assert main([
        "sheet", str(EXAMPLES / "northwind"), "cyber-week", "--matrix", "client=browser,outlook", "--size", "600x240",
        "--base-url", "https://img.example", "-o", str(out),
    ]) == 0  # fmt: skip
    page = out.read_text(encoding="utf-8")
    images = [unescape(u) for u in re.findall(r'href="(https://img\.example/v1/northwind/cyber-week\.png\?[^"]+)">signed image', page)]
    decisions = [unescape(u) for u in re.findall(r'href="([^"]+/decision\?[^"]+)">decision', page)]
    assert len(images) == len(decisions) == 2
    keyring = load_or_create_dev_keyring(state)
    for url, scope in [*((u, None) for u in images), *((u, "debug") for u in decisions)]:
        parts = urlsplit(url)
        query: dict[str, list[str]] = {}
        for k, v in parse_qsl(parts.query):
            query.setdefault(k, []).append(v)
        verify(parts.path, query, keyring, now=datetime.now(UTC), required_scope=scope)
    assert "client=outlook" in page and "outlook-solid" in page and "<details><summary>trace" in page


def test_cli_names_a_bad_matrix_and_the_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sheet", str(EXAMPLES / "acme"), "winter-sale", "--matrix", "device=phone", "-o", str(tmp_path / "s.png")])
    assert "--matrix device=phone: not allowed (allowed: mobile, tablet, desktop, tv)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sheet", str(EXAMPLES / "acme"), "winter-sale", "--all", "-o", str(tmp_path / "s.png")])
    assert "makes 2992 cells, over the cap of 120" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sheet", str(EXAMPLES / "acme"), "winter-sale", "--all", "--country", "DE", "-o", str(tmp_path / "s.png")])
    assert "--all shows each design at its own example viewer; --country would not apply" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()
