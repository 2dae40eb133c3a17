// The visitor id at the edge: `vid` becomes a bucket before the cache key is formed, and the
// first-party cookie of viewer-response.js. `node --test cdn/test/`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const { SOURCE, RESPONSE_SOURCE, loadHandler, loadBucket, event } = require("./harness.js");

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
// What template.yaml's cache policy keys on (tests/unit/test_template.py checks the policy lists exactly
// versa.context.attributes.CDN_HEADER_OF and x-versa-fmt), plus the query string, whole.
const KEYED = ["x-versa-country", "x-versa-tz", "x-versa-device", "x-versa-client", "x-versa-lang", "x-versa-fmt", "x-versa-vb"];

const off = loadHandler(SOURCE, { VisitorCookie: "off" });
const on = loadHandler(SOURCE, { VisitorCookie: "on" });
const responseOff = loadHandler(RESPONSE_SOURCE, { VisitorCookie: "off" });
const responseOn = loadHandler(RESPONSE_SOURCE, { VisitorCookie: "on" });
const bucketOf = loadBucket();

// GIVEN a query (name → value or [values]) and cookies, WHEN the function runs, THEN the request.
function run(handler, query, { cookies = {}, ua = CHROME, requestId = "req-1" } = {}) {
  const querystring = {};
  for (const [name, value] of Object.entries(query)) {
    querystring[name] = Array.isArray(value)
      ? { value: value[0], multiValue: value.map((v) => ({ value: v })) }
      : { value };
  }
  const jar = {};
  for (const [name, value] of Object.entries(cookies)) jar[name] = { value };
  const e = event({
    uri: "/v1/acme/hero.png",
    querystring,
    cookies: jar,
    headers: { "user-agent": { value: ua }, "cloudfront-viewer-country": { value: "US" } },
  });
  e.context.requestId = requestId;
  return handler(e);
}

// The CDN's cache key for a returned request: the keyed headers and the query string.
function cacheKey(request) {
  const headers = KEYED.filter((n) => request.headers[n]).map((n) => `${n}=${request.headers[n].value}`);
  return `${headers.join(";")}?${request.querystring}`;
}

const ids = Array.from({ length: 2000 }, (_, i) => `visitor-${i}`);

test.describe("the visitor bucket", () => {
  test("a URL with vid gets x-versa-vb, its id's bucket, and the id leaves the request", () => {
    const result = run(off, { vid: "ab12-xyz@example.com", kid: "dev" });
    const bucket = bucketOf("ab12-xyz@example.com");
    assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < 100);
    assert.equal(result.headers["x-versa-vb"].value, String(bucket));
    assert.equal(result.querystring, "kid=dev&vid=");
    assert.doesNotMatch(JSON.stringify(result), /ab12-xyz/);
  });

  test("2,000 visitors make at most 100 cache entries, one per bucket, holding the bucket only", () => {
    const keys = new Map();
    for (const id of ids) {
      const result = run(off, { vid: id, sig: "s" });
      const key = cacheKey(result);
      assert.ok(!key.includes(id), key);
      keys.set(key, result.headers["x-versa-vb"].value);
    }
    const buckets = new Set(ids.map((id) => String(bucketOf(id))));
    assert.equal(keys.size, buckets.size);
    assert.ok(keys.size <= 100);
    assert.deepEqual(new Set(keys.values()), buckets);
  });

  test("two visitors in one bucket share the cache entry; in two buckets they differ by x-versa-vb alone", () => {
    const first = ids[0];
    const twin = ids.find((id) => id !== first && bucketOf(id) === bucketOf(first));
    const other = ids.find((id) => bucketOf(id) !== bucketOf(first));
    assert.equal(cacheKey(run(off, { vid: first })), cacheKey(run(off, { vid: twin })));
    const a = cacheKey(run(off, { vid: first }));
    const b = cacheKey(run(off, { vid: other }));
    assert.notEqual(a, b);
    assert.equal(a.replace(/x-versa-vb=\d+/, ""), b.replace(/x-versa-vb=\d+/, ""));
  });

  test("a URL without vid (a creative that does not split) gets no bucket, cookie or not", () => {
    for (const handler of [off, on]) {
      const result = run(handler, { kid: "dev" }, { cookies: { versa_vid: "abc" } });
      assert.equal(result.headers["x-versa-vb"], undefined);
      assert.equal(result.querystring, "kid=dev");
    }
  });

  test("an id the edge cannot use is no id: no bucket, and still blanked", () => {
    for (const raw of ["a b<c>", "x".repeat(129), "%E0%A4%A", "é"]) {
      const result = run(off, { vid: raw });
      assert.equal(result.headers["x-versa-vb"], undefined, raw);
      assert.equal(result.querystring, "vid=");
    }
  });

  test("percent-encoding and a '+' read as a space name the same visitor", () => {
    const plain = run(off, { vid: "a+b@example.com" }).headers["x-versa-vb"].value;
    assert.equal(run(off, { vid: "a%2Bb%40example.com" }).headers["x-versa-vb"].value, plain);
    assert.equal(run(off, { vid: "a%20b@example.com" }).headers["x-versa-vb"].value, plain);
  });

  test("every occurrence of vid is blanked (the template signature counts them)", () => {
    const result = run(off, { vid: ["u1", "u2"] });
    assert.equal(result.querystring, "vid=&vid=");
    assert.equal(result.headers["x-versa-vb"].value, String(bucketOf("u1")));
  });

  test("an email proxy's fetch keeps the recipient's bucket", () => {
    const result = run(off, { vid: "r-42" }, { ua: GMAIL_PROXY });
    assert.equal(result.headers["x-versa-client"].value, "gmail");
    assert.equal(result.headers["x-versa-vb"].value, String(bucketOf("r-42")));
  });

  test("a viewer's own x-versa-vb is dropped", () => {
    const e = event({ uri: "/v1/acme/hero.png", headers: { "x-versa-vb": { value: "7" } } });
    assert.equal(off(e).headers["x-versa-vb"], undefined);
  });
});

