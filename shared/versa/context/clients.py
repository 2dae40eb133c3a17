"""Who is fetching the image: an email client class from the User-Agent and the network ASN, and a
coarse device / operating system from the User-Agent.

Email image proxies fetch on the reader's behalf, so the request's geo, device and time zone describe
the proxy, not the reader. `classify_client` tells them apart from a reader's own browser or mail
app; `is_proxy` says whether header-derived viewer signals should be distrusted.

The classification is a heuristic on two signals the viewer controls only partly: the User-Agent
(anyone can send any string) and the ASN CloudFront sees (the network the request comes from). A
spoofed proxy User-Agent only demotes the spoofer to the pack's defaults, so the heuristic is safe to
be wrong in that direction.

Pure: no IO, no environment, no clock.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

Device = Literal["mobile", "tablet", "desktop", "tv"]
OperatingSystem = Literal["ios", "android", "windows", "macos", "linux", "other"]

DEVICES: tuple[Device, ...] = ("mobile", "tablet", "desktop", "tv")
OPERATING_SYSTEMS: tuple[OperatingSystem, ...] = ("ios", "android", "windows", "macos", "linux", "other")

GOOGLE_ASNS = frozenset({15169, 396982})
"""Google's networks (Google LLC; Google Cloud)."""
YAHOO_ASNS = frozenset({10310, 36647, 34010})
"""Yahoo's networks."""
APPLE_ASNS = frozenset({714, 6185})
"""Apple's networks (Apple Inc. and Apple's engineering network)."""


class EmailClient(StrEnum):
    """The class of client fetching an image."""

    browser = "browser"
    """A reader's own browser or mail app (a web view): headers describe the reader."""
    gmail = "gmail"
    """Gmail's image proxy (User-Agent contains "GoogleImageProxy")."""
    gmail_prefetch = "gmail_prefetch"
    """Heuristic: a fetch from Google's network (ASN 15169 / 396982) whose User-Agent is neither
    GoogleImageProxy nor a browser — Gmail prefetching or scanning the message."""
    yahoo = "yahoo"
    """Yahoo Mail's image proxy (User-Agent contains "YahooMailProxy", or a non-browser fetch from a
    Yahoo network, ASN 10310 / 36647 / 34010)."""
    apple_mpp = "apple_mpp"
    """Heuristic: Apple Mail Privacy Protection prefetch — a User-Agent of exactly "Mozilla/5.0", or a
    fetch from Apple's network (ASN 714 / 6185) without a recognisable browser User-Agent."""
    outlook = "outlook"
    """Outlook desktop fetching directly (its headers describe the reader's machine)."""
    unknown = "unknown"
    """No User-Agent, or a bot / HTTP library one."""


PROXY_CLIENTS = frozenset(
    {EmailClient.gmail, EmailClient.gmail_prefetch, EmailClient.yahoo, EmailClient.apple_mpp}
)

_OUTLOOK_RE = re.compile(r"Microsoft Outlook|MSOffice|ms-office|Outlook-Express", re.IGNORECASE)
_BROWSER_RE = re.compile(r"^Mozilla/5\.0 \(.+\).*(AppleWebKit/|Gecko/|Trident/|Gecko\))")
_BOT_RE = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|headless|preview|scanner|facebookexternalhit|"
    r"curl/|wget/|python|httpx|aiohttp|go-http-client|java/|okhttp|libwww|axios|node-fetch|"
    r"http-client|postman",
    re.IGNORECASE,
)


def classify_client(user_agent: str | None, asn: int | None) -> EmailClient:
    """Classify the client fetching an image from its User-Agent and its network's ASN.

    Order of evidence: a proxy's own User-Agent token (GoogleImageProxy, YahooMailProxy), an Outlook
    desktop User-Agent, Apple MPP's bare "Mozilla/5.0"; then, for a User-Agent that is not a
    browser's (including none and bots), the ASN of Google, Yahoo or Apple; then browser; else unknown.
    """
    ua = (user_agent or "").strip()
    if "GoogleImageProxy" in ua:
        return EmailClient.gmail
    if "YahooMailProxy" in ua:
        return EmailClient.yahoo
    if _OUTLOOK_RE.search(ua):
        return EmailClient.outlook
    if ua == "Mozilla/5.0":
        return EmailClient.apple_mpp
    browser = looks_like_browser(ua)
    if not browser and asn is not None:
        if asn in GOOGLE_ASNS:
            return EmailClient.gmail_prefetch
        if asn in YAHOO_ASNS:
            return EmailClient.yahoo
        if asn in APPLE_ASNS:
            return EmailClient.apple_mpp
    return EmailClient.browser if browser else EmailClient.unknown


