"""The user use cases: add (the name rule), list, find, footprint, remove and the language."""

from __future__ import annotations

import attrs
import pytest

from tradecore.errors import AlreadyExists, DomainError, NotFound
from tradecore.services import NoUserChosen, ServiceContext, Users
from tradecore.testing.builders import make_connection, make_strategy


async def test_add_trims_the_name_and_stores_the_user(context: ServiceContext) -> None:
    users = Users(context)
    added = await users.add("  alice ")
    assert added.name == "alice"
    assert added.created_at == context.clock.now()
    assert [summary.user for summary in await users.list()] == [added]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("al\nice", r"U\+000A"),
        ("x" * 65, "at most 64 characters"),
    ],
)
async def test_add_refuses_a_bad_name_and_stores_nothing(
    context: ServiceContext, name: str, message: str
) -> None:
    users = Users(context)
    with pytest.raises(DomainError, match=message):
        await users.add(name)
    assert await users.list() == []


async def test_add_refuses_a_taken_name_even_when_spaced_differently(
    context: ServiceContext,
) -> None:
    users = Users(context)
    await users.add("alice")
    with pytest.raises(AlreadyExists, match="there is already a user named 'alice'"):
        await users.add(" alice")
    assert len(await users.list()) == 1


async def test_markup_looking_names_are_names_like_any_other(context: ServiceContext) -> None:
    users = Users(context)
    added = await users.add("[bold red]x[/]")
    assert (await users.find("[bold red]x[/]")).id == added.id


async def test_find_without_a_name_is_the_only_user_or_says_why_not(
    context: ServiceContext,
) -> None:
    users = Users(context)
    with pytest.raises(NoUserChosen) as none:
        await users.find()
    assert none.value.names == ()
    alice = await users.add("alice")
    assert await users.find() == alice
    await users.add("bob")
    with pytest.raises(NoUserChosen) as several:
        await users.find()
    assert several.value.names == ("alice", "bob")
    with pytest.raises(NotFound, match="there is no user named 'carol'"):
        await users.find("carol")


async def test_list_counts_each_users_own_connections(context: ServiceContext) -> None:
    users = Users(context)
    alice = await users.add("alice")
    bob = await users.add("bob")
    async with context.repository.unit_of_work() as uow:
        await uow.connections.add(make_connection(user_id=alice.id, name="a1"))
        await uow.connections.add(make_connection(user_id=alice.id, name="a2"))
        await uow.commit()
    counts = {summary.user.name: summary.connections for summary in await users.list()}
    assert counts == {"alice": 2, "bob": 0}
    assert bob.name == "bob"


async def test_remove_deletes_the_user_and_what_it_owns_and_says_how_much(
    context: ServiceContext,
) -> None:
    users = Users(context)
    alice = await users.add("alice")
    bob = await users.add("bob")
    connection = make_connection(user_id=alice.id, name="a1")
    async with context.repository.unit_of_work() as uow:
        await uow.connections.add(connection)
        await uow.strategies.add(make_strategy(user_id=alice.id, connection_id=connection.id))
        await uow.commit()

    removed = await users.remove(alice.id)

    assert (removed.connections, removed.strategies, removed.trades) == (1, 1, 0)
    assert [summary.user for summary in await users.list()] == [bob]
    async with context.repository.unit_of_work() as uow:
        assert await uow.connections.list(alice.id) == []
    with pytest.raises(NotFound):
        await users.remove(alice.id)


async def test_rename_checks_the_name_and_keeps_what_the_user_owns(
    context: ServiceContext,
) -> None:
    users = Users(context)
    alice = await users.add("alice")
    await users.add("bob")
    async with context.repository.unit_of_work() as uow:
        await uow.connections.add(make_connection(user_id=alice.id, name="a1"))
        await uow.commit()

    renamed = await users.rename(alice.id, " alicia ")

    assert (renamed.id, renamed.name) == (alice.id, "alicia")
    assert (await users.find("alicia")).id == alice.id
    assert {s.user.name: s.connections for s in await users.list()} == {"alicia": 1, "bob": 0}
    with pytest.raises(AlreadyExists, match="there is already a user named 'bob'"):
        await users.rename(alice.id, "bob")
    with pytest.raises(DomainError, match="must not be empty"):
        await users.rename(alice.id, " ")
    with pytest.raises(NotFound):
        await users.rename("no-such-user", "carol")
    assert (await users.get(alice.id)).name == "alicia"


async def test_set_language_stores_the_users_choice_and_none_goes_back_to_the_browser(
    context: ServiceContext,
) -> None:
    users = Users(attrs.evolve(context, languages=("en", "fr")))
    alice = await users.add("alice")
    bob = await users.add("bob")
    assert alice.language is None  # the browser's, until chosen
    assert (await users.set_language(alice.id, " FR ")).language == "fr"
    assert (await users.get(alice.id)).language == "fr"
    assert (await users.get(bob.id)).language is None  # only alice's choice
    assert (await users.set_language(alice.id, None)).language is None


@pytest.mark.parametrize("language", ["de", "", "fr-CA", "french"])
async def test_set_language_refuses_a_language_tradecore_does_not_speak(
    context: ServiceContext, language: str
) -> None:
    users = Users(attrs.evolve(context, languages=("en", "fr")))
    alice = await users.add("alice")
    await users.set_language(alice.id, "fr")
    with pytest.raises(DomainError, match=r"tradecore does not speak .*; choose one of en, fr"):
        await users.set_language(alice.id, language)
    assert (await users.get(alice.id)).language == "fr"  # the choice before stays


async def test_set_language_of_a_missing_user_is_not_found(context: ServiceContext) -> None:
    with pytest.raises(NotFound):
        await Users(context).set_language("nobody", "en")
