"""Helpers every step of a cycle shares: timing, outcome, and error text without secrets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from tradecore.domain import TaskKind, TaskResult, TaskStatus
from tradecore.errors import BrokerError, TradecoreError
from tradecore.ports import Clock

__all__ = ["StepTimer", "describe_error", "mask"]

_MASK = "**********"


def describe_error(exc: BaseException) -> str:
    """Say what went wrong in one line: the error type, its message, and the broker's code."""
    text = " ".join(str(exc).split()) or "(no message)"
    name = type(exc).__name__
    prefix = name if isinstance(exc, TradecoreError) else f"unexpected {name}"
    code = exc.code if isinstance(exc, BrokerError) else None
    return f"{prefix}: {text}" + (f" (code {code})" if code else "")


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with each of ``secrets`` replaced by ``**********`` (empty ones ignored)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    return text


class StepTimer:
    """Measure one step with the injected clock and build its :class:`TaskResult`.

    Every text of the result (error and notes) has ``secrets`` masked: adapters promise never to
    put secrets in their messages, and this is the second line of defence, in the one place all
    step results are made.
    """

    def __init__(
        self,
        clock: Clock,
        kind: TaskKind,
        subject: str,
        subject_id: str | None,
        *,
        secrets: Iterable[str] = (),
    ) -> None:
        self._clock = clock
        self._secrets = tuple(secret for secret in secrets if secret)
        self._kind = kind
        self._subject = subject
        self._subject_id = subject_id
        self.started_at: datetime = clock.now()

    def result(
        self,
        status: TaskStatus,
        *,
        counts: Mapping[str, int] | None = None,
        api: Mapping[str, str] | None = None,
        error: str | None = None,
        notes: Iterable[str] = (),
    ) -> TaskResult:
        """Close the step now with ``status``."""
        return TaskResult(
            kind=self._kind,
            subject=self._subject,
            subject_id=self._subject_id,
            status=status,
            started_at=self.started_at,
            duration=self._clock.now() - self.started_at,
            counts=counts or {},
            api=api or {},
            error=None if error is None else mask(error, self._secrets),
            notes=tuple(mask(note, self._secrets) for note in notes),
        )
