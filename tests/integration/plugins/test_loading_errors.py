"""Every plugin loading error names the plugin (its entry-point name) and its distribution with
its version, says what went wrong in one line, and shows no traceback unless ``--traceback``.

Distributions are built per test by the ``make_distribution`` fixture (conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.e2e.cli_runner import Cli, error_line

from tradecore.errors import PluginError
from tradecore.plugins import PluginRegistry, get_plugin_manager, hookimpl

MakeDistribution = Callable[..., None]  # the fixture in conftest.py


def plugin_error(*allowed: str) -> str:
    """The message of the PluginError raised while loading the ``allowed`` plugins."""
    with pytest.raises(PluginError) as caught:
        PluginRegistry.from_manager(get_plugin_manager(allowed=allowed))
    message = str(caught.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def one_plugin(make_distribution: MakeDistribution, source: str, *, version: str = "2.3.4") -> None:
    """Install ``tradecore-acme`` (``version``) declaring the plugin ``acme`` = ``source``."""
    make_distribution(
        "tradecore-acme",
        entry_points={"acme": "acme_plugin"},
        modules={"acme_plugin": source},
        version=version,
    )


def test_a_module_that_fails_to_import_names_plugin_distribution_and_cause(
    make_distribution: MakeDistribution,
) -> None:
    one_plugin(make_distribution, "import no_such_sdk_anywhere\n")

    assert plugin_error("acme") == (
        "plugin 'acme' (tradecore-acme 2.3.4) failed to import its module acme_plugin: "
        "ModuleNotFoundError: No module named 'no_such_sdk_anywhere'"
    )


def test_a_multi_line_import_error_stays_on_one_line(make_distribution: MakeDistribution) -> None:
    one_plugin(make_distribution, "raise RuntimeError('first\\nsecond')\n")

    assert plugin_error("acme").endswith("RuntimeError: first; second")


def test_a_misspelt_hook_names_the_plugin_not_the_module_and_suggests_the_hook(
    make_distribution: MakeDistribution,
) -> None:
    one_plugin(
        make_distribution,
        """
        from tradecore.plugins import hookimpl

        @hookimpl
        def tradecore_register_broker():
            return []
        """,
    )

    message = plugin_error("acme")

    assert message == (
        "plugin 'acme' (tradecore-acme 2.3.4) implements tradecore_register_broker, which is "
        "not a tradecore hook; did you mean tradecore_register_brokers?"
    )


def test_an_unknown_hook_far_from_any_lists_the_hooks(make_distribution: MakeDistribution) -> None:
    one_plugin(
        make_distribution,
        """
        from tradecore.plugins import hookimpl

        @hookimpl
        def tradecore_exchanges():
            return []
        """,
    )

    assert plugin_error("acme").endswith(
        "the hooks are tradecore_register_brokers, tradecore_register_notifiers, "
        "tradecore_register_strategies"
    )


def test_a_hook_with_arguments_the_hook_lacks_names_plugin_and_distribution(
    make_distribution: MakeDistribution,
) -> None:
    one_plugin(
        make_distribution,
        """
        from tradecore.plugins import hookimpl

        @hookimpl
        def tradecore_register_brokers(settings):
            return []
        """,
    )

    message = plugin_error("acme")

    assert message.startswith(
        "plugin 'acme' (tradecore-acme 2.3.4) has an invalid hook implementation: "
        "PluginValidationError: "
    )
    assert "'settings'" in message


@pytest.mark.parametrize(
    ("hook", "body", "expected"),
    [
        pytest.param(
            "tradecore_register_brokers",
            "raise KeyError('region')",
            " raised in tradecore_register_brokers: KeyError: 'region'",
            id="brokers-raise",
        ),
        pytest.param(
            "tradecore_register_strategies",
            "return 'dca'",
            ": tradecore_register_strategies must return a list, got str",
            id="strategies-str",
        ),
        pytest.param(
            "tradecore_register_notifiers",
            "return [object()]",
            ": tradecore_register_notifiers returned object, expected NotifierFactory",
            id="notifiers-object",
        ),
    ],
)
def test_a_hook_failing_when_asked_names_plugin_and_distribution(
    make_distribution: MakeDistribution, hook: str, body: str, expected: str
) -> None:
    one_plugin(
        make_distribution,
        f"""
        from tradecore.plugins import hookimpl

        @hookimpl
        def {hook}():
            {body}
        """,
    )

    assert plugin_error("acme") == f"plugin 'acme' (tradecore-acme 2.3.4){expected}"


BROKER_PLUGIN = """
from tradecore.plugins import BrokerFactory, hookimpl

@hookimpl
def tradecore_register_brokers():
    return [BrokerFactory(name="acme", description="test", create=lambda c, ctx: None)]
"""


def test_two_plugins_claiming_one_broker_name_name_both_with_versions(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution(
        "tradecore-acme", entry_points={"acme": "acme_a"}, modules={"acme_a": BROKER_PLUGIN}
    )
    make_distribution(
        "acme-fork",
        entry_points={"acmefork": "acme_b"},
        modules={"acme_b": BROKER_PLUGIN},
        version="0.9",
    )

    assert plugin_error("acme", "acmefork") == (
        "broker 'acme' is registered twice: by plugin 'acme' (tradecore-acme 1.0) and by "
        "plugin 'acmefork' (acme-fork 0.9); uninstall one or block it with "
        "TRADECORE_DISABLE_PLUGINS"
    )


class Misspelt:
    """An in-process plugin with a misspelt hook."""

    @hookimpl
    def tradecore_register_notifier(self) -> list[object]:
        return []


def test_an_unnamed_in_process_plugin_is_named_by_its_class_not_its_repr_or_id() -> None:
    with pytest.raises(PluginError) as caught:
        get_plugin_manager(load_entrypoints=False, plugins=[Misspelt()])

    message = str(caught.value)
    assert message.startswith(f"plugin '{__name__}.{Misspelt.__qualname__}' (in-process) ")
    assert "did you mean tradecore_register_notifiers?" in message
    assert "<" not in message
    assert str(id(Misspelt)) not in message


def test_the_cli_shows_one_error_line_and_the_traceback_only_when_asked(
    make_distribution: MakeDistribution, tmp_path: Path
) -> None:
    one_plugin(make_distribution, "raise RuntimeError('boom at import')\n")
    tradecore = Cli({"TRADECORE_HOME": str(tmp_path / "home"), "TRADECORE_PLUGINS": "acme"})

    assert error_line(tradecore("plugins")) == (
        "Error: plugin 'acme' (tradecore-acme 2.3.4) failed to import its module acme_plugin: "
        "RuntimeError: boom at import"
    )
    with pytest.raises(PluginError, match=r"tradecore-acme 2\.3\.4"):
        tradecore("--traceback", "plugins")


def test_one_module_declared_under_two_plugin_names_names_the_second(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution(
        "tradecore-acme",
        entry_points={"acme": "acme_plugin", "acme2": "acme_plugin"},
        modules={"acme_plugin": BROKER_PLUGIN},
    )

    assert plugin_error("acme", "acme2") == (
        "plugin 'acme2' (tradecore-acme 1.0) names acme_plugin, which is already loaded as "
        "plugin 'acme'; declare each plugin module under one name"
    )
