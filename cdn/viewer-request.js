// Versa viewer-request function (CloudFront Functions, cloudfront-js-2.0): sets the x-versa-* headers
// the cache keys on, turns `vid` into a bucket, sorts the query. See cdn/README.md. Max 10 KB.

var MAX_LEN = 1024;
var NO_COUNTRY = ["XX", "ZZ", "T1", "A1", "A2", "O1"];
var PROXIES = ["gmail", "gmail_prefetch", "yahoo", "apple_mpp"];
var WEB_CLIENTS = ["browser", "unknown"];
var GOOGLE_ASNS = [15169, 396982];
var YAHOO_ASNS = [10310, 36647, 34010];
var APPLE_ASNS = [714, 6185];
var OUTLOOK_RE = /Microsoft Outlook|MSOffice|ms-office|Outlook-Express/i;
var BROWSER_RE = /^Mozilla\/5\.0 \([^\n]+\)[^\n]*(AppleWebKit\/|Gecko\/|Trident\/|Gecko\))/;
var BOT_RE = /bot\b|bot\/|crawl|spider|slurp|headless|preview|scanner|facebookexternalhit|curl\/|wget\/|python|httpx|aiohttp|go-http-client|java\/|okhttp|libwww|axios|node-fetch|http-client|postman/i;
var TV_RE = /SmartTV|SMART-TV|Smart TV|Tizen|Web0S|webOS|AppleTV|Apple TV|GoogleTV|Android TV|AndroidTV|BRAVIA|HbbTV|CrKey|Roku|AFT[A-Z]|NetCast|Viera|PlayStation|Xbox/i;
var TABLET_RE = /iPad|Tablet|Kindle|Silk\/|PlayBook/i;
var MOBILE_RE = /Mobi|iPhone|iPod|Windows Phone|BlackBerry|Opera Mini|IEMobile/i;
var CF_DEVICES = [["smarttv", "tv"], ["tablet", "tablet"], ["mobile", "mobile"], ["desktop", "desktop"]];
var TZ_RE = /^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+){0,2}$/;
var TZ_REFUSED = ["localtime", "posixrules", "Factory", "leapseconds"];
var TAG_RE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;
var QUALITY_RE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;
var MEDIA_RE = /^[a-z0-9!#$&^_.+\-]+\/[a-z0-9!#$&^_.+*\-]+$/;
var VID = "vid";
var VID_RE = /^[A-Za-z0-9._~@:+\-]{1,128}$/;
var COOKIE = "versa_vid";
var COOKIE_ON = "${VisitorCookie}" === "on";
var FLOAT_RE = /^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)(e[+-]?\d(_?\d)*)?$/;

function has(list, value) {
  return list.indexOf(value) >= 0;
}

// A header as versa.context reads it: trimmed; empty or over 1024 is absent.
function header(headers, name) {
  var entry = headers[name];
  var value = entry && entry.value;
  if (typeof value !== "string") return null;
  value = value.trim();
  return value === "" || value.length > MAX_LEN ? null : value;
}

function viewerAsn(headers) {
  var raw = header(headers, "cloudfront-viewer-asn");
  if (raw === null || !/^[0-9]{1,10}$/.test(raw) || Number(raw) >= 4294967296) return null;
  return Number(raw);
}

// versa.clients.classify_client
function classify(ua, asn) {
  ua = ua || "";
  if (ua.indexOf("GoogleImageProxy") >= 0) return "gmail";
  if (ua.indexOf("YahooMailProxy") >= 0) return "yahoo";
  if (OUTLOOK_RE.test(ua)) return "outlook";
  if (ua === "Mozilla/5.0") return "apple_mpp";
  var browser = BROWSER_RE.test(ua) && !BOT_RE.test(ua);
  if (!browser && asn !== null) {
    if (has(GOOGLE_ASNS, asn)) return "gmail_prefetch";
    if (has(YAHOO_ASNS, asn)) return "yahoo";
    if (has(APPLE_ASNS, asn)) return "apple_mpp";
  }
  return browser ? "browser" : "unknown";
}

