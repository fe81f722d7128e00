"""The composition root: settings in, a wired application out. Nothing here runs at import."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from attrs import define, field, frozen

from tradecore.domain import Trigger
from tradecore.errors import CycleBusy
from tradecore.plugins import NotifierContext, PluginRegistry, get_plugin_manager
from tradecore.ports import (
    BrokerCaches,
    Clock,
    NotifierPort,
    PasswordHasher,
    RepositoryPort,
    SharedLimits,
    WebSessionRepository,
)
from tradecore.services import (
    ApiTokens,
    Automation,
    AutomationCycle,
    Connections,
    Demo,
    Health,
    LeasedRun,
    Metrics,
    OAuthLogins,
    Orders,
    Overview,
    Passwords,
    Portfolio,
    Risk,
    Scheduler,
    Secrets,
    ServiceContext,
    Strategies,
    Targets,
    Users,
    WebSessions,
)
from tradecore.services.notify import NotifierDefaults, defaults_from_environment
from tradecore.services.unsaved_tokens import process_tokens
from tradecore_adapters.database import (
    Rotation,
    SchemaState,
    key_ring_of,
    open_repository,
    rotate_secrets,
    schema_state,
    upgrade_schema,
)
from tradecore_adapters.environment import LOG_LEVELS, settings_from_environment
from tradecore_adapters.front_end import derived_secret, is_database_down
from tradecore_adapters.i18n import LANGUAGES, choose_language, translations
from tradecore_adapters.logging_setup import configure_logging
from tradecore_adapters.metrics import render_metrics
from tradecore_adapters.oauth_callback import RedirectListener
from tradecore_adapters.settings import Settings
from tradecore_adapters.setup_check import check_setup
from tradecore_adapters.vocabulary import Vocabulary, vocabulary

if TYPE_CHECKING:
    pass

__all__ = [
    "LANGUAGES",
    "LOG_LEVELS",
    "Application",
    "Initialised",
    "RedirectListener",
    "Rotation",
    "SchemaState",
    "Settings",
    "Vocabulary",
    "bootstrap",
    "check_setup",
    "choose_language",
    "configure_logging",
    "derived_secret",
    "initialise",
    "is_database_down",
    "key_ring_of",
    "load_plugins",
    "open_application",
    "open_repository",
    "owner_is_gone",
    "render_metrics",
    "rotate_secrets",
    "scheduler_owner",
    "schema_state",
    "settings_from_environment",
    "shared_limits_of",
    "translations",
    "upgrade_schema",
    "vocabulary",
    "web_sessions_of",
]


def scheduler_owner() -> str:
    """A name for this process's scheduler in leases and the daemon registry:
    ``host:pid:tag``, unique among the schedulers sharing a database."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def owner_is_gone(owner: str) -> bool:
    """``True`` when the scheduler named ``owner`` (see :func:`scheduler_owner`) ran on this
    host in a process that no longer exists (killed, crashed). Another host's scheduler, or a
    name of another shape, is never known to be gone: its lease lapses in its own time."""
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@define(kw_only=True)
class Application:
    """The wired application: what every front end uses.

    Its use cases (:attr:`users`, …) are the supported way to act on the data; they check input
    and ownership and commit their own units of work. Close it with :meth:`aclose` (or
    ``async with``) to release the repository.
    """

    settings: Settings
    registry: PluginRegistry
    repository: RepositoryPort
    clock: Clock
    notifiers: tuple[NotifierPort, ...]
    cycle: AutomationCycle
    notifier_defaults: Mapping[str, NotifierDefaults]
    context: ServiceContext
    _sessions: WebSessionRepository | None = field(default=None, init=False, repr=False)

    @property
    def users(self) -> Users:
        """Add, list, find and remove users."""
        return Users(self.context)

    @property
    def passwords(self) -> Passwords:
        """Set users' passwords and log in with a name and a password."""
        return Passwords(self.context)

    @property
    def web_sessions(self) -> WebSessions:
        """The web front end's browser sessions, shared by every web server on the database."""
        if self._sessions is None:
            self._sessions = web_sessions_of(self.repository)
        return WebSessions(self._sessions, self.clock)

    @property
    def api_tokens(self) -> ApiTokens:
        """Create, list, revoke and check users' API tokens."""
        return ApiTokens(self.context)

    @property
    def metrics(self) -> Metrics:
        """The deployment's figures for a Prometheus scrape, and who may read them."""
        return Metrics(self.context)

    @property
    def targets(self) -> Targets:
        """Where a user's digests go: add, list, test, enable or disable, remove."""
        return Targets(self.context)

    @property
    def portfolio(self) -> Portfolio:
        """Sync a user's brokers; read the positions and trades stored."""
        return Portfolio(self.context)

    @property
    def automation(self) -> Automation:
        """A user's automation: controls, status, run ledger, daemons."""
        return Automation(self.context)

    @property
    def secrets(self) -> Secrets:
        """Secrets no key can decrypt: list them, forget them."""
        return Secrets(self.context)

    @property
    def logins(self) -> OAuthLogins:
        """Log a connection in at its broker through a browser (OAuth): begin, complete."""
        return OAuthLogins(self.context)

    @property
    def health(self) -> Health:
        """Check users' connections (log in, list accounts) and notification targets."""
        return Health(self.context)

    @property
    def demo(self) -> Demo:
        """The demo user on the paper broker: set up once, one cycle per run."""
        return Demo(self.context, self.cycle)

    @property
    def overview(self) -> Overview:
        """A user's connections and automation at a glance, in one read (for a dashboard)."""
        return Overview(self.context)

    @property
    def connections(self) -> Connections:
        """A user's broker connections: add, list, edit, enable, test, remove."""
        return Connections(self.context)

    @property
    def strategies(self) -> Strategies:
        """A user's strategies: add, list, show, edit, enable, set the mode, remove."""
        return Strategies(self.context)

    @property
    def risk(self) -> Risk:
        """A user's risk limits, and the kill switch that halts all trading."""
        return Risk(self.context)

    @property
    def orders(self) -> Orders:
        """A user's orders: preview and place one by hand, look one up, cancel one, list them."""
        return Orders(self.context)

    async def run_cycle(self, user_id: str, *, trigger: Trigger = Trigger.MANUAL) -> LeasedRun:
        """Run the user's cycle now, in this process, whether due or not: claimed like a
        scheduler's, so it never runs beside a daemon's cycle of the same user.

        :returns: what became of it (its run id, status, or why it could not run).
        :raises CycleBusy: another scheduler holds the user's cycle right now.
        :raises NotFound: no such user.
        """
        async with self.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
        report = await self.scheduler(concurrency=1).run_pass(
            trigger=trigger, user_ids=[user_id], force=True
        )
        if report.busy:
            raise CycleBusy(report.busy[0].partition(": ")[2] or "held by another scheduler")
        return report.runs[0]

    def scheduler(self, *, owner: str | None = None, concurrency: int | None = None) -> Scheduler:
        """A scheduler of this application's cycles, as the settings say (``AUTOMATION_*``).

        :param owner: its name in leases; :func:`scheduler_owner` by default.
        :param concurrency: how many cycles run at once; ``max_concurrent_cycles`` by default.
        """
        settings = self.settings
        return Scheduler(
            cycle=self.cycle,
            owner=owner or scheduler_owner(),
            lease_ttl=timedelta(seconds=settings.lease_seconds),
            concurrency=concurrency or settings.max_concurrent_cycles,
            idle_check=timedelta(seconds=settings.idle_check_seconds),
            grace=timedelta(seconds=settings.shutdown_grace_seconds),
            retention=settings.retention,
            default_frequency_minutes=settings.default_frequency_minutes,
            holder_is_gone=owner_is_gone,
        )

    async def aclose(self) -> None:
        """Release the repository's resources and empty the brokers' caches."""
        if self.context.broker_caches is not None:
            self.context.broker_caches.clear()
        await self.repository.aclose()

    async def __aenter__(self) -> Application:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def shared_limits_of(repository: RepositoryPort) -> SharedLimits:
    """The limits every process on ``repository``'s store obeys together: the database's
    ``shared_limits`` table for the SQL repository, the memory repository's own for it, and
    limits of this process alone for any other store."""
    from tradecore_adapters.memory import MemoryRepository
    from tradecore_adapters.shared_limits import LocalLimits
    from tradecore_adapters.sqlalchemy import SqlRepository

    if isinstance(repository, SqlRepository | MemoryRepository):
        return repository.shared_limits()
    return LocalLimits()


