"""The render function: API Gateway (behind CloudFront) → Versa.

Thin on purpose: routing, error mapping, logging with the correlation id, metrics and tracing live in
`versa.web.api`, which `versa serve` runs too, so the laptop and Lambda share one handler. The service
(stores, renderer, keys) is built by `versa.composition` when this module loads (Lambda's init phase:
the signing keys and the origin secret are read before the first request), and the SnapStart hooks are
registered when the runtime has them (`versa.web.lifecycle`).
"""

from versa.web import api, lifecycle
from versa.web.api import lambda_handler

lifecycle.warm_up(api.service, api._log)
lifecycle.install_snapstart_hooks(api.service, api._log)

__all__ = ["lambda_handler"]
