"""The automation section, /automation/status/ and /automation/logs/, /api/v1/automation:
each control changes what is stored, bad input is one sentence, another user's run is a 404,
scopes are enforced, and the timeline picture is escaped SVG."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.web.support import csrf_of, log_in

from tradecore.domain import AutomationRun, AutomationState, RunStatus, TaskKind, TaskStatus
from tradecore.testing.builders import make_run, make_task_result
from tradecore_adapters.bootstrap import Application
from tradecore_web.run_timeline import COLOURS, timeline_svg

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _store(application: Application, *runs: AutomationRun) -> None:
    async with application.repository.unit_of_work() as uow:
        for run in runs:
            await uow.runs.add(run)
        await uow.commit()


def _finished(user_id: str, minutes: int, status: RunStatus = RunStatus.SUCCESS) -> AutomationRun:
    started = T0 + timedelta(minutes=minutes)
    step = make_task_result(
        kind=TaskKind.SYNC,
        subject="p1",
        status=TaskStatus.FAILURE if status is RunStatus.FAILURE else TaskStatus.SUCCESS,
        started_at=started,
        counts={"positions": 2},
    )
    return make_run(
        user_id=user_id,
        started_at=started,
        finished_at=started + timedelta(seconds=3),
        status=status,
        steps=[step],
    )


async def _page_token(client: Any) -> str:
    return csrf_of((await client.get("/brokers/")).text)


async def _bearer(application: Application, user_id: str, *scopes: str) -> dict[str, str]:
    made = await application.api_tokens.create(user_id, list(scopes))
    return {"Authorization": f"Bearer {made.secret}"}


# -- the section's forms (no JavaScript) --------------------------------------------------------


async def test_each_button_of_the_section_changes_the_stored_state(
    client, application, alice
) -> None:
    await log_in(client, "alice")
    page = await client.get("/brokers/")
    assert 'id="automation"' in page.text
    assert 'action="/brokers/automation/start/"' in page.text
    token = csrf_of(page.text)

    async def press(control: str) -> None:
        answer = await client.post(
            f"/brokers/automation/{control}/", data={"_csrf_token": token}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/brokers/#automation"

    await press("start")
    assert (await application.automation.status(alice.id)).state is AutomationState.ACTIVE
    await press("pause")
    assert (await application.automation.status(alice.id)).state is AutomationState.PAUSED
    await press("resume")
    assert (await application.automation.status(alice.id)).state is AutomationState.ACTIVE
    await press("stop")
    assert (await application.automation.status(alice.id)).state is AutomationState.STOPPED
    await press("run-now")
    status = await application.automation.status(alice.id)
    assert status.config is not None
    assert status.config.run_requested_at is not None

    answer = await client.post(
        "/brokers/automation/frequency/",
        data={"_csrf_token": token, "minutes": "45"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert (await application.automation.status(alice.id)).frequency_minutes == 45


async def test_a_refused_control_shows_the_services_sentence_in_the_section(
    client, application, alice
) -> None:
    await log_in(client, "alice")
    token = await _page_token(client)

    paused = await client.post("/brokers/automation/pause/", data={"_csrf_token": token})
    assert paused.status_code == 400
    assert "automation is stopped; there is nothing to pause (start it first)" in paused.text

    too_often = await client.post(
        "/brokers/automation/frequency/", data={"_csrf_token": token, "minutes": "3"}
    )
    assert too_often.status_code == 400
    assert "frequency must be between 5 and 120 minutes, got 3" in too_often.text
    assert 'class="field-error"' in too_often.text
    words = await client.post(
        "/brokers/automation/frequency/", data={"_csrf_token": token, "minutes": "often"}
    )
    assert words.status_code == 400
    assert "frequency must be a whole number of minutes, got &#39;often&#39;" in words.text
    assert (await application.automation.status(alice.id)).frequency_minutes is None


async def test_run_now_wakes_the_scheduler_of_the_server(client, web_app, application, alice):
    wake = asyncio.Event()
    web_app.state["wake_scheduler"] = wake
    await log_in(client, "alice")
    token = await _page_token(client)

    answer = await client.post(
        "/api/v1/automation/run-now", headers={"X-CSRFToken": token}, follow_redirects=False
    )

    assert answer.status_code == 200
    assert wake.is_set()
    assert answer.json()["run_requested_at"] is not None
    assert answer.json()["daemon_running"] is False


async def test_the_section_shows_the_runs_with_their_steps_and_the_timeline(
    client, application, alice
) -> None:
    await _store(application, _finished(alice.id, 0), _finished(alice.id, 30, RunStatus.FAILURE))
    await log_in(client, "alice")

    section = await client.get("/brokers/automation/")
    assert section.status_code == 200
    assert section.text.count('<details data-run="') == 2
    assert "simulated failure" in section.text  # the failed step says why
    assert "positions 2" in section.text
    assert "50 %" in section.text  # success rate

    picture = await client.get("/brokers/automation/timeline.svg")
    assert picture.headers["content-type"].startswith("image/svg+xml")
    bars = ET.fromstring(picture.text).findall("{http://www.w3.org/2000/svg}rect")
    assert [bar.get("fill") for bar in bars] == [COLOURS["success"], COLOURS["failure"]]


# -- JSON ---------------------------------------------------------------------------------------


async def test_the_status_json_has_exactly_its_fields(client, application, alice) -> None:
    await _store(application, _finished(alice.id, 0))
    await application.automation.start(alice.id)
    await log_in(client, "alice")

    for path in ("/automation/status/", "/api/v1/automation/status"):
        status = (await client.get(path)).json()
        assert set(status) == {
            "state",
            "frequency_minutes",
            "next_run",
            "run_requested_at",
            "last_run",
            "last_duration_seconds",
            "success_rate",
            "recent",
            "running",
            "now",
        }
        assert status["state"] == "active"
        assert status["frequency_minutes"] == 30
        assert status["last_duration_seconds"] == 3.0
        assert status["success_rate"] == 1.0
        assert status["recent"] == {"success": 1, "partial": 0, "failure": 0}
        assert status["running"] is None
        assert status["last_run"]["started_at"] == "2026-03-02T09:00:00+00:00"
        assert set(status["last_run"]) == {
            "id",
            "trigger",
            "started_at",
            "finished_at",
            "duration_seconds",
            "status",
        }


async def test_the_frequency_is_set_by_json_and_a_bad_one_is_one_sentence(
    client, application, alice
) -> None:
    await log_in(client, "alice")
    token = await _page_token(client)

    stored = await client.put(
        "/api/v1/automation/frequency", json={"minutes": 15}, headers={"X-CSRFToken": token}
    )
    assert stored.status_code == 200
    assert stored.json()["frequency_minutes"] == 15
    assert (await application.automation.status(alice.id)).frequency_minutes == 15

    posted = await client.post(
        "/api/v1/automation/frequency", json={"minutes": 120}, headers={"X-CSRFToken": token}
    )
    assert posted.status_code == 200
    assert (await application.automation.status(alice.id)).frequency_minutes == 120

    refused = await client.put(
        "/api/v1/automation/frequency", json={"minutes": 121}, headers={"X-CSRFToken": token}
    )
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == "frequency must be between 5 and 120 minutes, got 121"
    assert (await application.automation.status(alice.id)).frequency_minutes == 120


async def test_the_logs_are_paged_newest_first_with_their_steps(client, application, alice) -> None:
    runs = [_finished(alice.id, minutes) for minutes in range(0, 150, 30)]  # five runs
    await _store(application, *runs)
    await log_in(client, "alice")

    first = (await client.get("/automation/logs/", params={"limit": 2})).json()
    assert [run["id"] for run in first["items"]] == [runs[4].id, runs[3].id]
    assert first["items"][0]["steps"][0]["counts"] == {"positions": 2}
    await _store(application, _finished(alice.id, 300))  # a new run does not shift the pages
    second = (
        await client.get(
            "/api/v1/automation/runs", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [run["id"] for run in second["items"]] == [runs[2].id, runs[1].id]
    third = (
        await client.get("/automation/logs/", params={"limit": 2, "cursor": second["next_cursor"]})
    ).json()
    assert [run["id"] for run in third["items"]] == [runs[0].id]
    assert third["next_cursor"] is None

    damaged = await client.get("/automation/logs/", params={"cursor": "not-a-cursor"})
    assert damaged.status_code == 400
    assert damaged.json()["detail"].startswith("the page cursor is not valid")
    too_many = await client.get("/api/v1/automation/runs", params={"limit": 501})
    assert too_many.status_code == 400


async def test_alice_cannot_see_bobs_run(client, application, alice, bob) -> None:
    bobs = _finished(bob.id, 0)
    alices = _finished(alice.id, 5)
    await _store(application, bobs, alices)
    await log_in(client, "alice")

    mine = await client.get(f"/api/v1/automation/runs/{alices.id}")
    assert mine.status_code == 200
    assert mine.json()["id"] == alices.id

    theirs = await client.get(f"/api/v1/automation/runs/{bobs.id}")
    assert theirs.status_code == 404
    assert theirs.json()["detail"] == f"there is no run {bobs.id!r}"
    logs = (await client.get("/automation/logs/")).json()
    assert [run["id"] for run in logs["items"]] == [alices.id]
    token = await _bearer(application, alice.id, "read")
    assert (
        await client.get(f"/api/v1/automation/runs/{bobs.id}", headers=token)
    ).status_code == 404


async def test_a_read_token_reads_the_status_but_may_not_start_or_run(
    client, application, alice
) -> None:
    headers = await _bearer(application, alice.id, "read")

    assert (await client.get("/api/v1/automation/status", headers=headers)).status_code == 200
    for path in ("/api/v1/automation/start", "/api/v1/automation/run-now"):
        answer = await client.post(path, headers=headers)
        assert answer.status_code == 403, path
        assert "may not" in answer.json()["detail"]
    refused = await client.put(
        "/api/v1/automation/frequency", json={"minutes": 10}, headers=headers
    )
    assert refused.status_code == 403
    status = await application.automation.status(alice.id)
    assert status.state is AutomationState.STOPPED
    assert status.config is None  # nothing was stored

    writer = await _bearer(application, alice.id, "write")
    assert (await client.post("/api/v1/automation/start", headers=writer)).status_code == 200
    assert (await client.post("/api/v1/automation/run-now", headers=writer)).status_code == 403
    executor = await _bearer(application, alice.id, "execute")
    assert (await client.post("/api/v1/automation/run-now", headers=executor)).status_code == 200


async def test_a_session_control_needs_its_csrf_token(client, application, alice) -> None:
    await log_in(client, "alice")

    assert (await client.post("/api/v1/automation/start")).status_code == 403
    assert (await client.post("/brokers/automation/start/", data={})).status_code == 403
    assert (await application.automation.status(alice.id)).config is None


# -- the timeline picture ----------------------------------------------------------------------


def test_the_timeline_draws_a_bar_a_run_oldest_first_coloured_by_status() -> None:
    runs = [
        make_run(id="r3", started_at=T0 + timedelta(minutes=60)),  # running for 30 s at now
        _finished("u", 30, RunStatus.PARTIAL),
        _finished("u", 0, RunStatus.FAILURE),
    ]
    svg = timeline_svg(runs, now=T0 + timedelta(minutes=60, seconds=30))

    root = ET.fromstring(svg)
    bars = root.findall("{http://www.w3.org/2000/svg}rect")
    assert [bar.get("fill") for bar in bars] == [
        COLOURS["failure"],
        COLOURS["partial"],
        COLOURS["running"],
    ]
    heights = [float(bar.get("height", "0")) for bar in bars]
    assert heights[2] == max(heights)  # 30 s so far, against 3 s each
    assert heights[0] == pytest.approx(heights[2] * 3 / 30, abs=0.1)
    xs = [float(bar.get("x", "0")) for bar in bars]
    assert xs == sorted(xs)
    assert "running" in (bars[2].findtext("{http://www.w3.org/2000/svg}title") or "")


def test_the_timeline_escapes_every_text() -> None:
    run = make_run(id='<script>alert(1)</script>"&', started_at=T0)
    svg = timeline_svg(
        [run], now=T0 + timedelta(seconds=5), title="<b>t</b>", words={"running": "<i>x</i>"}
    )

    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "<i>" not in svg
    root = ET.fromstring(svg)  # still well-formed XML
    assert root.findtext("{http://www.w3.org/2000/svg}title") == "<b>t</b>"
    bar = root.find("{http://www.w3.org/2000/svg}rect")
    assert bar is not None
    assert bar.get("data-run") == '<script>alert(1)</script>"&'


def test_an_empty_history_is_an_empty_picture() -> None:
    root = ET.fromstring(timeline_svg([], now=T0))
    assert root.findall("{http://www.w3.org/2000/svg}rect") == []