def web_sessions_of(repository: RepositoryPort) -> WebSessionRepository:
    """Where the web front end keeps browser sessions on ``repository``'s store: the database's
    ``web_sessions`` table for the SQL repository (shared by every web server on it), the
    memory repository's own for it, and a new store in this process's memory for any other."""
    from tradecore_adapters.memory import MemoryRepository, MemoryWebSessions
    from tradecore_adapters.sqlalchemy import SqlRepository

    if isinstance(repository, SqlRepository | MemoryRepository):
        return repository.web_sessions()
    return MemoryWebSessions()


def load_plugins(
    settings: Settings,
    *,
    plugins: Iterable[object | tuple[str, object]] = (),
    load_entrypoints: bool = True,
    trace: TextIO | None = None,
) -> PluginRegistry:
    """Load the installed plugins as ``settings`` say (blocked, allowed, traced).

    :param trace: where the hook-call trace goes when ``settings.trace_plugins`` (standard error
        by default).
    :raises PluginError: a plugin is broken or two provide the same name.
    """
    writer = (trace or sys.stderr).write if settings.trace_plugins else None
    manager = get_plugin_manager(
        load_entrypoints=load_entrypoints,
        plugins=plugins,
        blocked=settings.disabled_plugins,
        allowed=settings.allowed_plugins,
        trace=writer,
    )
    return PluginRegistry.from_manager(manager)


