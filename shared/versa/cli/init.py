"""`versa init BRAND [--template banner|email-countdown|social] [--dir PATH]`: start a pack.

Creates `PATH/BRAND/pack.yaml` from a commented template (`versa.cli.init_templates`) that validates,
lints without errors, renders and serves as written, then prints the commands to try next. It never
overwrites: an existing `BRAND` folder is an error.
"""

from __future__ import annotations

import argparse
import re
import shlex
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from versa.cli.init_templates import CREATIVE_OF, TEMPLATES
from versa.cli.main import DEFAULT_HOST, DEFAULT_PORT, CliError
from versa.pack.model import SLUG

BRAND_RULE = "lower-case letters a-z, digits and '-', starting with a letter or digit, at most 63 characters"
COUNTDOWN_DAYS = 14
"""The email-countdown template's deadline: this many days after `versa init` ran, at 23:59 UTC."""


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="start a new pack: write BRAND/pack.yaml from a template")
    p.add_argument("brand", metavar="BRAND", help=f"the brand id, used in URLs and as the folder's name: {BRAND_RULE}")
    p.add_argument("--template", default="banner", metavar="NAME",
                   help=f"what to start from: {', '.join(TEMPLATES)} (default: banner)")
    p.add_argument("--dir", default=".", metavar="PATH", help="where to create the BRAND folder (default: here)")
    p.set_defaults(func=cmd_init)


def suggest_brand(text: str) -> str:
    """A brand id close to `text` ('Acme Shoes' -> 'acme-shoes'), or '' when nothing usable is left."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    return slug if re.match(SLUG, slug) else ""


def check_brand(brand: str) -> None:
    """Raise CliError unless `brand` is a brand id (`versa.pack.model.SLUG`), suggesting one."""
    if re.match(SLUG, brand):
        return
    hint = suggest_brand(brand)
    raise CliError(
        f"BRAND {brand!r} is not a brand id: use {BRAND_RULE}" + (f" (e.g. {hint!r})" if hint else "")
    )


def display_name(brand: str) -> str:
    """'acme-shoes' -> 'Acme Shoes' (the pack's `name`, which the templates draw as the wordmark)."""
    return " ".join(part.capitalize() for part in brand.split("-") if part) or brand


def pack_text(template: str, brand: str, *, now: datetime) -> str:
    """The pack.yaml `versa init` writes for `template` and `brand` (`now` dates the countdown)."""
    try:
        source = TEMPLATES[template]
    except KeyError:
        raise CliError(f"--template: unknown template {template!r} (templates: {', '.join(TEMPLATES)})") from None
    deadline = (now.astimezone(UTC) + timedelta(days=COUNTDOWN_DAYS)).replace(
        hour=23, minute=59, second=0, microsecond=0
    )
    return string.Template(source).substitute(
        brand=brand, name=display_name(brand), deadline=deadline.isoformat()
    )


def cmd_init(args: argparse.Namespace) -> int:
    check_brand(args.brand)
    text = pack_text(args.template, args.brand, now=datetime.now(UTC))
    parent = Path(args.dir)
    if not parent.is_dir():
        raise CliError(f"--dir {args.dir}: no such folder")
    folder = parent / args.brand
    try:
        folder.mkdir()  # never exist_ok: init does not overwrite
    except FileExistsError:
        raise CliError(
            f"{folder} already exists; versa init never overwrites a folder: choose another BRAND or --dir, "
            "or remove it first"
        ) from None
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    creative = CREATIVE_OF[args.template]
    pack = shlex.quote(str(folder))
    packs = shlex.quote(str(parent))
    print(f"created {folder}/pack.yaml from the {args.template} template (creative {creative!r})")
    steps = [
        (f"versa validate {pack}", "load it: every error at once"),
        (f"versa lint {pack}", "what a valid pack can still get wrong"),
        (f"versa render {pack} {creative} -o {creative}.png", "draw it (--size WxH; --country AE: Arabic)"),
        (f"versa serve --packs {packs}", f"serve it, then open http://{DEFAULT_HOST}:{DEFAULT_PORT}/"),
    ]
    width = max(len(command) for command, _ in steps)
    print("next:")
    for command, what in steps:
        print(f"  {command:<{width}}   # {what}")
    return 0
