"""Generated visuals end to end on the local server (`versa serve`, real HTTP) with the offline painter:
the first request gets the slot's default image and queues the scene; the worker paints, guards and
stores it for review (the default keeps serving, same ETag); once `versa visuals approve` approves it,
the next request draws the scene, with a new ETag and a full TTL. The studio's review panel shows the
pending scene inside the creative (a URL signed for the preview scope); the public path ignores a scene
named in its query. Another aspect class is another key."""

from __future__ import annotations

import io
import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from services import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def _listed(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    code, out, err = run_cli(capsys, "visuals", "list", "lumen", "--json", *extra)
    assert code == 0, err
    return list(json.loads(out)["items"])


def test_default_image_first_then_the_approved_scene_with_a_new_etag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from servers import running_versa

    packs = tmp_path / "packs"
    shutil.copytree(EXAMPLES / "lumen", packs / "lumen")
    state = tmp_path / "state"
    monkeypatch.setenv("VERSA_STATE_DIR", str(state))  # the CLI reads the store `versa serve` writes
    monkeypatch.setenv("VERSA_PACKS_DIR", str(packs))
    with running_versa(packs, state_dir=state, extra_args=["--no-signatures"]) as served:
        assert "visual painter   offline (VERSA_VISUAL_MODEL unset)" in served.log_text()
        url = f"{served.url}/v1/lumen/bottle-hero.png?aesthetic=urban&at=2026-06-01T21:00:00Z&tz=Europe/London"
        # WHEN the first request for an audience is made
        status, first, default_png = _get(url)
        # THEN it gets the slot's default image, briefly cached, marked as such
        assert status == 200 and first.get("X-Versa-Visual") == "default"
        assert "max-age=300," in first["Cache-Control"]
        # WHEN the in-process worker has painted the scene (one landscape scene for this audience)
        deadline = time.monotonic() + 60
        items = _listed(capsys)
        while not items and time.monotonic() < deadline:
            time.sleep(0.2)
            items = _listed(capsys)
        assert len(items) == 1
        item = items[0]
        assert item["status"] == "review" and item["kind"] == "visual"
        assert item["vary"] == {"aesthetic": "urban", "daypart": "night", "aspect": "landscape"}
        asset = state / str(item["text"])
        assert asset.is_file() and Image.open(asset).size == (1536, 1024)
        # THEN until a reviewer approves it, the default keeps serving with the same ETag
        _, waiting, waiting_png = _get(url)
        assert waiting.get("X-Versa-Visual") == "default" and waiting["ETag"] == first["ETag"]
        assert waiting_png == default_png
        # AND the studio's review panel shows it inside the creative at the sizes of its aspect class
        _, _, panel = _get(f"{served.url}/studio/review?brand=lumen")
        listed = json.loads(panel)["items"]
        assert [(r["key"], r["kind"], r["serving_source"]) for r in listed] == [(item["key"], "visual", "default")]
        assert [p["size"] for p in listed[0]["previews"]] == ["1200x628"]
        _, preview, preview_png = _get(served.url + listed[0]["previews"][0]["url"])
        assert preview.get("X-Versa-Copy") == "preview" and preview["Cache-Control"] == "private, no-store"
        assert preview_png != default_png
        # AND the public path ignores a scene named in its query (no preview signature)
        _, public, public_png = _get(url + f"&visual.hero={item['text']}")
        assert public.get("X-Versa-Visual") == "default" and public_png == default_png
        # WHEN a reviewer approves it from the terminal
        code, out, _ = run_cli(capsys, "visuals", "approve", str(item["key"]), "--by", "ana")
        assert code == 0 and f"approved {item['key']}" in out
        # THEN the next request draws the scene: a new ETag, a full TTL, other pixels
        _, approved, scene_png = _get(url)
        assert "X-Versa-Visual" not in approved and approved["ETag"] != first["ETag"]
        assert "max-age=300," not in approved["Cache-Control"]
        assert Image.open(io.BytesIO(scene_png)).size == (1200, 628) and scene_png != default_png
        assert scene_png == preview_png  # the preview drew exactly what now serves
        # AND another size of another aspect class is another scene, queued on its own miss
        _, square, _ = _get(url.replace("bottle-hero.png", "bottle-hero@1080x1080.png"))
        assert square.get("X-Versa-Visual") == "default"
