"""The studio's grid, time-travel and "as seen by" routes over real HTTP, without a browser: each cell's
signed URL serves the very design the cell is labelled with, and bad input is a problem naming it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from servers import running_versa

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("versa-state")
    with running_versa(ROOT / "examples" / "packs", state_dir=state, env={"VERSA_RENDER_BUDGET_MS": "30000"}) as served:
        yield served.url


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def studio(url: str, route: str, **query: str) -> tuple[int, Any]:
    status, _, body = get(f"{url}/studio/{route}?{urlencode(query)}")
    return status, json.loads(body)


def test_each_grid_cell_url_serves_the_cells_design(url: str) -> None:
    status, grid = studio(url, "grid", brand="acme", creative="winter-sale", tz="Europe/Berlin",
                          at="2026-12-01T08:30", matrix="country=US,DE device=mobile,desktop")  # fmt: skip
    assert status == 200 and grid["count"] == 4
    for cell in grid["cells"]:
        code, headers, _ = get(url + cell["image_url"])
        assert code == 200 and headers["x-versa-variant"] == cell["design_key"]
        code, _, body = get(url + cell["decision_url"])
        assert code == 200 and json.loads(body)["matched"] == cell["matched"]
    assert [c["daypart"] for c in grid["cells"]] == ["morning"] * 4


def test_grid_problems_name_the_input(url: str) -> None:
    status, problem = studio(url, "grid", brand="acme", creative="winter-sale", matrix="lang=sv")
    assert status == 400 and problem["field"] == "matrix"
    assert problem["detail"] == "--matrix lang=sv: not allowed (allowed: en, de, fr, ar, ja, zh)"
    status, problem = studio(url, "grid", brand="acme", creative="winter-sale", all="1")
    assert status == 400 and "over the cap of 60" in problem["detail"]
    status, problem = studio(url, "grid", brand="acme", creative="winter-sale", size="1x1")
    assert status == 400 and problem["field"] == "size"


def test_moments_step_dayparts_in_the_zone(url: str) -> None:
    status, m = studio(url, "moments", brand="acme", creative="winter-sale", tz="Asia/Tokyo", at="2026-12-01T08:30")
    assert status == 200
    assert (m["daypart"], m["previous"]["daypart"], m["next"]["daypart"]) == ("morning", "night", "afternoon")
    assert (m["previous"]["at"], m["next"]["at"]) == ("2026-11-30T22:00:00", "2026-12-01T12:00:00")
    status, m = studio(url, "moments", brand="northwind", creative="cyber-week", tz="Europe/Warsaw", at="2026-12-04T12:00")
    deadline = next(d for d in m["deadlines"] if "countdown" in d["what"])
    # 23:59 in Chicago is 06:59 the next morning in Warsaw
    assert (deadline["before"], deadline["at"], deadline["after"]) == (
        "2026-12-05T06:58:00", "2026-12-05T06:59:00", "2026-12-05T07:00:00"
    )
