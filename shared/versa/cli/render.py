"""`versa render`: draw a creative for a simulated request to a file (an image, or its HTML page)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from versa.cli.main import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    CliError,
    add_context_flags,
    resolve_simulated,
    settings,
    simulated_request,
    size_flag,
)

ALIASES = {"jpeg": "jpg", "htm": "html"}


def register(sub: Any) -> None:
    p = sub.add_parser("render", help="render a creative for a simulated request to an image file or its HTML page")
    p.add_argument("pack")
    p.add_argument("creative")
    add_context_flags(p)
    p.add_argument(
        "--format",
        default=None,
        help="one of the pack's render.formats (png, jpg, webp, gif and html unless the pack says otherwise; "
        "avif when it lists it); default: from -o's suffix, else png",
    )
    p.add_argument("--size", default=None, help="one of the creative's sizes, WIDTHxHEIGHT (default: its first)")
    p.add_argument("--width", type=int, help="one of the creative's allowed widths (at that size)")
    p.add_argument("--dpr", type=float, default=1.0, help="device pixel ratio, 1 to 3")
    p.add_argument("-o", "--output", required=True, help="file to write ('-' for stdout); page.html writes the HTML page")
    p.add_argument(
        "--arm", action="append", default=[], metavar="RULE=ARM",
        help="show this arm of an optimized rule (repeatable): preview what the relevance loop may serve",
    )
    p.add_argument(
        "--base-url",
        default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
        help="for HTML: where the page's images and click link point (a running versa serve)",
    )
    p.set_defaults(func=cmd_render)


def arms_flag(creative: Any, given: list[str]) -> dict[str, str]:
    """`--arm RULE=ARM` flags as {rule: arm}; CliError naming the flag, the value and what is allowed."""
    arms: dict[str, str] = {}
    optimized = {rule.id: [arm.id for arm in rule.arms] for rule in creative.rules if rule.optimize}
    for item in given:
        rule, sep, arm = item.partition("=")
        if not sep or rule not in optimized or arm not in optimized[rule]:
            allowed = "; ".join(f"{r}={'|'.join(a)}" for r, a in optimized.items()) or "none (no optimized rule)"
            raise CliError(f"--arm {item!r}: allowed {allowed}")
        arms[rule] = arm
    return arms


def cmd_render(args: argparse.Namespace) -> int:
    from versa.composition import build_renderer
    from versa.decide.rules import decide
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    suffix = Path(args.output).suffix.lstrip(".").lower() if args.output != "-" else ""
    fmt = (args.format or suffix or "png").lower()
    fmt = ALIASES.get(fmt, fmt)
    pack = load_pack(Path(args.pack), checks=PACK_CHECKS)
    creative = pack.model.creative(args.creative)
    allowed = list(pack.model.render.formats)
    if fmt not in allowed:
        where = "--format" if args.format else f"-o {args.output}"
        raise CliError(f"{where}: {fmt!r} is not a format this pack renders (render.formats: {', '.join(allowed)})")
    size = size_flag(pack, args.creative, args.size)
    ctx = resolve_simulated(pack, args.creative, args)
    decision = decide(pack.model, args.creative, ctx, size=size, arms=arms_flag(creative, args.arm))
    texts = {name: ref.default for name, ref in decision.copy.items()}
    if fmt == "html":
        if creative.template is None:
            raise CliError(f"{args.creative} has no HTML page (give it a `template:`); render an image format instead")
        return _write_page(args, pack, decision, ctx, texts)
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


def _write_page(args: argparse.Namespace, pack: Any, decision: Any, ctx: Any, texts: dict[str, str]) -> int:
    """The creative's HTML page as `versa serve` would answer it, its image URLs signed with the
    development key for `--base-url`."""
    from types import SimpleNamespace

    from versa.render.html import HtmlPages
    from versa.signing.devkeys import load_or_create_dev_keyring

    query, _ = simulated_request(args, pack.model.default_tz)
    keyring = load_or_create_dev_keyring(settings().state_dir)  # the key `versa serve` verifies with
    page = HtmlPages(keyring, base_url=args.base_url or "").render_html(
        pack, decision, ctx, texts, SimpleNamespace(query=query)
    )
    body = page.encode()
    if args.output == "-":
        sys.stdout.buffer.write(body)
    else:
        Path(args.output).write_bytes(body)
        print(f"{args.output}: HTML page, {len(body):,} bytes, design {decision.design_key}, "
              f"rules {', '.join(decision.matched) or '(defaults)'}; its images point at {args.base_url} "
              f"(signed with key {keyring.active_kid})", file=sys.stderr)
    return 0
