"""Each email tool's merge expression, the `--merge` syntax, and the template URL `versa sign --esp`
writes (its signature is the one a fixed placeholder would get)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from keys import TEST_KEYRING
from versa.signing.esp import ESPS, parse_merge, snippet, template_url
from versa.signing.signer import sign, verify


@pytest.mark.parametrize(
    ("tool", "field", "expected"),
    [
        ("mailchimp", "FNAME", "*|URL:FNAME|*"),
        ("klaviyo", "first_name", "{{ first_name|urlencode }}"),
        ("braze", "first_name", "{{${first_name} | url_param_escape}}"),
        ("braze", "loyalty_tier", "{{custom_attribute.${loyalty_tier} | url_param_escape}}"),
        ("salesforce", "FirstName", "%%=URLEncode(AttributeValue('FirstName'), 1, 1)=%%"),
        ("hubspot", "firstname", "{{ contact.firstname|urlencode }}"),
        ("iterable", "firstName", "{{#urlEncode}}{{firstName}}{{/urlEncode}}"),
    ],
)
def test_each_tool_writes_its_own_encoded_merge_expression(tool: str, field: str, expected: str) -> None:
    assert ESPS[tool].tag(field) == expected


def test_common_parameters_map_to_each_tools_usual_field() -> None:
    fields = {key: esp.field_for("first_name") for key, esp in ESPS.items()}
    assert fields == {
        "mailchimp": "FNAME", "klaviyo": "first_name", "braze": "first_name",
        "salesforce": "FirstName", "hubspot": "firstname", "iterable": "firstName",
    }  # fmt: skip
    assert ESPS["mailchimp"].field_for("loyalty_tier") == "LOYALTYTIE"  # merge tags are 10 characters at most
    assert ESPS["iterable"].field_for("loyalty_tier") == "loyaltyTier"


@pytest.mark.parametrize("field", ["", "a b", "x}}", "a'b", 'a"b', "<b>", "9lives", "a" * 65])
def test_field_names_that_could_break_a_template_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="field"):
        ESPS["klaviyo"].tag(field)


def test_merge_items_comma_separated_or_repeated() -> None:
    assert parse_merge(["first_name=FNAME,tier", "uid=UID"]) == {"first_name": "FNAME", "tier": None, "uid": "UID"}
    with pytest.raises(ValueError, match="NAME=FIELD"):
        parse_merge(["first_name="])


def test_template_url_carries_the_expression_and_verifies_once_filled() -> None:
    # GIVEN a query signed as a template over first_name
    from datetime import UTC, datetime

    pairs = [("country", "US"), ("first_name", "")]
    added = sign("/v1/b/c.png", pairs, TEST_KEYRING, merge_names=["first_name"])
    url = template_url("https://cdn.example", "/v1/b/c.png", [*pairs, *added.items()], {"first_name": "*|URL:FNAME|*"})

    # THEN the expression stands as written and the signing parameters close the query
    assert url.startswith("https://cdn.example/v1/b/c.png?country=US&first_name=*|URL:FNAME|*&kid=test1&m=first_name&sig=")
    # AND once a tool fills it, the URL verifies
    filled = urlsplit(url.replace("*|URL:FNAME|*", "Zo%C3%AB%20%26%20Jo"))
    query = parse_qsl(filled.query)
    assert dict(query)["first_name"] == "Zoë & Jo"
    verify(filled.path, query, TEST_KEYRING, now=datetime.now(UTC))


def test_snippet_escapes_ampersands_and_refuses_attribute_breakers() -> None:
    html = snippet("https://x/a.png?a=1&b=2", "https://x/c?a=1&b=2", width=600, height=200, alt='Sale "now"')
    assert 'src="https://x/a.png?a=1&amp;b=2"' in html and 'href="https://x/c?a=1&amp;b=2"' in html
    assert 'alt="Sale &quot;now&quot;"' in html
    assert snippet("https://x/a.png", None, width=1, height=1, alt="").startswith("<img ")
    with pytest.raises(ValueError, match="attribute"):
        snippet('https://x/a.png?a="', None, width=1, height=1, alt="")