def looks_like_browser(user_agent: str | None) -> bool:
    """True when the User-Agent has the shape of a real browser or web view (Mozilla/5.0 with a
    platform and a rendering engine) and no bot or HTTP-library token."""
    ua = (user_agent or "").strip()
    return bool(_BROWSER_RE.search(ua)) and not _BOT_RE.search(ua)


def is_proxy(client: EmailClient) -> bool:
    """True for clients that fetch on the reader's behalf, whose geo/device/time zone headers
    describe the proxy, not the reader (gmail, gmail_prefetch, yahoo, apple_mpp)."""
    return client in PROXY_CLIENTS


_TV_RE = re.compile(
    r"SmartTV|SMART-TV|Smart TV|Tizen|Web0S|webOS|AppleTV|Apple TV|GoogleTV|Android TV|AndroidTV|"
    r"BRAVIA|HbbTV|CrKey|Roku|AFT[A-Z]|NetCast|Viera|PlayStation|Xbox",
    re.IGNORECASE,
)
_TABLET_RE = re.compile(r"iPad|Tablet|Kindle|Silk/|PlayBook", re.IGNORECASE)
_MOBILE_RE = re.compile(r"Mobi|iPhone|iPod|Windows Phone|BlackBerry|Opera Mini|IEMobile", re.IGNORECASE)
_IOS_RE = re.compile(r"iPhone|iPad|iPod|\bCPU (?:iPhone )?OS \d")
_ANDROID_RE = re.compile(r"Android", re.IGNORECASE)
_WINDOWS_RE = re.compile(r"Windows|Win64|Win32|WOW64|\bMSOffice\b", re.IGNORECASE)
_MAC_RE = re.compile(r"Macintosh|Mac OS X|MacOutlook|Darwin", re.IGNORECASE)
_LINUX_RE = re.compile(r"Linux|X11|CrOS|Ubuntu|Fedora", re.IGNORECASE)


def parse_user_agent(user_agent: str | None) -> tuple[Device, OperatingSystem]:
    """A coarse (device, os) guess from a User-Agent.

    Device: tv for smart-TV / streaming-box tokens; tablet for iPad, Kindle/Silk, "Tablet", and
    Android without "Mobile"; mobile for "Mobi", iPhone/iPod, Windows Phone; otherwise desktop (also
    for an empty User-Agent). OS: ios, android, windows, macos, linux (incl. ChromeOS), else other.
    An iPad in "desktop mode" sends a Mac User-Agent and is reported as a macOS desktop.
    """
    ua = (user_agent or "").strip()
    android = bool(_ANDROID_RE.search(ua))
    os: OperatingSystem
    if _IOS_RE.search(ua):
        os = "ios"
    elif android:
        os = "android"
    elif "Windows Phone" in ua or _WINDOWS_RE.search(ua):
        os = "windows"
    elif _MAC_RE.search(ua):
        os = "macos"
    elif _LINUX_RE.search(ua) and not _TV_RE.search(ua):
        os = "linux"
    else:
        os = "other"
    device: Device
    if _TV_RE.search(ua):
        device = "tv"
    elif _TABLET_RE.search(ua) or (android and "Mobile" not in ua):
        device = "tablet"
    elif _MOBILE_RE.search(ua):
        device = "mobile"
    else:
        device = "desktop"
    return device, os


__all__ = [
    "APPLE_ASNS",
    "DEVICES",
    "GOOGLE_ASNS",
    "OPERATING_SYSTEMS",
    "PROXY_CLIENTS",
    "YAHOO_ASNS",
    "Device",
    "EmailClient",
    "OperatingSystem",
    "classify_client",
    "is_proxy",
    "looks_like_browser",
    "parse_user_agent",
]
