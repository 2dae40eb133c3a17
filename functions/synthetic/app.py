"""The synthetic check (EventBridge schedule → this function): a signed creative per brand fetched
through the CDN, alarmed on when the answer is a fallback. Thin: the logic is `versa.synthetic`,
the wiring `versa.consumer.synthetic`."""

from versa.consumer.synthetic import lambda_handler

__all__ = ["lambda_handler"]