def bootstrap(
    settings: Settings,
    *,
    repository: RepositoryPort | None = None,
    clock: Clock | None = None,
    notifiers: Sequence[NotifierPort] | None = None,
    plugins: Iterable[object | tuple[str, object]] = (),
    load_entrypoints: bool = True,
    stream: TextIO | None = None,
    trace: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    limits: SharedLimits | None = None,
    password_hasher: PasswordHasher | None = None,
) -> Application:
    """Wire the application from ``settings``; any part can be replaced (tests pass fakes).

    :param plugins: extra plugin objects to register besides the installed ones.
    :param load_entrypoints: load the installed plugins (``False`` in isolated tests).
    :param stream: where terminal notifiers write (standard output by default).
    :param trace: where the plugin hook-call trace goes when ``settings.trace_plugins``.
    :param environ: the environment to read notifiers' defaults from (the variables they
        declare, such as ``TELEGRAM_BOT_TOKEN``); none when ``None``.
    :param limits: the limits shared by every process; by default the repository's own
        (:func:`shared_limits_of`).
    :param password_hasher: hashes users' passwords; Argon2id with argon2-cffi's defaults
        (:class:`~tradecore_adapters.passwords.Argon2Hasher`) by default.
    :raises PluginError: a plugin is broken or a configured notifier is not installed.
    """
    registry = load_plugins(
        settings, plugins=plugins, load_entrypoints=load_entrypoints, trace=trace
    )
    if clock is None:
        from tradecore_adapters.clock import SystemClock

        clock = SystemClock()
    if repository is None:
        from tradecore_adapters.memory import MemoryRepository

        repository = MemoryRepository()
    if limits is None:
        limits = shared_limits_of(repository)
    if password_hasher is None:
        from tradecore_adapters.passwords import Argon2Hasher

        password_hasher = Argon2Hasher()
    if notifiers is None:
        notifier_context = NotifierContext(clock=clock, stream=stream, limits=limits)
        notifiers = [
            registry.notifier(name).create(notifier_context) for name in settings.notifiers
        ]
    notifier_defaults = defaults_from_environment(registry.notifiers, environ or {})
    # Markers of token refreshes name this process, so a restart on this host can tell that
    # the process which held unsaved tokens is gone (tradecore.services.unsaved_tokens).
    process_tokens().identify(scheduler_owner(), owner_is_gone)
    # What broker types keep across cycles (BrokerContext.cache): this process's, emptied
    # when the application closes.
    broker_caches = BrokerCaches(clock=clock)
    context = ServiceContext(
        repository=repository,
        clock=clock,
        brokers=registry.brokers,
        strategies=registry.strategies,
        notifiers=registry.notifiers,
        notifier_defaults=notifier_defaults,
        default_frequency_minutes=settings.default_frequency_minutes,
        max_concurrent_connections=settings.max_concurrent_connections,
        lease_ttl=timedelta(seconds=settings.lease_seconds),
        retention=settings.retention,
        limits=limits,
        broker_caches=broker_caches,
        password_hasher=password_hasher,
        languages=LANGUAGES,
    )
    cycle = AutomationCycle(
        repository=repository,
        clock=clock,
        brokers=registry.brokers,
        strategies=registry.strategies,
        notifiers=tuple(notifiers),
        notifier_factories=registry.notifiers,
        notifier_defaults=notifier_defaults,
        max_concurrent_connections=settings.max_concurrent_connections,
        http_client=context.http_client,
        token_refresh_margin=context.token_refresh_margin,
        limits=limits,
        broker_caches=broker_caches,
    )
    return Application(
        settings=settings,
        registry=registry,
        repository=repository,
        clock=clock,
        notifiers=tuple(notifiers),
        cycle=cycle,
        notifier_defaults=notifier_defaults,
        context=context,
    )


