"""The built-in visitor id `vid`: splits without declaring anything, the arms they make, what a request
without an id gets (and the words that say why), and the messages for a split written wrong."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from packissues import unlocated
from versa.context.resolve import ContextOptions, resolve
from versa.context.visitor import BUCKETS, visitor_bucket
from versa.decide.rules import decide
from versa.decide.variants import enumerate_variants, splits_on_visitor, visitor_arms
from versa.errors import PackError
from versa.pack.conditions import NO_VISITOR_REASON, ConditionError, parse_condition, visitor_positions
from versa.pack.loader import load_pack
from versa.render.checks import PACK_CHECKS
from versa.signing.signer import Keyring, sign, verify

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def pack_data(**hero: object) -> dict[str, object]:
    creative: dict[str, object] = {
        "size": [200, 100],
        "link": "https://example.com/",
        "layers": [
            {"type": "background", "fill": "paper"},
            {"id": "cta", "type": "button", "slot": "cta", "box": [20, 30, 160, 40], "font": "display", "size": 14,
             "fill": "accent", "color": "paper"},
        ],
        "copy": {"cta": {"default": "Shop now"}},
        "rules": [
            {"id": "cta-b", "when": {"bucket": {"salt": "cta", "pct": [0, 50]}}, "set": {"copy.cta": "Buy today"}},
        ],
    }
    creative.update(hero)
    return {
        "brand": "splitco",
        "locales": ["en"],
        "default_tz": "UTC",
        "tokens": {"colors": {"paper": "#ffffff", "accent": "#c2410c"}, "fonts": {"display": "sans-bold"}},
        "creatives": {"hero": creative, "plain": {"size": [200, 100], "layers": [{"type": "background", "fill": "accent"}]}},
    }


def write(tmp_path: Path, data: dict[str, object]) -> Path:
    root = tmp_path / "splitco"
    root.mkdir(exist_ok=True)
    (root / "pack.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


def problems(root: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(root, checks=PACK_CHECKS)
    return unlocated(caught.value.issues)


def context(pack: object, query: dict[str, str], headers: dict[str, str] | None = None) -> object:
    from versa.decide.rules import context_options

    options: ContextOptions = context_options(pack.model, "hero")  # type: ignore[attr-defined]
    return resolve(headers or {}, query, NOW, options)


# ------------------------------------------------------------------------------- the split itself


def test_positions_are_a_permutation_so_a_split_holds_exactly_its_share() -> None:
    for salt in ("cta", "hero-2026", ""):
        positions = visitor_positions(salt)
        assert sorted(positions) == list(range(BUCKETS))
    assert visitor_positions("cta") != visitor_positions("hero-2026")  # splits cut visitors independently
    cond = parse_condition({"bucket": {"salt": "cta", "pct": [20, 53]}})
    assert sum(cond.holds_for_visitor(b) for b in range(BUCKETS)) == 33  # type: ignore[attr-defined]


def test_a_split_needs_no_declaration_and_an_id_picks_its_arm(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, pack_data()), checks=PACK_CHECKS)
    by_arm: dict[bool, str] = {}
    for i in range(200):
        vid = f"v{i}"
        decision = decide(pack.model, "hero", context(pack, {"vid": vid}))
        in_b = visitor_positions("cta")[visitor_bucket(vid) or 0] < 50
        assert decision.matched == (("cta-b",) if in_b else ())
        by_arm.setdefault(in_b, decision.design_key)
    assert len(by_arm) == 2 and len(set(by_arm.values())) == 2


def test_without_an_id_the_default_arm_and_the_reason(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, pack_data()), checks=PACK_CHECKS)
    for query in ({}, {"vid": ""}):
        ctx = context(pack, query)
        decision = decide(pack.model, "hero", ctx)
        [trace] = decision.trace
        assert not trace.matched
        assert trace.reason == f"bucket over vid [0, 50): {NO_VISITOR_REASON}"
        assert NO_VISITOR_REASON == "no visitor id (vid empty or absent, no cookie): the default arm"
        assert ctx.provenance()["vid"] == {  # type: ignore[attr-defined]
            "value": None, "source": "default", "detail": "no visitor id: vid empty or absent and no cookie"
        }
    unusable = context(pack, {"vid": "a<b>"})
    assert unusable.provenance()["vid"]["detail"] == (  # type: ignore[attr-defined]
        "no visitor id: vid is not an id (letters, digits and ._~@:+-, at most 128)"
    )


def test_the_edge_bucket_wins_and_a_forged_one_is_ignored(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, pack_data()), checks=PACK_CHECKS)
    ctx = context(pack, {"vid": ""}, {"x-versa-vb": "42"})
    assert ctx.vid == 42  # type: ignore[attr-defined]
    assert ctx.provenance()["vid"] == {"value": 42, "source": "cdn", "detail": "x-versa-vb"}  # type: ignore[attr-defined]
    for bad in ("100", "-1", "4 2", "x"):
        assert context(pack, {}, {"x-versa-vb": bad}).vid is None  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------------------- arms


def test_variants_name_the_arms(tmp_path: Path) -> None:
    data = pack_data()
    data["creatives"]["hero"]["rules"].append(  # type: ignore[index]
        {"id": "green", "when": {"bucket": {"salt": "colour", "pct": [0, 10]}}, "set": {"tokens.colors.accent": "#15803d"}}
    )
    pack = load_pack(write(tmp_path, data), checks=PACK_CHECKS)
    creative = pack.model.creative("hero")
    arms = visitor_arms(creative)
    assert sum(a.share for a in arms) == 100
    assert {a.name for a in arms} == {"default", "cta-b", "green", "cta-b+green"}
    assert next(a for a in arms if a.name in ("cta-b", "cta-b+green")).share > 0
    report = enumerate_variants(pack.model, "hero")
    assert len(report.variants) == 4
    labels = {v.example["vid"] for v in report.variants}
    assert labels == {a.label() for a in arms}  # the no-id cell is the default design, counted there
    assert report.to_json()["arms"] == [{"name": a.name, "share": a.share, "example_id": a.example_id} for a in arms]
    for arm in arms:  # each arm's example visitor lands in it, and a variant of that arm offers it
        assert visitor_bucket(arm.example_id) in arm.buckets
    for variant in report.variants:
        arm = next(a for a in arms if a.label() == variant.example["vid"])
        assert variant.to_json()["visitor_id"] == arm.example_id
    assert splits_on_visitor(creative) and not splits_on_visitor(pack.model.creative("plain"))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "versa.cli", *args], capture_output=True, text=True, timeout=120, check=False,
        env={"PYTHONPATH": str(ROOT / "shared"), "PATH": "/usr/bin:/bin"},
    )


def test_cli_variants_and_decide_say_arms_and_why(tmp_path: Path) -> None:
    root = write(tmp_path, pack_data())
    variants = run_cli("variants", str(root), "hero")
    assert variants.returncode == 0, variants.stderr
    arms = visitor_arms(load_pack(root, checks=PACK_CHECKS).model.creative("hero"))
    shares = ", ".join(a.label() for a in arms)
    assert f"split over vid (the visitor id): {shares}; without an id: the default arm" in variants.stdout
    assert "vid=default (" in variants.stdout and "vid=cta-b (" in variants.stdout
    assert "vid=other" not in variants.stdout
    decided = run_cli("decide", str(root), "hero")
    assert f"cta-b                bucket over vid [0, 50): {NO_VISITOR_REASON}" in decided.stdout
    bucket = visitor_bucket("visitor-7")
    with_id = run_cli("decide", str(root), "hero", "--vid", "visitor-7")
    assert f"(visitor bucket {bucket}, position {visitor_positions('cta')[bucket or 0]})" in with_id.stdout


# ------------------------------------------------------------------------------- written wrong


def test_a_split_over_vid_is_in_whole_percent() -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition({"bucket": {"salt": "s", "pct": [0, 33.5]}})
    assert str(caught.value) == "when.bucket.pct: [0, 33.5]: a split over vid is in whole percent (visitors fall in 100 buckets)"
    with pytest.raises(ConditionError) as caught:
        parse_condition({"bucket": {"pct": [0, 50]}})
    assert "needs {salt: TEXT, pct: [FROM, TO]} and, to split on a declared parameter, key: PARAM" in str(caught.value)


def test_vid_outside_a_split_is_refused_with_how_to_split(tmp_path: Path) -> None:
    rules = [{"id": "by-bucket", "when": {"vid": 5}, "set": {"copy.cta": "x"}}]
    found = problems(write(tmp_path, pack_data(rules=rules)))
    assert found == [
        "pack.yaml: creatives.hero.rules['by-bucket'].when: vid is the visitor's bucket and is read only by a split: "
        "bucket: {salt: TEXT, pct: [FROM, TO]}"
    ]


def test_a_bucket_key_that_is_neither_a_parameter_nor_vid(tmp_path: Path) -> None:
    rules = [{"id": "b", "when": {"bucket": {"key": "uid", "salt": "s", "pct": [0, 50]}}, "set": {"copy.cta": "x"}}]
    found = problems(write(tmp_path, pack_data(rules=rules)))
    assert found == [
        "pack.yaml: creatives.hero.rules['b'].when: bucket key 'uid' must be a declared parameter or vid (the visitor id)"
    ]


# ------------------------------------------------------------------------------------- signing


def test_vid_is_always_template_signed_so_the_edge_may_blank_it() -> None:
    keyring = Keyring({"k1": b"k" * 32}, "k1")
    added = sign("/v1/splitco/hero.png", {"vid": "", "lang": "en"}, keyring)
    assert added["m"] == "vid"
    for value in ("", "visitor-7", "someone+else@example.com"):
        info = verify("/v1/splitco/hero.png", {"vid": value, "lang": "en", **added}, keyring, now=NOW)
        assert "vid" not in info.covered_names and "lang" in info.covered_names


def test_a_split_creatives_page_images_carry_vid(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from versa.render.html import _carried

    pack = load_pack(write(tmp_path, pack_data()), checks=PACK_CHECKS)
    hero, plain = pack.model.creative("hero"), pack.model.creative("plain")
    page = SimpleNamespace(query={"lang": "en", "sig": "x", "kid": "k"})
    assert _carried(page, hero) == {"lang": "en", "vid": ""}  # empty: the cookie, or the default arm
    assert _carried(page, plain) == {"lang": "en"}  # no split, no vid: one cache entry
    filled = SimpleNamespace(query={"vid": "visitor-7"})
    assert _carried(filled, hero) == {"vid": "visitor-7"}
