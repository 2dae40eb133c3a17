#!/usr/bin/env python3
"""Generate northwind's segment-hero copy end to end and render every segment x locale x size.

    PYTHONPATH=shared python scripts/generate_example_copy.py [OUT]     # default OUT: tests/output/segment-hero

Starts the local OpenAI-compatible test server (tests/openai_server.py, answering from the test data in
tests/fixtures/northwind_segment_hero_copy.json), serves the example packs with it as the model and a
SQLite copy store in OUT, requests every segment and locale once (the defaults; generation is queued),
lets the in-process worker write and guard the copy, then writes what the service serves:
OUT/segment-hero@WxH-LOCALE-SEG.png for every size, a contact sheet per size (OUT/sheet-WxH.png) and
OUT/copy.json (the stored copy with the candidates each guardrail rejected).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test server and the example's test helper

import example_copy as ex  # noqa: E402
from openai_server import running_openai_server  # noqa: E402


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "tests" / "output" / "segment-hero"
    out.mkdir(parents=True, exist_ok=True)
    (out / "copy.sqlite3").unlink(missing_ok=True)  # fresh copy: every brief is written again
    report = []
    with running_openai_server() as fake:
        service = ex.build(out, fake)
        try:
            for g in ex.generate_all(service):
                report.append({
                    "seg": g.seg, "locale": g.locale,
                    **{slot: {"text": item.text, "status": item.status.value,
                              "generated": item.meta.get("generated"),
                              "rejected": [[r["text"], r["check"], r["reason"]] for r in item.meta.get("rejections", [])]}
                       for slot, item in g.items.items()},
                })
                print(f"{g.seg:8} {g.locale}  {g.text('headline')!r:48} {g.text('cta')!r}")
            for size in ex.sizes():
                tiles = []
                for seg in ex.segments():
                    for loc in ex.locales():
                        resp = service.image(ex.request(seg, loc, size=size))
                        assert resp.status == 200 and "X-Versa-Copy" not in resp.headers, (seg, loc, size)
                        path = out / f"segment-hero@{size[0]}x{size[1]}-{loc}-{seg}.png"
                        path.write_bytes(resp.body)
                        tiles.append((f"{seg} / {loc}", path))
                sheet(tiles, size, len(ex.locales())).save(out / f"sheet-{size[0]}x{size[1]}.png")
        finally:
            service.queue.close()  # type: ignore[attr-defined]
    (out / "copy.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(report)} segment x locale copies and their renders to {out}")
    return 0


def sheet(tiles: list[tuple[str, Path]], size: tuple[int, int], columns: int) -> Image.Image:
    """The renders in a grid (a row per segment, a column per locale), each captioned."""
    w, h = size
    gap, caption = 12, 18
    rows = -(-len(tiles) // columns)
    image = Image.new("RGB", (columns * (w + gap) + gap, rows * (h + caption + gap) + gap), "#e2e8f0")
    draw = ImageDraw.Draw(image)
    for i, (label, path) in enumerate(tiles):
        x, y = gap + (i % columns) * (w + gap), gap + (i // columns) * (h + caption + gap)
        draw.text((x, y), label, fill="#0f172a")
        with Image.open(path) as tile:
            image.paste(tile.convert("RGB"), (x, y + caption))
    return image


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
