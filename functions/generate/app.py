"""The generator function: SQS (the generation queue) → Versa's copy generator.

Thin on purpose: batch processing with partial failures, idempotency, logging and metrics live in
`versa.consumer.generator`; the generator itself (stores, writer, spending ledger) is built by
`versa.composition.build_generator` on the first message of each container.
"""

from versa.consumer.generator import lambda_handler

__all__ = ["lambda_handler"]
