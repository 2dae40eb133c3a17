"""The render service as tests wire it: the suite's fixed keyring, the composition root, `versa.web.api`.

- `write_test_keys(state)`: a state directory whose key file holds `keys.TEST_KEYRING`, so a service
  built from settings (or a `versa serve` pointed at it) signs and verifies with the test keyring.
- `keyed_settings(tmp, **overrides)`: `Settings` over the example packs with such a state directory.
- `install(service, monkeypatch)`: make `versa.web.api` answer with `service` (restored after the test).
- `RecordingMetrics`: the service's metrics sink, recording every count.
- `signed_query(path, ...)`: a query signed with the test keyring, merge values filled in afterwards.
- `in_process(handler)`: `versa.web.server.serve` on a free loopback port, shut down when the block ends.
- `run_cli(capsys, *argv)`: the `versa` command in-process: its exit code, stdout and stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from keys import TEST_KEYRING
from versa.settings import Settings
from versa.signing.devkeys import keyring_to_json
from versa.signing.signer import sign
from versa.web import api

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "packs"

__all__ = [
    "TEST_KEYRING",
    "RecordingMetrics",
    "in_process",
    "install",
    "keyed_settings",
    "run_cli",
    "signed_query",
    "write_test_keys",
]


def write_test_keys(state: Path) -> Path:
    """Create `state` (if need be) with `keys.json` holding the test keyring; returns `state`."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "keys.json").write_text(keyring_to_json(TEST_KEYRING), encoding="utf-8")
    return state


def keyed_settings(tmp: Path, *, packs: Path = EXAMPLES, **overrides: Any) -> Settings:
    """Settings over `packs` with `tmp/state` as the state directory, keyed with the test keyring."""
    return Settings(packs_dir=packs, state_dir=write_test_keys(tmp / "state"), **overrides)


def install(service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make `versa.web.api` answer with `service` (its cached factory and service are restored after
    the test); returns `service`."""
    monkeypatch.setattr(api, "_factory", None)
    monkeypatch.setattr(api, "_service", None)
    api.configure(lambda: service)
    return service


class RecordingMetrics:
    """The service's metrics sink, recording (name, value, props) of every count."""

    def __init__(self) -> None:
        self.counts: list[tuple[str, float, dict[str, Any]]] = []

    def count(self, name: str, value: float = 1, /, **props: Any) -> None:
        self.counts.append((name, value, props))

    def timing(self, name: str, ms: float, /, **props: Any) -> None:
        return None

    def total(self, name: str) -> float:
        return sum(v for n, v, _ in self.counts if n == name)

    def reasons(self, name: str = "Fallbacks") -> list[str]:
        return [props.get("reason", "") for n, _, props in self.counts if n == name]


def signed_query(
    path: str,
    query: Mapping[str, str] | None = None,
    *,
    merge: Mapping[str, str] | None = None,
    scope: str | None = None,
    expires: datetime | None = None,
) -> dict[str, str]:
    """The full query of `path` signed with the test keyring (a template signature over `merge`, whose
    values are filled in after signing, as an email tool does)."""
    fixed = dict(query or {})
    merge = dict(merge or {})
    added = sign(path, {**fixed, **{k: f"*|{k}|*" for k in merge}}, TEST_KEYRING, scope=scope, expires=expires,
                 merge_names=sorted(merge))  # fmt: skip
    return {**fixed, **merge, **added}


@contextmanager
def in_process(handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Iterator[Any]:
    """`versa.web.server.serve(handler)` on a free loopback port; yields the server (`.url`,
    `.server_address`) and shuts it down when the block ends."""
    from versa.web.server import serve

    server = serve(handler, "127.0.0.1", 0)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`versa ARGV` in-process: (exit code, stdout, stderr)."""
    from versa.cli.main import main

    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
