"""One exception→problem table (`versa.web.http.PROBLEMS`) answers for every HTTP surface: the API's
exception handlers and the preview studio give the same status, title and type for the same exception."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services import install
from versa.adapters.sqlite_copy import SQLiteCopyStore
from versa.composition import build_renderer
from versa.errors import (
    Issue,
    OutputTooLarge,
    PackError,
    ParamError,
    SignatureExpired,
    SignatureInvalid,
    SignatureMissing,
    UnknownBrand,
    UnknownCreative,
    VersaError,
)
from versa.pack.model import Pack
from versa.ports import NullQueue, PackStore, StoreUnavailable
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web import api
from versa.web.http import PROBLEMS, inert, problem_for, problem_kind
from versa.web.server import LocalContext, from_result, to_event
from versa.web.service import RenderService, ServiceConfig
from versa.web.studio import Studio

# Each exception with the status and title both surfaces answer with, and whether its detail is the
# exception's own message (client errors) or a fixed text that keeps a server-side cause private.
CASES: list[tuple[Exception, int, str, bool]] = [
    (ParamError("w", "5", "one of 300, 600"), 400, "Bad request", True),
    (UnknownBrand("acme"), 404, "Unknown brand", True),
    (UnknownCreative("acme", "winter-sale"), 404, "Unknown creative", True),
    (SignatureMissing("a signature is required"), 403, "Forbidden", True),
    (SignatureInvalid("bad signature"), 403, "Forbidden", True),
    (SignatureExpired("expired at 2026-12-01T00:00:00Z"), 410, "Link expired", True),
    (StoreUnavailable("s3 timed out"), 503, "Service unavailable", False),
    (PackError([Issue("pack.yaml", "brand", "missing")], pack="acme"), 503, "Pack unavailable", False),
    (OutputTooLarge(5_000_000, 4_500_000, "png"), 500, "Internal error", False),
    (VersaError("odd"), 500, "Internal error", False),
]


class FailingPacks(PackStore):
    """A pack store whose `current` raises the exception under test (the route's first step)."""

    def __init__(self) -> None:
        self.error: Exception = VersaError("not set")

    def current(self, brand: str) -> Pack:
        raise self.error

    def brands(self) -> list[str]:
        return ["acme"]


@pytest.fixture
def surfaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FailingPacks, Studio]]:
    """The failing store, under a service installed in versa.web.api and under the studio."""
    store = FailingPacks()
    service = RenderService(
        store, SQLiteCopyStore(tmp_path / "copy.sqlite3"), NullQueue(), build_renderer(Settings(memo_items=0)),
        Keyring({"k1": b"k" * 32}, "k1"), config=ServiceConfig.from_settings(Settings(require_signature=True)),
    )
    install(service, monkeypatch)
    yield store, Studio(service)


def from_api(path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    result = api.handle(to_event("GET", path, [], "127.0.0.1"), LocalContext("test"))
    status, headers, body = from_result(result)  # as the local server sends it
    return status, json.loads(body), dict(headers)


def from_studio(studio: Studio, path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    status, headers, body = studio.handle(path)
    return status, json.loads(body), dict(headers)


@pytest.mark.parametrize(("error", "status", "title", "message_shown"), CASES, ids=[type(case[0]).__name__ for case in CASES])
def test_api_and_studio_answer_an_exception_alike(
    surfaces: tuple[FailingPacks, Studio], error: Exception, status: int, title: str, message_shown: bool
) -> None:
    """The same exception gets the same problem from the API and from the studio."""
    # GIVEN a pack store that raises the exception on both surfaces' first step
    packs, studio = surfaces
    packs.error = error

    # WHEN the API's decision route and the studio's variants route are asked
    api_status, api_doc, api_headers = from_api("/v1/acme/winter-sale/decision")
    studio_status, studio_doc, studio_headers = from_studio(studio, "/studio/variants?brand=acme&creative=winter-sale")

    # THEN both answer with the table's status, title and type, as problem+json
    for doc, got, headers in ((api_doc, api_status, api_headers), (studio_doc, studio_status, studio_headers)):
        assert (got, doc["status"], doc["title"], doc["type"]) == (status, status, title, "about:blank")
        assert headers["Content-Type"] == "application/problem+json"
        assert headers["Cache-Control"] == ("no-store" if status >= 500 else "public, max-age=60")
    # AND the API's detail is the exception's message only for client errors (a server-side cause stays
    # private); the studio, a local tool, shows that cause after the same text
    if message_shown:
        assert api_doc["detail"] == studio_doc["detail"] == str(error)
    else:
        assert str(error) not in api_doc["detail"]
        assert studio_doc["detail"] == inert(f"{api_doc['detail']}: {error}")
    # AND the members the table adds (a bad parameter's name and what is allowed) are in both
    members = {k: v for k, v in api_doc.items() if k not in ("type", "title", "status", "detail")}
    assert members == {k: v for k, v in studio_doc.items() if k in members}


def test_every_table_entry_is_registered_with_the_api() -> None:
    # GIVEN the table and Powertools' exception handler registry
    registry = api.app.exception_handler_manager

    # THEN each class of the table (and so each subclass, by its nearest class) has the table's handler
    for cls in PROBLEMS:
        assert registry.lookup_exception_handler(cls) is api._problem, cls.__name__


def test_an_exception_takes_its_nearest_class_and_an_unknown_one_is_internal() -> None:
    # GIVEN a subclass of a mapped error, and an exception the table does not name
    class LateSignature(SignatureExpired):
        pass

    # THEN the subclass takes its nearest class's entry, the stranger the internal one (no type or message)
    assert problem_kind(LateSignature()).status == 410
    response = problem_for(KeyError("x"))
    doc = json.loads(response.body)
    assert (response.status, doc["title"], doc["detail"]) == (500, "Internal error", "the request could not be completed")
    assert "KeyError" not in response.body.decode()
    assert json.loads(problem_for(KeyError("x"), reveal=True).body)["detail"] == "the request could not be completed: 'x'"


def test_studio_param_error_keeps_its_form_field() -> None:
    # GIVEN a parameter error on the studio's URL route (the form names declared parameters p.NAME)
    error = ParamError("first_name", "x" * 99, "at most 24 characters")

    # WHEN the table answers it with the studio's extra member
    doc = json.loads(problem_for(error, field="p.first_name").body)

    # THEN the problem is the API's, plus the field
    assert doc == {**json.loads(problem_for(error).body), "field": "p.first_name"}
