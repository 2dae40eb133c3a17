"""A small OpenAI-compatible HTTP server for tests: `POST /v1/chat/completions` answers with the documented
Chat Completions shapes (a `chat.completion` object with choices, message, refusal, finish_reason and
usage; errors as `{"error": {"message", "type", "param", "code"}}`), scripted per model.

Run as a process (`running_openai_server()` starts it on a free loopback port, keeps its PID and stops
it), and script it over HTTP:

- `POST /_script {"model": M, "responses": [...], "strict_schema": true, "sampling": true}`: the answers
  for model M, used in order (the last one repeats). Each answer may give `candidates` (a list: the
  content becomes `{"candidates": [...]}`), `content` (the raw content), `refusal`, `finish_reason`,
  `status` with `error` (an error answer) and `headers`, and `delay` (seconds before answering).
  `"by_prompt": [{"match": [...], ...answer}]` answers per prompt instead: the first entry whose every
  `match` string occurs in the request's messages, else the `responses` in order; a prompt no entry
  matches, with no `responses`, is a 400 naming it (a scripted answer is missing).
  `strict_schema: false` answers a `json_schema` response_format with a 400 (a server without strict
  schemas); `sampling: false` answers any `temperature` with a 400 (a model without sampling parameters).
- `GET /_requests`: every request body received, in order; `POST /_reset` forgets scripts and requests.

A model with no script is unknown: 404 `model_not_found`, as OpenAI answers.

The Images API and moderation, with the same scripts:

- `POST /v1/images/generations` (JSON) and `POST /v1/images/edits` (multipart/form-data: the `image` file
  and the fields) answer an `ImagesResponse` (`created`, `data: [{"b64_json"}]`, `size`, `quality`,
  `output_format`, `usage`) for a scripted model. An answer may give `image: {"color": [r, g, b],
  "width": W, "height": H, "format": "PNG"|"JPEG"|"WEBP"}` (a real image drawn with Pillow; by default a
  PNG of the requested size), `b64_json` (the raw string, for a malformed image), `url` (an URL answer
  instead of the image), or `status` with `error`, `headers` and `delay` as above.
- `POST /v1/moderations` answers a `ModerationCreateResponse`; `POST /_moderation {"responses": [...],
  "available": true}` scripts it: each answer `{"flagged": true, "categories": ["violence"]}` or an
  error answer (the default: nothing flagged); `available: false` answers 404 (a server without it).
- Images and moderation requests are recorded with `_path` (the route), images requests also with
  `_auth` (the Authorization header) and, for an edit, `_files` (name, filename, content type, size
  and the bytes' SHA-256 of each uploaded file).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import io
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scripts: dict[str, dict[str, Any]] = {}
        self.used: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self.moderation: dict[str, Any] = {"responses": [], "available": True}
        self.moderated = 0


STATE = State()


def _error(status: int, message: str, *, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"status": status, "error": {"message": message, "type": type_, "param": param, "code": code}}


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    """The scripted answer (status, payload, headers, delay) for a chat completion request."""
    model = str(body.get("model"))
    with STATE.lock:
        STATE.requests.append(body)
        script = STATE.scripts.get(model)
        if script is None:
            return _error(404, f"The model `{model}` does not exist or you do not have access to it.",
                          type_="invalid_request_error", code="model_not_found")
        fmt = body.get("response_format") or {}
        if not script.get("strict_schema", True) and fmt.get("type") == "json_schema":
            return _error(400, "response_format of type 'json_schema' is not supported by this server",
                          type_="invalid_request_error", param="response_format")
        if not script.get("sampling", True) and "temperature" in body:
            return _error(400, "Unsupported value: 'temperature' does not support 0.7 with this model.",
                          type_="invalid_request_error", param="temperature", code="unsupported_value")
        prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages") or [])
        for entry in script.get("by_prompt") or ():
            if all(needle in prompt for needle in entry["match"]):
                return {k: v for k, v in entry.items() if k != "match"}
        responses = script["responses"]
        if not responses:
            return _error(400, f"no scripted answer matches this prompt: {prompt[:400]!r}",
                          type_="invalid_request_error", param="messages")
        n = STATE.used.get(model, 0)
        STATE.used[model] = n + 1
        return dict(responses[min(n, len(responses) - 1)])


def _completion(model: str, spec: dict[str, Any]) -> dict[str, Any]:
    if "candidates" in spec:
        content: str | None = json.dumps({"candidates": spec["candidates"]}, ensure_ascii=False)
    else:
        content = spec.get("content")
    refusal = spec.get("refusal")
    if refusal is not None:
        content = None
    completion_tokens = max(1, len(content or refusal or "") // 4)
    return {
        "id": f"chatcmpl-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": spec.get("finish_reason", "stop"),
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": completion_tokens, "total_tokens": 50 + completion_tokens},
        "system_fingerprint": "fp_test",
    }


MODERATION_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)  # fmt: skip


def _image_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The scripted answer for an images request (recorded like a chat request); unknown model: 404."""
    model = str(body.get("model"))
    with STATE.lock:
        STATE.requests.append(body)
        script = STATE.scripts.get(model)
        if script is None:
            return _error(404, f"The model `{model}` does not exist or you do not have access to it.",
                          type_="invalid_request_error", code="model_not_found")
        responses = script["responses"] or [{}]
        n = STATE.used.get(model, 0)
        STATE.used[model] = n + 1
        return dict(responses[min(n, len(responses) - 1)])


