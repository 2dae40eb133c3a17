"""The impressions function: CloudFront real-time log records from Kinesis → per-arm, per-segment
impression counts in the relevance store.

Thin on purpose: the batch lives in `versa.consumer.impressions`, the replay in `versa.relevance`.
"""

from versa.consumer.impressions import lambda_handler

__all__ = ["lambda_handler"]
