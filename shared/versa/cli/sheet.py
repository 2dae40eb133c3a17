"""`versa sheet`: a contact sheet of a creative, a labelled grid of a matrix of viewers or of every
distinct design, as a PNG or as an HTML page linking each cell to its signed URL and its trace."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from versa.cli.main import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    CliError,
    add_context_flags,
    settings,
    simulated_request,
    size_flag,
)


def register(sub: Any) -> None:
    from versa.authoring.matrix import DEFAULT_MAX_CELLS

    p = sub.add_parser(
        "sheet", help="a contact sheet: the creative for a matrix of viewers, or every distinct design (PNG or HTML)"
    )
    p.add_argument("pack")
    p.add_argument("creative")
    p.add_argument(
        "--matrix", nargs="+", action="extend", default=[], metavar="NAME=V1,V2",
        help="vary an attribute (country, tz, device, lang, client, at, daypart, size or a declared parameter); "
        "the cells are every combination, on top of the simulated viewer below",
    )  # fmt: skip
    p.add_argument("--all", action="store_true", help="one cell per distinct design (as `versa variants` counts them)")
    p.add_argument("--size", default=None, help="one of the creative's sizes, WIDTHxHEIGHT (with --all: only that size)")
    p.add_argument("--max-cells", type=int, default=DEFAULT_MAX_CELLS, help="refuse a sheet of more cells than this")
    p.add_argument("-o", "--output", required=True, help="sheet.png or sheet.html")
    p.add_argument(
        "--base-url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
        help="for HTML: where each cell's signed image and decision URLs point (a running versa serve)",
    )  # fmt: skip
    add_context_flags(p)
    p.set_defaults(func=cmd_sheet)


def cmd_sheet(args: argparse.Namespace) -> int:
    from PIL import Image

    from versa.authoring.matrix import MatrixError, matrix_cells, parse_matrix, variant_cells
    from versa.authoring.sheet import SheetCell, columns_for, draw_sheet, png_bytes, sheet_html
    from versa.composition import build_renderer
    from versa.pack.loader import load_pack
    from versa.pack.model import size_name
    from versa.render.checks import PACK_CHECKS

    kind = Path(args.output).suffix.lower().lstrip(".")
    if kind not in ("png", "html"):
        raise CliError(f"-o {args.output}: write a .png or an .html sheet")
    if args.all and args.matrix:
        raise CliError("--all and --matrix: give one (--all already covers every design)")
    viewer = [f"--{n}" for n in ("country", "tz", "device", "lang", "client", "at") if getattr(args, n)]
    if args.all and (viewer or args.param):
        given = ", ".join([*viewer, *(["--param"] if args.param else [])])
        raise CliError(f"--all shows each design at its own example viewer; {given} would not apply (drop it)")
    if args.max_cells < 1:
        raise CliError(f"--max-cells: {args.max_cells} (give at least 1)")
    pack = load_pack(Path(args.pack), checks=PACK_CHECKS)
    creative = pack.model.creative(args.creative)
    size = size_flag(pack, args.creative, args.size)
    try:
        if args.all:
            cells = variant_cells(
                pack.model, args.creative, sizes=[size] if size else None, max_cells=args.max_cells
            )
            what = f"every distinct design ({len(cells)})"
            preferred = None
        else:
            axes = parse_matrix(args.matrix, pack.model, args.creative)
            for item in args.param:  # the base viewer's parameters are checked like `versa decide`'s
                name = item.partition("=")[0]
                if name not in creative.params:
                    raise CliError(f"--param: {name!r} is not a parameter of {args.creative}")
            base, now = simulated_request(args, pack.model.default_tz)
            cells = matrix_cells(
                pack.model, args.creative, axes, base, now, size=size, max_cells=args.max_cells
            )
            what = " × ".join(f"{a.name} ({len(a.values)})" for a in axes) or "the default context"
            preferred = len(axes[-1].values) if axes else None
    except MatrixError as exc:
        raise CliError(str(exc)) from None
    renderer = build_renderer(settings())
    keyring = _keyring() if kind == "html" else None
    items = []
    for cell in cells:
        ctx, decision = cell.context, cell.decision
        texts = {name: ref.default for name, ref in decision.copy.items()}
        rendered = renderer.render(
            pack, decision, texts=texts, params=ctx.params, fmt="png", width=None, dpr=1.0,
            now=ctx.now, tz=ctx.tz, robust=str(ctx.client) == "apple_mpp",
        )  # fmt: skip
        image = Image.open(io.BytesIO(rendered.body))
        image.load()
        image_url = decision_url = ""
        if keyring is not None:
            image_url, decision_url = _signed(args, pack.brand, cell, creative.size, keyring)
        items.append(SheetCell(cell, image, image_url, decision_url))
    title = f"{pack.brand} / {args.creative} — {len(items)} cells: {what}"
    if not args.all and cells:
        local = cells[0].context.now.astimezone(cells[0].context.zone)
        if not any(a.name in ("at", "daypart") for a in parse_matrix(args.matrix, pack.model, args.creative)):
            title += f", at {local:%Y-%m-%d %H:%M} {cells[0].context.tz}"
    if size and not args.all:
        title += f", {size_name(size)}"
    columns = columns_for(len(items), preferred)
    if kind == "png":
        Path(args.output).write_bytes(png_bytes(draw_sheet(title, items, columns=columns)))
    else:
        Path(args.output).write_text(sheet_html(title, items, columns=columns), encoding="utf-8")
    designs = len({c.decision.design_key for c in cells})
    print(f"{args.output}: {len(items)} cells, {designs} distinct design(s)", file=sys.stderr)
    return 0


def _keyring() -> Any:
    from versa.signing.devkeys import load_or_create_dev_keyring

    return load_or_create_dev_keyring(settings().state_dir)  # the key `versa serve` verifies with


def _signed(args: argparse.Namespace, brand: str, cell: Any, first: tuple[int, int], keyring: Any) -> tuple[str, str]:
    """The cell's image URL and debug-scoped decision URL, signed for `--base-url`."""
    from versa.signing.signer import signed_url
    from versa.signing.urls import creative_path, decision_path

    in_path = None if cell.size == first else cell.size
    base = args.base_url.rstrip("/")
    query = dict(cell.query)
    image = signed_url(creative_path(brand, args.creative, "png", in_path), query, keyring)
    decision = signed_url(decision_path(brand, args.creative, in_path), query, keyring, scope="debug")
    return base + image, base + decision
