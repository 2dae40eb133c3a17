"""What the deployed generator reads at run time through Powertools Parameters, each cached per container
for a max age: the kill switch (an SSM parameter) and the OpenAI API key (a Secrets Manager secret).

The kill switch fails safe: a value that is not one of the known words, or a parameter that cannot be
read, counts as on (generation stops; serving continues with the defaults) and is reported through
`on_event`. The key is read when the generator starts and again after `max_age`; a writer built for a
key is rebuilt when the key changes (`RotatingKeyWriter`), so a rotation needs no redeploy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from versa.adapters.lazy_client import LazyClient
from versa.ports import (
    CopyWriter,
    Draft,
    Painting,
    PaintRequest,
    StoreUnavailable,
    VisualWriter,
    WriteRequest,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

ON = frozenset({"true", "on", "1", "yes", "stop"})
OFF = frozenset({"false", "off", "0", "no", ""})


class SsmKillSwitch:
    """`switch()` is True while the SSM parameter `name` says `true` (also on, 1, yes, stop; off is
    false, off, 0, no or empty, any case). Unreadable or unknown values count as on and call
    `on_event("kill_switch_unreadable", reason=...)`."""

    def __init__(
        self,
        name: str,
        *,
        max_age: int = 60,
        client: Any = None,
        client_factory: Callable[[], Any] | None = None,
        on_event: Callable[..., None] | None = None,
    ) -> None:
        self.name = name
        self.max_age = max_age
        self._client: LazyClient[Any] = LazyClient("ssm", client=client, factory=client_factory)
        self._provider: SSMProvider | None = None
        self._emit = on_event or (lambda *a, **k: None)

    def __call__(self) -> bool:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            if self._provider is None:
                from aws_lambda_powertools.utilities.parameters import SSMProvider

                self._provider = SSMProvider(boto3_client=self._client.get())
            value = self._provider.get(self.name, max_age=self.max_age)
        except GetParameterError as exc:
            self._emit("kill_switch_unreadable", reason=f"SSM parameter {self.name!r} could not be read: {exc}")
            return True
        word = str(value).strip().lower()
        if word in OFF:
            return False
        if word not in ON:
            self._emit("kill_switch_unreadable",
                       reason=f"SSM parameter {self.name!r} is {str(value)[:40]!r}; allowed: true or false")
        return True


class SecretsManagerValue:
    """`value()` is the secret `secret_id`'s string, read through Powertools (cached `max_age` seconds).
    Raises StoreUnavailable when it cannot be read, is binary or empty (never showing the value)."""

    def __init__(self, secret_id: str, *, max_age: int = 300, client: Any = None,
                 client_factory: Callable[[], Any] | None = None) -> None:
        self.secret_id = secret_id
        self.max_age = max_age
        self._client: LazyClient[Any] = LazyClient("secretsmanager", client=client, factory=client_factory)
        self._provider: SecretsProvider | None = None

    def value(self) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            if self._provider is None:
                from aws_lambda_powertools.utilities.parameters import SecretsProvider

                self._provider = SecretsProvider(boto3_client=self._client.get())
            found = self._provider.get(self.secret_id, max_age=self.max_age)
        except GetParameterError as exc:
            raise StoreUnavailable(f"secret {self.secret_id!r} could not be read from Secrets Manager") from exc
        if not isinstance(found, str) or not found.strip():
            raise StoreUnavailable(f"secret {self.secret_id!r} is empty or binary; expected the API key as a string")
        return found.strip()


class RotatingKeyWriter(CopyWriter):
    """A writer built by `make(key)` for the key `key()` answers now, rebuilt when that changes."""

    def __init__(self, model: str, key: Callable[[], str], make: Callable[[str], CopyWriter]) -> None:
        self.model = model
        self._key = key
        self._make = make
        self._built: tuple[str, CopyWriter] | None = None

    def current(self) -> CopyWriter:
        key = self._key()
        if self._built is None or self._built[0] != key:
            self._built = (key, self._make(key))
        return self._built[1]

    def write(self, request: WriteRequest) -> Draft:
        return self.current().write(request)



class RotatingKeyPainter(VisualWriter):
    """A visual writer built by `make(key)` for the key `key()` answers now, rebuilt when that changes."""

    def __init__(self, model: str, key: Callable[[], str], make: Callable[[str], VisualWriter]) -> None:
        self.model = model
        self._key = key
        self._make = make
        self._built: tuple[str, VisualWriter] | None = None

    def current(self) -> VisualWriter:
        key = self._key()
        if self._built is None or self._built[0] != key:
            self._built = (key, self._make(key))
        return self._built[1]

    def paint(self, request: PaintRequest) -> Painting:
        return self.current().paint(request)


__all__ = ["RotatingKeyPainter", "RotatingKeyWriter", "SecretsManagerValue", "SsmKillSwitch"]
