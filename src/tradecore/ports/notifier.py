"""The :class:`NotifierPort`: deliver a cycle's :class:`~tradecore.domain.Digest` to one target."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tradecore.domain import Digest

__all__ = ["NotifierPort"]


@runtime_checkable
class NotifierPort(Protocol):
    """One delivery target (a chat, a terminal…). It renders the digest for its medium."""

    @property
    def name(self) -> str:
        """The name the run's notify step shows: the user's name for the target
        (:attr:`NotifierContext.name`), else the plugin's (``console``, ``telegram``)."""
        ...

    async def send(self, digest: Digest) -> None:
        """Deliver ``digest``: the summary, the API responses, and the errors when there are any.

        :raises NotificationError: it could not be delivered; the message says why.
        """
        ...

    async def send_test(self, user_name: str) -> None:
        """Deliver one short test message for ``user_name`` (``tradecore notify test``).

        :raises NotificationError: it could not be delivered; the message says why.
        """
        ...

    async def check(self) -> str:
        """Check the target can be reached, sending nothing (``tradecore check``).

        :returns: one line saying what was checked (``bot @x can write to chat 42``).
        :raises NotificationError: it cannot be reached; the message says why.
        """
        ...
