"""Where a user's digests go: build the notifiers of a user's notification targets.

A user's targets are stored (``tradecore notify add``). A value a target does not set is taken
from the notifier's *defaults* — what the environment gives for the variables the notifier
declares (``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_CHAT_ID``…). When the defaults alone hold everything
a notifier requires, every user without a target of that notifier gets an implicit one, named
after it: setting ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_CHAT_ID`` is enough for a single trader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import field, frozen

from tradecore.domain import NotificationTarget, Secret
from tradecore.domain._checks import freeze_mapping
from tradecore.ports import (
    Clock,
    NotifierContext,
    NotifierFactory,
    NotifierPort,
    SharedLimits,
)
from tradecore.services._steps import describe_error, mask
from tradecore.services.unreadable import needs_secrets, unreadable_target_problem

__all__ = [
    "NotifierDefaults",
    "TargetNotifier",
    "defaults_from_environment",
    "implicit_targets",
    "notifiers_for",
]


@frozen(kw_only=True)
class NotifierDefaults:
    """Settings and secrets of one notifier that a target does not need to set itself."""

    settings: Mapping[str, str] = field(factory=dict, converter=freeze_mapping)
    secrets: Mapping[str, Secret] = field(factory=dict, converter=freeze_mapping)

    def complete_for(self, factory: NotifierFactory) -> bool:
        """``True`` when these alone give ``factory`` every setting and secret it requires."""
        settings = all(s.name in self.settings for s in factory.settings if s.required)
        secrets = all(s.name in self.secrets for s in factory.secrets if s.required)
        return bool(self.settings or self.secrets) and settings and secrets


def defaults_from_environment(
    factories: Mapping[str, NotifierFactory], environ: Mapping[str, str]
) -> dict[str, NotifierDefaults]:
    """Each notifier's defaults: the values of the environment variables it declares that are
    set and not empty (secrets wrapped in :class:`Secret` at once)."""
    defaults = {}
    for name, factory in factories.items():
        settings = {
            spec.name: environ[spec.env_var].strip()
            for spec in factory.settings
            if spec.env_var and environ.get(spec.env_var, "").strip()
        }
        secrets = {
            spec.name: Secret(environ[spec.env_var].strip())
            for spec in factory.secrets
            if spec.env_var and environ.get(spec.env_var, "").strip()
        }
        if settings or secrets:
            defaults[name] = NotifierDefaults(settings=settings, secrets=secrets)
    return defaults


@frozen(kw_only=True)
class TargetNotifier:
    """A user's target and its notifier, or why no notifier could be built for it.

    :param name: the target's name (the notify step's subject).
    :param error: set when ``notifier`` is ``None``; never contains a secret.
    """

    name: str
    notifier: NotifierPort | None = None
    error: str | None = None
    secret_values: tuple[str, ...] = field(default=(), repr=False)

    def masked(self, text: str) -> str:
        """``text`` with the target's secrets masked (for messages quoting a failure)."""
        return mask(text, self.secret_values)


def notifiers_for(
    targets: Sequence[NotificationTarget],
    *,
    factories: Mapping[str, NotifierFactory],
    defaults: Mapping[str, NotifierDefaults],
    clock: Clock,
    limits: SharedLimits | None = None,
) -> list[TargetNotifier]:
    """The notifiers of one user's ``targets`` (inactive ones left out) and of the implicit
    targets the ``defaults`` make (see the module docstring), in that order; each is given
    ``limits`` (``NotifierContext.limits``)."""
    resolved = [
        _build(
            target.name,
            target.notifier,
            settings=target.settings,
            secrets=target.secrets,
            factories=factories,
            defaults=defaults,
            clock=clock,
            unreadable=target.secrets_unreadable,
            limits=limits,
        )
        for target in targets
        if target.active
    ]
    for name in implicit_targets(targets, factories=factories, defaults=defaults):
        resolved.append(
            _build(
                name,
                name,
                settings={},
                secrets={},
                factories=factories,
                defaults=defaults,
                clock=clock,
                limits=limits,
            )
        )
    return resolved


def implicit_targets(
    targets: Sequence[NotificationTarget],
    *,
    factories: Mapping[str, NotifierFactory],
    defaults: Mapping[str, NotifierDefaults],
) -> list[str]:
    """The notifiers the ``defaults`` alone configure for a user with these ``targets``: those
    whose defaults are complete and of which the user has no target (active or not)."""
    configured = {target.notifier for target in targets}
    return [
        name
        for name, default in defaults.items()
        if name not in configured
        and (factory := factories.get(name)) is not None
        and default.complete_for(factory)
    ]


def _build(
    target_name: str,
    notifier: str,
    *,
    settings: Mapping[str, str],
    secrets: Mapping[str, Secret],
    factories: Mapping[str, NotifierFactory],
    defaults: Mapping[str, NotifierDefaults],
    clock: Clock,
    unreadable: bool = False,
    limits: SharedLimits | None = None,
) -> TargetNotifier:
    factory = factories.get(notifier)
    if factory is None:
        installed = ", ".join(sorted(factories)) or "none"
        return TargetNotifier(
            name=target_name,
            error=f"the notifier plugin {notifier!r} is not installed (installed: {installed})",
        )
    if unreadable and needs_secrets(factory):
        return TargetNotifier(name=target_name, error=unreadable_target_problem(target_name))
    default = defaults.get(notifier, NotifierDefaults())
    all_secrets = {**default.secrets, **secrets}
    values = tuple(secret.reveal() for secret in all_secrets.values())
    context = NotifierContext(
        clock=clock,
        settings={**default.settings, **settings},
        secrets=all_secrets,
        name=target_name,
        limits=limits,
    )
    try:
        notifier_port = factory.create(context)
    except Exception as exc:  # a plugin's factory: any failure is this target's, not the run's
        return TargetNotifier(name=target_name, error=mask(describe_error(exc), values))
    return TargetNotifier(name=target_name, notifier=notifier_port, secret_values=values)
