"""A :class:`~tradecore.ports.NotifierPort` that remembers what it was sent."""

from __future__ import annotations

from tradecore.domain import Digest

__all__ = ["RecordingNotifier"]


class RecordingNotifier:
    """Collects every digest in :attr:`sent`; can be told to fail.

    :param name: the notifier name it reports.
    :param fail_with: when set, ``send`` raises this (the digest is not recorded).
    """

    def __init__(self, name: str = "recording", *, fail_with: Exception | None = None) -> None:
        self._name = name
        self.fail_with = fail_with
        self.sent: list[Digest] = []
        self.tests: list[str] = []

    @property
    def name(self) -> str:
        """The notifier name."""
        return self._name

    async def send(self, digest: Digest) -> None:
        """Record ``digest``, or raise :attr:`fail_with`."""
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(digest)

    async def send_test(self, user_name: str) -> None:
        """Record a test for ``user_name`` in :attr:`tests`, or raise :attr:`fail_with`."""
        if self.fail_with is not None:
            raise self.fail_with
        self.tests.append(user_name)

    async def check(self) -> str:
        """Say it is reachable, or raise :attr:`fail_with`."""
        if self.fail_with is not None:
            raise self.fail_with
        return f"{self._name} is reachable"
