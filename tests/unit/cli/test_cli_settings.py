"""The environment becomes Settings, and a bad value is a clear ConfigurationError."""

from __future__ import annotations

import pytest

from tradecore.errors import ConfigurationError
from tradecore_cli.settings import load_settings


def test_defaults_with_an_empty_environment() -> None:
    settings = load_settings({})
    assert settings.default_frequency_minutes == 30
    assert settings.log_level == "INFO"
    assert settings.disabled_plugins == ()
    assert settings.allowed_plugins is None
    assert settings.trace_plugins is False


def test_values_are_read_and_normalised() -> None:
    settings = load_settings(
        {
            "AUTOMATION_DEFAULT_FREQUENCY": " 15 ",
            "AUTOMATION_LOG_LEVEL": "debug",
            "TRADECORE_DISABLE_PLUGINS": "dummy, acme ,,",
            "TRADECORE_PLUGINS": "paper,console",
            "TRADECORE_TRACE_PLUGINS": "yes",
        }
    )
    assert settings.default_frequency_minutes == 15
    assert settings.log_level == "DEBUG"
    assert settings.disabled_plugins == ("dummy", "acme")
    assert settings.allowed_plugins == ("paper", "console")
    assert settings.trace_plugins is True


def test_an_empty_allow_list_allows_nothing() -> None:
    assert load_settings({"TRADECORE_PLUGINS": ""}).allowed_plugins == ()


@pytest.mark.parametrize("value", ["4", "121", "thirty", "30.5", "-5"])
def test_a_frequency_outside_5_to_120_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"AUTOMATION_DEFAULT_FREQUENCY .* 5 to 120"):
        load_settings({"AUTOMATION_DEFAULT_FREQUENCY": value})


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="AUTOMATION_LOG_LEVEL must be one of"):
        load_settings({"AUTOMATION_LOG_LEVEL": "LOUD"})


def test_a_flag_that_is_not_a_boolean_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="TRADECORE_TRACE_PLUGINS"):
        load_settings({"TRADECORE_TRACE_PLUGINS": "maybe"})
