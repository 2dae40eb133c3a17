"""`versa visuals list|approve|reject`: generated scenes in the store `versa serve` uses, and their review.

Visual items live in the copy store beside copy (the item's text is the asset key of the scene in the
asset store), so this is `versa copy`'s listing and decisions for items of kind visual; rejecting one also
marks its asset rejected in the asset store (locally noted, on S3 tagged for the lifecycle rule).
"""

from __future__ import annotations

import argparse
from typing import Any

from versa.cli import copy as copy_cli
from versa.cli.main import settings as cli_settings
from versa.ports import CopyItem


def register(sub: Any) -> None:
    p = sub.add_parser("visuals", help="list generated visuals (scenes) and approve or reject them (review)")
    visuals = p.add_subparsers(dest="visuals_command", metavar="ACTION", required=True)

    q = visuals.add_parser("list", help="generated scenes by brand and status, with their asset keys")
    q.add_argument("brand", nargs="?", help="one brand (default: every brand of the packs directory)")
    q.add_argument("--status", choices=copy_cli.STATUSES, help="only scenes in this status (review: awaiting a reviewer)")
    q.add_argument("--json", action="store_true", help="one JSON document")
    copy_cli._common(q)
    q.set_defaults(func=copy_cli.cmd_list, kind="visual")

    q = visuals.add_parser("approve", help="approve scenes awaiting review: they serve from now on")
    q.add_argument("keys", nargs="*", metavar="KEY", help="visual keys, as `versa visuals list` shows them")
    q.add_argument("--all-pending", metavar="BRAND", help="approve every scene of BRAND awaiting review")
    q.add_argument("--comment", default="", help="recorded with the decision")
    copy_cli._common(q, by=True)
    q.set_defaults(func=copy_cli.cmd_approve, kind="visual")

    q = visuals.add_parser("reject", help="reject scenes awaiting review (the slot keeps its default image)")
    q.add_argument("keys", nargs="+", metavar="KEY")
    q.add_argument("--comment", required=True, help="why (required; recorded as the reason)")
    copy_cli._common(q, by=True)
    q.set_defaults(func=cmd_reject, kind="visual")


def cmd_reject(args: argparse.Namespace) -> int:
    """Reject the scenes, then mark each one's asset rejected in the asset store."""
    from versa.composition import build_assets

    assets = build_assets(cli_settings(packs_dir=getattr(args, "packs", None)))

    def mark(item: CopyItem) -> None:
        if item.meta.get("kind") == "visual" and item.text:
            assets.reject(item.text)

    return copy_cli.cmd_reject(args, on_done=mark)


__all__ = ["register"]