test.describe("the first-party cookie", () => {
  test("off: an empty vid stays without a bucket, the cookie is not read", () => {
    const result = run(off, { vid: "" }, { cookies: { versa_vid: "known-visitor" } });
    assert.equal(result.headers["x-versa-vb"], undefined);
  });

  test("on: an empty vid takes the cookie's visitor; a filled vid wins over the cookie", () => {
    const fromCookie = run(on, { vid: "" }, { cookies: { versa_vid: "known-visitor" } });
    assert.equal(fromCookie.headers["x-versa-vb"].value, String(bucketOf("known-visitor")));
    const fromUrl = run(on, { vid: "r-42" }, { cookies: { versa_vid: "known-visitor" } });
    assert.equal(fromUrl.headers["x-versa-vb"].value, String(bucketOf("r-42")));
  });

  test("on, first visit: the request is bucketed by the id the response then stores", () => {
    const requestId = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==";
    const request = run(on, { vid: "" }, { requestId });
    const response = responseOn({
      version: "1.0",
      context: { eventType: "viewer-response", requestId },
      viewer: { ip: "198.51.100.7" },
      request: { method: "GET", uri: "/v1/acme/hero.png", querystring: { vid: { value: "" } }, headers: {}, cookies: {} },
      response: { statusCode: 200, headers: {}, cookies: {} },
    });
    const stored = response.cookies.versa_vid;
    assert.match(stored.attributes, /Secure/);
    assert.match(stored.attributes, /Max-Age=31536000/);
    assert.equal(request.headers["x-versa-vb"].value, String(bucketOf(stored.value)));
    // and the next request, carrying the cookie, lands in the same bucket
    const next = run(on, { vid: "" }, { cookies: { versa_vid: stored.value }, requestId: "another" });
    assert.equal(next.headers["x-versa-vb"].value, request.headers["x-versa-vb"].value);
  });

  function respond(handler, query, cookies) {
    const jar = {};
    for (const [name, value] of Object.entries(cookies)) jar[name] = { value };
    const querystring = {};
    for (const [name, value] of Object.entries(query)) querystring[name] = { value };
    return handler({
      version: "1.0",
      context: { eventType: "viewer-response", requestId: "req-9" },
      viewer: { ip: "198.51.100.7" },
      request: { method: "GET", uri: "/v1/acme/hero.png", querystring, headers: {}, cookies: jar },
      response: { statusCode: 200, headers: {}, cookies: {} },
    });
  }

  test("on: no cookie is set for a URL without vid, with a filled vid, or over a usable cookie", () => {
    assert.deepEqual(respond(responseOn, {}, {}).cookies, {});
    assert.deepEqual(respond(responseOn, { vid: "r-42" }, {}).cookies, {});
    assert.deepEqual(respond(responseOn, { vid: "" }, { versa_vid: "known" }).cookies, {});
  });

  test("off (no consent): nothing is set, and a cookie left from before is expired", () => {
    assert.deepEqual(respond(responseOff, { vid: "" }, {}).cookies, {});
    const expired = respond(responseOff, { vid: "" }, { versa_vid: "known" }).cookies.versa_vid;
    assert.equal(expired.value, "");
    assert.match(expired.attributes, /Max-Age=0/);
  });

  test("viewer-response.js is a plain script under 10 KB whose only variable is VisitorCookie", () => {
    const code = fs.readFileSync(RESPONSE_SOURCE, "utf8");
    assert.ok(Buffer.byteLength(code) < 10 * 1024);
    assert.doesNotMatch(code, /\brequire\s*\(|\bmodule\.exports\b|^\s*(import|export)\b/m);
    assert.deepEqual([...new Set(code.match(/\$\{[^}]*\}/g))], ["${VisitorCookie}"]);
    assert.deepEqual([...new Set(fs.readFileSync(SOURCE, "utf8").match(/\$\{[^}]*\}/g))], ["${VisitorCookie}"]);
  });
});
