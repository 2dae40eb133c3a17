"""Email tools' merge syntax: a template-signed URL whose merge values each tool fills in per recipient.

An email tool (ESP) cannot compute a per-recipient HMAC, so `versa sign --esp` signs a *template*
(`versa.signing.signer`: the merge parameters' names are covered, their values are free and bounded
by the pack's declared types) and writes, in place of each merge value, the tool's own expression
for the recipient's field passed through the tool's URL-encoding filter:

| tool | expression for the field `F` |
|---|---|
| Mailchimp | ``*|URL:F|*`` (the ``URL:`` prefix encodes the merge value) |
| Klaviyo | ``{{ F|urlencode }}`` (Django's filter) |
| Braze | ``{{${F} | url_param_escape}}``, ``{{custom_attribute.${F} | url_param_escape}}`` for a custom one |
| Salesforce Marketing Cloud | ``%%=URLEncode(AttributeValue('F'), 1, 1)=%%`` (AMPscript; encode every character, whole string) |
| HubSpot | ``{{ contact.F|urlencode }}`` (HubL) |
| Iterable | ``{{#urlEncode}}{{F}}{{/urlEncode}}`` (Handlebars block helper) |

Pure: builds strings, signs nothing itself (the caller passes the signed query).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from versa.signing.signer import MERGE_PARAM, encode_component

FIELD_PATTERN: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
"""A field name of an email tool: letters, digits, `_`, `.` and `-`, so it can break neither the
tool's template syntax nor the HTML attribute it sits in."""

_BRAZE_STANDARD: Final = frozenset({
    "first_name", "last_name", "email_address", "country", "city", "language", "gender", "phone_number",
    "time_zone", "date_of_birth", "user_id", "braze_id", "most_recent_locale", "most_recent_location",
})  # fmt: skip
"""Braze's default user attributes, written `${name}`; any other attribute is `custom_attribute.${name}`."""


@dataclass(frozen=True)
class Esp:
    """One email tool: its name, how a field is written inside a URL, and the field a common merge
    parameter usually maps to in it."""

    key: str
    label: str
    expression: Callable[[str], str]
    common_fields: Mapping[str, str]
    fallback_field: Callable[[str], str]
    note: str

    def field_for(self, param: str) -> str:
        """The tool's field a merge parameter maps to when the user names none."""
        return self.common_fields.get(param) or self.fallback_field(param)

    def tag(self, field: str) -> str:
        """The tool's URL-encoded merge expression for `field`; ValueError for a field name that could
        break the template or the HTML around it."""
        if not FIELD_PATTERN.fullmatch(field):
            raise ValueError(
                f"field {field!r} for {self.label}: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or '_'"
            )
        return self.expression(field)


def _braze(field: str) -> str:
    ref = f"${{{field}}}" if field in _BRAZE_STANDARD else f"custom_attribute.${{{field}}}"
    return f"{{{{{ref} | url_param_escape}}}}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


ESPS: Final[Mapping[str, Esp]] = {
    "mailchimp": Esp(
        "mailchimp", "Mailchimp", lambda f: f"*|URL:{f}|*",
        {"first_name": "FNAME", "last_name": "LNAME", "email": "EMAIL", "phone": "PHONE"},
        lambda p: p.replace("_", "").upper()[:10],
        "Mailchimp fills *|URL:TAG|* with the audience field TAG, URL-encoded.",
    ),
    "klaviyo": Esp(
        "klaviyo", "Klaviyo", lambda f: f"{{{{ {f}|urlencode }}}}",
        {"first_name": "first_name", "last_name": "last_name", "email": "email"},
        lambda p: f"person.{p}",
        "Klaviyo's urlencode is Django's filter (it leaves '/' as it is).",
    ),
    "braze": Esp(
        "braze", "Braze", _braze,
        {"first_name": "first_name", "last_name": "last_name", "email": "email_address"},
        lambda p: p,
        "Braze's url_param_escape encodes every character a query value may not hold, '&' included.",
    ),
    "salesforce": Esp(
        "salesforce", "Salesforce Marketing Cloud", lambda f: f"%%=URLEncode(AttributeValue('{f}'), 1, 1)=%%",
        {"first_name": "FirstName", "last_name": "LastName", "email": "EmailAddress"},
        lambda p: p,
        "AMPscript URLEncode(value, 1, 1) encodes every character that is not a letter or digit.",
    ),
    "hubspot": Esp(
        "hubspot", "HubSpot", lambda f: f"{{{{ contact.{f}|urlencode }}}}",
        {"first_name": "firstname", "last_name": "lastname", "email": "email"},
        lambda p: p.replace("_", ""),
        "Caution: HubSpot's HubL reference says filters on contact tokens apply on CMS pages, not in "
        "emails. If urlencode is not applied, a value holding '&', '#' or '+' breaks the URL (an email "
        "proxy then gets the fallback image): send a test to a contact named 'Zoë & Jo' first.",
    ),
    "iterable": Esp(
        "iterable", "Iterable", lambda f: f"{{{{#urlEncode}}}}{{{{{f}}}}}{{{{/urlEncode}}}}",
        {"first_name": "firstName", "last_name": "lastName", "email": "email"},
        _camel,
        "Iterable's #urlEncode block helper encodes what its block renders.",
    ),
}
"""Every email tool `versa sign --esp` writes for, by its key."""


def parse_merge(items: Sequence[str]) -> dict[str, str | None]:
    """`--merge` values (each ``name`` or ``name=FIELD``, comma-separated or repeated) as name → field
    (None where the user named no field), in the order given; ValueError naming a malformed item."""
    merge: dict[str, str | None] = {}
    for item in items:
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            name, sep, field = part.partition("=")
            if not name or (sep and not field):
                raise ValueError(f"--merge: {part!r} is not NAME or NAME=FIELD (e.g. first_name=FNAME)")
            merge[name] = field if sep else None
    return merge


def template_url(base: str, path: str, pairs: Sequence[tuple[str, str]], tags: Mapping[str, str]) -> str:
    """`base + path + ?query` with the signed query `pairs` encoded by the signer's rule, except each
    merge parameter in `tags`, whose value is the tool's expression written as it is (the tool replaces
    it before sending). The signing parameters come last, `m` before `sig`."""
    parts: list[str] = []
    for name, value in pairs:
        written = tags[name] if name in tags and name != MERGE_PARAM else encode_component(value)
        parts.append(f"{encode_component(name)}={written}")
    return f"{base}{path}?{'&'.join(parts)}"


def snippet(img_url: str, click_url: str | None, *, width: int, height: int, alt: str) -> str:
    """The HTML an email takes: an `<img>` (fixed size, no border, a block so no gap shows under it),
    inside an `<a>` to the click URL when there is one. URLs are written with `&amp;` between
    parameters; the tools' expressions hold no character HTML would change."""
    img = (
        f'<img src="{_attr_url(img_url)}" width="{width}" height="{height}" alt="{html.escape(alt)}" '
        f'style="display:block;border:0;outline:none;text-decoration:none;width:100%;max-width:{width}px;height:auto">'
    )
    if click_url is None:
        return img
    return f'<a href="{_attr_url(click_url)}" target="_blank">{img}</a>'


def _attr_url(url: str) -> str:
    if '"' in url or "<" in url or ">" in url:
        raise ValueError(f"URL {url!r} holds a character that would end its HTML attribute")
    return url.replace("&", "&amp;")


__all__ = ["ESPS", "FIELD_PATTERN", "Esp", "parse_merge", "snippet", "template_url"]
