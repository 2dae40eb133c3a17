"""The report as one self-contained HTML page: per optimized rule, the chart (an embedded PNG), the
table of arms and the lift per segment (what `versa report -o report.html` writes)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from versa.relevance.chart import chart_png
from versa.relevance.report import ArmRow, Lift
from versa.relevance.rules import arm_id


@dataclass(frozen=True)
class RuleReport:
    """One optimized rule's part of the page."""

    rule: str
    scope: str
    allocation: str
    """A line about the snapshot ("epoch 3, valid until ..." or "no allocation yet")."""
    rows: Sequence[ArmRow]
    lifts: Sequence[Lift]


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.1%}" if signed else f"{value:.2%}"


def _lift_cell(lf: Lift) -> str:
    if lf.lift is None or lf.low is None or lf.high is None:
        return "not yet measurable (the holdout lacks a view of every arm)"
    return f"{_pct(lf.lift, True)} [{_pct(lf.low, True)}, {_pct(lf.high, True)}]"


def report_html(title: str, reports: Sequence[RuleReport]) -> str:
    """The page (see the module doc); every text from the store or the pack is escaped."""
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{escape(title)}</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:2em;color:#212529}table{border-collapse:collapse;"
        "margin:1em 0}td,th{padding:.3em .8em;border-bottom:1px solid #dee2e6;text-align:right}"
        "td:first-child,td:nth-child(2),th{text-align:left}img{max-width:100%}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    for rep in reports:
        parts.append(f"<section><h2>{escape(rep.rule)}</h2><p>{escape(rep.scope)}: {escape(rep.allocation)}</p>")
        if not rep.rows:
            parts.append("<p>No counts yet.</p></section>")
            continue
        png = base64.b64encode(chart_png(rep.rows, f"{rep.scope}: click rate and share per arm")).decode()
        parts.append(f"<img alt=\"click rate and share per arm and segment\" src=\"data:image/png;base64,{png}\">")
        parts.append("<table><thead><tr><th>segment</th><th>arm</th><th>impressions</th><th>clicks</th>"
                     "<th>click rate</th><th>95 % interval</th><th>share</th></tr></thead><tbody>")
        for r in rep.rows:
            parts.append(
                f"<tr><td>{escape(r.segment)}</td><td>{escape(arm_id(r.arm))}</td><td>{r.impressions:,}</td>"
                f"<td>{r.clicks:,}</td><td>{_pct(r.ctr)}</td><td>[{_pct(r.ctr_low)}, {_pct(r.ctr_high)}]</td>"
                f"<td>{'–' if r.share is None else f'{r.share:.0%}'}</td></tr>"
            )
        parts.append("</tbody></table><table><thead><tr><th>segment</th><th>lift over the holdout, 95 % interval</th>"
                     "</tr></thead><tbody>")
        for lf in rep.lifts:
            parts.append(f"<tr><td>{escape(lf.segment)}</td><td>{escape(_lift_cell(lf))}</td></tr>")
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "\n".join(parts)
