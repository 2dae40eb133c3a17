"""The origin secret port's own behaviour (versa.ports.OriginSecrets), on a fake store: the stored
document, current and previous, stale-if-error with a retry pause, and refusing when nothing is known.
The Secrets Manager adapter runs the same behaviour against moto in tests/contract/test_origin_secret.py."""

from __future__ import annotations

import json

import pytest

from versa.ports import OriginSecrets, OriginSecretUnavailable, OriginSecretValues, StoreUnavailable

A = "a" * 20 + "CURRENT"
B = "b" * 20 + "PREVIOUS"


class FakeStore(OriginSecrets):
    """A store whose document (or failure) the test sets; counts reads. A fake clock drives retries."""

    def __init__(self, document: str | Exception, *, retry_seconds: float = 30.0) -> None:
        self.now = 1000.0
        self.events: list[tuple[str, dict[str, str]]] = []
        super().__init__(retry_seconds=retry_seconds, clock=lambda: self.now,
                         on_event=lambda name, **props: self.events.append((name, props)))
        self.document = document
        self.reads = 0

    def _fetch(self) -> str:
        self.reads += 1
        if isinstance(self.document, Exception):
            raise self.document
        return self.document


def doc(current: object, previous: object = None, **extra: object) -> str:
    body: dict[str, object] = {"current": current, **extra}
    if previous is not None:
        body["previous"] = previous
    return json.dumps(body)


def test_current_and_previous_are_accepted_and_nothing_else() -> None:
    store = FakeStore(doc(A, B))
    assert store.accepts(A)
    assert store.accepts(B)
    for other in (None, "", A.upper(), A[:-1], A + "x", f" {A}", f"{A} ", f"{A},{B}", "é" + A):
        assert not store.accepts(other), other


def test_without_previous_only_current_is_accepted() -> None:
    store = FakeStore(doc(A))
    assert store.accepts(A)
    assert not store.accepts(B)
    assert OriginSecretValues.parse(doc(A)).accepted() == (A,)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("not json", "not JSON"),
        ('"just a string"', "JSON object"),
        (doc(A, extra="x"), "unknown field(s) 'extra'"),
        (json.dumps({"previous": B}), "'current'"),
        (doc("short"), "'current'"),
        (doc(A, ""), "'previous'"),
        (doc(A, "with space in it 1234"), "'previous'"),
        (doc(12345678901234567890), "'current'"),
    ],
)
def test_a_malformed_document_is_named_without_its_values(text: str, named: str) -> None:
    with pytest.raises(ValueError) as caught:
        OriginSecretValues.parse(text, source="origin secret 'versa/origin'")
    message = str(caught.value)
    assert named in message
    assert "origin secret 'versa/origin'" in message
    assert A not in message and B not in message


def test_store_failure_keeps_the_last_good_values_and_pauses_reads() -> None:
    # GIVEN a store that answered once
    store = FakeStore(doc(A, B), retry_seconds=30)
    assert store.accepts(A)
    # WHEN it fails
    store.document = StoreUnavailable("Secrets Manager timed out")
    # THEN the last good values stay in force, and the failure is reported
    assert store.accepts(A) and store.accepts(B) and not store.accepts("x" * 20)
    assert store.events[0][0] == "origin_secret_stale"
    reads = store.reads
    # AND the store is not asked again until the pause is over
    store.now += 29
    assert store.accepts(A)
    assert store.reads == reads
    store.now += 2
    store.document = doc(B)
    assert not store.accepts(A)
    assert store.accepts(B)


def test_a_malformed_update_keeps_the_last_good_values() -> None:
    store = FakeStore(doc(A))
    assert store.accepts(A)
    store.document = doc(A, "")  # an empty previous must never let an empty header in
    assert store.accepts(A)
    assert not store.accepts("")
    assert store.events and store.events[0][0] == "origin_secret_stale"


def test_nothing_known_and_the_store_down_is_unavailable_not_open() -> None:
    store = FakeStore(StoreUnavailable("connection refused"), retry_seconds=30)
    with pytest.raises(OriginSecretUnavailable):
        store.accepts(A)
    assert store.events[-1][0] == "origin_secret_unavailable"
    # while pausing, refused at once without asking the store
    with pytest.raises(OriginSecretUnavailable):
        store.accepts(A)
    assert store.reads == 1
    # once it answers, requests are judged again
    store.now += 31
    store.document = doc(A)
    assert store.accepts(A)
