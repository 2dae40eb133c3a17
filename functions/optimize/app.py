"""The optimizer function: an EventBridge schedule → the next allocation snapshot of every optimized
rule of the brands the schedule names.

Thin on purpose: the run lives in `versa.consumer.optimizer`, the statistics in `versa.relevance`.
"""

from versa.consumer.optimizer import lambda_handler

__all__ = ["lambda_handler"]
