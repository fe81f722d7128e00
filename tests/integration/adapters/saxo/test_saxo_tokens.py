"""Saxo tokens in use: renewed before they expire, one renewal on a 401, a refused refresh token
turned into "log in again" for that connection only (docs/brokers/saxo.md, "Staying logged in"
and "When a login expires")."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import httpx
import pytest
from tests.fakes.saxo_exchange import FakeSaxo
from tests.integration.adapters.saxo.conftest import BrokerMaker, saxo_connection, tokens_from

from tradecore.domain import BrokerConnection, OAuthTokens, RunStatus, TaskKind
from tradecore.errors import AuthenticationFailed, ReauthorizationRequired
from tradecore.ports import RepositoryPort
from tradecore.services import AutomationCycle
from tradecore.testing import FakeClock
from tradecore.testing.builders import make_connection


async def stored_tokens(repository: RepositoryPort, connection: BrokerConnection) -> OAuthTokens:
    async with repository.unit_of_work() as uow:
        tokens = (await uow.connections.get(connection.user_id, connection.id)).tokens
    assert tokens is not None
    return tokens


async def test_a_401_renews_the_token_once_and_the_read_succeeds(
    fake: FakeSaxo,
    make_broker: BrokerMaker,
    repository: RepositoryPort,
    connection: BrokerConnection,
) -> None:
    """A 401 from the gateway triggers one refresh and one retry."""
    broker = make_broker()
    fake.expire_access_tokens()

    accounts = await broker.get_accounts()

    assert len(accounts) == 2
    assert fake.refresh_calls == 1
    stored = await stored_tokens(repository, connection)
    assert stored.version == 1
    assert connection.tokens is not None
    assert stored.refresh_token != connection.tokens.refresh_token
    assert fake.session_of(stored.access_token.reveal()) is not None
    await broker.aclose()


async def test_many_concurrent_reads_refused_together_cause_one_refresh(
    fake: FakeSaxo, make_broker: BrokerMaker
) -> None:
    broker = make_broker()
    accounts = await broker.get_accounts()
    fake.expire_access_tokens()
    fake.token_latency = 0.05

    results = await asyncio.gather(*(broker.get_positions(accounts[0]) for _ in range(12)))

    assert fake.refresh_calls == 1
    assert all(len(positions) == 2 for positions in results)
    await broker.aclose()


async def test_a_second_401_after_renewing_is_an_error_not_a_loop(
    fake: FakeSaxo, make_broker: BrokerMaker
) -> None:
    broker = make_broker()
    fake.script("GET", "/port/v1/accounts/me", ("status", 401, None))
    fake.script("GET", "/port/v1/accounts/me", ("status", 401, None))

    with pytest.raises(AuthenticationFailed, match="refused the access token again") as raised:
        await broker.get_accounts()

    assert fake.refresh_calls == 1
    assert fake.count("GET", "/port/v1/accounts/me") == 2
    assert "X-Correlation" in str(raised.value)
    await broker.aclose()


async def test_a_token_about_to_expire_is_renewed_before_the_request(
    fake: FakeSaxo, make_broker: BrokerMaker, clock: FakeClock
) -> None:
    broker = make_broker()
    await broker.get_accounts()
    clock.advance(timedelta(minutes=19, seconds=30))  # Saxo's 20-minute tokens

    await broker.get_accounts()

    assert fake.refresh_calls == 1
    assert fake.count("GET", "/port/v1/accounts/me") == 2  # no 401 round trip
    await broker.aclose()


async def test_invalid_grant_marks_the_connection_and_never_presents_the_token_again(
    fake: FakeSaxo,
    make_broker: BrokerMaker,
    repository: RepositoryPort,
    connection: BrokerConnection,
) -> None:
    fake.expire_access_tokens()
    fake.revoke_refresh_tokens()
    broker = make_broker()

    with pytest.raises(ReauthorizationRequired) as first:
        await broker.get_accounts()
    later = make_broker()
    with pytest.raises(ReauthorizationRequired) as second:
        await later.refresh_auth_token()

    assert fake.refresh_calls == 1
    for raised in (first.value, second.value):
        assert "must log in again" in str(raised)
        assert "invalid_grant" in str(raised)
        assert "tradecore broker login saxo-sim" in str(raised)
    assert (await stored_tokens(repository, connection)).login_required is not None
    await broker.aclose()
    await later.aclose()


async def test_an_expired_login_fails_only_its_own_connection_in_a_cycle(
    fake: FakeSaxo,
    repository: RepositoryPort,
    connection: BrokerConnection,
    clock: FakeClock,
    mock_http: httpx.AsyncClient,
    brokers: dict[str, object],
) -> None:
    from tradecore_adapters.paper.plugin import tradecore_register_brokers as paper_brokers

    paper = make_connection(user_id=connection.user_id, name="paper", broker="paper", settings={})
    async with repository.unit_of_work() as uow:
        await uow.connections.add(paper)
        await uow.commit()
    fake.revoke_refresh_tokens()
    clock.advance(timedelta(minutes=25))  # the access token expired: the cycle refreshes first
    cycle = AutomationCycle(
        repository=repository,
        clock=clock,
        brokers={**brokers, "paper": paper_brokers()[0]},  # type: ignore[dict-item]
        http_client=mock_http,
    )

    outcome = await cycle.run(connection.user_id)
    again = await cycle.run(connection.user_id)

    assert outcome.run.status is RunStatus.PARTIAL
    (error,) = outcome.digest.errors
    assert (error.kind, error.subject) == (TaskKind.TOKEN_REFRESH, "saxo-sim")
    assert "must log in again" in (error.text or "")
    assert "tradecore broker login saxo-sim" in (error.text or "")
    synced = [s.subject for s in outcome.run.steps if s.kind is TaskKind.SYNC]
    assert synced == ["paper"]
    assert again.run.status is RunStatus.PARTIAL
    assert fake.refresh_calls == 1, "the refused refresh token was presented again"


@pytest.mark.parametrize(
    ("secret", "client_auth"), [(None, "basic"), ("app-s3cret", "basic"), ("app-s3cret", "body")]
)
async def test_the_refresh_authenticates_the_app_the_way_saxo_expects(
    clock: FakeClock,
    repository: RepositoryPort,
    brokers: dict[str, object],
    secret: str | None,
    client_auth: str,
) -> None:
    """Code exchange and refresh: a Code app by HTTP Basic (or its secret in the form), a PKCE
    app by client_id."""
    from tradecore.services import create_broker
    from tradecore.testing.builders import make_user

    saxo = FakeSaxo(app_secret=secret, now=clock.now)
    saxo.add_account("K1==", "1INET")
    user = make_user()
    connection = saxo_connection(
        saxo, user.id, tokens=tokens_from(saxo.issue_tokens(), clock.now()), client_auth=client_auth
    )
    async with repository.unit_of_work() as uow:
        await uow.users.add(user)
        await uow.connections.add(connection)
        await uow.commit()
    async with httpx.AsyncClient(transport=saxo.mock_transport()) as http:
        broker = create_broker(
            connection,
            brokers=brokers,
            repository=repository,
            clock=clock,
            http_client=http,  # type: ignore[arg-type]
        )
        await broker.refresh_auth_token()
        await broker.get_accounts()

    (token_call,) = [r for r in saxo.requests if r.path == "/token"]
    basic = token_call.headers.get("authorization")
    if secret is None:
        assert token_call.param("client_id") == saxo.app_key
        assert basic is None
        assert token_call.param("client_secret") is None
    elif client_auth == "basic":
        assert basic == "Basic " + base64.b64encode(f"{saxo.app_key}:{secret}".encode()).decode()
        assert token_call.param("client_secret") is None
    else:
        assert basic is None
        assert token_call.param("client_secret") == secret
    assert saxo.refresh_calls == 1
