"""decide(): rules applied in order to real-looking requests; design keys, copy keys and valid_until."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from versa.context.resolve import SIGNED_OVERRIDES, RequestContext, Source, resolve
from versa.decide.rules import Decision, context_options, decide
from versa.pack.loader import load_pack
from versa.pack.model import ImageLayer, Pack
from versa.render.checks import PACK_CHECKS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "packs"
ACME = load_pack(EXAMPLES / "acme", checks=PACK_CHECKS)
ACME_AGAIN = load_pack(EXAMPLES / "acme", checks=PACK_CHECKS)  # a second, independently loaded copy
NORTHWIND = load_pack(EXAMPLES / "northwind", checks=PACK_CHECKS)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Mobile/15E148 Safari/604.1"
)
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"


def cloudfront(country: str, zone: str, device: str, user_agent: str, accept_language: str) -> dict[str, str]:
    """Viewer headers as CloudFront forwards them to the origin."""
    flags = {f"CloudFront-Is-{d}-Viewer": str(d.lower() == device).lower() for d in ("Desktop", "Mobile", "Tablet", "SmartTV")}
    return {
        "Host": "cdn.example.com",
        "User-Agent": user_agent,
        "Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
        "Accept-Language": accept_language,
        "CloudFront-Viewer-Country": country,
        "CloudFront-Viewer-Time-Zone": zone,
        "CloudFront-Viewer-ASN": "3320",
        **flags,
    }


def request(
    pack: Pack,
    creative: str,
    at: datetime,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    signed: frozenset[str] = frozenset(),
) -> RequestContext:
    options = context_options(pack.model, creative, signed_names=signed)
    return resolve(headers, query or {}, at, options)


def every_layer(layers: Iterable[Any]) -> Iterator[Any]:
    """Each layer and, inside containers, each child, in document order."""
    for x in layers:
        yield x
        yield from every_layer(getattr(x, "children", ()))


def layer(decision: Decision, layer_id: str) -> Any:
    """The visible layer `layer_id` of the decision (inside containers too), or None."""
    return next((x for x in every_layer(decision.layers) if x.id == layer_id and x.visible), None)


def matched(decision: Decision) -> list[str]:
    return [t.rule for t in decision.trace if t.matched]


# ------------------------------------------------------------------------- real-looking requests


def test_desktop_us_morning() -> None:
    # GIVEN a desktop Chrome viewer in New York at 08:15 on a Tuesday
    at = datetime(2026, 12, 1, 13, 15, tzinfo=UTC)
    ctx = request(ACME, "winter-sale", at, cloudfront("US", "America/New_York", "desktop", CHROME_WINDOWS, "en-US,en;q=0.9"))

    # WHEN the winter sale banner is decided
    d = decide(ACME.model, "winter-sale", ctx)

    # THEN only the morning rule applies: English, default link, the morning CTA, the art visible
    assert matched(d) == ["morning-copy"]
    assert d.locale == "en"
    assert d.link == "https://acme.example/sale"
    assert d.copy["cta"].default == "Get outside"
    assert d.copy["headline"].vary == {"country": "us", "daypart": "morning"}
    assert layer(d, "art") is not None
    assert d.colors["sky_top"] == "#dbeafe"
    assert d.valid_until == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # noon in New York


def test_mobile_de_evening() -> None:
    # GIVEN an iPhone in Berlin at 19:30 on a Tuesday, asking for German
    at = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    ctx = request(ACME, "winter-sale", at, cloudfront("DE", "Europe/Berlin", "mobile", SAFARI_IPHONE, "de-DE,de;q=0.9,en;q=0.5"))

    # WHEN decided
    d = decide(ACME.model, "winter-sale", ctx)

    # THEN the evening palette, the DACH locale and link, and the mobile layout all apply
    assert matched(d) == ["evening-dark", "dach", "mobile-big-button"]
    assert d.locale == "de"
    assert d.link == "https://acme.example/de/sale"
    assert d.colors["sky_top"] == "#0b1d3a"
    cta = layer(d, "cta")
    assert cta.flex.align_self == "stretch" and not cta.auto_width  # the button spans the copy column
    assert cta.size == (16, 19)
    assert d.copy["cta"].default == "Jetzt entdecken"
    assert d.valid_until == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 22:00 in Berlin


def test_arabic_viewer_in_the_emirates() -> None:
    # GIVEN a desktop viewer in Dubai on a Wednesday afternoon, asking for Arabic
    at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    ctx = request(ACME, "winter-sale", at, cloudfront("AE", "Asia/Dubai", "desktop", CHROME_WINDOWS, "ar-AE,ar;q=0.9,en;q=0.4"))

    # WHEN decided
    d = decide(ACME.model, "winter-sale", ctx)

    # THEN the Gulf rule gives Arabic copy and the Arabic link
    assert matched(d) == ["gulf"]
    assert d.locale == "ar"
    assert d.copy["headline"].default == "خصم ٣٠٪ على معدات الشتاء هذا الأسبوع فقط"
    assert d.link == "https://acme.example/ar/sale"


def test_gmail_proxy_with_a_signed_country() -> None:
    # GIVEN Gmail's image proxy fetching from a US data centre, with the reader's country signed at send
    at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    headers = cloudfront("US", "America/Los_Angeles", "desktop", GMAIL_PROXY, "en-US")
    ctx = request(ACME, "winter-sale", at, headers, {"country": "de"}, signed=frozenset({"country"}))

    # WHEN decided
    d = decide(ACME.model, "winter-sale", ctx)

    # THEN the signed country wins over the proxy's, the zone is the pack default, and DACH applies
    assert ctx.client == "gmail"
    assert ctx.country == "DE" and ctx.signals["country"].source is Source.signed
    assert ctx.tz == "America/New_York" and ctx.signals["tz"].source is Source.proxy
    assert "dach" in matched(d)
    assert d.locale == "de"


def test_unsigned_country_behind_a_proxy_is_ignored() -> None:
    # GIVEN the same proxy request whose country is in the query but NOT covered by a signature
    at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    headers = cloudfront("DE", "Europe/Berlin", "desktop", GMAIL_PROXY, "de")
    ctx = request(ACME, "winter-sale", at, headers, {"country": "DE"})

    # WHEN decided
    d = decide(ACME.model, "winter-sale", ctx)

    # THEN neither the proxy's headers nor the unsigned value decide the country
    assert ctx.country is None
    assert "dach" not in matched(d)
    assert d.locale == "en"


def test_email_merge_values_and_the_campaign_end(simulate: Callable[..., RequestContext]) -> None:
    # GIVEN a gold-tier subscriber opening the Cyber Week email during the week and after it ended
    during = simulate(NORTHWIND.model, "cyber-week", datetime(2026, 12, 3, 18, tzinfo=UTC), tier="gold", uid="u2")
    after = simulate(NORTHWIND.model, "cyber-week", datetime(2026, 12, 6, 18, tzinfo=UTC), tier="gold", uid="u2")

    # WHEN decided
    d1, d2 = decide(NORTHWIND.model, "cyber-week", during), decide(NORTHWIND.model, "cyber-week", after)

    # THEN gold gets the VIP link and colour (and no A/B test); after the end the CTA is hidden
    assert matched(d1) == ["gold-tier"]
    assert d1.link == "https://northwind.example/vip"
    assert d1.colors["brand"] == "#b45309"
    assert layer(d1, "cta") is not None
    assert matched(d2) == ["gold-tier", "ended"]
    assert layer(d2, "cta") is None
    assert d2.link == "https://northwind.example/"
    assert d2.copy["note"].default == "Thanks for shopping Cyber Week."


def test_bucket_over_the_subscriber_id(simulate: Callable[..., RequestContext]) -> None:
    # GIVEN two basic-tier subscribers on either side of the 50 % CTA test (u1 -> 6.04, u2 -> 90.19)
    at = datetime(2026, 12, 3, 18, tzinfo=UTC)
    a = decide(NORTHWIND.model, "cyber-week", simulate(NORTHWIND.model, "cyber-week", at, uid="u1"))
    b = decide(NORTHWIND.model, "cyber-week", simulate(NORTHWIND.model, "cyber-week", at, uid="u2"))

    # WHEN / THEN only the second sees the urgency CTA, and the trace shows the bucket
    assert a.copy["cta"].default == "Shop the deals"
    assert b.copy["cta"].default == "Ends Friday"
    test_b = next(t for t in b.trace if t.rule == "cta-test-b")
    assert test_b.matched and "bucket=90.19" in test_b.reason


# ------------------------------------------------------------------------------- rule semantics


@pytest.fixture
def build(make_pack: Callable[..., Path], small_pack: Callable[..., dict[str, Any]]) -> Callable[..., Pack]:
    counter = iter(range(1000))

    def build_pack(rules: list[dict[str, Any]], **kwargs: Any) -> Pack:
        return load_pack(make_pack(small_pack(rules, **kwargs), name=f"pack{next(counter)}"), checks=PACK_CHECKS)

    return build_pack


NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday


def test_later_rules_win(build: Callable[..., Pack], simulate: Callable[..., RequestContext]) -> None:
    # GIVEN two matching rules setting the same token, in both orders
    red = {"id": "red", "when": {"country": "DE"}, "set": {"tokens.colors.accent": "#ff0000"}}
    green = {"id": "green", "when": {"device": "mobile"}, "set": {"tokens.colors.accent": "#00ff00"}}
    red_last, green_last = build([green, red]), build([red, green])
    ctx = simulate(red_last.model, "promo", NOON, country="DE", device="mobile")

    # WHEN decided
    a, b = decide(red_last.model, "promo", ctx), decide(green_last.model, "promo", ctx)

    # THEN the later rule's value is the one resolved, in the token and in the layer using it
    assert a.colors["accent"] == "#ff0000" and layer(a, "badge").fill == "#ff0000"
    assert b.colors["accent"] == "#00ff00" and layer(b, "badge").fill == "#00ff00"
    assert a.design_key != b.design_key


def test_every_kind_of_override(build: Callable[..., Pack], simulate: Callable[..., RequestContext]) -> None:
    # GIVEN one rule overriding tokens, a layer field, copy (whole and per locale), locale and link
    pack = build(
        [
            {
                "id": "all",
                "when": {"country": "AT"},
                "set": {
                    "tokens.colors.ink": "#222222",
                    "tokens.fonts.body": "noto-sans",
                    "tokens.spacing.gap": 12,
                    "layers.title.size": [12, 30],
                    "layers.badge.shape": "ellipse",
                    "copy.title": "Servus",
                    "copy.cta.de": "Los geht's",
                    "lang": "de",
                    "link": "https://example.com/at",
                },
            }
        ],
        tokens={"colors": {"ink": "#111111", "paper": "#ffffff", "accent": "#0000ff"}, "fonts": {"body": "sans"}, "spacing": {"gap": 8}},
    )
    ctx = simulate(pack.model, "promo", NOON, country="AT", lang="en")

    # WHEN decided
    d = decide(pack.model, "promo", ctx)

    # THEN each override shows in the decision
    assert d.colors["ink"] == "#222222" and layer(d, "title").color == "#222222"
    assert d.fonts["body"] == "noto-sans"
    assert d.spacing["gap"] == 12
    assert layer(d, "title").size == (12, 30)
    assert layer(d, "badge").shape == "ellipse"
    assert d.locale == "de"
    assert d.copy["title"].default == "Servus"
    assert d.copy["cta"].default == "Los geht's"
    assert d.link == "https://example.com/at"


def test_copy_mapping_override_keeps_other_locales(build: Callable[..., Pack], simulate: Callable[..., RequestContext]) -> None:
    # GIVEN a rule replacing only the English text of a slot
    pack = build([{"id": "en-only", "set": {"copy.cta": {"en": "Go now"}}}])

    # WHEN decided for English and German viewers
    en = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, lang="en"))
    de = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, lang="de"))

    # THEN English changes and German keeps its default
    assert en.copy["cta"].default == "Go now"
    assert de.copy["cta"].default == "go de"


def test_hidden_layers_leave_the_decision(build: Callable[..., Pack], simulate: Callable[..., RequestContext]) -> None:
    # GIVEN a layer hidden by default and shown by a rule, and one hidden by a rule
    layers = [
        {"id": "bg", "type": "background", "fill": "paper"},
        {"id": "promo-badge", "type": "shape", "box": [10, 10, 40, 40], "fill": "accent", "visible": False},
        {"id": "title", "type": "text", "slot": "title", "box": [60, 10, 230, 40], "font": "body", "size": 20},
        {"id": "cta", "type": "button", "slot": "cta", "box": [60, 55, 120, 36], "font": "body"},
    ]
    pack = build(
        [
            {"id": "show", "when": {"country": "DE"}, "set": {"layers.promo-badge.visible": True}},
            {"id": "hide", "when": {"device": "mobile"}, "set": {"layers.cta.visible": False}},
        ],
        layers=layers,
    )

    # WHEN decided for a German desktop and a US mobile viewer
    de = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, country="DE", device="desktop"))
    us = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, country="US", device="mobile"))

    # THEN only visible layers are in the decision, in their order
    assert [x.id for x in de.layers] == ["bg", "promo-badge", "title", "cta"]
    assert [x.id for x in us.layers] == ["bg", "title"]


def test_colour_tokens_resolve_to_hex_in_layers(simulate: Callable[..., RequestContext]) -> None:
    # GIVEN acme's banner, whose layers name tokens (ink, accent, "{{ tokens.colors.sky_top }}")
    ctx = simulate(ACME.model, "winter-sale", datetime(2026, 12, 2, 20, tzinfo=UTC), tz="UTC", country="US")

    # WHEN decided in the evening (which re-colours some tokens)
    d = decide(ACME.model, "winter-sale", ctx)

    # THEN every colour in the decision's layers is a hex value, the overridden ones included
    bg = layer(d, "bg")
    assert [s.color for s in bg.gradient.stops] == ["#0b1d3a", "#14213d"]
    assert layer(d, "headline").color == "#f8f5ee"
    assert layer(d, "cta").fill == "#fca311" and layer(d, "cta").color == "#14213d"
    board = decide(ACME.model, "leaderboard", ctx)
    assert board.layers[0].fill == "#14213d"
    for x in every_layer((*d.layers, *board.layers)):  # container children included
        for name in ("fill", "color", "label_color"):
            value = getattr(x, name, None)
            assert value is None or value.startswith("#"), (x.id, name, value)


def test_trace_names_the_deciding_condition(simulate: Callable[..., RequestContext]) -> None:
    # GIVEN a German mobile viewer on a weekday evening
    ctx = simulate(ACME.model, "winter-sale", datetime(2026, 12, 1, 18, 30, tzinfo=UTC), country="DE", tz="Europe/Berlin", device="mobile")

    # WHEN decided
    d = decide(ACME.model, "winter-sale", ctx)

    # THEN every rule is in the trace, in order, with the condition that decided it and what it sets
    trace = {t.rule: t for t in d.trace}
    assert [t.rule for t in d.trace] == [r.id for r in ACME.model.creatives["winter-sale"].rules]
    assert trace["dach"].matched and trace["dach"].reason == "country in [DE, AT, CH] (country=DE)"
    assert not trace["france"].matched and trace["france"].reason == "country in [FR, BE, LU, MC] (country=DE)"
    assert trace["evening-dark"].reason == "daypart in [evening, night] (daypart=evening)"
    assert not trace["weekend-accent"].matched and trace["weekend-accent"].reason == "weekend = true (weekend=false)"
    assert trace["dach"].sets == ("lang", "link")
    assert d.to_json()["trace"][2] == {
        "rule": "dach",
        "matched": True,
        "reason": "country in [DE, AT, CH] (country=DE)",
        "sets": ["lang", "link"],
    }


# ------------------------------------------------------------------------------------ design key


def test_different_rules_with_identical_output_share_a_design_key(
    build: Callable[..., Pack], simulate: Callable[..., RequestContext]
) -> None:
    # GIVEN two different rules that set the same value
    pack = build(
        [
            {"id": "germany-red", "when": {"country": "DE"}, "set": {"tokens.colors.accent": "#ff0000"}},
            {"id": "mobile-red", "when": {"device": "mobile"}, "set": {"tokens.colors.accent": "#ff0000"}},
        ]
    )
    german_desktop = simulate(pack.model, "promo", NOON, country="DE", device="desktop")
    us_mobile = simulate(pack.model, "promo", NOON, country="US", device="mobile")
    us_desktop = simulate(pack.model, "promo", NOON, country="US", device="desktop")

    # WHEN the three contexts are decided
    a, b, c = (decide(pack.model, "promo", x) for x in (german_desktop, us_mobile, us_desktop))

    # THEN the first two match different rules but share a design key; the third differs
    assert matched(a) == ["germany-red"] and matched(b) == ["mobile-red"]
    assert a.design_key == b.design_key
    assert c.design_key != a.design_key


def test_a_rule_restating_the_default_does_not_change_the_design_key(
    build: Callable[..., Pack], simulate: Callable[..., RequestContext]
) -> None:
    # GIVEN a rule that sets a token to the value it already has
    pack = build([{"id": "noop", "when": {"country": "DE"}, "set": {"tokens.colors.accent": "#0000ff", "lang": "en"}}])

    # WHEN a matching and a non-matching context are decided
    a = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, country="DE"))
    b = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, country="US"))

    # THEN they share the design key
    assert matched(a) == ["noop"] and matched(b) == []
    assert a.design_key == b.design_key


def test_design_key_follows_what_was_resolved(build: Callable[..., Pack], simulate: Callable[..., RequestContext]) -> None:
    # GIVEN a pack with a locale rule and a link rule
    pack = build(
        [
            {"id": "at", "when": {"country": "AT"}, "set": {"lang": "de"}},
            {"id": "fr", "when": {"country": "FR"}, "set": {"link": "https://example.com/fr"}},
        ]
    )

    def key(**flags: str) -> str:
        return decide(pack.model, "promo", simulate(pack.model, "promo", NOON, **flags)).design_key

    # WHEN / THEN the locale and the link are part of the key; how the locale was reached is not
    assert key(country="AT") == key(country="US", lang="de")
    assert key(country="US", lang="de") != key(country="US", lang="en")
    assert key(country="FR") != key(country="US")


CONTEXTS = st.fixed_dictionaries(
    {
        "country": st.sampled_from([None, "DE", "AT", "FR", "AE", "US", "JP", "BR"]),
        "device": st.sampled_from([None, "mobile", "tablet", "desktop", "tv"]),
        "client": st.sampled_from([None, "browser", "gmail", "apple_mpp", "outlook"]),
        "lang": st.sampled_from([None, "en", "de", "fr", "ar", "ja", "de-AT"]),
        "tz": st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati", "UTC"]),
    }
)
INSTANTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(flags=CONTEXTS, at=INSTANTS, creative=st.sampled_from(["winter-sale", "leaderboard"]))
def test_design_key_is_deterministic(flags: dict[str, str | None], at: datetime, creative: str) -> None:
    # GIVEN a context
    query = {k: v for k, v in flags.items() if v is not None}
    options = context_options(ACME.model, creative, signed_names=SIGNED_OVERRIDES)
    ctx = resolve({}, {**query, "at": at.isoformat()}, at, options)
    again = resolve({}, {**query, "at": at.isoformat()}, at, options)

    # WHEN it is decided twice, and with an independently loaded copy of the pack
    first = decide(ACME.model, creative, ctx)
    second = decide(ACME.model, creative, again)
    fresh = decide(ACME_AGAIN.model, creative, ctx)

    # THEN the design key (and everything it stands for) is the same each time
    assert first.design_key == second.design_key == fresh.design_key
    assert len(first.design_key) == 16 and int(first.design_key, 16) >= 0
    assert first.to_json() == fresh.to_json()


# -------------------------------------------------------------------------------------- copy keys


def headline_key(pack: Pack, **flags: str) -> str:
    ctx = resolve({}, {**flags}, datetime(2026, 12, 1, 18, 30, tzinfo=UTC) if "at" not in flags else datetime.fromisoformat(flags["at"]), context_options(pack.model, "winter-sale", signed_names=frozenset(flags)))
    ref = decide(pack.model, "winter-sale", ctx).copy["headline"]
    assert ref.key is not None
    return ref.key


def test_copy_key_follows_the_vary_by_bucket() -> None:
    # GIVEN acme's headline, which varies by country bucket (dach, us, other) and daypart
    evening = "2026-12-01T19:30:00+01:00"
    night = "2026-12-01T23:30:00+01:00"

    # WHEN / THEN countries of one bucket share a key; another bucket or daypart changes it
    assert headline_key(ACME, country="DE", tz="Europe/Berlin", at=evening) == headline_key(
        ACME, country="AT", tz="Europe/Berlin", at=evening
    )
    assert headline_key(ACME, country="DE", tz="Europe/Berlin", at=evening) != headline_key(
        ACME, country="DE", tz="Europe/Berlin", at=night
    )
    assert headline_key(ACME, country="KR", tz="Europe/Berlin", at=evening) == headline_key(
        ACME, country="BR", tz="Europe/Berlin", at=evening
    )
    assert headline_key(ACME, country="US", tz="Europe/Berlin", at=evening) != headline_key(
        ACME, country="KR", tz="Europe/Berlin", at=evening
    )
    # ... and the language is part of the key: JP is in the "other" bucket too, but reads Japanese
    assert headline_key(ACME, country="JP", tz="Europe/Berlin", at=evening) != headline_key(
        ACME, country="BR", tz="Europe/Berlin", at=evening
    )


@pytest.mark.parametrize(
    ("edit", "changes"),
    [
        (lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["generate"].update(brief="Another brief"), True),
        (lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["generate"].update(max_chars=50), True),
        (lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["generate"]["banned"].append("deal"), True),
        (lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["generate"].update(tone="playful"), True),
        (lambda d: d["tokens"]["colors"].update(ink="#000000"), False),
        (lambda d: d["creatives"]["winter-sale"]["rules"].pop(), False),
        (lambda d: d["creatives"]["winter-sale"]["copy"]["headline"]["default"].update(en="New default"), False),
        (lambda d: d["creatives"].update(extra=d["creatives"]["leaderboard"]), False),
        (lambda d: d.update(name="Acme Outdoor GmbH"), False),
    ],
)
def test_copy_key_follows_the_brief_not_the_pack_version(
    example_copy: Callable[..., Path], edit: Callable[[dict[str, Any]], None], changes: bool
) -> None:
    # GIVEN a copy of acme with one edit (every edit changes the pack version)
    edited = load_pack(example_copy("acme", edit), checks=PACK_CHECKS)
    assert edited.version != ACME.version
    flags = {"country": "DE", "tz": "Europe/Berlin"}

    # WHEN the headline's copy key is computed before and after
    before, after = headline_key(ACME, **flags), headline_key(edited, **flags)

    # THEN only edits of the brief or its constraints change it
    assert (before != after) is changes


def test_vary_by_lang_uses_the_decided_locale(build: Callable[..., Pack], simulate: Callable[..., RequestContext]) -> None:
    # GIVEN a slot varying by language and a rule switching Austria to German
    copy = {
        "title": {"default": {"en": "Hi", "de": "Hallo"}, "generate": {"brief": "Greet", "vary_by": {"lang": "all"}}},
        "cta": {"default": "Go"},
    }
    pack = build([{"id": "at", "when": {"country": "AT"}, "set": {"lang": "de"}}], copy=copy)

    # WHEN an Austrian asking for English and one asking for German are decided
    en = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, country="AT", lang="en"))
    de = decide(pack.model, "promo", simulate(pack.model, "promo", NOON, country="AT", lang="de"))

    # THEN both need the same German copy: one copy key, one design
    assert en.locale == de.locale == "de"
    assert en.copy["title"].vary == {"lang": "de"}
    assert en.copy["title"].key == de.copy["title"].key
    assert en.design_key == de.design_key


# ------------------------------------------------------------------------------------ valid_until


TIME_RULES: list[dict[str, Any]] = [
    {"id": "late", "when": {"local_time": {"from": "22:30", "to": "05:15"}}, "set": {"tokens.colors.paper": "#000000"}},
    {"id": "evening", "when": {"daypart": "evening"}, "set": {"tokens.colors.accent": "#ff8800"}},
    {"id": "coffee", "when": {"hour": {"gte": 9, "lt": 11}}, "set": {"tokens.colors.ink": "#333333"}},
    {"id": "saturday", "when": {"weekday": "sat"}, "set": {"copy.cta": "Weekend!"}},
    {"id": "summer", "when": {"season": "summer"}, "set": {"copy.title": "Sun"}},
    {"id": "june", "when": {"window": {"from": "2026-06-01T00:00", "to": "2026-06-02T12:00"}}, "set": {"link": "https://example.com/june"}},
    {
        "id": "xmas",
        "when": {"window": {"from": "2026-12-24T18:00", "tz": "America/New_York"}},
        "set": {"layers.badge.visible": False},
    },
]
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Kiritimati",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Apia",
    "UTC",
]
DST_CHANGES = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Europe/Berlin springs forward
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Europe/Berlin falls back
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # America/New_York springs forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # America/New_York falls back
    datetime(2026, 4, 5, 3, 0, tzinfo=UTC),  # America/Santiago falls back at midnight
    datetime(2026, 12, 24, 23, 0, tzinfo=UTC),  # the New York window opens
    datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
]
NEAR_CHANGES = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(DST_CHANGES),
    st.integers(min_value=-26 * 60, max_value=26 * 60),
)
ANY_INSTANT = st.one_of(
    INSTANTS, NEAR_CHANGES, st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC))
)


@pytest.fixture(scope="module")
def time_pack(tmp_path_factory: pytest.TempPathFactory, small_pack: Callable[..., dict[str, Any]]) -> Pack:
    root = tmp_path_factory.mktemp("time") / "pack"
    (root / "assets").mkdir(parents=True)
    Image.new("RGB", (300, 100), "#336699").save(root / "assets" / "fallback.png")
    (root / "pack.yaml").write_text(yaml.safe_dump(small_pack(TIME_RULES)), encoding="utf-8")
    return load_pack(root, checks=PACK_CHECKS)


def decided(pack: Pack, creative: str, at: datetime, zone: str) -> Decision:
    options = context_options(pack.model, creative, signed_names=frozenset({"tz"}))
    return decide(pack.model, creative, resolve({}, {"tz": zone}, at, options))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=ANY_INSTANT, zone=st.sampled_from(ZONES))
def test_valid_until_is_after_now_and_nothing_changes_before_it(time_pack: Pack, at: datetime, zone: str) -> None:
    # GIVEN a creative reading every kind of time input, and an instant in some zone
    # WHEN decided
    d = decided(time_pack, "promo", at, zone)

    # THEN valid_until is strictly later, and the decision holds until just before it
    assert d.valid_until is not None
    assert d.valid_until > at
    span = d.valid_until - at
    for probe in (at + span / 3, at + span * 2 / 3, d.valid_until - timedelta(microseconds=1)):
        assert decided(time_pack, "promo", probe, zone).design_key == d.design_key, probe


@settings(max_examples=150, deadline=None)
@given(at=ANY_INSTANT, zone=st.sampled_from(ZONES), creative=st.sampled_from(["winter-sale", "leaderboard"]))
def test_valid_until_of_the_example_banner(at: datetime, zone: str, creative: str) -> None:
    # GIVEN acme's banner (daypart, weekend and a daypart-varying headline) or leaderboard (no time)
    # WHEN decided
    d = decided(ACME, creative, at, zone)

    # THEN the banner expires later than now and not before its decision changes; the leaderboard never
    if creative == "leaderboard":
        assert d.valid_until is None
        return
    assert d.valid_until is not None and d.valid_until > at
    before = decided(ACME, creative, d.valid_until - timedelta(microseconds=1), zone)
    assert before.design_key == d.design_key
    assert before.copy_keys == d.copy_keys


def daypart_pack(build: Callable[..., Pack]) -> Pack:
    return build([{"id": "evening", "when": {"daypart": "evening"}, "set": {"tokens.colors.accent": "#ff8800"}}])


@pytest.mark.parametrize(
    ("zone", "local", "expected_local"),
    [
        ("Europe/Berlin", datetime(2026, 12, 1, 19, 30), datetime(2026, 12, 1, 22, 0)),
        ("Europe/Berlin", datetime(2026, 12, 1, 3, 0), datetime(2026, 12, 1, 5, 0)),
        ("Europe/Berlin", datetime(2026, 12, 1, 22, 0), datetime(2026, 12, 2, 5, 0)),
        ("Asia/Kolkata", datetime(2026, 12, 1, 19, 30), datetime(2026, 12, 1, 22, 0)),
        ("Pacific/Kiritimati", datetime(2026, 12, 31, 23, 0), datetime(2027, 1, 1, 5, 0)),
        ("America/New_York", datetime(2026, 3, 8, 1, 30), datetime(2026, 3, 8, 5, 0)),
    ],
)
def test_valid_until_is_the_next_daypart_boundary_in_the_viewers_zone(
    build: Callable[..., Pack], zone: str, local: datetime, expected_local: datetime
) -> None:
    # GIVEN a creative with a daypart rule and a viewer's local time
    pack = daypart_pack(build)
    tz = ZoneInfo(zone)

    # WHEN decided
    d = decided(pack, "promo", local.replace(tzinfo=tz).astimezone(UTC), zone)

    # THEN it lasts exactly until the next daypart starts on the viewer's clock
    assert d.valid_until == expected_local.replace(tzinfo=tz)


def test_valid_until_follows_a_window_start_and_end(build: Callable[..., Pack]) -> None:
    # GIVEN a Christmas window in New York's wall time
    pack = build([{"id": "xmas", "when": {"window": {"from": "2026-12-24T18:00", "to": "2026-12-26T00:00", "tz": "America/New_York"}}, "set": {"link": "https://example.com/xmas"}}])
    ny = ZoneInfo("America/New_York")
    start, end = datetime(2026, 12, 24, 18, tzinfo=ny), datetime(2026, 12, 26, tzinfo=ny)

    # WHEN decided before, inside and after it (from Tokyo)
    before = decided(pack, "promo", start - timedelta(days=3), "Asia/Tokyo")
    inside = decided(pack, "promo", start, "Asia/Tokyo")
    after = decided(pack, "promo", end, "Asia/Tokyo")

    # THEN it lasts until the window opens, then until it closes, then forever
    assert before.valid_until == start
    assert inside.valid_until == end
    assert after.valid_until is None


def test_valid_until_is_midnight_for_weekday_rules(build: Callable[..., Pack]) -> None:
    # GIVEN a Saturday rule and a viewer in Sydney on a Friday afternoon
    pack = build([{"id": "sat", "when": {"weekday": "sat"}, "set": {"copy.cta": "Weekend!"}}])
    sydney = ZoneInfo("Australia/Sydney")

    # WHEN decided
    d = decided(pack, "promo", datetime(2026, 12, 4, 15, tzinfo=sydney).astimezone(UTC), "Australia/Sydney")

    # THEN it lasts until midnight in Sydney
    assert d.valid_until == datetime(2026, 12, 5, tzinfo=sydney)


def test_valid_until_is_none_when_nothing_time_based_is_read(build: Callable[..., Pack]) -> None:
    pack = build([{"id": "de", "when": {"country": "DE"}, "set": {"lang": "de"}}])
    assert decided(pack, "promo", NOON, "Europe/Berlin").valid_until is None
    assert decided(ACME, "leaderboard", NOON, "Europe/Berlin").valid_until is None


def test_valid_until_stops_at_a_countdown_deadline() -> None:
    # GIVEN Northwind's countdown (ends 2026-12-04 23:59 Chicago) and its end-of-campaign window
    # WHEN decided the day before the deadline
    d = decided(NORTHWIND, "cyber-week", datetime(2026, 12, 4, 12, tzinfo=UTC), "America/Chicago")

    # THEN it lasts until the deadline, which comes before the window opens
    assert d.valid_until == datetime(2026, 12, 4, 23, 59, tzinfo=ZoneInfo("America/Chicago"))


def test_valid_until_across_a_fall_back(build: Callable[..., Pack]) -> None:
    # GIVEN a 02:15-04:00 rule in Berlin on the night the clock goes from 03:00 back to 02:00
    pack = build([{"id": "small-hours", "when": {"local_time": {"from": "02:15", "to": "04:00"}}, "set": {"lang": "de"}}])
    first_0220 = datetime(2026, 10, 25, 0, 20, tzinfo=UTC)  # 02:20 CEST
    second_0220 = datetime(2026, 10, 25, 1, 20, tzinfo=UTC)  # 02:20 CET

    # WHEN decided at the first 02:20
    d = decided(pack, "promo", first_0220, "Europe/Berlin")

    # THEN it lasts only until the clock falls back to 02:00 (outside the range), not until 04:00
    assert d.locale == "de"
    assert d.valid_until == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert decided(pack, "promo", d.valid_until, "Europe/Berlin").locale == "en"
    assert decided(pack, "promo", second_0220, "Europe/Berlin").valid_until == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)


def test_valid_until_across_a_spring_forward(build: Callable[..., Pack]) -> None:
    # GIVEN a rule from 02:30, a wall time that does not exist in Berlin on 2026-03-29
    pack = build([{"id": "early", "when": {"local_time": {"from": "02:30", "to": "05:00"}}, "set": {"lang": "de"}}])

    # WHEN decided at 01:30 that night
    d = decided(pack, "promo", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Berlin")

    # THEN it lasts until the clock jumps from 02:00 to 03:00 (into the range)
    assert d.valid_until == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert decided(pack, "promo", d.valid_until, "Europe/Berlin").locale == "de"


def test_image_layers_are_untouched_by_colour_resolution() -> None:
    d = decided(ACME, "winter-sale", NOON, "UTC")
    art = layer(d, "art")
    assert isinstance(art, ImageLayer) and art.asset == "assets/peaks.png"
