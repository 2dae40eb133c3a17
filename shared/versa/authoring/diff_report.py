"""The HTML report of `versa diff`: the summary, then every change with its before and after images.

Pure: the images come from a callable (the command renders them), and the page is one file with the
images embedded as `data:` URIs, so it can be mailed or attached to a review as it is.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable

from versa.authoring.diff import DesignChange, PackDiff, describe
from versa.decide.rules import Decision

ImageFor = Callable[[Decision, DesignChange], bytes | None]
"""PNG bytes of a decision drawn for a change's example context, or None when it cannot be drawn."""

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#57606a;margin-bottom:16px}.totals span{margin-right:14px;font-weight:600}
.added{color:#1a7f37}.removed{color:#cf222e}.changed{color:#9a6700}
.change{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px;margin:10px 0}
.change .line{font-family:ui-monospace,monospace;font-size:12px;margin-bottom:8px;word-break:break-all}
.pair{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}
.pair figure{margin:0}.pair figcaption{font-size:12px;color:#57606a;margin-bottom:4px}
.pair img{border:1px solid #d0d7de;max-width:480px;height:auto;display:block}
.none{width:160px;height:60px;border:1px dashed #d0d7de;display:flex;align-items:center;justify-content:center;
color:#8c959f;font-size:12px}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;margin-right:6px;
color:#fff}.badge.added{background:#1a7f37}.badge.removed{background:#cf222e}.badge.changed{background:#9a6700}
"""


def _figure(caption: str, png: bytes | None, missing: str) -> str:
    if png is None:
        body = f'<div class="none">{html.escape(missing)}</div>'
    else:
        data = base64.b64encode(png).decode("ascii")
        body = f'<img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
    return f"<figure><figcaption>{html.escape(caption)}</figcaption>{body}</figure>"


def _change(change: DesignChange, image_for: ImageFor, drawn: bool) -> str:
    before = image_for(change.before, change) if change.before is not None and drawn else None
    after = image_for(change.after, change) if change.after is not None and drawn else None
    before_caption = f"before · {change.before.design_key}" if change.before is not None else "before"
    after_caption = f"after · {change.after.design_key}" if change.after is not None else "after"
    not_drawn = "could not be drawn" if drawn else "not drawn (past --max-images)"
    missing_before = "new creative or size" if change.before is None else not_drawn
    missing_after = "creative or size removed" if change.after is None else not_drawn
    return (
        f'<div class="change"><div class="line"><span class="badge {change.kind}">{change.kind}</span>'
        f"{html.escape(describe(change))}</div><div class=\"pair\">"
        f"{_figure(before_caption, before, missing_before)}{_figure(after_caption, after, missing_after)}"
        "</div></div>"
    )


def report_html(diff: PackDiff, image_for: ImageFor, *, max_changes_drawn: int = 200) -> str:
    """The whole report page: title, totals, then per creative its counts and each change with the
    design before and after (for an addition, what its viewers saw before; for a removal, what they
    see now). Only the first `max_changes_drawn` changes get images (a token change can touch
    thousands of designs); the rest are listed without."""
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>versa diff {html.escape(diff.brand)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(diff.brand)}: what the new version changes</h1>",
        f'<div class="meta">{html.escape(diff.old_version)} → {html.escape(diff.new_version)}</div>',
        '<div class="totals">'
        + "".join(f'<span class="{k}">{diff.count(k)} {k}</span>' for k in ("added", "removed", "changed"))
        + "</div>",
    ]
    for c in diff.creatives:
        status = {"added": " (new creative)", "removed": " (creative removed)", "kept": ""}[c.status]
        same = f"{c.unchanged} unchanged" + (f", {c.rekeyed} of them with a new key and the same image" if c.rekeyed else "")
        counts = ", ".join(f"{c.count(k)} {k}" for k in ("added", "removed", "changed"))
        parts.append(f"<h2>{html.escape(c.creative)}{status}</h2><div class=\"meta\">{counts}; {same}</div>")
        for change in c.changes:
            parts.append(_change(change, image_for, drawn=max_changes_drawn > 0))
            max_changes_drawn -= 1
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["ImageFor", "report_html"]
