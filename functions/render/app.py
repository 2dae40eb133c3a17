"""The render function: API Gateway (behind CloudFront) → Versa.

Thin on purpose: routing, error mapping, logging with the correlation id, metrics and tracing live in
`versa.web.api`, which `versa serve` runs too, so the laptop and Lambda share one handler. The service
(stores, renderer, keys) is built by `versa.composition` on the first request of each container.
"""

from versa.web.api import lambda_handler

__all__ = ["lambda_handler"]
