// Versa viewer-response function (CloudFront Functions, cloudfront-js-2.0): the first-party visitor cookie.
// With VisitorCookie on (a custom domain, and the brand's consent), a response to a URL with an empty
// `vid` and no usable cookie stores the id viewer-request.js minted from the same request id; with it
// off, a cookie left from before is expired. Runs on cache hits too, so the cookie is never cached.
// See cdn/README.md. template.yaml inlines it through !Sub.

var COOKIE = "versa_vid";
var COOKIE_ON = "${VisitorCookie}" === "on";
var VID_RE = /^[A-Za-z0-9._~@:+\-]{1,128}$/;
var ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";

// The value of `vid` in the request's query (an object, or a string once sorted), or null without one.
function vid(qs) {
  if (typeof qs === "string") {
    var m = /(?:^|&)vid=([^&]*)/.exec(qs);
    return m ? m[1] : null;
  }
  var entry = qs && qs.vid;
  if (!entry) return null;
  var first = entry.multiValue && entry.multiValue.length ? entry.multiValue[0] : entry;
  return typeof first.value === "string" ? first.value : "";
}

function usable(raw) {
  if (typeof raw !== "string") return false;
  try {
    return VID_RE.test(decodeURIComponent(raw).replace(/ /g, "+"));
  } catch (e) {
    return false;
  }
}

// versa.context.visitor.minted_id, as viewer-request.js computes it for the same request.
function mintedId(context) {
  var id = String((context && context.requestId) || "").replace(/[^A-Za-z0-9._~@:+\-]/g, "").slice(0, 64);
  return id === "" ? null : id;
}

function handler(event) {
  var request = event.request || {};
  var response = event.response;
  var jar = request.cookies || {};
  var held = jar[COOKIE] ? jar[COOKIE].value : null;
  var cookies = response.cookies || (response.cookies = {});
  if (!COOKIE_ON) {
    if (held !== null && held !== undefined) cookies[COOKIE] = { value: "", attributes: ATTRIBUTES + "; Max-Age=0" };
    return response;
  }
  if (vid(request.querystring) !== "" || usable(held)) return response;
  var id = mintedId(event.context);
  if (id !== null) cookies[COOKIE] = { value: id, attributes: ATTRIBUTES + "; Max-Age=31536000" };
  return response;
}
