"""`versa serve`: the Lambda handler over plain HTTP, for laptops, demos and tests.

Each HTTP request becomes an API Gateway REST proxy event (decoded query and multi-value query, as API
Gateway delivers them) and goes through the same `lambda_handler` the deployed function uses. Before
that, the CDN's visitor step (`versa.context.visitor.edge_query`): a `vid` becomes the `x-versa-vb`
bucket and its value is blanked, and with `visitor_cookie` on the first-party cookie is read and set, so
a split behaves here as behind CloudFront. The
preview studio (`/`) and its small JSON helpers (`/studio/...`, including the review panel's one POST
route) are served here only: they sign URLs with the local development key.
"""

from __future__ import annotations

import base64
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from versa.context.visitor import X_VISITOR_BUCKET, cookie_header_for, edge_query
from versa.web.http import problem, problem_for

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
ALLOWED_METHODS = "GET, HEAD"
MAX_POST_BYTES = 65_536
"""The largest body the studio's POST route reads."""
LISTEN_BACKLOG = 1024
"""Connections the kernel queues before they are accepted (socketserver's default, 5, drops
connections under a burst of clients; the kernel caps it at net.core.somaxconn)."""


@dataclass
class LocalContext:
    """The few attributes of a Lambda context that Powertools reads."""

    aws_request_id: str
    function_name: str = "versa-render-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:versa-render-local"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def to_event(
    method: str,
    raw_path: str,
    headers: list[tuple[str, str]],
    client_ip: str,
    *,
    visitor_cookie: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST proxy event for one HTTP request (what `/{proxy+}` would deliver after the
    CDN's visitor step). A cookie the step wants set is left in the event under `versa.set_cookie`."""
    parts = urlsplit(raw_path)
    path = unquote(parts.path)
    request_id = str(uuid.uuid4())
    cookie = next((v for n, v in headers if n.lower() == "cookie"), None)
    pairs, visitor = edge_query(
        parse_qsl(parts.query, keep_blank_values=True), cookie, cookie_on=visitor_cookie, request_id=request_id
    )
    headers = [(n, v) for n, v in headers if n.lower() != X_VISITOR_BUCKET]
    if visitor.bucket is not None:
        headers.append((X_VISITOR_BUCKET, str(visitor.bucket)))
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    single = {name: values[-1] for name, values in multi.items()}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": request_id,
            "identity": {"sourceIp": client_ip, "userAgent": dict(headers).get("User-Agent")},
        },
        "body": None,
        "isBase64Encoded": False,
        "versa.set_cookie": cookie_header_for(visitor, cookie, cookie_on=visitor_cookie),
    }


