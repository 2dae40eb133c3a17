"""Review on the local service: with `review: true` a model's copy waits (the default keeps serving)
until `versa copy approve`; then it serves with a new ETag. When the model (or brief, or voice)
changes, the lineage's approved text keeps serving until the successor is approved. The CLI's errors:
unknown key, already decided, wrong status, rejection without a comment. Image URLs signed with the
studio's `preview` scope draw given copy; the public path ignores it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openai_server import FakeOpenAI, running_openai_server
from services import install, run_cli
from versa.adapters.local_queue import InProcessQueue
from versa.composition import build_service
from versa.context.resolve import resolve
from versa.decide.keys import generation_key, lineage_key
from versa.decide.rules import context_options, decide
from versa.generate import review
from versa.ports import CopyStatus
from versa.settings import Settings
from versa.signing.signer import signed_url
from versa.web.service import CreativeRequest, RenderService

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
MODEL, NEXT_MODEL = "review-model", "review-model-2"
FIRST, SECOND = "30 % auf Winterjacken", "Jetzt 30 % auf Winterstiefel"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with running_openai_server() as running:
        yield running


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    return server


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    """The example acme pack with review required for all its generated copy (pack level)."""
    root = tmp_path / "packs"
    shutil.copytree(EXAMPLES / "acme", root / "acme")
    text = (root / "acme" / "pack.yaml").read_text(encoding="utf-8")
    (root / "acme" / "pack.yaml").write_text(text.rstrip("\n") + "\nreview: true\n", encoding="utf-8")
    return root


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, packs: Path) -> None:
    """`versa copy` reads the same settings `versa serve` does: the state directory and the packs."""
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("VERSA_PACKS_DIR", str(packs))
    monkeypatch.delenv("VERSA_COPY_TABLE", raising=False)


def service_for(tmp_path: Path, packs: Path, fake: FakeOpenAI, model: str) -> RenderService:
    return build_service(
        Settings(packs_dir=packs, state_dir=tmp_path / "state", require_signature=False, memo_items=0,
                 copy_model=model, openai_base_url=fake.base_url, openai_api_key="test-key", copy_attempts=1)
    )


def request(now: datetime, query: dict[str, str] | None = None) -> CreativeRequest:
    q = query if query is not None else {"country": "DE", "at": now.isoformat()}
    return CreativeRequest("acme", "winter-sale", "png", {}, q, now, path="/v1/acme/winter-sale.png")


def drained(service: RenderService) -> None:
    assert isinstance(service.queue, InProcessQueue)
    assert service.queue.drain()


def keys(service: RenderService, model: str) -> tuple[str, str]:
    """(generation key, lineage key) of the headline for `request(NOW)`."""
    pack = service.current_pack("acme")
    query = request(NOW).query
    ctx = resolve({}, query, NOW, context_options(pack.model, "winter-sale", signed_names=frozenset(query)))
    decision = decide(pack.model, "winter-sale", ctx)
    ref = decision.copy["headline"]
    assert ref.key is not None
    return generation_key(ref.key, model), lineage_key("acme", "winter-sale", "headline", decision.locale, ref.vary)


def test_reviewed_copy_serves_only_after_approval_and_its_lineage_outlives_a_model_change(
    tmp_path: Path, packs: Path, fake: FakeOpenAI, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a pack that requires review and a model that writes passing copy
    fake.script(MODEL, {"candidates": [FIRST]})
    service = service_for(tmp_path, packs, fake, MODEL)
    gen, lineage = keys(service, MODEL)
    # WHEN the first request misses and the worker runs
    first = service.image(request(NOW))
    drained(service)
    # THEN the copy is stored awaiting review, and the next request still gets the default (same ETag)
    item = service.copy.get(gen)
    assert item is not None and item.status is CopyStatus.review and item.text == FIRST
    assert item.brand == "acme" and item.meta["lineage"] == lineage and item.meta["creative"] == "winter-sale"
    second = service.image(request(NOW + timedelta(seconds=1)))
    assert first.headers.get("X-Versa-Copy") == second.headers.get("X-Versa-Copy") == "default"
    assert second.headers["ETag"] == first.headers["ETag"] and "max-age=300," in second.headers["Cache-Control"]

    # WHEN a reviewer lists what awaits review and approves it from the terminal
    code, out, _ = run_cli(capsys, "copy", "list", "acme", "--status", "review", "--json")
    listed = json.loads(out)["items"]
    assert code == 0 and [(r["key"], r["text"], r["slot"]) for r in listed] == [(gen, FIRST, "headline")]
    code, out, _ = run_cli(capsys, "copy", "approve", gen, "--comment", "on brand", "--by", "ana")
    assert code == 0 and f"approved {gen}" in out
    # THEN the next request gets the generated copy, a full TTL and a new ETag
    third = service.image(request(NOW + timedelta(seconds=2)))
    assert "X-Versa-Copy" not in third.headers and third.headers["ETag"] != first.headers["ETag"]
    assert "max-age=300," not in third.headers["Cache-Control"]
    # AND the decision is recorded: who, when, which pack version, the comment
    decided = service.copy.get(gen)
    assert decided is not None and decided.status is CopyStatus.approved and decided.expires_at is None
    record = decided.meta["decisions"][0]
    assert (record["action"], record["by"], record["comment"]) == ("approve", "ana", "on brand")
    assert record["pack_version"] == service.current_pack("acme").version and record["at"]

    # WHEN the model changes (a new generation key in the same lineage) and its copy is written
    fake.script(NEXT_MODEL, {"candidates": [SECOND]})
    successor = service_for(tmp_path, packs, fake, NEXT_MODEL)
    next_gen, same_lineage = keys(successor, NEXT_MODEL)
    assert next_gen != gen and same_lineage == lineage
    during = successor.image(request(NOW + timedelta(seconds=3)))
    drained(successor)
    waiting = successor.image(request(NOW + timedelta(seconds=4)))
    # THEN the approved text keeps serving (full TTL, same bytes) while the successor waits
    assert "X-Versa-Copy" not in during.headers and during.headers["ETag"] == third.headers["ETag"]
    assert waiting.headers["ETag"] == third.headers["ETag"]
    pending = successor.copy.get(next_gen)
    assert pending is not None and pending.status is CopyStatus.review and pending.text == SECOND
    # WHEN the successor is approved
    verdict = review.Verdict("approve", "bo", NOW, successor.current_pack("acme").version)
    review.approve(successor.copy, next_gen, verdict, expected_version=pending.version)
    after = successor.image(request(NOW + timedelta(seconds=5)))
    # THEN it serves; the lineage record remembers both approvals
    assert after.headers["ETag"] not in (first.headers["ETag"], third.headers["ETag"])
    record_item = successor.copy.get(lineage)
    assert record_item is not None and record_item.text == SECOND
    assert [h["generation"] for h in record_item.meta["history"]] == [gen, next_gen]
    assert len(fake.requests()) == 2


def test_the_cli_says_clearly_what_cannot_be_decided(
    tmp_path: Path, packs: Path, fake: FakeOpenAI, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one item awaiting review, written by the worker
    fake.script(MODEL, {"candidates": [FIRST]})
    service = service_for(tmp_path, packs, fake, MODEL)
    gen, lineage = keys(service, MODEL)
    service.image(request(NOW))
    drained(service)
    # THEN an unknown key is named
    code, _, err = run_cli(capsys, "copy", "approve", "0123456789abcdef")
    assert code == 1 and "no copy is stored under key '0123456789abcdef'" in err
    # AND a rejection needs a comment
    code, _, err = run_cli(capsys, "copy", "reject", gen)
    assert code == 2 and "--comment" in err
    # AND the lineage record is not something to decide
    assert run_cli(capsys, "copy", "approve", gen, "--by", "ana")[0] == 0
    code, _, err = run_cli(capsys, "copy", "approve", lineage)
    assert code == 1 and "lineage record" in err
    # AND a decided item says who decided it
    code, _, err = run_cli(capsys, "copy", "reject", gen, "--comment", "too late", "--by", "bo")
    assert code == 1 and f"copy {gen} was already decided: approved by ana" in err
    # AND approve needs keys or --all-pending
    code, _, err = run_cli(capsys, "copy", "approve")
    assert code == 1 and "--all-pending" in err
    # AND the list in text shows the decision
    code, out, _ = run_cli(capsys, "copy", "list")
    assert code == 0 and f"approved  {gen}" in out and "approved by ana" in out and "1 item" in out


def test_reject_and_bulk_approve_from_the_terminal(
    tmp_path: Path, packs: Path, fake: FakeOpenAI, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN three contexts whose copy awaits review
    fake.script(MODEL, {"candidates": [FIRST]})
    service = service_for(tmp_path, packs, fake, MODEL)
    for country in ("DE", "AT", "US"):
        service.image(request(NOW, {"country": country, "at": NOW.isoformat()}))
    drained(service)
    code, out, _ = run_cli(capsys, "copy", "list", "acme", "--status", "review", "--json")
    waiting = [r["key"] for r in json.loads(out)["items"]]
    assert len(waiting) == 2  # DE and AT share the dach bucket: one key
    # WHEN one is rejected with a comment and the rest are approved in bulk
    code, out, _ = run_cli(capsys, "copy", "reject", waiting[0], "--comment", "wrong tone", "--by", "cy")
    assert code == 0 and f"rejected {waiting[0]}" in out
    code, out, _ = run_cli(capsys, "copy", "approve", "--all-pending", "acme", "--by", "cy")
    assert code == 0 and out.count("approved ") == 1
    # THEN nothing awaits review; the rejection's comment is its reason
    code, out, _ = run_cli(capsys, "copy", "list", "acme", "--status", "review")
    assert code == 0 and "no review copy stored for acme" in out
    rejected = service.copy.get(waiting[0])
    assert rejected is not None and rejected.reason == "rejected by cy: wrong tone"


def test_preview_copy_is_drawn_only_for_the_preview_scope(tmp_path: Path, packs: Path, fake: FakeOpenAI) -> None:
    # GIVEN the service and the text a reviewer looks at
    service = service_for(tmp_path, packs, fake, MODEL)
    query = {"country": "DE", "at": NOW.isoformat(), "copy.headline": "Vorschau: 30 % Rabatt"}

    def image(url: str) -> Any:
        path, _, qs = url.partition("?")
        from urllib.parse import parse_qsl

        q = dict(parse_qsl(qs, keep_blank_values=True))
        return service.image(CreativeRequest("acme", "winter-sale", "png", {}, q, NOW, path=path))

    plain = service.image(request(NOW))
    preview = image(signed_url("/v1/acme/winter-sale.png", query, service.keyring, scope="preview"))
    debug = image(signed_url("/v1/acme/winter-sale.png", query, service.keyring, scope="debug"))
    unsigned = service.image(request(NOW, query))
    # THEN only the preview scope draws the given text (never cached); other requests ignore it
    assert preview.status == 200 and preview.headers["X-Versa-Copy"] == "preview"
    assert preview.headers["Cache-Control"] == "private, no-store" and preview.body != plain.body
    assert debug.body == plain.body and unsigned.body == plain.body


# ------------------------------------------------------------------------------------------ studio


def http(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_the_studio_lists_pending_copy_in_the_creative_and_takes_decisions(
    tmp_path: Path, packs: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from versa.web import api
    from versa.web.server import serve
    from versa.web.studio import Studio

    # GIVEN the local server (handler and studio) with one headline awaiting review
    fake.script(MODEL, {"candidates": [FIRST]})
    service = service_for(tmp_path, packs, fake, MODEL)
    install(service, monkeypatch)
    gen, _ = keys(service, MODEL)
    service.image(request(NOW))
    drained(service)
    server = serve(api.lambda_handler, "127.0.0.1", 0, Studio(service, copy=service.copy))
    try:
        base = server.url
        public = f"{base}/v1/acme/winter-sale.png?country=DE&at={NOW.isoformat().replace('+', '%2B')}"
        _, before_headers, before = http(public)
        # WHEN the panel lists the brand's pending copy
        status, _, body = http(f"{base}/studio/review?brand=acme")
        report = json.loads(body)
        # THEN the item comes with what serves now and a preview per size of its creative
        assert status == 200 and report["count"] == 1
        row = report["items"][0]
        sizes = service.current_pack("acme").model.creatives["winter-sale"].all_sizes
        assert (row["key"], row["text"], row["serving_source"]) == (gen, FIRST, "default")
        assert len(row["previews"]) == len(sizes) > 1
        # AND each preview is the creative drawn with the pending text, never cached
        shots = [http(base + p["url"]) for p in row["previews"]]
        assert all(s == 200 and h["x-versa-copy"] == "preview" and h["cache-control"] == "private, no-store"
                   for s, h, _ in shots)
        assert shots[0][2] != before and all(b[:8] == b"\x89PNG\r\n\x1a\n" for _, _, b in shots)
        assert "scope=preview" in row["previews"][0]["url"]

        def post(payload: Any, **headers: str) -> tuple[int, Any]:
            sent = {"Content-Type": "application/json", **headers}
            code, _, answer = http(f"{base}/studio/review", "POST", json.dumps(payload).encode(), sent)
            return code, json.loads(answer)

        item = {"key": gen, "version": row["version"]}
        # THEN requests that are not the panel's are refused, naming why
        assert post({"action": "approve", "items": [item]}, **{"Content-Type": "text/plain"})[0] == 415
        assert post({"action": "approve", "items": [item]}, Origin="http://evil.example")[0] == 403
        code, problem = post({"action": "publish", "items": [item]})
        assert code == 400 and problem["parameter"] == "action"
        assert http(f"{base}/v1/acme/winter-sale.png", "POST", b"{}", {"Content-Type": "application/json"})[0] == 405
        # AND a stale version loses, a rejection without a comment is refused: nothing changed
        code, answer = post({"action": "approve", "items": [{"key": gen, "version": row["version"] - 1}]})
        assert code == 200 and answer["results"][0]["status"] == 409 and answer["decided"] == 0
        code, answer = post({"action": "reject", "items": [item], "comment": " "})
        assert answer["results"][0]["status"] == 400 and "comment" in answer["results"][0]["detail"]
        # WHEN the reviewer approves it
        code, answer = post({"action": "approve", "items": [item], "comment": "good", "by": "dee"})
        # THEN it is approved, the public image now has the generated copy, and nothing awaits review
        assert code == 200 and answer["results"][0]["ok"] and answer["results"][0]["copy_status"] == "approved"
        _, after_headers, after = http(public)
        assert after != before and after_headers["etag"] != before_headers["etag"]
        assert "x-versa-copy" not in after_headers
        assert json.loads(http(f"{base}/studio/review?brand=acme")[2])["count"] == 0
        decided = service.copy.get(gen)
        assert decided is not None and decided.meta["decisions"][0]["by"] == "dee"
    finally:
        server.shutdown()
        server.server_close()
