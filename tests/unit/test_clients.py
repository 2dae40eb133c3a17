"""Email client classification and User-Agent parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from versa.context.clients import (
    DEVICES,
    OPERATING_SYSTEMS,
    EmailClient,
    classify_client,
    is_proxy,
    looks_like_browser,
    parse_user_agent,
)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/124.0.2478.80"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15"
)
APPLE_MAIL_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
CHROME_OS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Mobile/15E148 Safari/604.1"
)
IOS_MAIL_APP = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX_ANDROID_PHONE = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
SAMSUNG_TIZEN_TV = (
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "76.0.3809.146/6.0 TV Safari/537.36"
)
LG_WEBOS_TV = (
    "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/79.0.3945.79 Safari/537.36 WebAppManager"
)
KINDLE_FIRE = (
    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/124.3.1 like Chrome/124.0.6367.179 Safari/537.36"
)
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
OUTLOOK_2016 = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)"
OUTLOOK_2013 = (
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; WOW64; Trident/7.0; SLCC2; .NET CLR 2.0.50727; "
    "Microsoft Outlook 15.0.4420; ms-office; MSOffice 15)"
)
APPLE_MPP = "Mozilla/5.0"
CURL = "curl/8.5.0"
PYTHON_REQUESTS = "python-requests/2.31.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36"
)

COMCAST, DEUTSCHE_TELEKOM = 7922, 3320
GOOGLE, GOOGLE_CLOUD = 15169, 396982
YAHOO, APPLE = 36647, 714


@pytest.mark.parametrize(
    ("ua", "asn", "expected"),
    [
        # a reader's own browser or mail app
        (CHROME_WINDOWS, COMCAST, EmailClient.browser),
        (SAFARI_IPHONE, DEUTSCHE_TELEKOM, EmailClient.browser),
        (IOS_MAIL_APP, DEUTSCHE_TELEKOM, EmailClient.browser),
        (APPLE_MAIL_MAC, COMCAST, EmailClient.browser),
        (FIREFOX_LINUX, None, EmailClient.browser),
        (CHROME_WINDOWS, GOOGLE, EmailClient.browser),  # a person browsing from Google's network
        (SAFARI_MAC, APPLE, EmailClient.browser),  # an Apple employee reading mail at work
        # Gmail
        (GMAIL_PROXY, GOOGLE, EmailClient.gmail),
        (GMAIL_PROXY, None, EmailClient.gmail),
        (None, GOOGLE, EmailClient.gmail_prefetch),
        (PYTHON_REQUESTS, GOOGLE_CLOUD, EmailClient.gmail_prefetch),
        (GOOGLEBOT, GOOGLE, EmailClient.gmail_prefetch),
        # Yahoo
        (YAHOO_PROXY, YAHOO, EmailClient.yahoo),
        (YAHOO_PROXY, None, EmailClient.yahoo),
        (None, 10310, EmailClient.yahoo),
        # Apple Mail Privacy Protection
        (APPLE_MPP, APPLE, EmailClient.apple_mpp),
        (APPLE_MPP, None, EmailClient.apple_mpp),
        (None, APPLE, EmailClient.apple_mpp),
        (CURL, 6185, EmailClient.apple_mpp),
        # Outlook desktop
        (OUTLOOK_2016, COMCAST, EmailClient.outlook),
        (OUTLOOK_2013, DEUTSCHE_TELEKOM, EmailClient.outlook),
        ("Outlook-Express/7.0 (MSIE 7.0; Windows NT 6.1; Trident/7.0)", None, EmailClient.outlook),
        # unknown
        (None, None, EmailClient.unknown),
        ("", COMCAST, EmailClient.unknown),
        (CURL, COMCAST, EmailClient.unknown),
        (GOOGLEBOT, None, EmailClient.unknown),
        (HEADLESS, COMCAST, EmailClient.unknown),
        ("Mozilla/5.0 (compatible)", None, EmailClient.unknown),
    ],
)
def test_classify_client(ua: str | None, asn: int | None, expected: EmailClient) -> None:
    # GIVEN a User-Agent and the ASN CloudFront saw
    # WHEN the client is classified
    # THEN it is the expected class
    assert classify_client(ua, asn) is expected


@pytest.mark.parametrize(
    ("client", "proxy"),
    [
        (EmailClient.gmail, True),
        (EmailClient.gmail_prefetch, True),
        (EmailClient.yahoo, True),
        (EmailClient.apple_mpp, True),
        (EmailClient.browser, False),
        (EmailClient.outlook, False),
        (EmailClient.unknown, False),
    ],
)
def test_is_proxy(client: EmailClient, proxy: bool) -> None:
    assert is_proxy(client) is proxy


def test_email_client_values_are_stable_strings() -> None:
    assert [c.value for c in EmailClient] == [
        "browser", "gmail", "gmail_prefetch", "yahoo", "apple_mpp", "outlook", "unknown"
    ]  # fmt: skip
    assert f"{EmailClient.apple_mpp}" == "apple_mpp"


@pytest.mark.parametrize(
    ("ua", "device", "os"),
    [
        (CHROME_WINDOWS, "desktop", "windows"),
        (EDGE_WINDOWS, "desktop", "windows"),
        (SAFARI_MAC, "desktop", "macos"),
        (FIREFOX_LINUX, "desktop", "linux"),
        (CHROME_OS, "desktop", "linux"),
        (SAFARI_IPHONE, "mobile", "ios"),
        (IOS_MAIL_APP, "mobile", "ios"),
        (SAFARI_IPAD, "tablet", "ios"),
        (CHROME_ANDROID_PHONE, "mobile", "android"),
        (FIREFOX_ANDROID_PHONE, "mobile", "android"),
        (CHROME_ANDROID_TABLET, "tablet", "android"),
        (KINDLE_FIRE, "tablet", "android"),
        (SAMSUNG_TIZEN_TV, "tv", "other"),
        (LG_WEBOS_TV, "tv", "other"),
        (OUTLOOK_2016, "desktop", "windows"),
        (GMAIL_PROXY, "desktop", "windows"),  # what the proxy claims, not the reader
        (APPLE_MPP, "desktop", "other"),
        (None, "desktop", "other"),
        ("", "desktop", "other"),
    ],
)
def test_parse_user_agent(ua: str | None, device: str, os: str) -> None:
    assert parse_user_agent(ua) == (device, os)


def test_looks_like_browser() -> None:
    assert looks_like_browser(CHROME_WINDOWS)
    assert looks_like_browser(FIREFOX_LINUX)
    assert not looks_like_browser(APPLE_MPP)
    assert not looks_like_browser(GOOGLEBOT)
    assert not looks_like_browser(HEADLESS)
    assert not looks_like_browser(None)


@given(ua=st.one_of(st.none(), st.text(max_size=300)), asn=st.one_of(st.none(), st.integers(0, 2**32)))
def test_classification_and_parsing_are_total(ua: str | None, asn: int | None) -> None:
    # GIVEN any User-Agent and ASN
    # WHEN classified and parsed
    # THEN the answers are always members of their sets (never an exception)
    assert classify_client(ua, asn) in set(EmailClient)
    device, os = parse_user_agent(ua)
    assert device in DEVICES
    assert os in OPERATING_SYSTEMS
