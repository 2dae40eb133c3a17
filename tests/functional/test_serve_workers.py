"""`versa serve --workers N`: N processes accept from one listening socket (both cores of a laptop
serve), every one answers the same signed URLs, a burst of clients finds no connection refused, and
stopping the server stops its workers."""

from __future__ import annotations

import http.client
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from servers import running_versa
from services import EXAMPLES, signed_query, write_test_keys
from versa.signing.signer import creative_path
from versa.web.server import LISTEN_BACKLOG, VersaHTTPServer, listening_socket

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(")")[-1].split()[0] != "Z"


def test_two_workers_share_the_socket_and_stop_with_the_server(tmp_path: Path) -> None:
    # GIVEN `versa serve --workers 2`
    write_test_keys(tmp_path / "state")
    path = creative_path("acme", "leaderboard", "png")
    query = signed_query(path)
    target = path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    with running_versa(EXAMPLES, state_dir=tmp_path / "state", extra_args=["--workers", "2"]) as server:
        # THEN the server runs one worker process beside itself
        workers = children_of(server.pid)
        assert len(workers) == 1, workers
        assert "(2 processes)" in server.log_text()

        # WHEN 16 clients ask at once, 4 requests each, each on a new connection
        def fetch(_: int) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                conn.request("GET", target, headers={"User-Agent": BROWSER})
                resp = conn.getresponse()
                resp.read()
                return resp.status
            finally:
                conn.close()

        with ThreadPoolExecutor(2) as pool:  # each process draws it once (a burst of first renders sheds)
            assert list(pool.map(fetch, range(8))) == [200] * 8
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(fetch, range(64)))
        # THEN every request was answered (both processes verify the same signature)
        assert statuses == [200] * 64
        # AND the worker is still there to serve
        assert alive(workers[0])
    # WHEN the server is stopped, THEN its worker stops too
    deadline = time.monotonic() + 10
    while alive(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(workers[0])


def test_the_listening_socket_queues_a_burst_of_connections() -> None:
    # socketserver's default backlog is 5: a burst beyond it waits for SYN retries or is refused
    assert VersaHTTPServer.request_queue_size == LISTEN_BACKLOG >= 128
    sock = listening_socket("127.0.0.1", 0)
    try:
        # WHEN 100 clients connect while nobody accepts, THEN the kernel queues every one
        clients = [socket.create_connection(sock.getsockname()[:2], timeout=2) for _ in range(100)]
        for client in clients:
            client.close()
    finally:
        sock.close()
