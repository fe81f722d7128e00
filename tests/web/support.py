"""Helpers of the web tests: a home with users, a client logged in, a server in a process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

PASSWORD = "correct horse battery"
"""Every test user's password (12 characters or more, as the service wants)."""

_CSRF_FIELD = re.compile(r'name="_csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF_FIELD.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


async def log_in(
    client: AsyncTestClient[Any], name: str, password: str = PASSWORD
) -> httpx.Response:
    """Log ``name`` in through the login form, as a browser would; returns the POST's answer."""
    page = await client.get("/login")
    token = csrf_of(page.text)
    return await client.post(
        "/login",
        data={"name": name, "password": password, "_csrf_token": token, "next": "/brokers/"},
        follow_redirects=False,
    )


async def csrf_token(client: AsyncTestClient[Any]) -> str:
    """A CSRF token valid with the client's cookie (read from a page's form)."""
    page = await client.get("/login")
    return csrf_of(page.text)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(home: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``tradecore web`` in a process of its own on a free loopback port; yields its base URL
    and stops it (SIGTERM) afterwards."""
    port = free_port()
    environ = {**os.environ, "TRADECORE_HOME": str(home), **(env or {})}
    tradecore = Path(sys.executable).with_name("tradecore")
    log = home / f"web-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(tradecore), "web", "--port", str(port), *args],
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"tradecore web exited: {log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("tradecore web did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
