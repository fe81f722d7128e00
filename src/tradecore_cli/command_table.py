"""Every ``tradecore`` command: where it lives and its one line of help, for the lazy group.

A command's module is imported only when the command runs (see :mod:`tradecore_cli.lazy_group`);
``tradecore --help`` lists the commands from this table. The help text here must be the command's
own first docstring sentence (or its ``short_help``): ``tests/unit/cli/test_command_table.py``
compares them, so they cannot drift apart. A new command gets a line here.
"""

from __future__ import annotations

from tradecore_cli.lazy_group import LazyCommand

__all__ = ["COMMANDS"]

COMMANDS: dict[str, LazyCommand] = {
    "automation": LazyCommand(
        "tradecore_cli.commands.automation:automation",
        help=(
            "Each user's automation: start, pause, resume or stop the schedule, change how often it "
            "runs, ask for a run now, and see its status and run history."
        ),
    ),
    "broker": LazyCommand(
        "tradecore_cli.commands.brokers:broker",
        help="A user's broker connections: add, list, test and remove them.",
        extra=(
            "tradecore_cli.commands.login:broker_login",
            "tradecore_cli.commands.broker_secrets:broker_secrets",
            "tradecore_cli.commands.broker_changes:broker_edit",
            "tradecore_cli.commands.broker_changes:broker_enable",
            "tradecore_cli.commands.broker_changes:broker_disable",
        ),
    ),
    "check": LazyCommand(
        "tradecore_cli.commands.check:check",
        short_help="Check the whole setup: database, key, brokers, notifications.",
    ),
    "cycle": LazyCommand(
        "tradecore_cli.commands.cycle:cycle",
        help=(
            "Run one full automation cycle for a user now: sync every active connection, reconcile "
            "its open orders, run the active strategies (through the risk checks; dry runs place "
            "nothing), store the run, and send the digest to the console and the user's notification"
            " targets."
        ),
    ),
    "daemon": LazyCommand(
        "tradecore_cli.commands.scheduling:daemon",
        help=(
            "Run due cycles until SIGTERM or SIGINT (Ctrl-C), sleeping until the next one is due."
        ),
    ),
    "db": LazyCommand(
        "tradecore_cli.commands.setup:db",
        help="The database schema: see where it is, migrate it to this version of tradecore.",
    ),
    "demo": LazyCommand(
        "tradecore_cli.commands.demo:demo",
        help="Run one automation cycle for a demo user on the simulated paper broker.",
    ),
    "equity": LazyCommand(
        "tradecore_cli.commands.portfolio:equity",
        help="Show each connection's market value over time, as every sync recorded it.",
    ),
    "init": LazyCommand(
        "tradecore_cli.commands.setup:init",
        help=(
            "Create the data directory, the secret key file and the database (at the newest schema)."
        ),
    ),
    "notify": LazyCommand(
        "tradecore_cli.commands.notify:notify",
        help="Where a user's digests go (a Telegram chat…): add, list, test and remove targets.",
    ),
    "order": LazyCommand(
        "tradecore_cli.commands.orders:order",
        help="Orders: place one by hand, look one up, cancel one, list them.",
    ),
    "plugins": LazyCommand(
        "tradecore_cli.commands.plugins:plugins",
        help=(
            "List the installed plugins: brokers, notifiers and strategies, with their distribution."
        ),
    ),
    "positions": LazyCommand(
        "tradecore_cli.commands.portfolio:positions",
        help="Show a user's positions as of their last sync.",
    ),
    "refresh-tokens": LazyCommand(
        "tradecore_cli.commands.tokens:refresh_tokens",
        short_help="Renew the OAuth tokens of connections now.",
    ),
    "risk": LazyCommand(
        "tradecore_cli.commands.risk:risk",
        help="Risk limits of a user, and the kill switch that halts all trading.",
    ),
    "run": LazyCommand(
        "tradecore_cli.commands.scheduling:run",
        help="One pass: run the cycle of every user whose cycle is due, then exit (for cron).",
    ),
    "secrets": LazyCommand(
        "tradecore_cli.commands.secrets:secrets",
        help=(
            "Broker and notifier secrets at rest (encrypted with the keys of TRADECORE_SECRET_KEY or"
            " the key file)."
        ),
    ),
    "strategy": LazyCommand(
        "tradecore_cli.commands.strategies:strategy",
        help="A user's strategies: add, list, show, edit, enable, disable and remove them.",
    ),
    "sync": LazyCommand(
        "tradecore_cli.commands.sync:sync",
        help="Fetch positions and new trades from the user's brokers and store them.",
    ),
    "token": LazyCommand(
        "tradecore_cli.commands.api_tokens:token",
        help=(
            "API tokens: let a script act for a user with chosen scopes (read, write, execute), or "
            "let Prometheus scrape /metrics (metrics)."
        ),
    ),
    "trades": LazyCommand(
        "tradecore_cli.commands.portfolio:trades",
        help="Show a user's stored trades: a page on a terminal, every trade in JSON.",
    ),
    "user": LazyCommand(
        "tradecore_cli.commands.users:user",
        help="The users: each has its own broker connections, positions, trades and strategies.",
        extra=(
            "tradecore_cli.commands.accounts:user_passwd",
            "tradecore_cli.commands.accounts:user_admin",
        ),
    ),
    "web": LazyCommand(
        "tradecore_cli.commands.web:web",
        help="Serve the dashboard and the HTTP API (http://127.0.0.1:8000/ by default).",
    ),
}
