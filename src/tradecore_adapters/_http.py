"""What the HTTP broker clients share: one TLS context per process, and how reads are retried.

Retries are for idempotent requests only (reads, cancels); an order placement is never retried.
The wait is exponential with jitter, or the broker's own hint when it asked for longer
(:class:`~tradecore.errors.RateLimited` ``retry_after``: Binance ``Retry-After``, Saxo
``X-RateLimit-*-Reset``), and a read stops after a number of attempts or of seconds waited.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable

import httpx
from tenacity import RetryCallState, wait_exponential, wait_random

from tradecore.errors import RateLimited

__all__ = ["describe", "retry_wait", "stop_after", "tls_context"]

_BACKOFF = wait_exponential(multiplier=0.5, max=8.0) + wait_random(0, 0.5)
"""0.5 s, 1 s, 2 s… (at most 8 s) plus up to 0.5 s of jitter, so connections do not retry in step."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The one TLS context of the process (loading the CA bundle takes tens of milliseconds)."""
    return httpx.create_ssl_context()


def retry_wait(state: RetryCallState) -> float:
    """The backoff, or the broker's ``retry_after`` when it is longer."""
    backoff = _BACKOFF(state)
    exc = state.outcome.exception() if state.outcome is not None else None
    hint = exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after else 0.0
    return max(backoff, hint)


def stop_after(attempts: int, max_wait: float) -> Callable[[RetryCallState], bool]:
    """Stop at ``attempts`` attempts, or before the waits would pass ``max_wait`` seconds."""

    def stop(state: RetryCallState) -> bool:
        return state.attempt_number >= attempts or state.idle_for + state.upcoming_sleep > max_wait

    return stop


def describe(exc: BaseException | None) -> str:
    """``Type: message`` of the exception a retry follows, for the warning log."""
    return "nothing" if exc is None else f"{type(exc).__name__}: {exc}"
