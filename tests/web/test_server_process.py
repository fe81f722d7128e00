"""``tradecore web`` as a person starts it: a real process, its messages, the demo's data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.web.support import csrf_of, free_port

TRADECORE = Path(sys.executable).with_name("tradecore")


def _start(home: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path, str]:
    port = free_port()
    log = home.parent / f"web-{port}.log"
    env = {**os.environ, "TRADECORE_HOME": str(home)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(TRADECORE), "web", "--port", str(port), *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, log, f"http://127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 90
    while "serving http" not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return log.read_text()


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def test_web_demo_serves_the_demo_data_to_the_password_it_prints(tmp_path: Path) -> None:
    process, log, base = _start(tmp_path / "home", "--demo", "--no-scheduler")
    try:
        said = _wait_ready(process, log)
        found = re.search(r"log in as demo with the password (\S+) \(new at each start\)", said)
        assert found is not None, said
        with httpx.Client(base_url=base) as browser:
            token = csrf_of(browser.get("/login").text)
            answer = browser.post(
                "/login",
                data={"name": "demo", "password": found.group(1), "_csrf_token": token},
                follow_redirects=True,
            )
            assert answer.status_code == 200
            assert "paper-demo" in answer.text
        # A scraper on this machine needs no token (docs/metrics.md).
        scraped = httpx.get(f"{base}/metrics")
        assert scraped.status_code == 200
        assert "tradecore_runs{" in scraped.text
    finally:
        assert _stop(process) == 0
    assert "tradecore web: stopped." in log.read_text()
    assert "Traceback" not in log.read_text()


def test_listening_beyond_loopback_warns_and_points_to_tls(tmp_path: Path) -> None:
    home = tmp_path / "home"
    subprocess.run(
        [str(TRADECORE), "init"],
        env={**os.environ, "TRADECORE_HOME": str(home)},
        check=True,
        capture_output=True,
    )
    process, log, _ = _start(home, "--host", "0.0.0.0", "--no-scheduler")
    try:
        said = _wait_ready(process, log)
    finally:
        _stop(process)
    assert "Warning: listening on 0.0.0.0, reachable from other machines" in said
    assert "--behind-proxy" in said
