"""Where a user's cycle digests go: :class:`NotificationTarget`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import Factory, define, field

from tradecore.domain._checks import frozen_secrets, frozen_settings, non_empty, utc
from tradecore.domain.ids import new_id
from tradecore.domain.secret import Secret
from tradecore.errors import DomainError

__all__ = ["NotificationTarget"]


def _notifier_name(target: NotificationTarget) -> str:
    return target.notifier


def _nothing_if_unreadable(instance: NotificationTarget, attribute: Any, value: Any) -> None:
    if type(value) is not bool:
        raise DomainError(f"{attribute.name} must be a bool")
    if value and instance.secrets:
        raise DomainError("a target whose secrets are unreadable holds no secrets")


@define(kw_only=True)
class NotificationTarget:
    """Where one user's digests go through one notifier plugin (a Telegram chat…).

    :param notifier: the notifier plugin's name (``telegram``…).
    :param name: the user's name for this target, unique per user (by default the notifier's
        name).
    :param settings: non-secret settings (chat id, language, message toggles…).
    :param secrets: a bot token and the like, each a :class:`Secret`.
    :param active: inactive targets are kept but receive nothing.
    :param secrets_unreadable: ``True`` when the repository holds secrets for this target that
        its keys cannot decrypt (the secret key was lost); ``secrets`` is then empty. Such a
        target can be listed, disabled and removed; a notifier that needs secrets is not built
        from it.
    """

    id: str = field(factory=new_id, validator=non_empty)
    user_id: str = field(validator=non_empty)
    notifier: str = field(validator=non_empty)
    name: str = field(default=Factory(_notifier_name, takes_self=True), validator=non_empty)
    settings: Mapping[str, str] = field(factory=dict, converter=frozen_settings)
    secrets: Mapping[str, Secret] = field(factory=dict, converter=frozen_secrets)
    active: bool = True
    created_at: datetime = field(converter=utc)
    secrets_unreadable: bool = field(default=False, validator=_nothing_if_unreadable)

    def secret_values(self) -> tuple[str, ...]:
        """Every secret value the target holds, to scrub from text that might quote one. Never
        print or log what this returns."""
        return tuple(value for value in (s.reveal() for s in self.secrets.values()) if value)
