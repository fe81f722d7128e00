"""Use cases on where a user's digests go: notification targets (a Telegram chat…).

A target is one notifier plugin with its settings and secrets. What a target does not set comes
from the notifier's defaults (the environment's ``TELEGRAM_*`` variables, read by the front end);
a secret the defaults hold is *not* stored, so an operator changes it in one place (see
:mod:`tradecore.services.notify` and ``docs/notifications/telegram.md``). A target is checked
(the notifier asked to check itself, nothing sent) before it is stored. Every lookup is scoped to
the acting user: another user's target is "not found".
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence

from attrs import evolve, frozen

from tradecore.domain import NotificationTarget, Secret, checked_name
from tradecore.domain.secret import check_secret_length
from tradecore.errors import (
    AlreadyExists,
    ConfigurationError,
    DomainError,
    NotFound,
    NotificationError,
)
from tradecore.ports import NotifierFactory, UnitOfWork, check_settings
from tradecore.services.context import ServiceContext, installed
from tradecore.services.notify import (
    NotifierDefaults,
    TargetNotifier,
    implicit_targets,
    notifiers_for,
)

__all__ = ["NewTarget", "TargetAdded", "TargetList", "TargetTest", "Targets"]


@frozen(kw_only=True)
class NewTarget:
    """What :meth:`Targets.check_new` found: the plugin and which of its secrets to ask for.

    :param name: the target's name, checked and trimmed.
    :param secrets_to_ask: the plugin's secrets the defaults do not hold (ask the person).
    :param secrets_from_defaults: those read from the defaults at each run, never stored.
    """

    name: str
    factory: NotifierFactory
    secrets_to_ask: tuple[str, ...]
    secrets_from_defaults: tuple[str, ...]


@frozen(kw_only=True)
class TargetAdded:
    """A stored target and what its notifier said when it checked itself."""

    target: NotificationTarget
    checked: str


@frozen(kw_only=True)
class TargetList:
    """The user's stored targets and the implicit ones the defaults alone configure."""

    stored: tuple[NotificationTarget, ...]
    implicit: tuple[str, ...]


@frozen(kw_only=True)
class TargetTest:
    """One target's test message: ``problem`` is ``None`` when it was sent (secrets masked)."""

    name: str
    problem: str | None = None


