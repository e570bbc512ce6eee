"""Outbound HTTP, one place: the client factory, the retry policy and the failure classifier every caller shares."""

from modelgraph.outbound.bodies import BodyTooLarge, BodyTooSlow, aread_capped, read_capped
from modelgraph.outbound.clients import async_client, sync_client, user_agent
from modelgraph.outbound.failures import RETRYABLE, FailureKind, classify_exception, classify_status, retryable
from modelgraph.outbound.retry import RetryPolicy, retry_after_seconds

__all__ = [
    "BodyTooLarge",
    "BodyTooSlow",
    "RETRYABLE",
    "FailureKind",
    "RetryPolicy",
    "aread_capped",
    "async_client",
    "classify_exception",
    "classify_status",
    "read_capped",
    "retry_after_seconds",
    "retryable",
    "sync_client",
    "user_agent",
]