def from_result(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    seen = {name.lower() for name, _ in headers}
    headers += [(k, str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() not in seen]
    return int(result["statusCode"]), headers, data


RESOLVING = threading.RLock()
"""The handler's router (Powertools' resolver) keeps the request it resolves on the app object, which its
routes read: on this server's threads one request could read another's (seen as a 500 when the studio's
panels ask at once). So this process hands the handler one request at a time; `versa serve --workers`
(one process per core by default) uses every core. Lambda sends a container one request at a time."""


def dispatcher(handler: Handler) -> Callable[[str, Mapping[str, str]], tuple[int, list[tuple[str, str]], bytes]]:
    """A GET of a path (with its query) through `handler` with the given request headers, as this
    server makes it for a request from the loopback address (the studio's "as seen by" asks with it)."""

    def get(raw_path: str, headers: Mapping[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        event = to_event("GET", raw_path, list(headers.items()), "127.0.0.1")
        with RESOLVING:
            return from_result(handler(event, LocalContext(event["requestContext"]["requestId"])))

    return get


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) and listening with LISTEN_BACKLOG: what `VersaHTTPServer`
    opens itself, or several worker processes share (each accepts from it)."""
    return socket.create_server((host, port), backlog=LISTEN_BACKLOG)


class VersaHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self, address: tuple[str, int], handler: Handler, studio: Any | None = None, *, visitor_cookie: bool = False,
        sock: socket.socket | None = None,
    ) -> None:
        self.lambda_handler = handler
        self.studio = studio
        self.visitor_cookie = visitor_cookie
        super().__init__(address, RequestHandler, bind_and_activate=sock is None)
        if sock is not None:  # already bound and listening (shared with other worker processes)
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
            self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class RequestHandler(BaseHTTPRequestHandler):
    server: VersaHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # otherwise each response waits ~40 ms for a delayed ACK

    def log_message(self, format: str, *args: Any) -> None:  # quiet; the handler logs
        return None

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        """The studio's JSON decisions only (`/studio/review`): a JSON body of bounded size, from a page
        of this server (a cross-site page can neither send JSON without a preflight this server refuses
        nor forge the Origin header)."""
        studio = self.server.studio
        if studio is None or not urlsplit(self.path).path.startswith("/studio/"):
            self._not_allowed()
            return
        length = self.headers.get("Content-Length", "")
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        origin = self.headers.get("Origin")
        if not length.isdigit() or int(length) > MAX_POST_BYTES:
            resp = problem(413 if length.isdigit() else 411, "Bad body", f"a JSON body of at most {MAX_POST_BYTES} bytes")
        elif media != "application/json":
            resp = problem(415, "Unsupported media type", "send application/json")
        elif origin is not None and origin != f"http://{self.headers.get('Host', '')}":
            resp = problem(403, "Forbidden", "decisions are taken only from the studio's own page")
        else:
            status, headers, body = studio.handle_post(self.path, self.rfile.read(int(length)))
            self._send(status, headers, body)
            return
        self._send(resp.status, [("Content-Type", resp.content_type), ("Cache-Control", "no-store")], resp.body)

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler looks up `do_<METHOD>` and answers 501 when it is missing; every
        # method this server does not route is answered 405 with Allow instead.
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        resp = problem(405, "Method not allowed", f"this server answers {ALLOWED_METHODS} only")
        body = resp.body
        self.send_response(405)
        self.send_header("Allow", ALLOWED_METHODS)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, head: bool = False) -> None:
        path = urlsplit(self.path).path
        studio = self.server.studio
        if studio is not None and (path == "/" or path.startswith("/studio")):
            status, headers, body = studio.handle(self.path)
        else:
            event = to_event(
                "GET",
                self.path,
                list(self.headers.items()),
                self.client_address[0],
                visitor_cookie=self.server.visitor_cookie,
            )
            set_cookie = event.pop("versa.set_cookie")
            try:
                with RESOLVING:
                    result = self.server.lambda_handler(event, LocalContext(event["requestContext"]["requestId"]))
                status, headers, body = from_result(result)
                if set_cookie is not None:  # what the CDN's viewer-response function adds, never cached
                    headers.append(("Set-Cookie", set_cookie))
            except Exception as exc:  # the handler maps errors itself; this is a last resort (no details out)
                resp = problem_for(exc)
                status, body = resp.status, resp.body
                headers = [("Content-Type", resp.content_type), *resp.headers.items()]
        self._send(status, headers, body, head=head)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def serve(
    handler: Handler, host: str, port: int, studio: Any | None = None, *, visitor_cookie: bool = False,
    sock: socket.socket | None = None,
) -> VersaHTTPServer:
    """Start serving in a background thread; returns the server (call shutdown() to stop). With
    `visitor_cookie`, the first-party visitor cookie is read and set as the CDN does with it on. With
    `sock` (from `listening_socket`), requests are accepted from it instead of a socket of its own."""
    server = VersaHTTPServer((host, port), handler, studio, visitor_cookie=visitor_cookie, sock=sock)
    threading.Thread(target=server.serve_forever, name="versa-http", daemon=True).start()
    return server
