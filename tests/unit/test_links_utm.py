"""Campaign tags on clicks: `with_utm` adds the pack's tags to a link, keeping what the link says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from versa.pack.links import Utm, with_utm


def test_tags_are_added_in_a_fixed_order_and_encoded() -> None:
    utm = Utm(source="news letter", medium="email", campaign="été&hiver")
    assert with_utm("https://a.example/sale", utm) == (
        "https://a.example/sale?utm_source=news%20letter&utm_medium=email&utm_campaign=%C3%A9t%C3%A9%26hiver"
    )


def test_existing_query_fragment_and_tags_of_the_link_are_kept() -> None:
    utm = Utm(source="nl", content="footer")
    got = with_utm("https://a.example/p?id=7&utm_content=hero#top", utm)
    assert got == "https://a.example/p?id=7&utm_content=hero&utm_source=nl#top"


def test_no_tags_leave_the_link_untouched() -> None:
    assert with_utm("https://a.example/?x=1", None) == "https://a.example/?x=1"
    assert with_utm("https://a.example/?x=1", Utm()) == "https://a.example/?x=1"


def test_creative_tags_override_the_packs_field_by_field() -> None:
    pack = Utm(source="nl", medium="email", campaign="spring")
    assert Utm(campaign="winter").over(pack) == Utm(source="nl", medium="email", campaign="winter")


@pytest.mark.parametrize("value", ["", "x" * 101, "a\nb", "a\u200bb"])
def test_empty_long_or_hidden_character_tags_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Utm(source=value)
