"""The supported import paths export exactly their public names, sorted (as httpx checks)."""

from __future__ import annotations

import importlib
import importlib.metadata
import types

import pytest

PUBLIC_MODULES = [
    "tradecore",
    "tradecore.domain",
    "tradecore.errors",
    "tradecore.logs",
    "tradecore.ports",
    "tradecore.plugins",
    "tradecore.services",
    "tradecore.testing",
]


def public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name != "annotations"
        and not isinstance(value, types.ModuleType)
        and (getattr(value, "__module__", module.__name__) or "").startswith("tradecore")
    }


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n)) or exported == sorted(
        exported
    ), f"{module_name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    missing = public_names(module) - set(exported) - {"__version__"}
    assert not missing, f"{module_name} defines public names missing from __all__: {missing}"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names {name!r}, which is undefined"


def test_the_version_is_read_from_the_installed_metadata() -> None:
    import tradecore

    assert tradecore.__version__ == importlib.metadata.version("tradecore")
