"""Installed-distribution builders for the plugin discovery tests."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tradecore.plugins import ENTRYPOINT_GROUP

MakeDistribution = Callable[..., None]


@pytest.fixture
def make_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeDistribution]:
    """Install distributions for one test: a ``<name>-<version>.dist-info`` and top-level modules
    in ``tmp_path``, which goes on ``sys.path`` so ``importlib.metadata`` finds them as it finds
    any installed distribution.

    ``make_distribution("tradecore-acme", entry_points={"acme": "acme_plugin"},
    modules={"acme_plugin": "...source..."})``
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(
        name: str,
        *,
        entry_points: Mapping[str, str],
        modules: Mapping[str, str] | None = None,
        version: str = "1.0",
    ) -> None:
        for module, source in (modules or {}).items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            created.append(module)
        dist_info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        lines = [f"[{ENTRYPOINT_GROUP}]", *(f"{k} = {v}" for k, v in entry_points.items())]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        importlib.invalidate_caches()

    yield make
    for module in created:
        sys.modules.pop(module, None)
