"""Fixtures of the web tests: an initialised home with alice and bob (each with a password),
the application over it, and Litestar's in-process client of the web front end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from tests.web.support import PASSWORD

from tradecore.domain import User
from tradecore_adapters.bootstrap import Application, Settings, initialise, open_application
from tradecore_web import WebOptions, create_app


@pytest.fixture
async def home(tmp_path: Path) -> Path:
    """An initialised data directory (SQLite and a key file)."""
    where = tmp_path / "home"
    await initialise(Settings(home=where))
    return where


@pytest.fixture
async def application(home: Path) -> AsyncIterator[Application]:
    """The application over ``home``, with users alice and bob (password :data:`PASSWORD`)."""
    app = await open_application(environ={"TRADECORE_HOME": str(home)})
    try:
        for name in ("alice", "bob"):
            user = await app.users.add(name)
            await app.passwords.set_password(user.id, PASSWORD)
        yield app
    finally:
        await app.aclose()


@pytest.fixture
async def alice(application: Application) -> User:
    """The user alice."""
    return await application.users.find("alice")


@pytest.fixture
async def bob(application: Application) -> User:
    """The user bob."""
    return await application.users.find("bob")


@pytest.fixture
def web_app(application: Application) -> Litestar:
    """The web front end over ``application``."""
    return create_app(application, WebOptions())


@pytest.fixture
async def client(web_app: Litestar) -> AsyncIterator[AsyncTestClient[Any]]:
    """A client of the web front end, in-process, not logged in."""
    async with AsyncTestClient(app=web_app) as test_client:
        yield test_client


@pytest.fixture
async def other_client(web_app: Litestar) -> AsyncIterator[AsyncTestClient[Any]]:
    """A second client of the same server (another browser)."""
    async with AsyncTestClient(app=web_app) as test_client:
        yield test_client
