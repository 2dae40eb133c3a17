"""A boto3 client made on first use, once per adapter: what the AWS adapters share.

No client is built at import time or in a constructor, so a cold start that never touches a service
never pays for its client, and tests inject a ready client (pointed at moto or a local endpoint).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

C = TypeVar("C")


class LazyClient(Generic[C]):
    """The client for the AWS `service`: `client` if given, else `factory()`, else one from `session`
    (default: a new boto3 session) with `config`. Made on the first `get()`, under a lock, then kept."""

    def __init__(
        self,
        service: str,
        *,
        client: C | None = None,
        factory: Callable[[], C] | None = None,
        session: boto3.session.Session | None = None,
        config: Config | None = None,
    ) -> None:
        self.service = service
        self._client = client
        self._factory = factory
        self._session = session
        self._config = config
        self._lock = threading.Lock()

    def get(self) -> C:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make()
                client = self._client
        return client

    def _make(self) -> C:
        if self._factory is not None:
            return self._factory()
        import boto3

        session = self._session or boto3.session.Session()
        make: Any = session.client  # typed per literal service name; the name is a variable here
        return cast(C, make(self.service, config=self._config))


__all__ = ["LazyClient"]
