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
        """The notifier plugin's name (``console``, ``telegram``)."""
        ...

    async def send(self, digest: Digest) -> None:
        """Deliver ``digest``: the summary, the API responses, and the errors when there are any.

        :raises NotificationError: it could not be delivered; the message says why.
        """
        ...
