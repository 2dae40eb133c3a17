// Unit tests of the viewer-request CloudFront Function: `node --test cdn/test/`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const { SOURCE, loadHandler, event } = require("./harness.js");

const handler = loadHandler();

const CHROME_WIN =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const SAFARI_IPAD =
  "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const ANDROID_TABLET =
  "Mozilla/5.0 (Linux; Android 14; SM-X910) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const ANDROID_PHONE =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
const SMART_TV =
  "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0 TV Safari/537.36";
const GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
const YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html";
const OUTLOOK =
  "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; Win64; x64; Trident/7.0; Microsoft Outlook 16.0.17628; ms-office; MSOffice 16)";
const CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

// GIVEN viewer headers (name → value), WHEN the function runs, THEN the request it returns.
function run(headers, request = {}) {
  const h = {};
  for (const [name, value] of Object.entries(headers)) h[name] = { value };
  return handler(event(Object.assign({ uri: "/v1/acme/winter-sale.png", headers: h }, request)));
}

// Only the x-versa-* headers of a result, as name (without the prefix) → value.
function versa(result) {
  const out = {};
  for (const [name, entry] of Object.entries(result.headers)) {
    if (name.startsWith("x-versa-")) out[name.slice(8)] = entry.value;
  }
  return out;
}

const viewer = (extra = {}) =>
  Object.assign(
    {
      "user-agent": CHROME_WIN,
      "cloudfront-viewer-country": "US",
      "cloudfront-viewer-time-zone": "America/New_York",
      "cloudfront-is-desktop-viewer": "true",
      "accept-language": "en-US,en;q=0.9",
    },
    extra,
  );

