"""The automation section and the operator page in a real browser, over a ``tradecore web``
that runs its scheduler: start, the frequency slider, Run now (the run and its steps appear
without a reload), pause, stop; the operator page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.browser.conftest import log_in, make_home, run_async, screenshot
from tests.web.support import PASSWORD, running_server

from tradecore_adapters.bootstrap import open_application

WAIT = 30_000  # ms: the machine is slow, and a cycle takes some seconds


def _seed(home: Path) -> None:
    """alice gets a paper connection (so a cycle has a sync step); root is an admin."""

    async def build() -> None:
        async with await open_application(environ={"TRADECORE_HOME": str(home)}) as app:
            alice = await app.users.find("alice")
            await app.connections.add(alice.id, broker="paper", name="p1")
            root = await app.users.add("root", is_admin=True)
            await app.passwords.set_password(root.id, PASSWORD)

    run_async(build)


@pytest.fixture
def automation_server(tmp_path: Path) -> Iterator[str]:
    """``tradecore web`` (with its scheduler) over a home where alice has a paper connection."""
    home = make_home(tmp_path / "home")
    _seed(home)
    with running_server(home) as base:
        yield base


async def _start_alice_pause_bob(home: Path) -> None:
    async with await open_application(environ={"TRADECORE_HOME": str(home)}) as app:
        await app.automation.start((await app.users.find("alice")).id)
        bob = (await app.users.find("bob")).id
        await app.automation.start(bob)
        await app.automation.pause(bob)


def _status(page: Any, base: str) -> dict[str, Any]:
    answer = page.request.get(f"{base}/api/v1/automation/status")
    assert answer.ok, answer.text()
    data: dict[str, Any] = answer.json()
    return data


def test_start_set_the_frequency_run_now_watch_the_run_pause_and_stop(
    page: Any, automation_server: str
) -> None:
    from playwright.sync_api import expect

    base = automation_server
    log_in(page, base)
    state = page.locator("#automation-state")
    expect(state).to_have_text("stopped")
    page.evaluate("window.notReloaded = true")  # gone if the page reloads

    page.click("#automation button:has-text('Start')")
    expect(state).to_have_text("active", timeout=WAIT)
    assert _status(page, base)["state"] == "active"

    page.locator("#automation-minutes").fill("45")  # the slider moved: input, then change
    expect(page.locator("#automation-frequency-saved")).to_contain_text("45", timeout=WAIT)
    assert _status(page, base)["frequency_minutes"] == 45

    page.click("#automation button:has-text('Run now')")
    manual = page.locator("#automation li.run").filter(
        has=page.locator("summary", has_text="manual")
    )
    finished = manual.locator("summary").locator(
        ".status-success, .status-partial, .status-failure"
    )
    expect(finished).to_be_visible(timeout=60_000)
    manual.locator("summary").click()
    sync = manual.locator("tr.step-sync")
    expect(sync).to_be_visible(timeout=WAIT)
    expect(sync).to_contain_text("p1")
    expect(page.locator("#automation figure.timeline img")).to_be_visible()
    assert page.evaluate("window.notReloaded === true")
    runs = page.request.get(f"{base}/automation/logs/").json()["items"]
    assert any(run["trigger"] == "manual" and run["steps"] for run in runs)
    screenshot(page, "automation")

    page.click("#automation button:has-text('Pause')")
    expect(state).to_have_text("paused", timeout=WAIT)
    assert _status(page, base)["state"] == "paused"
    page.click("#automation button:has-text('Stop')")
    expect(state).to_have_text("stopped", timeout=WAIT)
    assert _status(page, base)["state"] == "stopped"
    assert page.evaluate("window.notReloaded === true")
    assert not page.dialogs  # type: ignore[attr-defined]


def test_the_operator_page_shows_every_user_and_the_kill_switch(
    page: Any, automation_server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base = automation_server
    log_in(page, base, "alice")
    assert page.goto(f"{base}/operator/").status == 403
    page.context.clear_cookies()

    run_async(lambda: _start_alice_pause_bob(tmp_path / "home"))
    log_in(page, base, "root")
    page.click("header nav a:has-text('Operator')")
    page.wait_for_url(f"{base}/operator/")
    for name in ("alice", "bob", "root"):
        expect(page.locator(f"tr[data-user='{name}']")).to_be_visible()
    expect(page.locator("tr[data-user='bob']")).to_contain_text("paused")
    alice = page.locator("tr[data-user='alice']")
    for _ in range(60):  # the scheduler runs alice's first cycle at once; reload until shown
        if "success" in alice.inner_text():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(alice).to_contain_text("active")
    expect(alice).to_contain_text("success")
    expect(page.locator("#daemons")).to_contain_text("yes", timeout=WAIT)  # the web's scheduler

    page.fill("#kill-switch input[name=reason]", "exchange maintenance")
    page.click("#kill-switch button:has-text('Halt all trading')")
    expect(page.locator("#halt-state")).to_contain_text("exchange maintenance", timeout=WAIT)
    screenshot(page, "operator")
    page.click("#kill-switch button:has-text('Resume trading')")
    expect(page.locator("#halt-state")).to_have_text("Trading is allowed.", timeout=WAIT)
