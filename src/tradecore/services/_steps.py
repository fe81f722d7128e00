"""Helpers every step of a cycle shares: timing, outcome, and error text without secrets."""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from tradecore.domain import Phrase, TaskKind, TaskResult, TaskStatus, Wording
from tradecore.domain.secret import MIN_SECRET_LENGTH
from tradecore.errors import BrokerError, TradecoreError
from tradecore.ports import Clock

__all__ = ["StepTimer", "describe_error", "mask"]

_MASK = "**********"
_VENDOR_TAILS = ("[SQL:", "[parameters:", "(Background on this error at:")


def describe_error(exc: BaseException, *, doing: str | None = None) -> str:
    """Say what went wrong in one sentence: the error type, its message, and the broker's code.

    tradecore's own errors keep their sentence. An arithmetic error of :mod:`decimal` (a value
    too large, divided by zero, or not a number) says so in words instead of Python's
    ``[<class 'decimal.Overflow'>]``. Any other error is unexpected: its type and the first line
    of its message are kept, without the SQL text, parameters and links a database library
    appends.

    :param doing: what was being done (``"sizing the order"``), said for an error that is not
        tradecore's own.
    """
    if isinstance(exc, TradecoreError):
        text = " ".join(str(exc).split()) or "(no message)"
        code = exc.code if isinstance(exc, BrokerError) else None
        return f"{type(exc).__name__}: {text}" + (f" (code {code})" if code else "")
    where = f" while {doing}" if doing else ""
    if isinstance(exc, decimal.Overflow):
        return f"a number was too large to compute with{where}"
    if isinstance(exc, decimal.DivisionByZero):
        return f"a number was divided by zero{where}"
    if isinstance(exc, decimal.DecimalException):
        return f"a number was out of range or not a number{where}"
    return f"unexpected {type(exc).__name__}{where}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    # SQLAlchemy appends the statement, its parameters and a link to its docs, each on a line
    # of its own; other libraries put tracebacks or response bodies after the first line.
    text = str(exc)
    for tail in _VENDOR_TAILS:
        text = text.split(tail, 1)[0]
    lines = [line for line in text.splitlines() if line.strip()]
    return " ".join(lines[0].split()) if lines else "(no message)"


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with each of ``secrets`` replaced by ``**********`` (blank ones ignored).

    A secret shorter than :data:`~tradecore.domain.secret.MIN_SECRET_LENGTH` (one stored before
    such secrets were refused) is masked only where it stands as a whole word, so that a secret
    ``k`` does not turn ``BrokerError`` into ``Bro**********erError``.
    """
    for secret in secrets:
        if not secret.strip():
            continue
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, _MASK)
        else:
            text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", _MASK, text)
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

    def _mask(self, text: Wording) -> Wording:
        # A phrase keeps its sentence; only its values (a broker's text, a name) can hold one.
        if isinstance(text, Phrase):
            return text.map_values(lambda value: mask(value, self._secrets))
        return mask(text, self._secrets)

    def result(
        self,
        status: TaskStatus,
        *,
        counts: Mapping[str, int] | None = None,
        api: Mapping[str, str] | None = None,
        error: Wording | None = None,
        notes: Iterable[Wording] = (),
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
            error=None if error is None else self._mask(error),
            notes=tuple(self._mask(note) for note in notes),
        )
