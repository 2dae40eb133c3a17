"""`versa init` as a new author meets it: init -> edit -> validate -> lint -> render -> serve -> publish,
with no hand-made file (the fallbacks are drawn), and the errors init gives for a bad start."""

from __future__ import annotations

import http.client
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from servers import running_versa
from services import run_cli as run

TEMPLATES = {"banner": "launch", "email-countdown": "sale-ends", "social": "post"}
EDITS = {  # one English headline per template, as an author would retype it in pack.yaml
    "banner": ('en: "Meet the new collection"', 'en: "Autumn is in store"'),
    "email-countdown": ('en: "Our sale ends soon"', 'en: "Last days of the sale"'),
    "social": ('en: "Big news is here"', 'en: "Something new is here"'),
}
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"


def _get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _init_all(capsys: pytest.CaptureFixture[str], packs: Path) -> None:
    for template in TEMPLATES:
        code, out, err = run(capsys, "init", f"new-{template}", "--template", template, "--dir", str(packs))
        assert code == 0, err
        assert f"created {packs / f'new-{template}'}/pack.yaml from the {template} template" in out
        assert f"versa validate {packs / f'new-{template}'}" in out and f"versa serve --packs {packs}" in out


def test_a_new_author_goes_from_init_to_serving_without_a_hand_made_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from versa.composition import build_renderer
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS
    from versa.render.fallback import draw_fallback
    from versa.settings import Settings
    from versa.signing.devkeys import load_or_create_dev_keyring
    from versa.signing.signer import signed_url

    # GIVEN a pack of each template, started by `versa init`, with its headline retyped
    packs = tmp_path / "packs"
    packs.mkdir()
    _init_all(capsys, packs)
    for template, (old, new) in EDITS.items():
        pack_yaml = packs / f"new-{template}" / "pack.yaml"
        text = pack_yaml.read_text(encoding="utf-8")
        assert old in text
        pack_yaml.write_text(text.replace(old, new), encoding="utf-8")
        assert sorted(p.name for p in pack_yaml.parent.iterdir()) == ["pack.yaml"]  # nothing else to make

    for template, creative in TEMPLATES.items():
        folder = str(packs / f"new-{template}")
        # WHEN it is validated, linted, decided and rendered
        code, out, err = run(capsys, "validate", folder)
        assert code == 0 and f"ok — brand new-{template}" in out, err
        code, out, err = run(capsys, "lint", folder)
        assert code == 0 and "0 error(s)" in err, out
        code, out, err = run(capsys, "decide", folder, creative)
        assert code == 0 and EDITS[template][1].removeprefix('en: "').rstrip('"') in out, out
        target = tmp_path / f"{template}.png"
        code, _, err = run(capsys, "render", folder, creative, "--country", "AE", "-o", str(target))
        # THEN each works, and the Arabic render has the creative's first size
        assert code == 0, err
        pack = load_pack(Path(folder), checks=PACK_CHECKS)
        assert Image.open(target).size == pack.model.creative(creative).size

    # WHEN the folder of packs is served
    state = tmp_path / "state"
    with running_versa(packs, state_dir=state) as server:
        log = server.log_text()
        assert "not served" not in log, log
        keyring = load_or_create_dev_keyring(state)
        renderer = build_renderer(Settings(memo_items=0))
        for template, creative in TEMPLATES.items():
            brand = f"new-{template}"
            pack = load_pack(packs / brand, checks=PACK_CHECKS)
            for size in pack.model.creative(creative).all_sizes:
                path = f"/v1/{brand}/{creative}@{size[0]}x{size[1]}.png"
                # THEN each size's signed URL answers an image of that size
                status, headers, body = _get(server.url, signed_url(path, [], keyring))
                assert status == 200 and headers["content-type"] == "image/png", (path, status, body[:200])
                assert "x-versa-fallback" not in headers, headers
                assert Image.open(io.BytesIO(body)).size == size
                # AND a broken request (no signature) from an email proxy gets the drawn fallback of that size
                status, headers, body = _get(server.url, path, {"User-Agent": GMAIL})
                assert status == 200 and headers.get("x-versa-fallback") == "bad-request", (path, headers)
                assert Image.open(io.BytesIO(body)).size == size
                drawn = draw_fallback(pack, creative, size, renderer=renderer, now=datetime.now(UTC))
                assert body == drawn, f"{path}: the fallback served is not the one drawn from the default context"


