"""`versa sign PATH --merge first_name=FNAME --esp TOOL`: a creative's image and click link, template-
signed, with each merge value written in the email tool's merge syntax and URL-encoding filter.

The signature covers the path, the fixed parameters and the merge parameters' *names*
(`versa.signing.signer`); the tool fills the values per recipient and the render bounds them by the
pack's declared types. The snippet goes to stdout; what each parameter became goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from versa.errors import VersaError
from versa.signing.esp import ESPS, parse_merge, snippet, template_url
from versa.signing.signer import Keyring, click_path, sign
from versa.signing.urls import FILE_RE, IMAGE_EXTS, file_size


class EmailSnippetError(VersaError):
    """What the user asked `versa sign --esp` for cannot be made (printed as one line, exit 1)."""


def _pack_for(brand: str, pack_dir: str | None) -> Any:
    """The brand's pack from `--pack` or the packs directory, or None when neither holds it."""
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS
    from versa.settings import load_settings

    folder = Path(pack_dir) if pack_dir else load_settings().packs_dir / brand
    if not (folder / "pack.yaml").is_file():
        if pack_dir:
            raise EmailSnippetError(f"--pack: {folder} holds no pack.yaml")
        return None
    pack = load_pack(folder, checks=PACK_CHECKS)
    if pack.brand != brand:
        raise EmailSnippetError(f"--pack: {folder} is brand {pack.brand!r}, the path names {brand!r}")
    return pack


def _check_merge(pack: Any, creative_id: str, names: list[str]) -> None:
    params = pack.model.creative(creative_id).params
    declared = sorted(n for n, spec in params.items() if spec.merge)
    for name in names:
        if name not in params or not params[name].merge:
            raise EmailSnippetError(
                f"--merge: {name!r} is not a merge parameter of {pack.brand}/{creative_id} "
                f"(pack.yaml creatives.{creative_id}.params; merge parameters: {', '.join(declared) or 'none'})"
            )


def _has_link(pack: Any, creative_id: str) -> bool:
    creative = pack.model.creative(creative_id)
    return creative.link is not None or any("link" in rule.set for rule in creative.rules)


def sign_for_esp(args: argparse.Namespace, keyring: Keyring, base: str) -> int:
    """Print the `<a><img></a>` snippet for `args.esp`; EmailSnippetError for a path that is not a creative's
    image, a merge parameter the pack does not declare, or a field name the tool could not take."""
    esp = ESPS[args.esp]
    parts = urlsplit(args.path)
    segments = parts.path.split("/")
    match = FILE_RE.match(segments[-1]) if len(segments) == 4 and segments[1] == "v1" else None
    if match is None or match["ext"] not in IMAGE_EXTS:
        raise EmailSnippetError(
            f"PATH: with --esp, give a creative's image, /v1/BRAND/CREATIVE.EXT (EXT one of "
            f"{', '.join(IMAGE_EXTS)}), got {parts.path!r}"
        )
    brand, creative_id = segments[2], match["creative"]
    try:
        merge = parse_merge(args.merge)
    except ValueError as exc:
        raise EmailSnippetError(str(exc)) from None
    if not merge:
        raise EmailSnippetError("--esp needs the merge parameters to fill: --merge NAME[=FIELD] (e.g. first_name=FNAME)")
    pack = _pack_for(brand, args.pack)
    if pack is not None:
        _check_merge(pack, creative_id, list(merge))
    try:
        fields = {name: field or esp.field_for(name) for name, field in merge.items()}
        tags = {name: esp.tag(field) for name, field in fields.items()}
    except ValueError as exc:
        raise EmailSnippetError(f"--merge: {exc}") from None

    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    pairs = query + [(name, "") for name in merge if name not in present]
    expires = datetime.now(UTC) + timedelta(seconds=args.expires) if args.expires else None

    def signed(path: str) -> str:
        added = sign(path, pairs, keyring, scope=args.scope, expires=expires, merge_names=list(merge))
        return template_url(base, path, [*pairs, *added.items()], tags)

    img_url = signed(parts.path)
    click_url = signed(click_path(brand, creative_id)) if pack is None or _has_link(pack, creative_id) else None
    size = file_size(match) or (pack.model.creative(creative_id).all_sizes[0] if pack is not None else (600, 300))
    alt = args.alt if args.alt is not None else (pack.model.name or brand if pack is not None else brand)
    print(snippet(img_url, click_url, width=size[0], height=size[1], alt=alt))

    for name, field in fields.items():
        print(f"{name} <- {esp.label} field {field}: {tags[name]}", file=sys.stderr)
    print(esp.note, file=sys.stderr)
    if click_url is None:
        print(f"{creative_id} has no link: no click snippet", file=sys.stderr)
    elif pack is not None:
        utm = pack.model.utm_for(creative_id)
        tags_text = "&".join(f"{k}={v}" for k, v in utm.pairs()) if utm is not None else ""
        print(f"clicks carry: {tags_text or 'no utm tags (declare utm: in pack.yaml)'}", file=sys.stderr)
    return 0


__all__ = ["EmailSnippetError", "sign_for_esp"]
