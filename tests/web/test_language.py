"""The pages' language: the logged-in user's stored choice, else the language switch's cookie,
else the browser's Accept-Language, else English (docs/web.md, "Logging in")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar.testing import AsyncTestClient
from tests.web.support import csrf_token, log_in

from tradecore.domain import User
from tradecore.services import OrderForm
from tradecore_adapters.bootstrap import Application
from tradecore_web.i18n import LANGUAGE_COOKIE

FRENCH = {"en": "en-GB,en;q=0.9", "fr": "fr-FR,fr;q=0.9,en;q=0.5"}


async def switch(client: AsyncTestClient[Any], language: str, next: str = "/brokers/") -> Any:
    """Press the language switch, as the page header's form does."""
    return await client.post(
        "/language",
        data={"language": language, "next": next, "_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )


async def test_the_browsers_preference_gives_the_login_page_in_french(client) -> None:
    page = await client.get("/login", headers={"accept-language": FRENCH["fr"]})

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "<h1>Se connecter</h1>" in page.text
    assert "Mot de passe" in page.text
    assert "Password" not in page.text


async def test_without_a_preference_the_pages_are_in_english(client) -> None:
    page = await client.get("/login", headers={"accept-language": "de-DE,de;q=0.9"})

    assert '<html lang="en">' in page.text
    assert "<h1>Log in</h1>" in page.text


async def test_the_switch_before_a_login_is_a_cookie_that_beats_the_browser(
    client, application: Application, alice: User
) -> None:
    answer = await switch(client, "fr", next="/login")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert client.cookies.get(LANGUAGE_COOKIE) == "fr"
    page = await client.get("/login", headers={"accept-language": FRENCH["en"]})
    assert "<h1>Se connecter</h1>" in page.text
    assert (await application.users.get(alice.id)).language is None  # nobody's account


async def test_the_switch_is_stored_with_the_user_and_follows_them_to_another_browser(
    client, other_client, application: Application, alice: User, bob: User
) -> None:
    await log_in(client, "alice")
    assert (await switch(client, "fr")).status_code == 303
    assert (await application.users.get(alice.id)).language == "fr"
    assert (await application.users.get(bob.id)).language is None

    # Another browser, no cookie, an English browser: alice's pages are French after her login.
    await log_in(other_client, "alice")
    assert other_client.cookies.get(LANGUAGE_COOKIE) is None
    page = await other_client.get("/brokers/", headers={"accept-language": FRENCH["en"]})
    assert '<html lang="fr">' in page.text
    assert ">Courtiers</a>" in page.text
    assert "Se déconnecter" in page.text


async def test_the_users_stored_choice_beats_the_cookie_and_the_browser(
    client, other_client, application: Application, alice: User, bob: User
) -> None:
    await application.users.set_language(alice.id, "fr")
    await switch(client, "en", next="/login")  # this browser asked for English before the login
    await log_in(client, "alice")

    page = await client.get("/brokers/", headers={"accept-language": FRENCH["en"]})
    assert '<html lang="fr">' in page.text

    # bob stored nothing: his cookie (English), not alice's French, and not his browser's.
    await switch(other_client, "en", next="/login")
    await log_in(other_client, "bob")
    page = await other_client.get("/brokers/", headers={"accept-language": FRENCH["fr"]})
    assert '<html lang="en">' in page.text
    assert ">Brokers</a>" in page.text


async def test_switching_back_to_english_and_to_the_browsers_language(
    client, application: Application, alice: User
) -> None:
    await log_in(client, "alice")
    await switch(client, "fr")
    await switch(client, "en")
    assert (await application.users.get(alice.id)).language == "en"
    page = await client.get("/brokers/", headers={"accept-language": FRENCH["fr"]})
    assert '<html lang="en">' in page.text

    answer = await switch(client, "")  # no choice: the browser's language again
    assert answer.status_code == 303
    assert (await application.users.get(alice.id)).language is None
    assert client.cookies.get(LANGUAGE_COOKIE) is None
    page = await client.get("/brokers/", headers={"accept-language": FRENCH["fr"]})
    assert '<html lang="fr">' in page.text


async def test_a_language_tradecore_does_not_speak_is_refused_and_changes_nothing(
    client, other_client, application: Application, alice: User
) -> None:
    await log_in(client, "alice")
    await switch(client, "fr")

    answer = await switch(client, "de")
    assert answer.status_code == 400
    assert "does not speak &#39;de&#39;; choose one of en, fr" in answer.text
    assert "400 · Requête invalide" in answer.text  # the page around it in alice's French
    assert (await application.users.get(alice.id)).language == "fr"
    assert client.cookies.get(LANGUAGE_COOKIE) == "fr"

    anonymous = await switch(other_client, "xx-evil")
    assert anonymous.status_code == 400
    assert "does not speak" in anonymous.text
    assert other_client.cookies.get(LANGUAGE_COOKIE) is None


async def test_the_switch_never_leaves_the_site(client) -> None:
    answer = await switch(client, "fr", next="https://evil.example/")

    assert answer.headers["location"] == "/brokers/"


async def test_the_switch_goes_back_to_the_same_page_with_its_query(client) -> None:
    page = await client.get("/login", params={"next": "/orders/"})
    assert 'name="next" value="/login?next=%2Forders%2F"' in page.text

    answer = await switch(client, "fr", next="/login?next=%2Forders%2F")
    assert answer.headers["location"] == "/login?next=%2Forders%2F"


async def test_an_orders_side_and_status_are_in_the_pages_language(
    client, application: Application, alice: User
) -> None:
    await application.connections.add(alice.id, broker="paper", name="p1")
    await application.orders.place(
        alice.id, OrderForm(connection="p1", symbol="BTC-USD", side="buy", quantity=Decimal("0.01"))
    )
    await log_in(client, "alice")
    await switch(client, "fr")

    page = await client.get("/orders/")
    row = page.text.split('id="orders"', 1)[1]
    assert '<td class="what" data-label="Ordre">achat 0.01 BTC-USD</td>' in row
    assert '<td class="status" data-label="État">exécuté' in row
