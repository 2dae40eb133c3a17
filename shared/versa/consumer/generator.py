"""The deployed copy generator: SQS batches of generation requests → copy in DynamoDB.

`functions/generate/app.py` re-exports `lambda_handler`. Each message is one JSON `GenerationRequest`
(what `versa.adapters.sqs_queue.SqsQueue` sends). Powertools' `BatchProcessor` runs each record and
reports the failed ones (`batchItemFailures`), so SQS redelivers only those, and after the queue's
`maxReceiveCount` moves them to the dead-letter queue. Per record:

- **poison** (a body that is not a generation request; a brand the pack store does not know): the item
  fails every time, so it reaches the DLQ;
- **duplicates**: Powertools idempotency keyed on the generation key (records in the generator's state
  table, kept for the lease's length): a second message for a key being or just generated does not
  call the model again (while the first runs, the duplicate fails and is retried; after, it is done);
- **spending stops** (kill switch, the brand's daily tokens, the rate): logged and counted by the worker;
  the item *succeeds* (the message is dropped by design): the lease expires and a later miss asks again,
  so a budget stop never floods the DLQ. A stop leaves no idempotency record;
- **writer unavailable** (unknown model, refused key) and errors (a store, the pack, the ledger): the
  item fails and is retried, then dead-lettered; counted as `GenerationFailures`.

The generator is built on the first message of each container (`versa.composition.build_generator`);
a configuration that cannot start (no model, no key) fails the whole batch each time, logged and
counted (`GeneratorMisconfigured`), and is tried again on the next batch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from versa.composition import Generator, GeneratorMisconfigured, build_generator
from versa.errors import UnknownBrand, VersaError
from versa.generate.worker import Attempt
from versa.ports import ASPECTS, GENERATION_KINDS, GenerationRequest, StoreUnavailable
from versa.settings import SettingsError

SERVICE = "versa-generator"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Versa", service=SERVICE)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class PoisonMessage(VersaError, ValueError):
    """A message that can never be generated: not a generation request, or a brand no pack names."""


class GenerationRetry(VersaError, RuntimeError):
    """This message could not be generated now (the writer is unavailable): fail it, SQS redelivers."""


class GenerationDeferred(GenerationRetry):
    """Too little of the invocation is left to start this message: it is failed unstarted and
    redelivered (counted as GenerationDeferred, not as a failure)."""


class _Stopped(Exception):
    """A spending bound stopped the generation: no idempotency record is kept for it."""


class PowertoolsCounter:
    """The worker's metrics sink: counts as CloudWatch metrics (the `service` dimension only); brand,
    slot, model and the like go to the log line."""

    def count(self, name: str, value: float = 1, /, **props: Any) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if props:
            logger.info(name, extra={"metric": name, "value": value, **props})

    def timing(self, name: str, ms: float, /, **props: Any) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=ms)


def _log(message: str, **props: Any) -> None:
    logger.info(message, extra=props)


# ------------------------------------------------------------------------------------- decoding

_FIELDS = {f.name for f in fields(GenerationRequest)}
_OPTIONAL = {f.name for f in fields(GenerationRequest) if f.default is not MISSING}
"""Fields added later with a default (kind, aspect): a message written before them still decodes."""
_MAPPINGS = {"constraints", "vary"}
_NAMES = {"key", "brand", "creative", "slot", "locale"}


def decode(body: str) -> GenerationRequest:
    """The request a message body holds. Raises PoisonMessage naming what is wrong."""
    try:
        data = json.loads(body)
    except ValueError:
        raise PoisonMessage(f"message body is not JSON: {body[:80]!r}") from None
    if not isinstance(data, dict):
        raise PoisonMessage(f"message body is a JSON {type(data).__name__}; expected a generation request object")
    missing, extra = sorted(_FIELDS - _OPTIONAL - set(data)), sorted(set(data) - _FIELDS)
    if missing or extra:
        raise PoisonMessage(f"generation request: missing field(s) {missing}, unknown field(s) {extra}"
                            f" (allowed: {', '.join(sorted(_FIELDS))})")
    for name in sorted(_FIELDS & set(data)):
        value = data[name]
        if name in _MAPPINGS:
            ok, kind = isinstance(value, dict), "an object"
        elif name in _NAMES:
            ok, kind = isinstance(value, str) and value != "", "a non-empty string"
        else:
            ok, kind = isinstance(value, str), "a string"
        if not ok:
            raise PoisonMessage(f"generation request: field {name!r} is {type(value).__name__} "
                                f"{str(value)[:40]!r}; expected {kind}")
    if data.get("kind", "copy") not in GENERATION_KINDS:
        raise PoisonMessage(f"generation request: kind {str(data['kind'])[:20]!r} is not one of "
                            f"{', '.join(GENERATION_KINDS)}")
    if data.get("kind") == "visual" and data.get("aspect") not in ASPECTS:
        raise PoisonMessage(f"generation request: a visual needs aspect one of {', '.join(ASPECTS)} "
                            f"(got {str(data.get('aspect'))[:20]!r})")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data["vary"].items()):
        raise PoisonMessage("generation request: field 'vary' must map attribute names to string values")
    return GenerationRequest(**data)


# ------------------------------------------------------------------------------------ the consumer


@dataclass
class Consumer:
    """A built generator and its record handler (with idempotency when the generator has records)."""

    generator: Generator
    config: IdempotencyConfig
    run: Callable[..., str]
    remaining_ms: Callable[[], int] | None = None
    """The invocation's time left (the Lambda context's), set per batch; None: no deadline."""

    @classmethod
    def build(cls, generator: Generator) -> Consumer:
        config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=generator.remember_seconds,
                                   raise_on_no_idempotency_key=True)
        worker = generator.worker

        def generate(data: dict[str, Any]) -> str:
            outcome = worker.attempt(GenerationRequest(**data))
            if outcome is Attempt.stopped:
                raise _Stopped
            if outcome is Attempt.unavailable:
                raise GenerationRetry(f"the {data.get('kind', 'copy')} writer is unavailable; retried later")
            return outcome.value

        run: Callable[..., str] = generate
        if generator.idempotency is not None:
            run = idempotent_function(data_keyword_argument="data", persistence_store=generator.idempotency,
                                      config=config, key_prefix="generation")(generate)
        return cls(generator, config, run)

    def handle(self, record: SQSRecord) -> str:
        """One message: its outcome ("written", "skipped", "lost", "stopped"), or an exception that
        fails the item."""
        try:
            request = decode(record.body)
            self._check_time(request.kind)
            try:
                self.generator.packs.current(request.brand)
            except UnknownBrand as exc:
                raise PoisonMessage(f"generation request for an unknown brand {request.brand!r}") from exc
            try:
                return self.run(data=json.loads(record.body))
            except _Stopped:
                return Attempt.stopped.value
        except GenerationDeferred as exc:
            metrics.add_metric(name="GenerationDeferred", unit=MetricUnit.Count, value=1)
            logger.info("generation message deferred", extra={"message_id": record.message_id, "why": str(exc)})
            raise
        except Exception as exc:
            metrics.add_metric(name="GenerationFailures", unit=MetricUnit.Count, value=1)
            logger.warning("generation message failed", extra={
                "message_id": record.message_id, "error": f"{type(exc).__name__}: {exc}",
                "poison": isinstance(exc, PoisonMessage),
                "receive_count": record.attributes.approximate_receive_count,
            })
            raise


    def _check_time(self, kind: str) -> None:
        """Raise GenerationRetry when the invocation has less time left than one generation of `kind`
        may take: the record is failed and redelivered rather than cut off by the function's timeout
        (which would fail the whole batch)."""
        need = self.generator.worst_seconds.get(kind)
        if self.remaining_ms is None or need is None:
            return
        left = self.remaining_ms() / 1000
        if left < need:
            raise GenerationDeferred(f"{left:.0f} s left in this invocation; a {kind} generation may take up to "
                                  f"{need:.0f} s: retried in a later one")


_consumer: Consumer | None = None
_factory: Callable[[], Generator] | None = None
_lock = threading.Lock()


def configure(factory: Callable[[], Generator] | None) -> None:
    """Set how the generator is built (default: the composition root with Powertools metrics and
    logging); it is built on the next message."""
    global _factory, _consumer
    with _lock:
        _factory, _consumer = factory, None


def consumer() -> Consumer:
    """The process's consumer, built on first use; a failed build is tried again next time."""
    global _consumer
    with _lock:
        if _consumer is None:
            factory = _factory or (lambda: build_generator(metrics=PowertoolsCounter(), log=_log))
            _consumer = Consumer.build(factory())
        return _consumer


def _fail_all(event: dict[str, Any], why: str) -> dict[str, Any]:
    metrics.add_metric(name="GeneratorMisconfigured", unit=MetricUnit.Count, value=1)
    records = event.get("Records") or []
    metrics.add_metric(name="GenerationFailures", unit=MetricUnit.Count, value=len(records))
    logger.error("the generator cannot start: every message of the batch is retried", extra={"error": why})
    return {"batchItemFailures": [{"itemIdentifier": r.get("messageId", "")} for r in records]}


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One SQS batch (no logging/metrics wrappers): `{"batchItemFailures": [...]}`."""
    try:
        built = consumer()
    except (GeneratorMisconfigured, StoreUnavailable, SettingsError) as exc:
        return _fail_all(event, f"{type(exc).__name__}: {exc}")
    if context is not None:
        built.config.register_lambda_context(context)
    built.remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    response = process_partial_response(event=event, record_handler=built.handle, processor=processor,
                                        context=context)
    return dict(response)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: `handle` with Powertools logging (the request id) and a metrics flush."""
    return handle(event, context)


__all__ = ["Consumer", "GenerationDeferred", "GenerationRetry", "PoisonMessage", "configure", "decode", "handle", "lambda_handler"]
