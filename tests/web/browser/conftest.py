"""Browser tests: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright for Python.

They skip, saying why, where Chromium is not installed (CI installs it: ``.ci/run``); the
server is a real ``tradecore web`` process on a loopback port, over a home made for the test.
Screenshots for docs/web.md are written to ``docs/web/`` when ``TRADECORE_SCREENSHOTS`` is set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.web.support import PASSWORD, running_server

from tradecore_adapters.bootstrap import Settings, initialise, open_application

CHROMIUM = os.environ.get("TRADECORE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[3] / "docs" / "web"
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: the browser tests need Debian's chromium "
            "(apt-get install -y chromium; .ci/run installs it) or TRADECORE_TEST_CHROMIUM"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for a test module (Playwright's sync API runs an event loop in
    this thread while it is open: it must be closed before the asynchronous tests run)."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def make_home(where: Path, users: tuple[str, ...] = ("alice", "bob")) -> Path:
    """An initialised home with ``users``, each with the password :data:`PASSWORD`."""

    async def build() -> None:
        await initialise(Settings(home=where))
        async with await open_application(environ={"TRADECORE_HOME": str(where)}) as app:
            for name in users:
                user = await app.users.add(name)
                await app.passwords.set_password(user.id, PASSWORD)

    run_async(build)
    return where


def run_async(work: Any) -> Any:
    """``asyncio.run(work())`` in a thread of its own: Playwright's sync API keeps an event
    loop running in the test's thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


@pytest.fixture
def web_home(tmp_path: Path) -> Path:
    """A home with alice and bob, for a server of the test's own."""
    return make_home(tmp_path / "home")


@pytest.fixture
def server(web_home: Path) -> Iterator[str]:
    """``tradecore web`` over :func:`web_home` (with its scheduler); yields the base URL."""
    with running_server(web_home) as base:
        yield base


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (its own cookies), phone-sized when asked."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    try:
        yield opened
    finally:
        context.close()


def screenshot(page: Any, name: str) -> None:
    """Save the page for docs/web.md when ``TRADECORE_SCREENSHOTS`` is set."""
    if os.environ.get("TRADECORE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, base: str, name: str = "alice", password: str = PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url(f"{base}/brokers/")
