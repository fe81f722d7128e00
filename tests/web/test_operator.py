"""The operator page and /api/v1/operator/automation: administrators only, every user's
automation state, the daemons and the leases they hold, the kill switch; no secret shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.web.support import PASSWORD, csrf_of, log_in

from tradecore.domain import DaemonInfo, Secret, Trigger
from tradecore_adapters.bootstrap import Application

SECRET = "tok-SECRET-value-0123456789"


@pytest.fixture
async def root(application: Application):
    """An administrator."""
    user = await application.users.add("root", is_admin=True)
    await application.passwords.set_password(user.id, PASSWORD)
    return user


async def _daemon_holding(application: Application, user_id: str, owner: str) -> None:
    """Register ``owner`` as a daemon and let it hold ``user_id``'s cycle now."""
    async with application.repository.unit_of_work() as uow:
        now = await uow.leases.now()
        await uow.daemons.register(
            DaemonInfo(owner=owner, host="h1", pid=41, started_at=now, seen_at=now)
        )
        lease = await uow.leases.claim(
            user_id, owner, ttl=timedelta(minutes=5), trigger=Trigger.MANUAL
        )
        assert lease is not None
        await uow.commit()


async def test_a_user_who_is_not_an_administrator_gets_403(client, application, alice) -> None:
    await log_in(client, "alice")
    page = await client.get("/operator/")
    assert page.status_code == 403
    assert "only an administrator" in page.text
    assert "Operator" not in (await client.get("/brokers/")).text  # no link in the navigation

    assert (await client.get("/api/v1/operator/automation")).status_code == 403
    token = (await application.api_tokens.create(alice.id, ["read", "write"])).secret
    answer = await client.get(
        "/api/v1/operator/automation", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403

    halted = await client.post(
        "/operator/halt/",
        data={"_csrf_token": csrf_of((await client.get("/brokers/")).text), "reason": "x"},
    )
    assert halted.status_code == 403
    assert (await application.risk.show(alice.id)).halt is None


async def test_the_operator_sees_every_users_automation_daemons_and_leases(
    client, application, alice, bob, root
) -> None:
    await application.automation.start(alice.id)
    await application.automation.set_frequency(alice.id, 15)
    await application.automation.start(bob.id)
    await application.automation.pause(bob.id)
    await _daemon_holding(application, alice.id, "h1:41:web")
    await application.connections.add(
        alice.id, broker="dummy", name="d1", secrets={"api_token": Secret(SECRET)}
    )
    await log_in(client, "root")

    page = await client.get("/operator/")
    assert page.status_code == 200
    for name in ("alice", "bob", "root"):
        assert f'data-user="{name}"' in page.text
    assert "h1:41:web" in page.text
    assert "alice (until" in page.text  # the lease alice's cycle is held by
    assert SECRET not in page.text

    data = (await client.get("/api/v1/operator/automation")).json()
    users = {row["user"]: row for row in data["users"]}
    assert users["alice"]["state"] == "active"
    assert users["alice"]["frequency_minutes"] == 15
    assert users["alice"]["running"] is not None
    assert users["bob"]["state"] == "paused"
    assert users["root"]["state"] == "stopped"
    assert users["root"]["admin"] is True
    (daemon,) = data["daemons"]
    assert daemon["owner"] == "h1:41:web"
    assert daemon["alive"] is True
    assert [lease["user"] for lease in daemon["leases"]] == ["alice"]
    assert data["other_leases"] == []
    assert data["halt"] is None
    assert SECRET not in str(data)


async def test_the_kill_switch_halts_with_a_reason_and_resumes(
    client, application, alice, root
) -> None:
    await log_in(client, "root")
    token = csrf_of((await client.get("/operator/")).text)

    empty = await client.post("/operator/halt/", data={"_csrf_token": token, "reason": "  "})
    assert empty.status_code == 400
    assert "say why trading is halted" in empty.text
    assert (await application.risk.show(alice.id)).halt is None

    halted = await client.post(
        "/operator/halt/",
        data={"_csrf_token": token, "reason": "exchange <outage>"},
        follow_redirects=False,
    )
    assert halted.status_code == 303
    assert halted.headers["location"] == "/operator/"
    halt = (await application.risk.show(alice.id)).halt
    assert halt is not None
    assert halt.reason == "exchange <outage>"
    page = await client.get("/operator/")
    assert "exchange &lt;outage&gt;" in page.text
    assert (await client.get("/api/v1/operator/automation")).json()["halt"][
        "reason"
    ] == "exchange <outage>"

    resumed = await client.post(
        "/operator/resume/", data={"_csrf_token": token}, follow_redirects=False
    )
    assert resumed.status_code == 303
    assert (await application.risk.show(alice.id)).halt is None


async def test_the_kill_switch_needs_the_csrf_token(client, application, alice, root) -> None:
    await log_in(client, "root")
    answer = await client.post("/operator/halt/", data={"reason": "x"})
    assert answer.status_code == 403
    assert (await application.risk.show(alice.id)).halt is None
