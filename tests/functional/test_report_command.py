"""`versa report`: what the loop learned, read from the local store `versa serve` would count into."""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from versa.adapters.sqlite_relevance import SQLiteRelevanceStore
from versa.cli.main import main
from versa.pack.loader import load_pack
from versa.relevance import Counters, arm_id, policy_for, scope_of
from versa.render.checks import PACK_CHECKS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
RULE = {
    "id": "headline-test", "optimize": "clicks", "min_sample": 100,
    "arms": [{"id": "light"}, {"id": "dark", "set": {"tokens.colors.paper": "#0b0b0b"}}],
}


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "acme"
    shutil.copytree(EXAMPLES / "acme", root)
    data = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    data["creatives"]["winter-sale"]["rules"].append(RULE)
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("VERSA_RELEVANCE_TABLE", raising=False)
    return root


def _fill(pack: Path, state: Path) -> dict[str, str]:
    rule = load_pack(pack, checks=PACK_CHECKS).model.creative("winter-sale").rules[-1]
    policy = policy_for(rule)
    keys = {arm_id(k): k for k in policy.arms}
    store = SQLiteRelevanceStore(state / "relevance.sqlite3")
    scope = scope_of("acme", "winter-sale", "headline-test")
    store.add(scope, Counters({
        ("all", keys["light"], "holdout"): (1000, 20), ("all", keys["dark"], "holdout"): (1000, 30),
        ("all", keys["light"], "optimized"): (2000, 40), ("all", keys["dark"], "optimized"): (16000, 480),
    }))
    store.run_optimizer(scope, policy, datetime(2026, 12, 1, 12, tzinfo=UTC), random.Random(1))
    store.close()
    return keys


def test_report_prints_rates_intervals_shares_and_lift(pack: Path, tmp_path: Path, capsys: Any) -> None:
    # GIVEN counts and an allocation in the local store
    _fill(pack, tmp_path / "state")
    # WHEN the report is asked for, with CSV
    csv_file = tmp_path / "arms.csv"
    assert main(["report", str(pack), "winter-sale", "--csv", str(csv_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    # THEN it names the scope and epoch, each arm's numbers, and the lift over the holdout
    assert out[0].startswith("acme/winter-sale/headline-test (epoch 1, valid until 2026-12-01 13:00")
    dark = next(line for line in out if " dark " in line)
    assert "17000 imp     510 clk   3.00% [" in dark
    # holdout uniform rate (2% + 3%) / 2 = 2.5%; optimized 520 / 18000 = 2.89%: +15.6%
    [lift] = [line for line in out if line.strip().startswith("lift all:")]
    assert lift.strip().startswith("lift all: +15.6% [")
    rows = csv_file.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "segment,arm,impressions,clicks,ctr,ctr_low,ctr_high,share" and len(rows) == 3


def test_report_json_and_refusals(pack: Path, tmp_path: Path, capsys: Any) -> None:
    keys = _fill(pack, tmp_path / "state")
    assert main(["report", str(pack), "winter-sale", "--json"]) == 0
    [doc] = json.loads(capsys.readouterr().out)
    assert doc["epoch"] == 1 and {a["arm"] for a in doc["arms"]} == {"light", "dark"}
    assert {a["arm_key"] for a in doc["arms"]} == set(keys.values())
    with pytest.raises(SystemExit):
        main(["report", str(pack), "leaderboard"])
    assert "has no optimized rule" in capsys.readouterr().err


def test_report_writes_the_html_page_and_the_png_chart(pack: Path, tmp_path: Path, capsys: Any) -> None:
    # GIVEN counts and an allocation WHEN the report is asked for as a page and a chart
    _fill(pack, tmp_path / "state")
    page, png = tmp_path / "report.html", tmp_path / "report.png"
    assert main(["report", str(pack), "winter-sale", "-o", str(page), "--png", str(png)]) == 0
    # THEN the page has the table and the chart, and the PNG is that chart
    html = page.read_text(encoding="utf-8")
    assert "<td>dark</td><td>17,000</td><td>510</td><td>3.00%</td>" in html
    assert "+15.6% [" in html and html.count("data:image/png;base64,") == 1
    image = Image.open(png)
    assert image.format == "PNG" and image.width == 900


def test_render_previews_each_arm(pack: Path, tmp_path: Path, capsys: Any) -> None:
    # GIVEN the optimized rule's two arms WHEN each is rendered THEN they are different designs
    designs = []
    for arm in ("light", "dark"):
        out = tmp_path / f"{arm}.png"
        assert main(["render", str(pack), "winter-sale", "--arm", f"headline-test={arm}", "-o", str(out)]) == 0
        assert out.read_bytes().startswith(b"\x89PNG")
        designs.append(capsys.readouterr().err.split("design ")[1].split(",")[0])
    assert designs[0] != designs[1]
    # AND an arm the rule does not have is refused, naming what is allowed
    with pytest.raises(SystemExit):
        main(["render", str(pack), "winter-sale", "--arm", "headline-test=gone", "-o", str(tmp_path / "x.png")])
    assert "--arm 'headline-test=gone': allowed headline-test=light|dark" in capsys.readouterr().err
