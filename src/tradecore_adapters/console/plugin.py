"""Registers the ``console`` notifier (hookimpls only)."""

from __future__ import annotations

from tradecore.plugins import NotifierContext, NotifierFactory, hookimpl
from tradecore.ports import NotifierPort


def _create(context: NotifierContext) -> NotifierPort:
    from tradecore_adapters.console.notifier import ConsoleNotifier

    return ConsoleNotifier.from_context(context)


@hookimpl
def tradecore_register_notifiers() -> list[NotifierFactory]:
    """Provide the ``console`` notifier."""
    return [
        NotifierFactory(
            name="console",
            description="Print the digest to the terminal",
            create=_create,
        )
    ]