test.describe("the file CloudFront runs", () => {
  const code = fs.readFileSync(SOURCE, "utf8");

  test("is under CloudFront's 10 KB function size limit", () => {
    assert.ok(Buffer.byteLength(code) < 10 * 1024, `${Buffer.byteLength(code)} bytes`);
  });

  test("uses no module system (CloudFront Functions have none)", () => {
    assert.doesNotMatch(code, /\brequire\s*\(|\bmodule\.exports\b|\bexports\.|^\s*(import|export)\b/m);
  });

  test("declares a global handler(event)", () => {
    assert.match(code, /^function handler\(event\) \{/m);
  });
});

test.describe("header stripping", () => {
  test("drops every x-versa-* header the viewer sent", () => {
    const result = run({
      "x-versa-country": "ZZ",
      "x-versa-client": "gmail",
      "x-versa-origin-secret": "guess",
      "x-versa-whatever": "1",
      "user-agent": "curl/8.5.0",
    });
    assert.deepEqual(versa(result), { client: "unknown", device: "desktop" });
  });

  test("keeps other headers untouched", () => {
    const result = run(viewer({ "x-other": "kept" }));
    assert.equal(result.headers["x-other"].value, "kept");
    assert.equal(result.headers["user-agent"].value, CHROME_WIN);
  });
});

test.describe("country", () => {
  for (const [raw, expected] of [
    ["US", "US"],
    ["de", "DE"],
    [" fr ", "FR"],
    ["XX", undefined],
    ["T1", undefined],
    ["USA", undefined],
    ["1A", undefined],
    ["", undefined],
    ["Ü1", undefined],
  ]) {
    test(`cloudfront-viewer-country ${JSON.stringify(raw)} → ${expected}`, () => {
      assert.equal(versa(run(viewer({ "cloudfront-viewer-country": raw }))).country, expected);
    });
  }

  test("absent without the CloudFront header", () => {
    const headers = viewer();
    delete headers["cloudfront-viewer-country"];
    assert.equal(versa(run(headers)).country, undefined);
  });
});

test.describe("time zone", () => {
  for (const [raw, expected] of [
    ["Europe/Berlin", "Europe/Berlin"],
    ["America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"],
    ["UTC", "UTC"],
    ["Etc/GMT+5", "Etc/GMT+5"],
    ["../../etc/passwd", undefined],
    ["posix/Europe/Berlin", undefined],
    ["right/UTC", undefined],
    ["localtime", undefined],
    ["A/B/C/D", undefined],
    ["Europe/Berlin; drop", undefined],
    ["x".repeat(65), undefined],
  ]) {
    test(`cloudfront-viewer-time-zone ${JSON.stringify(raw.slice(0, 30))} → ${expected}`, () => {
      assert.equal(versa(run(viewer({ "cloudfront-viewer-time-zone": raw }))).tz, expected);
    });
  }
});

test.describe("device", () => {
  test("CloudFront's flags decide, the most specific first", () => {
    const flags = {
      "cloudfront-is-desktop-viewer": "true",
      "cloudfront-is-mobile-viewer": "true",
      "cloudfront-is-tablet-viewer": "true",
      "cloudfront-is-smarttv-viewer": "false",
    };
    assert.equal(versa(run(viewer(flags))).device, "tablet");
    assert.equal(versa(run(viewer({ "cloudfront-is-smarttv-viewer": "TRUE" }))).device, "tv");
  });

  for (const [name, ua, expected] of [
    ["iPhone", SAFARI_IPHONE, "mobile"],
    ["iPad", SAFARI_IPAD, "tablet"],
    ["Android tablet", ANDROID_TABLET, "tablet"],
    ["Android phone", ANDROID_PHONE, "mobile"],
    ["smart TV", SMART_TV, "tv"],
    ["Windows Chrome", CHROME_WIN, "desktop"],
    ["curl", "curl/8.5.0", "desktop"],
  ]) {
    test(`without flags, from the User-Agent: ${name} → ${expected}`, () => {
      const headers = viewer({ "user-agent": ua });
      delete headers["cloudfront-is-desktop-viewer"];
      assert.equal(versa(run(headers)).device, expected);
    });
  }

  test("flags that are not 'true' fall through to the User-Agent", () => {
    const headers = viewer({ "user-agent": SAFARI_IPHONE, "cloudfront-is-desktop-viewer": "false" });
    assert.equal(versa(run(headers)).device, "mobile");
  });

  test("absent with neither flags nor a User-Agent (the pack's default applies)", () => {
    assert.equal(versa(run({ "cloudfront-viewer-country": "US" })).device, undefined);
  });
});

test.describe("client", () => {
  for (const [name, headers, expected] of [
    ["desktop Chrome", { "user-agent": CHROME_WIN }, "browser"],
    ["Chrome on Google's network is still a browser", { "user-agent": CHROME_WIN, "cloudfront-viewer-asn": "15169" }, "browser"],
    ["Gmail's image proxy", { "user-agent": GMAIL_PROXY, "cloudfront-viewer-asn": "15169" }, "gmail"],
    ["Gmail prefetch: no browser UA from Google", { "user-agent": "Google", "cloudfront-viewer-asn": "15169" }, "gmail_prefetch"],
    ["Yahoo's proxy", { "user-agent": YAHOO_PROXY }, "yahoo"],
    ["a bot on Yahoo's network", { "user-agent": "Slurp bot/1.0", "cloudfront-viewer-asn": "36647" }, "yahoo"],
    ["Apple MPP: exactly Mozilla/5.0", { "user-agent": "Mozilla/5.0", "cloudfront-viewer-asn": "714" }, "apple_mpp"],
    ["Apple MPP: bare UA on any network", { "user-agent": "Mozilla/5.0" }, "apple_mpp"],
    ["no UA from Apple's network", { "cloudfront-viewer-asn": "714" }, "apple_mpp"],
    ["no UA from Apple's engineering network", { "cloudfront-viewer-asn": "6185" }, "apple_mpp"],
    ["Outlook desktop", { "user-agent": OUTLOOK }, "outlook"],
    ["curl", { "user-agent": "curl/8.5.0" }, "unknown"],
    ["a headless browser", { "user-agent": CHROME_WIN.replace("Chrome/", "HeadlessChrome/") }, "unknown"],
    ["no headers at all", {}, "unknown"],
    ["a non-numeric ASN is ignored", { "cloudfront-viewer-asn": "AS15169" }, "unknown"],
    ["an ASN past 32 bits is ignored", { "cloudfront-viewer-asn": "4294967296" }, "unknown"],
  ]) {
    test(`${name} → ${expected}`, () => {
      assert.equal(versa(run(headers)).client, expected);
    });
  }
});

test.describe("email proxies describe themselves, not the reader", () => {
  for (const [name, headers, client] of [
    ["Gmail", { "user-agent": GMAIL_PROXY, "cloudfront-viewer-asn": "15169" }, "gmail"],
    ["Gmail prefetch", { "user-agent": "", "cloudfront-viewer-asn": "396982" }, "gmail_prefetch"],
    ["Yahoo", { "user-agent": YAHOO_PROXY }, "yahoo"],
    ["Apple MPP", { "user-agent": "Mozilla/5.0", "cloudfront-viewer-asn": "714" }, "apple_mpp"],
  ]) {
    test(`${name}: only the client class is set`, () => {
      const result = run(viewer(Object.assign({ accept: CHROME_ACCEPT }, headers)), { uri: "/v1/n/c.auto" });
      assert.deepEqual(versa(result), { client });
    });
  }

  test("Outlook desktop fetches for the reader: its headers count", () => {
    const result = run(viewer({ "user-agent": OUTLOOK }));
    assert.deepEqual(versa(result), {
      client: "outlook",
      country: "US",
      tz: "America/New_York",
      device: "desktop",
      lang: "en",
    });
  });
});

test.describe("language", () => {
  for (const [raw, expected] of [
    ["de-DE,de;q=0.9,en;q=0.8", "de"],
    ["en;q=0.5, fr", "fr"],
    ["EN_us", "en"],
    ["zh-Hant-TW", "zh"],
    ["fil-PH", "fil"],
    ["*", undefined],
    ["*, de;q=0.5", undefined],
    ["de, *;q=0.5", "de"],
    ["x-klingon, ja;q=0.5", "ja"],
    ["i-navajo", undefined],
    ["en;q=0", undefined],
    ["fr;q=abc, de;q=0.5", "de"],
    ["fr;q=1.5, de;q=0.5", "de"],
    ["fr;q=0.9999, de;q=0.5", "de"],
    ["fr; Q=0.4, de;q=0.5", "de"],
    ["de;q=0.8, fr;q=0.8", "de"],
    ["@@@, 12", undefined],
    [",,,", undefined],
  ]) {
    test(`accept-language ${JSON.stringify(raw)} → ${expected}`, () => {
      assert.equal(versa(run(viewer({ "accept-language": raw }))).lang, expected);
    });
  }

  test("only the first 24 ranges are read (as versa.context does)", () => {
    const raw = Array(24).fill("@@").concat(["de"]).join(",");
    assert.equal(versa(run(viewer({ "accept-language": raw }))).lang, undefined);
  });
});

test.describe("output format for .auto", () => {
  const auto = (headers) => versa(run(viewer(headers), { uri: "/v1/acme/winter-sale.auto" })).fmt;

  for (const [accept, expected] of [
    [CHROME_ACCEPT, "avif"],
    ["image/webp,*/*", "webp"],
    ["image/avif;q=0.8,image/webp", "webp"],
    ["image/avif,image/webp", "avif"],
    ["image/png,image/webp;q=0.5", "png"],
    ["image/webp;q=0.5,image/*", "png"],
    ["image/avif;q=0,image/webp;q=0", "png"],
    ["*/*", "png"],
    ["text/html", "png"],
    ["image/webp;q=1_0", "webp"],
    ["image/webp;q=nan", "png"],
    ["image/webp;q=inf", "webp"],
    ["image/webp;q=0x1", "png"],
    ["garbage;;;,", "png"],
  ]) {
    test(`a browser sending Accept ${JSON.stringify(accept)} → ${expected}`, () => {
      assert.equal(auto({ accept }), expected);
    });
  }

  test("no Accept header → png", () => {
    assert.equal(auto({}), "png");
  });

  test("unknown clients negotiate like browsers", () => {
    assert.equal(auto({ "user-agent": "curl/8.5.0", accept: "image/webp" }), "webp");
  });

  for (const [name, ua] of [
    ["Outlook", OUTLOOK],
    ["Gmail", GMAIL_PROXY],
    ["Apple MPP", "Mozilla/5.0"],
  ]) {
    test(`email client ${name}: no x-versa-fmt (Versa picks png, or gif when animated)`, () => {
      assert.equal(auto({ "user-agent": ua, accept: CHROME_ACCEPT }), undefined);
    });
  }

  test("a sized .auto URL (creative@WxH.auto) gets a format; the path is left as it is", () => {
    const result = run(viewer({ accept: "image/webp,*/*" }), { uri: "/v1/acme/winter-sale@728x90.auto" });
    assert.equal(versa(result).fmt, "webp");
    assert.equal(result.uri, "/v1/acme/winter-sale@728x90.auto");
  });

  test("only .auto URLs get a format", () => {
    assert.equal(versa(run(viewer({ accept: CHROME_ACCEPT }))).fmt, undefined);
    assert.equal(versa(run(viewer({ accept: CHROME_ACCEPT }), { uri: "/v1/a/b.auto/x" })).fmt, undefined);
  });
});

test.describe("query string", () => {
  const qs = (querystring) => run(viewer(), { querystring }).querystring;

  test("sorted by name, then value, repeats kept", () => {
    const result = qs({
      w: { value: "600" },
      sig: { value: "abc" },
      country: { value: "DE" },
      m: { value: "b", multiValue: [{ value: "b" }, { value: "a" }] },
    });
    assert.equal(result, "country=DE&m=a&m=b&sig=abc&w=600");
  });

  test("two orders of the same query give the same string", () => {
    const a = qs({ b: { value: "2" }, a: { value: "1" } });
    const b = qs({ a: { value: "1" }, b: { value: "2" } });
    assert.equal(a, b);
    assert.equal(a, "a=1&b=2");
  });

  test("encoded values pass through unchanged", () => {
    assert.equal(qs({ first_name: { value: "S%C3%B8ren" }, a: { value: "x%20y" } }), "a=x%20y&first_name=S%C3%B8ren");
  });

  test("a parameter without a value keeps its name", () => {
    assert.equal(qs({ flag: { value: "" }, a: { value: "1" } }), "a=1&flag=");
  });

  test("an empty query is left as it is", () => {
    assert.deepEqual(qs({}), {});
  });
});

test.describe("robustness", () => {
  test("a request without headers", () => {
    const result = handler({ request: { method: "GET", uri: "/v1/a/b.png", querystring: {} } });
    assert.deepEqual(versa(result), { client: "unknown" });
  });

  test("a request without a query or uri", () => {
    const result = handler({ request: { method: "GET", headers: {} } });
    assert.deepEqual(versa(result), { client: "unknown" });
  });

  test("header entries that are not strings are ignored", () => {
    const result = handler(
      event({
        uri: "/v1/a/b.auto",
        headers: {
          "user-agent": { value: 42 },
          "cloudfront-viewer-country": {},
          "accept-language": { value: null },
          "cloudfront-viewer-time-zone": { value: ["Europe/Berlin"] },
          accept: { value: { nested: true } },
        },
      }),
    );
    assert.deepEqual(versa(result), { client: "unknown", fmt: "png" });
  });

  test("over-long headers count as absent", () => {
    const long = CHROME_WIN + "x".repeat(1100);
    const result = run({ "user-agent": long, "accept-language": "de," + "x".repeat(1100) });
    assert.deepEqual(versa(result), { client: "unknown" });
  });

  test("garbage everywhere still yields a request", () => {
    const result = run({
      "user-agent": "\u0000\u00ff<script>",
      "cloudfront-viewer-asn": "-1",
      "cloudfront-viewer-country": "💥",
      "cloudfront-viewer-time-zone": "💥/💥",
      "cloudfront-is-mobile-viewer": "yes",
      "accept-language": ";;;q=1,=,",
      accept: ";q=;,/,image/;q=2",
    });
    assert.deepEqual(versa(result), { client: "unknown", device: "desktop" });
  });

  test("query entries with odd shapes do not throw", () => {
    const result = run(viewer(), { querystring: { a: null, b: { multiValue: [] }, c: { value: 3 } } });
    assert.equal(result.querystring, "a=&b=&c=3");
  });
});
