"""The context attributes rules may read, which of them the CDN keys on, and their finite value sets
(taken from where each value is defined: `versa.context.clients`, `versa.context.timefeatures`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from versa.context.clients import DEVICES, EmailClient
from versa.context.timefeatures import SEASONS, WEEKDAYS, Hemisphere

LOCATION = ("country", "region", "city", "latitude", "longitude", "asn")
TIME_FEATURES = (
    "daypart",
    "weekday",
    "weekend",
    "season",
    "hemisphere",
    "hour",
    "minute",
    "local_time",
    "date",
)
BUILTIN_ATTRIBUTES: frozenset[str] = frozenset(
    {*LOCATION, "tz", "device", "os", "client", "lang", "theme", *TIME_FEATURES, "window", "vid"}
)
"""Every attribute a rule may name besides the creative's declared parameters (`vid`, the visitor's
bucket, only inside `bucket:`; see `versa.context.visitor`)."""

DEFAULT_KEYABLE: frozenset[str] = frozenset(
    {"country", "tz", "device", "client", "lang", "theme", *TIME_FEATURES, "window", "vid"}
)
"""What the CDN's cache key carries (x-versa-country, -tz, -device, -client, -lang) and the time
features derived from the zone and the clock (bounded by the response TTL), and the visitor bucket
(x-versa-vb, never the visitor id). A deployment may widen it
knowingly (e.g. add `region`) by also adding the header to its cache policy. `theme` is an explicit
query parameter, and the query string is part of the cache key."""

CDN_HEADER_OF: dict[str, str] = {
    "country": "x-versa-country",
    "tz": "x-versa-tz",
    "device": "x-versa-device",
    "client": "x-versa-client",
    "lang": "x-versa-lang",
    "vid": "x-versa-vb",
}
"""The normalized header the CloudFront Function sets for each directly keyed attribute."""

CLIENTS: tuple[str, ...] = tuple(client.value for client in EmailClient)
HEMISPHERES: tuple[Hemisphere, ...] = get_args(Hemisphere)


def finite_values(attr: str, *, locales: Sequence[str], dayparts: Sequence[str]) -> tuple[object, ...] | None:
    """The complete value set of an attribute, or None when it is open-ended (country, tz, ...)."""
    table: dict[str, tuple[object, ...]] = {
        "device": DEVICES,
        "client": CLIENTS,
        "weekday": WEEKDAYS,
        "weekend": (False, True),
        "season": SEASONS,
        "hemisphere": HEMISPHERES,
        "hour": tuple(range(24)),
        "lang": tuple(locales),
        "daypart": tuple(dayparts),
        "theme": ("light", "dark"),
    }
    return table.get(attr)


__all__ = [
    "BUILTIN_ATTRIBUTES",
    "CDN_HEADER_OF",
    "CLIENTS",
    "DEFAULT_KEYABLE",
    "DEVICES",
    "HEMISPHERES",
    "LOCATION",
    "SEASONS",
    "TIME_FEATURES",
    "WEEKDAYS",
    "finite_values",
]