def _draw(spec: dict[str, Any], size: str) -> str:
    """A real image, base64: `spec` gives color, width, height and format (default: the requested size)."""
    from PIL import Image

    width, height = (int(v) for v in (size if "x" in size else "1024x1024").split("x"))
    width, height = int(spec.get("width", width)), int(spec.get("height", height))
    fmt = str(spec.get("format", "PNG"))
    image = Image.new("RGB", (width, height), tuple(spec.get("color", (200, 120, 40))))
    image.paste(tuple(spec.get("accent", (20, 40, 90))), (width // 4, height // 4, width // 2, height // 2))
    out = io.BytesIO()
    image.save(out, fmt)
    return base64.b64encode(out.getvalue()).decode()


def _images(body: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    size = str(body.get("size") or "1024x1024")
    if "url" in spec:
        item: dict[str, Any] = {"url": spec["url"]}
    elif "b64_json" in spec:
        item = {"b64_json": spec["b64_json"]}
    else:
        item = {"b64_json": _draw(dict(spec.get("image") or {}), size)}
    quality = str(body.get("quality") or "medium")
    return {
        "created": int(time.time()), "data": [item], "background": "opaque", "output_format": "png",
        "quality": quality, "size": size,
        "usage": {"input_tokens": 40, "input_tokens_details": {"image_tokens": 0, "text_tokens": 40},
                  "output_tokens": 1056, "total_tokens": 1096,
                  "output_tokens_details": {"image_tokens": 1056, "text_tokens": 0}},
    }  # fmt: skip


def _moderation_answer(body: dict[str, Any]) -> dict[str, Any]:
    with STATE.lock:
        STATE.requests.append(body)
        script = STATE.moderation
        if not script.get("available", True):
            return {"status": 404, "error": {"message": "Invalid URL (POST /v1/moderations)",
                                             "type": "invalid_request_error", "param": None, "code": None}}
        responses = script["responses"] or [{}]
        n = STATE.moderated
        STATE.moderated = n + 1
        return dict(responses[min(n, len(responses) - 1)])


def _moderation(body: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    hits = set(spec.get("categories") or ())
    flagged = bool(spec.get("flagged", bool(hits)))
    return {
        "id": f"modr-{int(time.time() * 1000)}",
        "model": str(body.get("model") or "omni-moderation-latest"),
        "results": [{
            "flagged": flagged,
            "categories": {c: c in hits for c in MODERATION_CATEGORIES},
            "category_scores": {c: 0.9 if c in hits else 0.001 for c in MODERATION_CATEGORIES},
            "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
        }],
    }  # fmt: skip


def _multipart(content_type: str, data: bytes) -> dict[str, Any]:
    """The fields of a multipart/form-data body, files described under `_files` (their bytes hashed)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + data
    )
    fields: dict[str, Any] = {}
    files: list[dict[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files.append({"name": name, "filename": filename, "content_type": part.get_content_type(),
                          "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()})
        else:
            fields[str(name)] = payload.decode()
    fields["_files"] = files
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        content_type = self.headers.get("Content-Type") or ""
        if content_type.startswith("multipart/form-data"):
            return _multipart(content_type, data)
        return json.loads(data or b"{}")

    def _scripted(self, spec: dict[str, Any], answer: Callable[[], dict[str, Any]]) -> None:
        if spec.get("delay"):
            time.sleep(float(spec["delay"]))
        if "error" in spec:
            self._send(int(spec["status"]), {"error": spec["error"]}, spec.get("headers"))
        else:
            self._send(int(spec.get("status", 200)), answer(), spec.get("headers"))

    def do_GET(self) -> None:
        if self.path == "/_requests":
            with STATE.lock:
                self._send(200, STATE.requests)
        elif self.path.startswith("/v1/models/"):
            model = self.path.removeprefix("/v1/models/")
            with STATE.lock:
                known = model in STATE.scripts
            if known:
                self._send(200, {"id": model, "object": "model", "created": 0, "owned_by": "test"})
            else:
                self._send(404, {"error": {"message": f"The model `{model}` does not exist", "type":
                                           "invalid_request_error", "param": None, "code": "model_not_found"}})
        else:
            self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/_script":
            with STATE.lock:
                STATE.scripts[body["model"]] = body
                STATE.used.pop(body["model"], None)
            self._send(200, {"ok": True})
        elif self.path == "/_reset":
            with STATE.lock:
                STATE.scripts.clear()
                STATE.used.clear()
                STATE.requests.clear()
                STATE.moderation = {"responses": [], "available": True}
                STATE.moderated = 0
            self._send(200, {"ok": True})
        elif self.path == "/_moderation":
            with STATE.lock:
                STATE.moderation = {"responses": body.get("responses") or [], "available": body.get("available", True)}
                STATE.moderated = 0
            self._send(200, {"ok": True})
        elif self.path in ("/v1/images/generations", "/v1/images/edits"):
            body["_path"] = self.path
            body["_auth"] = self.headers.get("Authorization")
            spec = _image_answer(body)
            self._scripted(spec, lambda: _images(body, spec))
        elif self.path == "/v1/moderations":
            body["_path"] = self.path
            spec = _moderation_answer(body)
            self._scripted(spec, lambda: _moderation(body, spec))
        elif self.path == "/v1/chat/completions":
            spec = _answer(body)
            if spec.get("delay"):
                time.sleep(float(spec["delay"]))
            if "error" in spec:
                self._send(int(spec["status"]), {"error": spec["error"]}, spec.get("headers"))
            else:
                self._send(int(spec.get("status", 200)), _completion(str(body["model"]), spec), spec.get("headers"))
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})


def serve(port: int) -> None:
    server = ThreadingHTTPServer((HOST, port), Handler)
    server.daemon_threads = True
    print(f"listening on {HOST}:{server.server_address[1]}", flush=True)
    server.serve_forever()


# ---------------------------------------------------------------------------------- test side


@dataclass
class FakeOpenAI:
    """A running server: its base URL (for OPENAI_BASE_URL) and PID."""

    url: str
    pid: int

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _post(self, path: str, payload: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.url + path, json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()

    def script(
        self, model: str, *responses: dict[str, Any], strict_schema: bool = True, sampling: bool = True,
        by_prompt: list[dict[str, Any]] | None = None,
    ) -> None:
        self._post("/_script", {"model": model, "responses": list(responses), "by_prompt": by_prompt or [],
                                "strict_schema": strict_schema, "sampling": sampling})

    def moderation(self, *responses: dict[str, Any], available: bool = True) -> None:
        """Script the moderations endpoint (answers in order, the last repeating; `available` False: 404)."""
        self._post("/_moderation", {"responses": list(responses), "available": available})

    def reset(self) -> None:
        self._post("/_reset", {})

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.url + "/_requests", timeout=5) as response:
            data: list[dict[str, Any]] = json.loads(response.read())
            return data


@contextmanager
def running_openai_server() -> Iterator[FakeOpenAI]:
    """The server in a child process on a free loopback port (the OS picks it; the child says which),
    stopped by its PID when the block ends."""
    process = subprocess.Popen(
        [sys.executable, __file__, "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fake OpenAI server did not start: {line!r}")
        server = FakeOpenAI("http://" + line.split()[-1], process.pid)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