class Targets:
    """The use cases on a user's notification targets."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    def factory(self, notifier: str) -> NotifierFactory:
        """The installed notifier plugin called ``notifier``.

        :raises PluginError: none is installed; the message lists those that are.
        """
        return installed(self._context.notifiers, notifier, "notifier")

    async def check_new(
        self,
        user_id: str,
        *,
        notifier: str,
        name: str | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> NewTarget:
        """Check what :meth:`add` would be given before its secrets are asked for.

        :param name: the target's name; the notifier's by default.
        :raises PluginError: the notifier is not installed.
        :raises DomainError: the name breaks the rule for names.
        :raises ConfigurationError: a setting is unknown or not one of its choices.
        :raises AlreadyExists: the user already has a target with that name.
        :raises NotFound: no such user.
        """
        factory = self.factory(notifier)
        target_name = checked_name("target", notifier if name is None else name)
        check_settings(factory.settings, dict(settings or {}), owner=f"notifier {notifier!r}")
        defaults = self._defaults(notifier)
        async with self._context.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            try:
                await uow.notification_targets.get_by_name(user_id, target_name)
            except NotFound:
                pass
            else:
                raise _taken(user.name, target_name)
        return NewTarget(
            name=target_name,
            factory=factory,
            secrets_to_ask=tuple(s.name for s in factory.secrets if s.name not in defaults.secrets),
            secrets_from_defaults=tuple(
                s.name for s in factory.secrets if s.name in defaults.secrets
            ),
        )

    async def add(
        self,
        user_id: str,
        *,
        notifier: str,
        name: str | None = None,
        settings: Mapping[str, str] | None = None,
        secrets: Mapping[str, Secret] | None = None,
    ) -> TargetAdded:
        """Check the target (its notifier built with the defaults and asked to check itself;
        nothing is sent), then store it, its secrets encrypted.

        :raises PluginError, DomainError, ConfigurationError, AlreadyExists, NotFound: see
            :meth:`check_new`; also a secret the plugin does not take.
        :raises NotificationError: the notifier refused the target (a wrong token or chat);
            nothing is stored. The message never holds a secret.
        """
        new = await self.check_new(user_id, notifier=notifier, name=name, settings=settings)
        secrets = dict(secrets or {})
        unknown = sorted(set(secrets) - {spec.name for spec in new.factory.secrets})
        if unknown:
            raise ConfigurationError(
                f"notifier {notifier!r}: unknown secret(s) {', '.join(unknown)}"
            )
        for secret_name, value in secrets.items():
            try:
                check_secret_length(secret_name, value)
            except DomainError as exc:
                raise ConfigurationError(f"notifier {notifier!r}: {exc}") from None
        target = NotificationTarget(
            user_id=user_id,
            notifier=notifier,
            name=new.name,
            settings=dict(settings or {}),
            secrets=secrets,
            created_at=self._context.clock.now(),
        )
        checked = await self._check(target)
        async with self._context.repository.unit_of_work() as uow:
            try:
                await uow.notification_targets.add(target)
            except AlreadyExists:
                user = await uow.users.get(user_id)
                raise _taken(user.name, target.name) from None
            await uow.commit()
        return TargetAdded(target=target, checked=checked)

    async def list(self, user_id: str) -> TargetList:
        """The user's stored targets and the implicit ones.

        :raises NotFound: no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            stored = tuple(await uow.notification_targets.list(user_id))
        implicit = implicit_targets(
            stored, factories=self._context.notifiers, defaults=self._context.notifier_defaults
        )
        return TargetList(stored=stored, implicit=tuple(implicit))

    async def get(self, user_id: str, target_id: str) -> NotificationTarget:
        """The user's target with the id ``target_id`` (for front ends that address targets by
        id); another user's target is "not found" like one that does not exist.

        :raises NotFound: the user has no target with that id.
        """
        async with self._context.repository.unit_of_work() as uow:
            try:
                return await uow.notification_targets.get(user_id, target_id.strip())
            except NotFound:
                raise NotFound("no such notification target") from None

    async def set_active(self, user_id: str, name: str, *, active: bool) -> NotificationTarget:
        """Send the user's digests to target ``name`` again, or keep it but send it nothing
        (which also stops an implicit target of its notifier).

        :raises NotFound: the user has no target by that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            target = evolve(await _target_named(uow, user_id, name), active=active)
            await uow.notification_targets.update(target)
            await uow.commit()
        return target

    async def remove(self, user_id: str, name: str) -> NotificationTarget:
        """Forget target ``name`` with its secrets.

        :raises NotFound: the user has no target by that name.
        """
        async with self._context.repository.unit_of_work() as uow:
            target = await _target_named(uow, user_id, name)
            await uow.notification_targets.remove(user_id, target.id)
            await uow.commit()
        return target

    async def test(self, user_id: str) -> tuple[TargetTest, ...]:
        """Send a short test message to each of the user's active targets (and implicit ones).

        :returns: one result per target, in order; empty when the user has none.
        :raises NotFound: no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            targets = await uow.notification_targets.list(user_id)
        results: builtins.list[TargetTest] = []
        for item in self._notifiers(targets):
            if item.notifier is None:
                results.append(TargetTest(name=item.name, problem=item.error))
                continue
            try:
                await item.notifier.send_test(user.name)
            except Exception as exc:
                results.append(TargetTest(name=item.name, problem=_reason(exc, item)))
            else:
                results.append(TargetTest(name=item.name))
        return tuple(results)

    def _defaults(self, notifier: str) -> NotifierDefaults:
        return self._context.notifier_defaults.get(notifier, NotifierDefaults())

    def _notifiers(self, targets: Sequence[NotificationTarget]) -> Sequence[TargetNotifier]:
        return notifiers_for(
            targets,
            factories=self._context.notifiers,
            defaults=self._context.notifier_defaults,
            clock=self._context.clock,
            limits=self._context.limits,
        )

    async def _check(self, target: NotificationTarget) -> str:
        # Build the notifier as a run would (with the defaults) and ask it to check itself: a
        # wrong token or chat is refused now, not at the first run.
        resolved = self._notifiers([target])[0]  # the target itself; implicit ones follow
        if resolved.notifier is None:
            raise NotificationError(f"target {target.name} cannot be used: {resolved.error}")
        try:
            return await resolved.notifier.check()
        except Exception as exc:
            raise NotificationError(
                f"target {target.name} does not work: {_reason(exc, resolved)}; nothing saved"
            ) from None


async def _target_named(uow: UnitOfWork, user_id: str, name: str) -> NotificationTarget:
    try:
        return await uow.notification_targets.get_by_name(user_id, name)
    except NotFound:
        user = await uow.users.get(user_id)
        raise NotFound(f"{user.name} has no notification target named {name!r}") from None


def _reason(exc: BaseException, resolved: TargetNotifier) -> str:
    return resolved.masked(str(exc) or type(exc).__name__)


def _taken(user_name: str, name: str) -> AlreadyExists:
    return AlreadyExists(f"{user_name} already has a notification target named {name!r}")
