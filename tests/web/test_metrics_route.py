"""``/metrics`` through the web server: who may scrape, and what Prometheus reads."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tradecore.domain import Scope


async def test_a_scrape_from_another_machine_without_a_token_is_refused(client) -> None:
    answer = await client.get("/metrics")  # the test client is not on loopback

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "tradecore_runs" not in answer.text


async def test_a_token_without_the_metrics_scope_is_refused(client, application, alice) -> None:
    made = await application.api_tokens.create(alice.id, ["read", "write", "execute"])

    answer = await client.get("/metrics", headers={"authorization": f"Bearer {made.secret}"})

    assert answer.status_code == 401
    assert "tradecore_runs" not in answer.text


async def test_an_administrators_metrics_token_reads_every_series(
    client, application, alice
) -> None:
    await application.users.set_admin(alice.id, True)
    await application.automation.start(alice.id)
    made = await application.api_tokens.create(alice.id, [Scope.METRICS.value])

    answer = await client.get("/metrics", headers={"authorization": f"Bearer {made.secret}"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    for name in (
        "tradecore_runs",
        "tradecore_run_duration_seconds",
        "tradecore_cycles_running",
        "tradecore_daemons",
        "tradecore_trading_halted",
        "tradecore_active_users",
        "tradecore_user_last_success_age_seconds",
    ):
        assert name in families, name
    [active] = families["tradecore_active_users"].samples
    assert active.value == 1
    [age] = families["tradecore_user_last_success_age_seconds"].samples
    assert age.labels == {"user_id": alice.id}
    assert age.value == float("inf")  # started, never succeeded yet
    assert "alice" not in answer.text  # ids, never names
    # The metrics token opens nothing else.
    page = await client.get("/api/openapi.json", headers={"authorization": f"Bearer {made.secret}"})
    assert page.status_code == 403
