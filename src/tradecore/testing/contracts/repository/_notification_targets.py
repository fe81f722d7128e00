"""Contract tests of ``uow.notification_targets``: exact round trips, names, scoping, removal."""

from __future__ import annotations

import pytest
from attrs import evolve

from tradecore.domain import NotificationTarget, User, new_id
from tradecore.errors import AlreadyExists, NotFound
from tradecore.ports.repository import RepositoryPort
from tradecore.testing.builders import make_notification_target, make_user
from tradecore.testing.contracts.repository._helpers import ContractBase, committing


async def add_user_with_targets(
    repository: RepositoryPort, name: str, *targets: str
) -> tuple[User, list[NotificationTarget]]:
    """Store a user named ``name`` with one Telegram target per name in ``targets``; commit."""
    user = make_user(name=name)
    stored = [
        make_notification_target(user_id=user.id, name=target, secrets={"bot_token": f"t-{name}"})
        for target in targets
    ]
    async with committing(repository) as uow:
        await uow.users.add(user)
        for target in stored:
            await uow.notification_targets.add(target)
    return user, stored


class NotificationTargetTests(ContractBase):
    """Notification targets: per-user names, exact settings and secrets, scoping, cascade."""

    @pytest.mark.asyncio
    async def test_notification_target_round_trips_settings_and_secrets_exactly(
        self, repository: RepositoryPort
    ) -> None:
        user = make_user()
        target = make_notification_target(
            user_id=user.id,
            notifier="telegram",
            name="team chat",
            settings={"chat_id": "-1001234567890", "language": "fr", "send_errors": "no"},
            secrets={"bot_token": "123456:AAH-s3cr3t/+== ünïcode" + "x" * 300},
            active=False,
        )
        bare = make_notification_target(user_id=user.id, name="bare", settings={}, secrets={})
        async with committing(repository) as uow:
            await uow.users.add(user)
            await uow.notification_targets.add(target)
            await uow.notification_targets.add(bare)
        async with repository.unit_of_work() as uow:
            stored = await uow.notification_targets.get(user.id, target.id)
            stored_bare = await uow.notification_targets.get(user.id, bare.id)
        assert stored == target
        assert dict(stored.settings) == {
            "chat_id": "-1001234567890",
            "language": "fr",
            "send_errors": "no",
        }
        assert stored.secrets["bot_token"].reveal() == "123456:AAH-s3cr3t/+== ünïcode" + "x" * 300
        assert stored.active is False
        assert stored_bare == bare

    @pytest.mark.asyncio
    async def test_notification_targets_are_listed_by_name_and_filtered_by_active(
        self, repository: RepositoryPort
    ) -> None:
        user, (team, alerts) = await add_user_with_targets(repository, "alice", "team", "alerts")
        old = make_notification_target(user_id=user.id, name="old", active=False)
        async with committing(repository) as uow:
            await uow.notification_targets.add(old)
        async with repository.unit_of_work() as uow:
            everything = await uow.notification_targets.list(user.id)
            active = await uow.notification_targets.list(user.id, active_only=True)
            by_name = await uow.notification_targets.get_by_name(user.id, "team")
        assert [t.name for t in everything] == ["alerts", "old", "team"]
        assert [t.name for t in active] == ["alerts", "team"]
        assert everything == [alerts, old, team]
        assert by_name == team

    @pytest.mark.asyncio
    async def test_notification_target_name_is_unique_per_user_only(
        self, repository: RepositoryPort
    ) -> None:
        alice, (alices,) = await add_user_with_targets(repository, "alice", "telegram")
        bob, (bobs,) = await add_user_with_targets(repository, "bob", "telegram")
        assert bobs.name == alices.name
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.notification_targets.add(
                    make_notification_target(user_id=alice.id, name="telegram", id=new_id())
                )
            with pytest.raises(AlreadyExists):
                await uow.notification_targets.add(
                    make_notification_target(user_id=alice.id, name="other", id=alices.id)
                )
        async with repository.unit_of_work() as uow:
            assert [t.id for t in await uow.notification_targets.list(alice.id)] == [alices.id]
            assert [t.id for t in await uow.notification_targets.list(bob.id)] == [bobs.id]

    @pytest.mark.asyncio
    async def test_notification_target_of_a_missing_user_raises_not_found(
        self, repository: RepositoryPort
    ) -> None:
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.notification_targets.add(make_notification_target(user_id=new_id()))

    @pytest.mark.asyncio
    async def test_updating_a_notification_target_replaces_it(
        self, repository: RepositoryPort
    ) -> None:
        user, (target, _) = await add_user_with_targets(repository, "alice", "main", "spare")
        changed = evolve(
            target,
            name="renamed",
            settings={"chat_id": "42", "language": "en"},
            secrets={},
            active=False,
        )
        async with committing(repository) as uow:
            await uow.notification_targets.update(changed)
        async with repository.unit_of_work() as uow:
            assert await uow.notification_targets.get(user.id, target.id) == changed
            with pytest.raises(NotFound):
                await uow.notification_targets.get_by_name(user.id, "main")

    @pytest.mark.asyncio
    async def test_renaming_a_notification_target_onto_a_taken_name_raises_already_exists(
        self, repository: RepositoryPort
    ) -> None:
        user, (main, spare) = await add_user_with_targets(repository, "alice", "main", "spare")
        async with repository.unit_of_work() as uow:
            with pytest.raises(AlreadyExists):
                await uow.notification_targets.update(evolve(spare, name="main"))
            # The failed update left the unit usable and changed nothing.
            assert [t.name for t in await uow.notification_targets.list(user.id)] == [
                "main",
                "spare",
            ]
            await uow.commit()
        async with repository.unit_of_work() as uow:
            assert await uow.notification_targets.list(user.id) == [main, spare]

    @pytest.mark.asyncio
    async def test_another_users_notification_target_is_not_found(
        self, repository: RepositoryPort
    ) -> None:
        alice, (target,) = await add_user_with_targets(repository, "alice", "telegram")
        bob, _ = await add_user_with_targets(repository, "bob")
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.notification_targets.get(bob.id, target.id)
            with pytest.raises(NotFound):
                await uow.notification_targets.get_by_name(bob.id, "telegram")
            with pytest.raises(NotFound):
                await uow.notification_targets.update(evolve(target, user_id=bob.id))
            with pytest.raises(NotFound):
                await uow.notification_targets.remove(bob.id, target.id)
            assert list(await uow.notification_targets.list(bob.id)) == []
            await uow.commit()
        async with repository.unit_of_work() as uow:
            assert await uow.notification_targets.get(alice.id, target.id) == target

    @pytest.mark.asyncio
    async def test_missing_notification_target_raises_not_found(
        self, repository: RepositoryPort
    ) -> None:
        user, _ = await add_user_with_targets(repository, "alice")
        ghost = make_notification_target(user_id=user.id, name="ghost")
        async with repository.unit_of_work() as uow:
            with pytest.raises(NotFound):
                await uow.notification_targets.get(user.id, ghost.id)
            with pytest.raises(NotFound):
                await uow.notification_targets.get_by_name(user.id, "ghost")
            with pytest.raises(NotFound):
                await uow.notification_targets.update(ghost)
            with pytest.raises(NotFound):
                await uow.notification_targets.remove(user.id, ghost.id)

    @pytest.mark.asyncio
    async def test_removing_a_notification_target_keeps_the_others(
        self, repository: RepositoryPort
    ) -> None:
        user, (gone, kept) = await add_user_with_targets(repository, "alice", "gone", "kept")
        async with committing(repository) as uow:
            await uow.notification_targets.remove(user.id, gone.id)
        async with repository.unit_of_work() as uow:
            assert await uow.notification_targets.list(user.id) == [kept]
            with pytest.raises(NotFound):
                await uow.notification_targets.get(user.id, gone.id)
        # The same id and name again: a fresh target, nothing of the old one left in the way.
        async with committing(repository) as uow:
            await uow.notification_targets.add(gone)
        async with repository.unit_of_work() as uow:
            assert await uow.notification_targets.list(user.id) == [gone, kept]

    @pytest.mark.asyncio
    async def test_an_uncommitted_notification_target_is_not_stored(
        self, repository: RepositoryPort
    ) -> None:
        user, _ = await add_user_with_targets(repository, "alice")
        async with repository.unit_of_work() as uow:
            await uow.notification_targets.add(make_notification_target(user_id=user.id))
            assert len(await uow.notification_targets.list(user.id)) == 1
        async with repository.unit_of_work() as uow:
            assert list(await uow.notification_targets.list(user.id)) == []

    @pytest.mark.asyncio
    async def test_removing_a_user_removes_its_notification_targets(
        self, repository: RepositoryPort
    ) -> None:
        alice, _ = await add_user_with_targets(repository, "alice", "telegram", "backup")
        bob, bobs = await add_user_with_targets(repository, "bob", "telegram")
        async with committing(repository) as uow:
            await uow.users.remove(alice.id)
        # The same user (same id) again: none of its old targets come back.
        async with committing(repository) as uow:
            await uow.users.add(alice)
        async with repository.unit_of_work() as uow:
            assert list(await uow.notification_targets.list(alice.id)) == []
            assert await uow.notification_targets.list(bob.id) == bobs
