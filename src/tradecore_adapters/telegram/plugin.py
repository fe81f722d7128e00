"""Registers the ``telegram`` notifier (hookimpls only)."""

from __future__ import annotations

from tradecore.plugins import NotifierContext, NotifierFactory, hookimpl
from tradecore.ports import NotifierPort
from tradecore_adapters.telegram.config import SECRETS, SETTINGS


def _create(context: NotifierContext) -> NotifierPort:
    from tradecore_adapters.telegram.notifier import TelegramNotifier

    return TelegramNotifier.from_context(context, name=context.name or "telegram")


@hookimpl
def tradecore_register_notifiers() -> list[NotifierFactory]:
    """Provide the ``telegram`` notifier."""
    return [
        NotifierFactory(
            name="telegram",
            description="Send the digest to a Telegram chat (summary, API responses, errors)",
            create=_create,
            settings=SETTINGS,
            secrets=SECRETS,
        )
    ]
