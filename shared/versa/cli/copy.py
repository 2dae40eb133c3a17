"""`versa copy list|approve|reject`: generated copy in the store `versa serve` uses, and its review.

The store is the one the settings name (the SQLite file under the state directory, `VERSA_STATE_DIR`,
default `.versa/`, exactly as `versa serve` opens it; the DynamoDB table when `VERSA_COPY_TABLE` is
set). Decisions go through `versa.generate.review`: conditional writes on each item's version, recorded
with who, when, the brand's current pack version and the comment.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from versa.cli.main import CliError
from versa.cli.main import settings as cli_settings
from versa.errors import ReviewError
from versa.ports import CopyItem, CopyStatus, CopyStore, PackStore

PAGE = 200
STATUSES = [s.value for s in CopyStatus if s is not CopyStatus.pending]


def register(sub: Any) -> None:
    p = sub.add_parser("copy", help="list generated copy and approve or reject it (review)")
    copy = p.add_subparsers(dest="copy_command", metavar="ACTION", required=True)

    q = copy.add_parser("list", help="generated copy by brand and status")
    q.add_argument("brand", nargs="?", help="one brand (default: every brand of the packs directory)")
    q.add_argument("--status", choices=STATUSES, help="only copy in this status (review: awaiting a reviewer)")
    q.add_argument("--json", action="store_true", help="one JSON document")
    _common(q)
    q.set_defaults(func=cmd_list)

    q = copy.add_parser("approve", help="approve copy awaiting review: it serves from now on")
    q.add_argument("keys", nargs="*", metavar="KEY", help="copy keys, as `versa copy list` shows them")
    q.add_argument("--all-pending", metavar="BRAND", help="approve every item of BRAND awaiting review")
    q.add_argument("--comment", default="", help="recorded with the decision")
    _common(q, by=True)
    q.set_defaults(func=cmd_approve)

    q = copy.add_parser("reject", help="reject copy awaiting review (the slot keeps what it serves)")
    q.add_argument("keys", nargs="+", metavar="KEY")
    q.add_argument("--comment", required=True, help="why (required; recorded as the reason)")
    _common(q, by=True)
    q.set_defaults(func=cmd_reject)


def _common(p: argparse.ArgumentParser, *, by: bool = False) -> None:
    p.add_argument("--packs", help="directory of pack directories (default: the packs_dir setting, env VERSA_PACKS_DIR)")
    if by:
        p.add_argument("--by", help="who decides (default: the login name)")


def _stores(args: argparse.Namespace) -> tuple[CopyStore, PackStore]:
    from versa.composition import build_copy, build_packs

    settings = cli_settings(packs_dir=getattr(args, "packs", None))
    return build_copy(settings), build_packs(settings)


def _now() -> datetime:
    return datetime.now(UTC)


def _all(store: CopyStore, brand: str, status: CopyStatus | None) -> list[CopyItem]:
    items: list[CopyItem] = []
    cursor = None
    while True:
        page = store.list_items(brand, status=status, now=_now(), limit=PAGE, cursor=cursor)
        items.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            return items


def cmd_list(args: argparse.Namespace) -> int:
    from versa.generate.review import describe

    store, packs = _stores(args)
    brands = [args.brand] if args.brand else packs.brands()
    status = CopyStatus(args.status) if args.status else None
    kind = getattr(args, "kind", "copy")
    rows = [row for brand in brands for item in _all(store, brand, status)
            if (row := describe(item))["kind"] == kind]
    if args.json:
        print(json.dumps({"items": rows, "count": len(rows)}, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        which = f"{args.status} " if args.status else ""
        what = "copy" if kind == "copy" else "visuals"
        print(f"no {which}{what} stored for {', '.join(brands) or 'any brand'}")
        return 0
    for row in rows:
        print(_line(row))
    print(f"{len(rows)} item{'s' if len(rows) != 1 else ''}")
    return 0


def _line(row: dict[str, Any]) -> str:
    vary = ",".join(f"{k}={v}" for k, v in sorted(row["vary"].items()))
    where = f"{row['brand']}/{row['creative']}/{row['slot']} {row['locale']}" + (f" [{vary}]" if vary else "")
    text = row["text"] if row["text"] is not None else f"({row['reason']})"
    out = f"{row['status']:<9} {row['key']}  {where}\n          {text}"
    for d in row["decisions"]:
        comment = f": {d['comment']}" if d.get("comment") else ""
        out += f"\n          {d['action']}d by {d['by']} at {d['at']} (pack {d['pack_version']}){comment}"
    return out


def _decide(
    args: argparse.Namespace, action: str, keys: list[str], *, on_done: Callable[[CopyItem], None] | None = None
) -> int:
    """Approve or reject each key (`on_done` runs after each decision, e.g. to mark a rejected visual's
    asset for removal)."""
    from versa.generate import review

    store, packs = _stores(args)
    by = args.by or _login()
    failed = 0
    for key in keys:
        try:
            item = store.get(key)
            verdict = review.Verdict(action, by, _now(), _pack_version(packs, item), args.comment)
            decide = review.approve if action == "approve" else review.reject
            done = decide(store, key, verdict)
        except ReviewError as exc:
            print(f"versa: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if on_done is not None:
            on_done(done)
        print(f"{done.status.value} {key}: {done.text}")
    return 1 if failed else 0


def _pack_version(packs: PackStore, item: CopyItem | None) -> str | None:
    """The brand's current pack version (recorded with the decision), None when it cannot be loaded."""
    brand = item.brand if item else None
    if not brand:
        return None
    try:
        return packs.current(brand).version
    except Exception:  # a pack that does not load must not keep a reviewer from deciding
        return None


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def cmd_approve(args: argparse.Namespace) -> int:
    keys = list(args.keys)
    if args.all_pending:
        store, _ = _stores(args)
        kind = getattr(args, "kind", "copy")
        keys += [item.key for item in _all(store, args.all_pending, CopyStatus.review)
                 if (item.meta.get("kind") == "visual") == (kind == "visual")]
        if not keys:
            print(f"nothing of {args.all_pending} awaits review")
            return 0
    if not keys:
        raise CliError("approve: name KEYs or --all-pending BRAND")
    return _decide(args, "approve", list(dict.fromkeys(keys)))


def cmd_reject(args: argparse.Namespace, *, on_done: Callable[[CopyItem], None] | None = None) -> int:
    if not args.comment.strip():
        raise CliError("reject: --comment must say why")
    return _decide(args, "reject", list(dict.fromkeys(args.keys)), on_done=on_done)


__all__ = ["register"]
