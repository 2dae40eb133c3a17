"""The origin secret from AWS Secrets Manager, read through Powertools Parameters with caching.

The secret's value is a JSON document, ``{"current": "...", "previous": "..."}`` (`previous` optional):
CloudFront sends `current` (template.yaml resolves the same secret's `current` key into the origin's
custom header), and the render function accepts both, so the secret rotates without an outage (README,
"Rotating the origin secret"). Powertools caches the value for `max_age` seconds per container, so a
rotation is honoured within `max_age`; when Secrets Manager fails, `versa.ports.OriginSecrets` keeps the
last good values. Secrets Manager rather than an SSM SecureString: CloudFront's origin header can take
its value only from a Secrets Manager dynamic reference, and one store keeps the two sides in step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from versa.adapters.lazy_client import LazyClient
from versa.ports import OriginEvent, OriginSecrets, StoreUnavailable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

DEFAULT_MAX_AGE = 300
"""Seconds a read secret is cached per container (the `origin_secret_max_age` setting's default)."""


class SecretsManagerOriginSecrets(OriginSecrets):
    """The origin secret `secret_id` (a name or ARN) in Secrets Manager. The client is made on first
    use (`client`, else `client_factory()`, else boto3's default), never in the constructor."""

    def __init__(
        self,
        secret_id: str,
        *,
        max_age: int = DEFAULT_MAX_AGE,
        client: Any = None,
        client_factory: Callable[[], Any] | None = None,
        retry_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_event: OriginEvent | None = None,
    ) -> None:
        super().__init__(retry_seconds=retry_seconds, clock=clock, on_event=on_event)
        self.secret_id = secret_id
        self.max_age = max_age
        self._client: LazyClient[Any] = LazyClient("secretsmanager", client=client, factory=client_factory)
        self._provider: SecretsProvider | None = None

    def describe(self) -> str:
        return f"origin secret {self.secret_id!r}"

    def _fetch(self) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._secrets().get(self.secret_id, max_age=self.max_age)
        except GetParameterError as exc:  # Powertools wraps every SDK failure (timeouts, denied, missing)
            raise StoreUnavailable(f"{self.describe()} could not be read from Secrets Manager") from exc
        if not isinstance(value, str):
            raise StoreUnavailable(f"{self.describe()} is a binary secret; expected a JSON string")
        return value

    def forget_cached(self) -> None:
        """Read the secret again on the next request (after a SnapStart restore: a rotation may have
        happened since the snapshot); the last good value still answers if that read fails."""
        self._provider = None
        with self._lock:
            self._retry_at = -math.inf
            self._last_text = ""

    def _secrets(self) -> SecretsProvider:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto3_client=self._client.get())
        return self._provider


__all__ = ["DEFAULT_MAX_AGE", "SecretsManagerOriginSecrets"]
