"""The Secrets Manager origin secret adapter against moto's standalone server over HTTP: current and
previous accepted, a rotation honoured once the cache's max age has passed (and not before), the store
going down (last good values kept) and a store that is down from the start (refused with 503, never
open). The handler-level attacks are in tests/attacks/test_attacks_deploy.py."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from versa.adapters.origin_secret import SecretsManagerOriginSecrets
from versa.ports import OriginSecretUnavailable

CURRENT = "current-origin-secret-" + "1" * 16
PREVIOUS = "previous-origin-secret-" + "2" * 16
NEXT = "next-origin-secret-" + "3" * 16


@pytest.fixture(scope="module")
def secrets_client(aws_client: Callable[..., Any], moto_endpoint: str) -> Any:
    return aws_client("secretsmanager", moto_endpoint)


def put(client: Any, name: str, current: str, previous: str | None = None) -> None:
    body = json.dumps({"current": current, **({"previous": previous} if previous else {})})
    try:
        client.put_secret_value(SecretId=name, SecretString=body)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=body)


@pytest.fixture
def secret(secrets_client: Any) -> str:
    name = f"versa/origin-{uuid.uuid4().hex[:10]}"
    put(secrets_client, name, CURRENT, PREVIOUS)
    return name


def test_current_and_previous_are_accepted_anything_else_refused(secrets_client: Any, secret: str) -> None:
    origin = SecretsManagerOriginSecrets(secret, client=secrets_client)
    assert origin.accepts(CURRENT)
    assert origin.accepts(PREVIOUS)
    for other in (None, "", NEXT, CURRENT.upper(), CURRENT + " ", CURRENT[:-1]):
        assert not origin.accepts(other), other


def test_rotation_is_honoured_after_max_age_and_not_before(secrets_client: Any, secret: str) -> None:
    # GIVEN two containers that read the secret, one caching for an hour, one for a second
    slow = SecretsManagerOriginSecrets(secret, client=secrets_client, max_age=3600)
    fast = SecretsManagerOriginSecrets(secret, client=secrets_client, max_age=1)
    assert slow.accepts(CURRENT) and fast.accepts(CURRENT)
    # WHEN the secret rotates: the new value becomes current, the old current becomes previous
    put(secrets_client, secret, NEXT, CURRENT)
    # THEN within the max age the cached values are still in force
    assert not slow.accepts(NEXT) and slow.accepts(PREVIOUS)
    # AND after it both the new and the old current are accepted (CloudFront may still send the old)
    time.sleep(1.1)
    assert fast.accepts(NEXT) and fast.accepts(CURRENT)
    assert not fast.accepts(PREVIOUS), "the value rotated out two steps ago is still accepted"
    # WHEN the rotation completes (CloudFront sends the new value; previous dropped)
    put(secrets_client, secret, NEXT)
    time.sleep(1.1)
    # THEN the old value is refused
    assert fast.accepts(NEXT)
    assert not fast.accepts(CURRENT)


def test_store_going_down_keeps_the_last_good_values(aws_env: None, aws_client: Callable[..., Any]) -> None:
    from moto.server import ThreadedMotoServer

    # GIVEN a Secrets Manager of its own that answered once
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = aws_client("secretsmanager", f"http://{host}:{port}")
    put(client, "versa/origin", CURRENT, PREVIOUS)
    events: list[str] = []
    origin = SecretsManagerOriginSecrets("versa/origin", client=client, max_age=1,
                                         on_event=lambda name, **_: events.append(name))
    assert origin.accepts(CURRENT)
    # WHEN it goes down and the cached value has expired
    server.stop()
    time.sleep(1.1)
    # THEN the last good values stay in force (refusing everyone would take the CDN down with it)
    assert origin.accepts(CURRENT) and origin.accepts(PREVIOUS)
    assert not origin.accepts(NEXT)
    assert events == ["origin_secret_stale"] * 3


def test_store_down_from_the_start_is_unavailable_not_open(aws_client: Callable[..., Any]) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = aws_client("secretsmanager", f"http://127.0.0.1:{port}")
    origin = SecretsManagerOriginSecrets("versa/origin", client=client)
    with pytest.raises(OriginSecretUnavailable):
        origin.accepts(CURRENT)


def test_a_missing_secret_is_unavailable(secrets_client: Any) -> None:
    origin = SecretsManagerOriginSecrets(f"versa/never-created-{uuid.uuid4().hex[:8]}", client=secrets_client)
    with pytest.raises(OriginSecretUnavailable):
        origin.accepts(CURRENT)