async def open_application(
    settings: Settings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> Application:
    """Open the application on the database of ``settings``: the same application, on the same
    data, as the command line. Close it when done (``async with``).

    :param settings: what to open; without them, they are read from ``environ`` exactly as the
        command line reads them (``TRADECORE_HOME``, ``TRADECORE_DATABASE_URL``…, see
        ``docs/configuration.md``).
    :param environ: the environment (``os.environ`` when neither it nor ``settings`` is given):
        where the settings come from when none are given, and the notifiers' defaults
        (``TELEGRAM_*``) in any case.
    :param options: passed to :func:`bootstrap`.
    :raises ConfigurationError: a variable of the environment cannot be used (named).
    :raises SecretKeyError, SchemaNotAtHead, DatabaseUnavailable: see :func:`open_repository`
        (``tradecore init``, or :func:`initialise`, prepares a new home).
    """
    if settings is None:
        environ = dict(os.environ) if environ is None else environ
        settings = settings_from_environment(environ)
    repository = await open_repository(settings)
    try:
        return bootstrap(settings, repository=repository, environ=environ, **options)
    except BaseException:
        await repository.aclose()
        raise


@frozen(kw_only=True)
class Initialised:
    """What :func:`initialise` did.

    :param key_file: the key file, or ``None`` when the keys come from ``TRADECORE_SECRET_KEY``.
    :param key_created: ``True`` when this call created the key file.
    :param revision_before: the database's revision before (``None``: it was empty).
    :param revision: the revision it is at now (the newest).
    :param unreadable_connections: connections whose secrets were sealed by a key the current
        keys do not include (``tradecore secrets forget`` drops them).
    :param unreadable_targets: the same for notification targets.
    """

    home: Path
    key_file: Path | None
    key_created: bool
    database: str
    revision_before: str | None
    revision: str
    unreadable_connections: int = 0
    unreadable_targets: int = 0


async def initialise(settings: Settings, *, new_key: bool = False) -> Initialised:
    """Prepare the home of ``settings`` for use; safe to run again (it keeps what exists).

    Creates the home directory (mode 0700), a key file (mode 0600) unless
    ``TRADECORE_SECRET_KEY`` is set, and brings the database to the newest migration.

    A new key file is not made while the database holds secrets sealed by another key (the key
    file was lost or moved): that would pair the database with a key that opens none of them.
    ``new_key`` makes it anyway, for a key that is lost for good; ``tradecore secrets forget``
    then drops what cannot be decrypted.

    :raises ConfigurationError: the database holds sealed secrets and there is no key (nothing
        was changed); ``new_key`` while ``TRADECORE_SECRET_KEY`` is set; the home directory
        cannot be created.
    :raises SecretKeyError: the keys given are unusable (see :func:`key_ring_of`).
    :raises DatabaseUnavailable: the database cannot be reached.
    """
    from tradecore.errors import ConfigurationError
    from tradecore_adapters.encryption import create_key_file
    from tradecore_adapters.sqlalchemy import describe_url
    from tradecore_adapters.sqlalchemy._sealed import sealed_secrets
    from tradecore_adapters.sqlalchemy.migrate import current_revision, head_revision, upgrade

    home = settings.home
    database = settings.database
    from_environment = settings.secret_keys is not None
    if new_key and from_environment:
        raise ConfigurationError(
            "--new-key makes a new key file, but the keys come from TRADECORE_SECRET_KEY: put a "
            "new key there instead, or unset it"
        )
    if not from_environment and not settings.key_file.exists():
        sealed = await sealed_secrets(database)
        if sealed and not new_key:
            raise ConfigurationError(
                f"there is no secret key at {settings.key_file}, but the database holds "
                f"{sealed.describe()}: restore that key file (or set TRADECORE_SECRET_KEY to "
                "the key) and run `tradecore init` again; if the key is lost for good, run "
                "`tradecore init --new-key`, then `tradecore secrets forget` and add the secrets "
                "again (nothing was changed)"
            )
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the data directory {home} (TRADECORE_HOME): {exc.strerror or exc}"
        ) from None
    created = False
    if not from_environment:
        created = create_key_file(settings.key_file)
    ring = key_ring_of(settings)  # refuse to go on with unusable keys
    before = await current_revision(database)
    await upgrade(database)
    unreadable = (await sealed_secrets(database)).not_under(ring.key_ids)
    return Initialised(
        home=home,
        key_file=None if from_environment else settings.key_file,
        key_created=created,
        database=describe_url(database),
        revision_before=before,
        revision=head_revision(),
        unreadable_connections=unreadable.connection_count,
        unreadable_targets=unreadable.target_count,
    )
