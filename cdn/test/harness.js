// Loads cdn/viewer-request.js the way CloudFront runs it: as a plain script with no module system,
// here in a node:vm sandbox that has only the JavaScript built-ins (no require, process, Buffer).
//
//   node cdn/test/harness.js --stdin   reads a JSON array of CloudFront Functions events on stdin and
//                                      prints the JSON array of the requests the function returns
//                                      (used by tests/unit/test_cdn_parity.py: one process, many events).
// Without --stdin (e.g. when `node --test cdn/test/` picks this file up) it does nothing.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const SOURCE = path.join(__dirname, "..", "viewer-request.js");

function loadHandler(file = SOURCE) {
  const code = fs.readFileSync(file, "utf8");
  const sandbox = vm.createContext({});
  vm.runInContext(code, sandbox, { filename: file, timeout: 1000 });
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

module.exports = { SOURCE, loadHandler, event };

if (require.main === module && process.argv.includes("--stdin")) {
  const handler = loadHandler();
  const events = JSON.parse(fs.readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(events.map((e) => handler(e))));
}
