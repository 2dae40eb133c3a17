"""The studio's lint panel, apart from HTTP: the loaded pack's `versa lint` findings grouped per
creative, each with its field path (relative to the creative), line and column in pack.yaml, severity
and message, as `versa lint` prints them (`versa.authoring.lint`, located by `versa.pack.loader`).

Linting lays out every variant, so it is done once per pack version (`lint` keeps its findings by the
pack's content version) and only when the panel asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from versa.authoring.lint import lint
from versa.errors import Issue
from versa.pack.loader import PACK_FILE, locate_in_pack
from versa.pack.model import Pack

PACK_GROUP = ""
"""The group of findings about the pack as a whole (tokens, templates): no creative."""


def report(pack: Pack) -> dict[str, Any]:
    """The pack's lint findings as the panel shows them: counts, and one group per creative (in the
    pack's order, creatives without findings included) plus one for the pack as a whole, errors first."""
    return grouped(pack, locate_in_pack(pack.root, lint(pack)))


def grouped(pack: Pack, issues: Iterable[Issue]) -> dict[str, Any]:
    """`issues` in the panel's shape (see `report`)."""
    groups: dict[str, list[dict[str, Any]]] = {cid: [] for cid in pack.model.creatives}
    groups[PACK_GROUP] = []
    errors = warnings = 0
    for issue in sorted(issues, key=lambda i: (i.severity != "error", i.line or 0)):
        creative, where = _creative_of(issue, pack)
        groups.setdefault(creative, []).append(
            {
                "severity": issue.severity,
                "file": issue.file,
                "path": issue.path,
                "where": where,
                "line": issue.line,
                "column": issue.column,
                "message": issue.message,
            }
        )
        errors += issue.severity == "error"
        warnings += issue.severity != "error"
    return {
        "brand": pack.brand,
        "version": pack.version,
        "errors": errors,
        "warnings": warnings,
        "creatives": [
            {"creative": cid, "findings": found} for cid, found in groups.items() if cid != PACK_GROUP or found
        ],
    }


def _creative_of(issue: Issue, pack: Pack) -> tuple[str, str]:
    """The creative a finding is about and its path below that creative (`rules['uk']`)."""
    if issue.file == PACK_FILE and issue.path.startswith("creatives."):
        rest = issue.path.removeprefix("creatives.")
        for cid in sorted(pack.model.creatives, key=len, reverse=True):  # ids may share a prefix
            if rest == cid or rest.startswith(cid + "."):
                return cid, rest.removeprefix(cid).removeprefix(".")
    return PACK_GROUP, issue.path


__all__ = ["grouped", "report"]
