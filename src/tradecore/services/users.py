"""Use cases on users: add, list, find, rename, remove, and their settings (administrator,
language).

A user is the owner of everything else; these are the only use cases that do not act *as* a
user. Names follow :func:`tradecore.domain.checked_name`.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from tradecore.domain import User, checked_name
from tradecore.errors import AlreadyExists, DomainError, NotFound
from tradecore.services.context import ServiceContext

__all__ = ["NoUserChosen", "UserFootprint", "UserSummary", "Users"]


class NoUserChosen(DomainError):
    """No user was named and there is not exactly one to choose.

    :param names: the users there are (none, or several), by name.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        if not self.names:
            super().__init__("there are no users yet")
        else:
            super().__init__(f"there are {len(self.names)} users; say which")


@frozen(kw_only=True)
class UserSummary:
    """A user as a list shows it: the user and how many broker connections it has."""

    user: User
    connections: int


@frozen(kw_only=True)
class UserFootprint:
    """What removing a user deletes: counts of what it owns."""

    user: User
    connections: int
    strategies: int
    trades: int


class Users:
    """The use cases on users. Build it with the application's :class:`ServiceContext`."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    async def add(self, name: str, *, is_admin: bool = False) -> User:
        """Add a user called ``name`` (checked and trimmed, see :func:`checked_name`).

        :param is_admin: make the user an administrator (docs/accounts.md).

        :raises DomainError: the name breaks the rule for names.
        :raises AlreadyExists: there is already a user with that name.
        """
        user = User(
            name=checked_name("user", name),
            created_at=self._context.clock.now(),
            is_admin=is_admin,
        )
        async with self._context.repository.unit_of_work() as uow:
            try:
                await uow.users.add(user)
            except AlreadyExists:
                raise AlreadyExists(f"there is already a user named {user.name!r}") from None
            await uow.commit()
        return user

    async def list(self) -> list[UserSummary]:
        """Every user with its number of broker connections, by name."""
        async with self._context.repository.unit_of_work() as uow:
            return [
                UserSummary(user=user, connections=len(await uow.connections.list(user.id)))
                for user in await uow.users.list()
            ]

    async def find(self, name: str | None = None) -> User:
        """The user called ``name``; without a name, the only user.

        :raises NotFound: there is no user with that name.
        :raises NoUserChosen: no name was given and there is not exactly one user.
        """
        async with self._context.repository.unit_of_work() as uow:
            if name is not None:
                try:
                    return await uow.users.get_by_name(name.strip())
                except NotFound:
                    raise NotFound(f"there is no user named {name!r}") from None
            users = list(await uow.users.list())
        if len(users) == 1:
            return users[0]
        raise NoUserChosen([user.name for user in users])

    async def get(self, user_id: str) -> User:
        """The user with id ``user_id``.

        :raises NotFound: there is no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            return await uow.users.get(user_id)

    async def rename(self, user_id: str, name: str) -> User:
        """Give the user a new name (checked and trimmed); everything it owns stays.

        :raises DomainError: the name breaks the rule for names.
        :raises NotFound: no such user.
        :raises AlreadyExists: another user has that name.
        """
        name = checked_name("user", name)
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.get(user_id)
            try:
                await uow.users.rename(user_id, name)
            except AlreadyExists:
                raise AlreadyExists(f"there is already a user named {name!r}") from None
            await uow.commit()
        return await self.get(user_id)

    async def set_admin(self, user_id: str, is_admin: bool) -> User:
        """Make the user an administrator (``True``) or not (``False``).

        :raises NotFound: no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.set_admin(user_id, is_admin)
            await uow.commit()
        return await self.get(user_id)

    async def set_language(self, user_id: str, language: str | None) -> User:
        """Store the language the user chose for the pages; ``None`` goes back to their
        browser's preference.

        :param language: one of the context's languages (``"fr"``; case and spaces ignored).
        :raises DomainError: tradecore does not speak ``language``.
        :raises NotFound: no such user.
        """
        chosen = self.checked_language(language)
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.set_language(user_id, chosen)
            await uow.commit()
        return await self.get(user_id)

    def checked_language(self, language: str | None) -> str | None:
        """``language`` as :meth:`set_language` stores it (trimmed, lowercase), or ``None``;
        for a choice kept elsewhere (the web's cookie before a login).

        :raises DomainError: tradecore does not speak ``language``.
        """
        if language is None:
            return None
        chosen = language.strip().lower()
        if chosen not in self._context.languages:
            spoken = ", ".join(self._context.languages)
            raise DomainError(f"tradecore does not speak {language!r}; choose one of {spoken}")
        return chosen

    async def footprint(self, user_id: str) -> UserFootprint:
        """How much removing the user would delete (to ask before doing it).

        :raises NotFound: there is no such user.
        """
        async with self._context.repository.unit_of_work() as uow:
            user = await uow.users.get(user_id)
            return UserFootprint(
                user=user,
                connections=len(await uow.connections.list(user_id)),
                strategies=len(await uow.strategies.list(user_id)),
                trades=await uow.trades.count(user_id),
            )

    async def remove(self, user_id: str) -> UserFootprint:
        """Remove the user and everything it owns: connections with their secrets, positions,
        trades, orders, strategies, notification targets, automation settings and runs.

        :returns: what was deleted.
        :raises NotFound: there is no such user.
        """
        footprint = await self.footprint(user_id)
        async with self._context.repository.unit_of_work() as uow:
            await uow.users.remove(user_id)
            await uow.commit()
        return footprint