// CloudFront's flags (most specific first), else versa.clients.parse_user_agent; null without either.
function device(headers, ua) {
  for (var i = 0; i < CF_DEVICES.length; i++) {
    var flag = header(headers, "cloudfront-is-" + CF_DEVICES[i][0] + "-viewer");
    if (flag !== null && flag.toLowerCase() === "true") return CF_DEVICES[i][1];
  }
  if (ua === null) return null;
  if (TV_RE.test(ua)) return "tv";
  if (TABLET_RE.test(ua) || (/Android/i.test(ua) && ua.indexOf("Mobile") < 0)) return "tablet";
  return MOBILE_RE.test(ua) ? "mobile" : "desktop";
}

function country(raw) {
  if (raw === null || !/^[A-Za-z]{2}$/.test(raw)) return null;
  var code = raw.toUpperCase();
  return has(NO_COUNTRY, code) ? null : code;
}

// Shaped like an IANA zone name (Versa checks it exists).
function zone(raw) {
  if (raw === null || raw.length > 64 || !TZ_RE.test(raw) || has(TZ_REFUSED, raw)) return null;
  return /^(posix|right)(\/|$)/.test(raw) ? null : raw;
}

// Primary subtag of the preferred range, as versa.context.negotiate_locale reads it; null for "*" or none.
function language(accept) {
  var parts = accept.split(",").slice(0, 24);
  var ranges = [];
  for (var i = 0; i < parts.length; i++) {
    var part = parts[i].trim();
    var semi = part.indexOf(";");
    var tag = (semi < 0 ? part : part.slice(0, semi)).trim().replace(/_/g, "-");
    var params = semi < 0 ? [] : part.slice(semi + 1).split(";");
    var q = 1;
    for (var j = 0; j < params.length; j++) {
      var param = params[j].trim();
      var eq = param.indexOf("=");
      var key = eq < 0 ? param : param.slice(0, eq);
      var value = eq < 0 ? "" : param.slice(eq + 1).trim();
      if (key.trim().toLowerCase() === "q") q = QUALITY_RE.test(value) ? Number(value) : 0;
    }
    if (q > 0 && (tag === "*" || TAG_RE.test(tag))) ranges.push([q, i, tag.toLowerCase()]);
  }
  ranges.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
  for (var k = 0; k < ranges.length; k++) {
    if (ranges[k][2] === "*") return null;
    var primary = ranges[k][2].split("-")[0];
    if (/^[a-z]{2,3}$/.test(primary)) return primary;
  }
  return null;
}

// Python's float() (NaN when it raises)
function pyFloat(text) {
  text = text.trim();
  if (/^[+-]?inf(inity)?$/.test(text)) return text.charAt(0) === "-" ? -Infinity : Infinity;
  return FLOAT_RE.test(text) ? Number(text.replace(/_/g, "")) : NaN;
}

// versa.render.encode.negotiate for a browser, every format allowed: avif, webp or png.
function format(accept) {
  var q = Object.create(null);
  var parts = (typeof accept === "string" ? accept : "").toLowerCase().split(",");
  for (var i = 0; i < parts.length; i++) {
    var bits = parts[i].split(";");
    var media = bits[0].trim();
    if (!MEDIA_RE.test(media)) continue;
    var quality = 1;
    for (var j = 1; j < bits.length; j++) {
      var param = bits[j].trim();
      var eq = param.indexOf("=");
      if ((eq < 0 ? param : param.slice(0, eq)).trim() !== "q") continue;
      var f = pyFloat(eq < 0 ? "" : param.slice(eq + 1));
      quality = f !== f ? 0 : Math.min(1, Math.max(0, f));
    }
    q[media] = Math.max(quality, q[media] || 0);
  }
  var bestQ = "image/png" in q ? q["image/png"] : "image/*" in q ? q["image/*"] : "*/*" in q ? q["*/*"] : Object.keys(q).length ? 0 : 1;
  var best = "png";
  var modern = ["webp", "avif"];
  for (var k = 0; k < modern.length; k++) {
    var fq = q["image/" + modern[k]] || 0;
    if (fq > 0 && fq >= bestQ) {
      best = modern[k];
      bestQ = fq;
    }
  }
  return best;
}

