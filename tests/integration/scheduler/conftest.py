"""The scheduler's process-level tests start real daemons and take tens of seconds each: they are
marked ``slow`` (CI runs them all; ``-m 'not slow'`` leaves them out locally)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts real daemon processes (tens of seconds)")
