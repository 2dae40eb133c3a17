"""schemathesis against `versa serve`: no 5xx, and every answer is one the OpenAPI document describes.

Two runs, each against its own `versa serve` subprocess on a free loopback port, loading the document
the server itself serves (`/openapi.json`):

- signed: a hook (`sign_case`) signs every generated request with the local development key before
  it is sent; the test creates that key in a state directory of its own, the key file `versa serve`
  then loads. So the fuzzer reaches past the signature check into context, decision, copy and render.
- unsigned: `versa serve --no-signatures`, so generated values reach the same code unsigned.

Both positive and negative cases are generated; about half name a brand and creative the server
really serves (otherwise nearly every case would be a 404). Checks: no 5xx, and every status,
content type, documented header and JSON body conforms to the document. The runs are bounded by
count, not by time: a fixed number of examples per operation and no shrinking, and every generated
case is sent (a wall-clock budget would leave cases untested on a loaded machine). Generation is
derandomized, so a run is repeatable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from servers import running_versa
from versa.signing.devkeys import load_or_create_dev_keyring
from versa.signing.signer import RESERVED_PARAMS, Keyring, sign

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "packs"
CREATIVES = {"acme": ("winter-sale",), "northwind": ("cyber-week", "welcome")}
EXTS = ("png", "jpg", "webp", "gif", "auto", "html")
MAX_EXAMPLES = {"/v1/{brand}/{file}": 80, "/healthz": 3, "/openapi.json": 3}
"""Generated cases per operation (others: DEFAULT_EXAMPLES): most go where the work is, the creative route."""
DEFAULT_EXAMPLES = 30
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")
"""Not run: `positive_data_acceptance` and `negative_data_rejection`. What a creative accepts depends on
its pack (its allowed widths, the names and types it declares), which one document for every brand can
only describe, not state as a schema: a schema-valid `w=2463` is a documented 400, and an undeclared
name with any value is documented as ignored."""

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@dataclass
class Served:
    url: str
    keyring: Keyring


def _serve(tmp: Path, *extra: str) -> Iterator[Served]:
    """`versa serve` over the example packs with a state directory (and so a dev key) of its own."""
    state = tmp / "state"
    keyring = load_or_create_dev_keyring(state)
    with running_versa(EXAMPLES, state_dir=state, extra_args=extra) as server:
        yield Served(server.url, keyring)


def _as_text(value: Any) -> list[str]:
    """A generated query value as the strings `requests` will send (None is not sent)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [text for item in value for text in _as_text(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def sign_case(case: Any, keyring: Keyring) -> None:
    """Sign the request `case` will send, as the server will see it: the decoded path and query. A
    generated `exp` (unix seconds) becomes the signature's expiry, the decision route gets the debug
    scope; other signing parameters the fuzzer made up are replaced. A path the signer refuses (a
    traversal, an empty segment) or text that is not Unicode is sent unsigned: the server refuses it too."""
    query = {name: _as_text(value) for name, value in (case.query or {}).items()}
    exp = (query.pop("exp", None) or [""])[0]
    for name in RESERVED_PARAMS:
        query.pop(name, None)
    path = unquote(case.formatted_path)
    expires = datetime.fromtimestamp(int(exp), tz=UTC) if exp.isascii() and exp.isdigit() and len(exp) <= 11 else None
    scope = "debug" if case.operation.path.endswith("/decision") else None
    try:
        added = sign(path, [(n, v) for n, values in query.items() for v in values], keyring,
                     scope=scope, expires=expires)
    except (ValueError, OverflowError):
        return
    case.query = {**{n: v[0] if len(v) == 1 else v for n, v in query.items()}, **added}


SETTINGS = settings(
    deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
    database=None, phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
)
OPERATIONS = ("/v1/{brand}/{file}", "/v1/{brand}/{creative}/decision", "/v1/{brand}/{creative}/click",
              "/healthz", "/openapi.json")


def _schema(served: Served) -> Any:
    """The document the server serves, loaded by schemathesis (no config file is read)."""
    config = SchemathesisConfig.from_dict({"generation": {"deterministic": True, "database": "none"}})
    return schemathesis.openapi.from_url(f"{served.url}/openapi.json", config=config, timeout=10)


def _real_paths(template: str) -> list[dict[str, str]]:
    """Path parameters naming brands and creatives the server serves (all formats for the file route)."""
    if "{file}" in template:
        return [{"brand": b, "file": f"{c}.{ext}"} for b, cs in CREATIVES.items() for c in cs for ext in EXTS]
    if "{creative}" in template:
        return [{"brand": b, "creative": c} for b, cs in CREATIVES.items() for c in cs]
    return []


def _cases(operation: Any) -> st.SearchStrategy[Any]:
    """Positive and negative cases; half of them on a brand and creative the server serves (otherwise
    nearly every case would be a 404 before any rule runs)."""
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        generated = operation.as_strategy(generation_mode=mode)
        real = [operation.as_strategy(generation_mode=mode, path_parameters=p) for p in _real_paths(operation.path)]
        strategies.append(st.one_of(generated, *real) if real else generated)
    return st.one_of(*strategies)


def _checks() -> list[Any]:
    from schemathesis.checks import CHECKS as REGISTRY
    from schemathesis.checks import load_all_checks

    load_all_checks()
    return [REGISTRY.get_one(name) for name in CHECKS]


def fuzz(served: Served, path: str, *, signed: bool) -> Counter[int]:
    """Send the generated cases of one operation (signing each when `signed`), check each answer, and
    return how many answers had each status."""
    schema = _schema(served)
    operation = schema[path]["GET"]
    checks = _checks()
    statuses: Counter[int] = Counter()

    @settings(SETTINGS, max_examples=MAX_EXAMPLES.get(path, DEFAULT_EXAMPLES))
    @given(case=_cases(operation))
    def run(case: Any) -> None:
        if signed:
            sign_case(case, served.keyring)
        response = case.call(timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=checks)  # raises with a curl command that reproduces it

    run()
    assert statuses, f"no case of {path} was sent"
    return statuses


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("fuzz-signed"))


@pytest.fixture(scope="module")
def unsigned_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("fuzz-unsigned"), "--no-signatures")


@pytest.mark.parametrize("path", OPERATIONS)
def test_signed_requests_conform(signed_server: Served, path: str) -> None:
    # GIVEN generated requests, each signed with the server's development key; WHEN they are sent
    # THEN no 5xx, and every status, content type and header is one the document states
    statuses = fuzz(signed_server, path, signed=True)
    if path == "/v1/{brand}/{file}":
        # AND the signatures were good: renders and revalidations happened, not only refusals
        assert statuses[200] and statuses[304], statuses


@pytest.mark.parametrize("path", OPERATIONS)
def test_unsigned_requests_conform(unsigned_server: Served, path: str) -> None:
    # GIVEN generated requests to a server with signatures off; WHEN they are sent; THEN likewise
    fuzz(unsigned_server, path, signed=False)