// a * b mod 2^32, exact in doubles
function mul32(a, b) {
  return ((((a >>> 16) * b) & 0xffff) * 65536 + (a & 0xffff) * b) >>> 0;
}

// versa.context.visitor.visitor_hash: FNV-1a, then MurmurHash3's finalizer.
function visitorHash(id) {
  var h = 0x811c9dc5;
  for (var i = 0; i < id.length; i++) h = mul32((h ^ id.charCodeAt(i)) >>> 0, 0x01000193);
  h = mul32((h ^ (h >>> 16)) >>> 0, 0x85ebca6b);
  h = mul32((h ^ (h >>> 13)) >>> 0, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// versa.context.visitor.canonical_id (percent-decoded here)
function visitorId(raw) {
  if (typeof raw !== "string" || raw === "") return null;
  try {
    raw = decodeURIComponent(raw);
  } catch (e) {
    return null;
  }
  raw = raw.replace(/ /g, "+");
  return VID_RE.test(raw) ? raw : null;
}

// versa.context.visitor.minted_id (viewer-response.js stores it)
function mintedId(context) {
  var id = String((context && context.requestId) || "").replace(/[^A-Za-z0-9._~@:+\-]/g, "").slice(0, 64);
  return id === "" ? null : id;
}

// versa.context.visitor.edge_visitor; every `vid` blanked (signed as a merge value: name only)
function visitor(request, context) {
  var qs = request.querystring;
  var entry = qs && typeof qs === "object" ? qs[VID] : null;
  if (!entry) return null;
  var values = entry.multiValue && entry.multiValue.length ? entry.multiValue : [entry];
  var raw = values[0] && values[0].value;
  for (var i = 0; i < values.length; i++) if (values[i]) values[i].value = "";
  entry.value = "";
  var id = null;
  if (typeof raw === "string" && raw !== "") id = visitorId(raw);
  else if (COOKIE_ON) {
    var jar = request.cookies || {};
    id = visitorId(jar[COOKIE] && jar[COOKIE].value) || mintedId(context);
  }
  return id === null ? null : String(visitorHash(id) % 100);
}

// One order (name, then value): equivalent URLs share a cache entry.
function sortQuery(request) {
  var qs = request.querystring;
  if (!qs || typeof qs !== "object") return;
  var pairs = [];
  Object.keys(qs).forEach(function (name) {
    var entry = qs[name] || {};
    var values = entry.multiValue && entry.multiValue.length ? entry.multiValue : [entry];
    for (var i = 0; i < values.length; i++) {
      var value = values[i] && values[i].value;
      pairs.push([name, value === undefined || value === null ? "" : String(value)]);
    }
  });
  if (!pairs.length) return;
  pairs.sort(function (a, b) {
    if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
  });
  request.querystring = pairs.map(function (p) { return p[0] + "=" + p[1]; }).join("&");
}

function handler(event) {
  var request = event.request;
  var headers = request.headers || (request.headers = {});
  Object.keys(headers).forEach(function (name) {
    if (name.toLowerCase().indexOf("x-versa-") === 0) delete headers[name];
  });
  var ua = header(headers, "user-agent");
  var client = classify(ua, viewerAsn(headers));
  var out = { client: client };
  if (!has(PROXIES, client)) {
    out.country = country(header(headers, "cloudfront-viewer-country"));
    out.tz = zone(header(headers, "cloudfront-viewer-time-zone"));
    out.device = device(headers, ua);
    var accept = header(headers, "accept-language");
    out.lang = accept === null ? null : language(accept);
  }
  if (has(WEB_CLIENTS, client) && /\.auto$/.test(request.uri || "")) {
    out.fmt = format(headers.accept && headers.accept.value);
  }
  out.vb = visitor(request, event.context);
  Object.keys(out).forEach(function (name) {
    if (out[name] !== null) headers["x-versa-" + name] = { value: out[name] };
  });
  sortQuery(request);
  return request;
}
