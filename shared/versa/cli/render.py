"""`versa render`: draw a creative for a simulated request to a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from versa.cli.main import CliError, add_context_flags, resolve_simulated, settings, size_flag

FORMATS = ("png", "jpg", "jpeg", "webp", "gif", "avif")


def register(sub: Any) -> None:
    p = sub.add_parser("render", help="render a creative for a simulated request to an image file")
    p.add_argument("pack")
    p.add_argument("creative")
    add_context_flags(p)
    p.add_argument("--format", default=None, choices=FORMATS, help="default: from -o's suffix, else png")
    p.add_argument("--size", default=None, help="one of the creative's sizes, WIDTHxHEIGHT (default: its first)")
    p.add_argument("--width", type=int, help="one of the creative's allowed widths (at that size)")
    p.add_argument("--dpr", type=float, default=1.0, help="device pixel ratio, 1 to 3")
    p.add_argument("-o", "--output", required=True, help="file to write ('-' for stdout)")
    p.set_defaults(func=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:
    from versa.composition import build_renderer
    from versa.decide.rules import decide
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() if args.output != "-" else "png")
    if fmt not in FORMATS:
        raise CliError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    pack = load_pack(Path(args.pack), checks=PACK_CHECKS)
    pack.model.creative(args.creative)
    size = size_flag(pack, args.creative, args.size)
    ctx = resolve_simulated(pack, args.creative, args)
    decision = decide(pack.model, args.creative, ctx, size=size)
    texts = {name: ref.default for name, ref in decision.copy.items()}
    renderer = build_renderer(settings(memo_items=0))  # one render: nothing to remember
    rendered = renderer.render(
        pack, decision, texts=texts, params=ctx.params, fmt=fmt, width=args.width, dpr=args.dpr,
        now=ctx.now, tz=ctx.tz, robust=str(ctx.client) == "apple_mpp",
    )
    if args.output == "-":
        sys.stdout.buffer.write(rendered.body)
    else:
        Path(args.output).write_bytes(rendered.body)
        print(f"{args.output}: {rendered.width}x{rendered.height} {rendered.content_type}, {len(rendered.body):,} bytes, "
              f"design {decision.design_key}, rules {', '.join(decision.matched) or '(defaults)'}", file=sys.stderr)
    return 0
