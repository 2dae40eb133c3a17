// Loads cdn/viewer-request.js (or viewer-response.js) the way CloudFront runs it: as a plain script with
// no module system, here in a node:vm sandbox that has only the JavaScript built-ins (no require,
// process, Buffer), after substituting ${Name} variables as template.yaml's !Sub does.
//
//   node cdn/test/harness.js --stdin [--cookie on|off]
//       reads a JSON array of CloudFront Functions events on stdin and prints the JSON array of the
//       requests the function returns (used by tests/unit/test_cdn_parity.py: one process, many events).
//   node cdn/test/harness.js --bucket   reads a JSON array of ids and prints their visitor buckets.
// Without either (e.g. when `node --test cdn/test/` picks this file up) it does nothing.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const SOURCE = path.join(__dirname, "..", "viewer-request.js");
const RESPONSE_SOURCE = path.join(__dirname, "..", "viewer-response.js");

// The code as CloudFormation's !Sub leaves it: every ${Name} replaced by vars[Name] (an unknown name is an error).
function substitute(code, vars) {
  return code.replace(/\$\{([A-Za-z0-9_:.]+)\}/g, (_, name) => {
    if (!(name in vars)) throw new Error(`no value for \${${name}}`);
    return vars[name];
  });
}

function sandboxOf(file, vars) {
  const code = substitute(fs.readFileSync(file, "utf8"), vars);
  const sandbox = vm.createContext({});
  vm.runInContext(code, sandbox, { filename: file, timeout: 1000 });
  return sandbox;
}

function loadHandler(file = SOURCE, vars = { VisitorCookie: "off" }) {
  const sandbox = sandboxOf(file, vars);
  if (typeof sandbox.handler !== "function") throw new Error(`${file} defines no global handler(event)`);
  // Events cross the realm boundary as JSON, so results are plain objects of this realm.
  const run = vm.runInContext("(function (json) { return JSON.stringify(handler(JSON.parse(json))); })", sandbox);
  return (event) => JSON.parse(run(JSON.stringify(event)));
}

function event(request) {
  return {
    version: "1.0",
    context: { eventType: "viewer-request" },
    viewer: { ip: "198.51.100.7" },
    request: Object.assign({ method: "GET", uri: "/", querystring: {}, headers: {}, cookies: {} }, request),
  };
}

// The edge's visitor bucket of an id (viewer-request.js's own functions), for the parity test.
function loadBucket(file = SOURCE) {
  const sandbox = sandboxOf(file, { VisitorCookie: "off" });
  return vm.runInContext("(function (id) { var v = visitorId(id); return v === null ? null : visitorHash(v) % 100; })", sandbox);
}

module.exports = { SOURCE, RESPONSE_SOURCE, substitute, loadHandler, loadBucket, event };

if (require.main === module && process.argv.includes("--stdin")) {
  const at = process.argv.indexOf("--cookie");
  const handler = loadHandler(SOURCE, { VisitorCookie: at > 0 ? process.argv[at + 1] : "off" });
  const events = JSON.parse(fs.readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(events.map((e) => handler(e))));
}

if (require.main === module && process.argv.includes("--bucket")) {
  const bucket = loadBucket();
  const ids = JSON.parse(fs.readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(ids.map((id) => bucket(id))));
}
