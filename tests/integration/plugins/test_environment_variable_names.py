"""One naming rule for plugin environment variables (docs/plugins/writing.md): a setting's or a
secret's variable is ``<NAME>_<SPEC>`` in capitals, the broker's or notifier's name then the
spec's, never ``TRADECORE_…``. The built-ins, the sample plugin and the guides' examples keep it;
Saxo's app credentials are the documented exception."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradecore.plugins import PluginRegistry, SecretSpec, SettingSpec, get_plugin_manager

ROOT = Path(__file__).resolve().parents[3]
GUIDES = ("docs/plugins/writing.md", "docs/plugins/hooks.md")
EXCEPTIONS = {("saxo", "app_key"): "SAXO_CLIENT_ID", ("saxo", "app_secret"): "SAXO_CLIENT_SECRET"}

# SettingSpec(name="environment", …, env_var="ACME_ENVIRONMENT") in a guide's code block.
_SPEC = re.compile(
    r"""(?:Setting|Secret)Spec\(\s*name="(\w+)"(?:(?!Spec\().)*?env_var="(\w+)\"""", re.S
)


def expected(owner: str, spec: str) -> str:
    """The variable the rule gives the spec ``spec`` of the broker or notifier ``owner``."""
    return EXCEPTIONS.get((owner, spec), f"{owner}_{spec}".upper())


def declared() -> Iterator[tuple[str, str, str]]:
    """``(owner, spec name, env_var)`` for every variable the installed plugins declare."""
    registry = PluginRegistry.from_manager(get_plugin_manager())
    factories = [*registry.brokers.values(), *registry.notifiers.values()]
    for factory in factories:
        specs: list[SettingSpec | SecretSpec] = [*factory.settings, *factory.secrets]
        for spec in specs:
            if spec.env_var is not None:
                yield factory.name, spec.name, spec.env_var


DECLARED = sorted(declared())


def test_the_built_ins_and_the_sample_declare_variables() -> None:
    owners = {owner for owner, _, _ in DECLARED}

    assert {"binance", "saxo", "telegram", "dummy"} <= owners


@pytest.mark.parametrize(("owner", "spec", "env_var"), DECLARED)
def test_every_declared_variable_follows_the_rule(owner: str, spec: str, env_var: str) -> None:
    assert env_var == expected(owner, spec)


@pytest.mark.parametrize("guide", GUIDES)
def test_the_guides_examples_follow_the_rule(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    examples = _SPEC.findall(text)

    assert examples, f"{guide} shows no spec with an env_var"
    for spec, env_var in examples:
        assert not env_var.startswith("TRADECORE_"), env_var
        assert env_var.endswith(f"_{spec.upper()}"), (spec, env_var)
