"""The composition root hands the repository's shared limits to every broker and notifier it
builds: through the use cases' context and through the automation cycle (which a scheduler's
leased cycle copies)."""

from __future__ import annotations

from typing import Any

from tradecore.plugins import (
    BrokerContext,
    BrokerFactory,
    NotifierContext,
    NotifierFactory,
    hookimpl,
)
from tradecore.testing.builders import make_connection, make_notification_target
from tradecore_adapters.bootstrap import Settings, bootstrap


class _Spy:
    def __init__(self) -> None:
        self.brokers: list[BrokerContext] = []
        self.notifiers: list[NotifierContext] = []

    @hookimpl
    def tradecore_register_brokers(self) -> list[BrokerFactory]:
        def create(connection: Any, context: BrokerContext) -> Any:
            self.brokers.append(context)
            return object()

        return [BrokerFactory(name="spy", description="records its context", create=create)]

    @hookimpl
    def tradecore_register_notifiers(self) -> list[NotifierFactory]:
        def create(context: NotifierContext) -> Any:
            self.notifiers.append(context)
            return object()

        return [NotifierFactory(name="spy", description="records its context", create=create)]


async def test_brokers_and_notifiers_get_the_repositorys_shared_limits() -> None:
    spy = _Spy()
    async with bootstrap(
        Settings(notifiers=()), plugins=[("spy", spy)], load_entrypoints=False
    ) as app:
        shared = app.repository.shared_limits()  # type: ignore[attr-defined]
        app.context.create_broker(make_connection(broker="spy"))
        app.cycle._create_broker(make_connection(broker="spy"))
        app.cycle.targets_of([make_notification_target(notifier="spy")])

    assert [context.limits for context in spy.brokers] == [shared, shared]
    assert [context.limits for context in spy.notifiers] == [shared]