def test_publish_uploads_a_drawn_fallback_per_size(
    tmp_path: Path, s3_bucket: str, s3_client: Any, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a banner pack straight from `versa init` (six sizes, no fallback file)
    assert run(capsys, "init", "fresh", "--dir", str(tmp_path))[0] == 0

    # WHEN it is published
    code, out, err = run(capsys, "publish", str(tmp_path / "fresh"), "--bucket", s3_bucket, "--endpoint-url", moto_endpoint)

    # THEN one PNG per size is uploaded, drawn at that size (and the plain key at the first size)
    assert code == 0, err
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    creative = load_pack(tmp_path / "fresh", checks=PACK_CHECKS).model.creative("launch")
    keys = {obj["Key"] for obj in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="fallbacks/")["Contents"]}
    for size in creative.all_sizes:
        key = f"fallbacks/v1/fresh/launch@{size[0]}x{size[1]}.png"
        assert key in keys and f"fallback {key}" in out
        body = s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        image = Image.open(io.BytesIO(body))
        assert image.size == size
        assert len(image.convert("RGB").getcolors(1 << 16) or []) > 8  # drawn, not a flat placeholder
    plain = s3_client.get_object(Bucket=s3_bucket, Key="fallbacks/v1/fresh/launch.png")["Body"].read()
    assert Image.open(io.BytesIO(plain)).size == creative.size


def test_init_refuses_an_existing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a folder named like the brand, holding an author's file
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "notes.txt").write_text("mine", encoding="utf-8")
    # WHEN init is asked for that brand there
    code, _, err = run(capsys, "init", "acme", "--dir", str(tmp_path))
    # THEN it refuses, saying so, and writes nothing
    assert code == 1
    assert (f"versa: error: {tmp_path / 'acme'} already exists; versa init never overwrites a folder: "
            "choose another BRAND or --dir, or remove it first") in err
    assert sorted(p.name for p in (tmp_path / "acme").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("brand", "hint"),
    [("Acme Shoes", " (e.g. 'acme-shoes')"), ("acme_shoes!", " (e.g. 'acme-shoes')"), ("a" * 64, " (e.g. '" + "a" * 63 + "')"),
     ("ÿ", "")],
)
def test_init_refuses_a_bad_brand_id(tmp_path: Path, capsys: pytest.CaptureFixture[str], brand: str, hint: str) -> None:
    code, _, err = run(capsys, "init", brand, "--dir", str(tmp_path))
    assert code == 1
    assert err.strip() == (
        f"versa: error: BRAND {brand!r} is not a brand id: use lower-case letters a-z, digits and '-', "
        f"starting with a letter or digit, at most 63 characters{hint}"
    )
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_an_unknown_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "init", "acme", "--template", "poster", "--dir", str(tmp_path))
    assert code == 1
    assert err.strip() == (
        "versa: error: --template: unknown template 'poster' (templates: banner, email-countdown, social)"
    )
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_a_missing_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "init", "acme", "--dir", str(tmp_path / "nope"))
    assert code == 1
    assert f"versa: error: --dir {tmp_path / 'nope'}: no such folder" in err


def test_the_countdown_template_counts_down_to_a_future_deadline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an email-countdown pack made now
    assert run(capsys, "init", "mail", "--template", "email-countdown", "--dir", str(tmp_path))[0] == 0
    text = (tmp_path / "mail" / "pack.yaml").read_text(encoding="utf-8")
    # THEN its deadline is in the future (the init's `COUNTDOWN_DAYS` ahead, at 23:59 UTC)
    found = re.search(r'deadline: "([^"]+)"', text)
    assert found is not None
    deadline = datetime.fromisoformat(found.group(1))
    days = (deadline - datetime.now(UTC)).total_seconds() / 86400
    assert 13 < days <= 15 and deadline.strftime("%H:%M %z") == "23:59 +0000"


def test_the_deployed_service_answers_the_published_fallback_without_drawing(
    tmp_path: Path, s3_bucket: str, s3_client: Any, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from versa.composition import build_service
    from versa.settings import Settings
    from versa.web.service import CreativeRequest

    # GIVEN a banner pack from `versa init`, published, and the service as the Lambda builds it
    assert run(capsys, "init", "fresh", "--dir", str(tmp_path))[0] == 0
    assert run(capsys, "publish", str(tmp_path / "fresh"), "--bucket", s3_bucket, "--endpoint-url", moto_endpoint)[0] == 0
    settings = Settings(pack_bucket=s3_bucket, aws_endpoint_url=moto_endpoint, state_dir=tmp_path / "state")
    service = build_service(settings)
    assert service.current_pack("fresh").drawn_fallbacks == {}  # nothing drawn on the request path
    published = s3_client.get_object(Bucket=s3_bucket, Key="fallbacks/v1/fresh/launch@728x90.png")["Body"].read()

    # WHEN an email proxy's request cannot be answered with a render (no signature)
    request = CreativeRequest("fresh", "launch", "png", {"user-agent": GMAIL}, {}, datetime.now(UTC),
                              path="/v1/fresh/launch@728x90.png", size=(728, 90))
    response = service.image(request)

    # THEN it gets the fallback `versa publish` uploaded for that size, read from S3
    assert response.status == 200 and response.headers["X-Versa-Fallback"] == "bad-request"
    assert response.body == published and Image.open(io.BytesIO(response.body)).size == (728, 90)
