"""`versa serve` as a subprocess for tests: one free loopback port, one state directory, stopped by PID.

`running_versa` starts the real command (the installed `versa` script when there is one, as `make run`
does; else `python -m versa.cli`), waits until the banner is complete and `/healthz` answers over HTTP,
and stops the process when the block ends, however it ends. The output (stdout and stderr) goes to
`<state_dir>/serve.log`, shown in full when the server does not start. If the port was taken between
choosing and binding it ("cannot listen"), it tries again on another.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
READY_LINE = "Press Ctrl+C to stop."
"""The banner's last line: printed once the socket is bound and every brand was tried."""
START_TIMEOUT_S = 60.0
ATTEMPTS = 3


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def versa_command() -> list[str]:
    """The `versa` console script beside this interpreter, else `python -m versa.cli`."""
    script = shutil.which("versa", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "versa.cli"]


@dataclass
class Server:
    """A running `versa serve`."""

    url: str
    pid: int
    process: subprocess.Popen[bytes]
    log: Path
    state: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the process (SIGTERM to its PID, SIGKILL after 10 s); a no-op once it has exited."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _answers(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def _start(
    packs: Path, state: Path, extra_args: Sequence[str], environment: dict[str, str], log_name: str = "serve.log"
) -> Server:
    log = state / log_name
    for attempt in range(1, ATTEMPTS + 1):
        port = free_port()
        command = [*versa_command(), "serve", "--packs", str(packs), "--host", HOST, "--port", str(port)]
        if "--workers" not in extra_args:  # one process unless a test asks: its state is then one process's
            command += ["--workers", "1"]
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*command, *extra_args], stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=state
            )
        server = Server(f"http://{HOST}:{port}", process.pid, process, log, state)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if READY_LINE in server.log_text() and _answers(server.url):
                return server
            time.sleep(0.05)
        server.stop()
        if attempt == ATTEMPTS or "cannot listen" not in server.log_text():
            break
    raise AssertionError(f"versa serve did not start within {START_TIMEOUT_S:.0f} s:\n{server.log_text()}")


@contextmanager
def running_versa(
    packs: Path,
    *,
    state_dir: Path,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    log_name: str = "serve.log",
) -> Iterator[Server]:
    """`versa serve --packs packs` on a free loopback port with `VERSA_STATE_DIR=state_dir` (created).

    The environment is this process's without its `VERSA_*` variables, with `POWERTOOLS_LOG_LEVEL=ERROR`
    and unbuffered output, then `env` on top; its output goes to `state_dir/log_name` (two servers may
    share a state directory, and so its copy store, with a log each). The server is stopped when the
    block ends."""
    state_dir.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VERSA_")}
    environment.update(VERSA_STATE_DIR=str(state_dir), POWERTOOLS_LOG_LEVEL="ERROR", PYTHONUNBUFFERED="1")
    environment.update(env or {})
    server = _start(packs, state_dir, extra_args, environment, log_name)
    try:
        yield server
    finally:
        server.stop()
