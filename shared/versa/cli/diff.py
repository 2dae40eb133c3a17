"""`versa diff PACK_A PACK_B [CREATIVE] [-o report.html]`: the designs a new pack version adds, removes
and changes (`versa.authoring.diff`), as a text summary and an HTML report with before/after images."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from versa.cli.main import CliError, settings


def register(sub: Any) -> None:
    """Add `versa diff` to the command line."""
    p = sub.add_parser("diff", help="designs added, removed and changed between two versions of a pack")
    p.add_argument("old", metavar="PACK_A", help="the pack as it is (e.g. what is published)")
    p.add_argument("new", metavar="PACK_B", help="the pack as it would be")
    p.add_argument("creative", nargs="?", help="compare only this creative")
    p.add_argument("-o", "--output", metavar="REPORT.html", help="write the HTML report with before/after images")
    p.add_argument("--max-images", type=int, default=200, metavar="N",
                   help="draw before/after images for the first N changes only (default 200)")
    p.set_defaults(func=cmd_diff)


def image_maker(old: Any, new: Any) -> Any:
    """A function drawing a change's before (from `old`) or after (from `new`) decision as PNG bytes,
    for the change's example context (its clock, zone and parameters), copy at its defaults."""
    from versa.composition import build_renderer
    from versa.context.resolve import resolve
    from versa.decide.rules import context_options
    from versa.errors import VersaError

    renderer = build_renderer(settings(memo_items=0))

    def image_for(decision: Any, change: Any) -> bytes | None:
        pack = old if decision is change.before else new
        example = change.example
        at = datetime.fromisoformat(example["at"]).astimezone(UTC) if "at" in example else datetime.now(UTC)
        ctx = resolve({}, {}, at, context_options(pack.model, change.creative))
        params = dict(ctx.params)
        declared = pack.model.creative(change.creative).params
        params.update({k: v for k, v in example.items() if k in declared})
        texts = {name: ref.default for name, ref in decision.copy.items()}
        try:
            rendered = renderer.render(
                pack, decision, texts=texts, params=params, fmt="png", width=None, dpr=1.0,
                now=at, tz=str(example.get("tz") or ctx.tz), robust=True,
            )
        except VersaError:
            return None
        body: bytes = rendered.body
        return body

    return image_for


def cmd_diff(args: argparse.Namespace) -> int:
    from versa.authoring.diff import diff_packs
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    old = load_pack(Path(args.old), checks=PACK_CHECKS)
    new = load_pack(Path(args.new), checks=PACK_CHECKS)
    if old.brand != new.brand:
        raise CliError(f"{args.old} is brand {old.brand!r} and {args.new} is {new.brand!r}: compare two versions of one brand")
    diff = diff_packs(old.model, new.model, args.creative, old_version=f"{args.old} ({old.version})",
                      new_version=f"{args.new} ({new.version})")  # fmt: skip
    print("\n".join(diff.summary()))
    if args.output:
        from versa.authoring.diff_report import report_html

        page = report_html(diff, image_maker(old, new), max_changes_drawn=max(args.max_images, 0))
        Path(args.output).write_text(page, encoding="utf-8")
        print(f"report: {args.output}")
    return 0


__all__ = ["cmd_diff", "image_maker", "register"]
