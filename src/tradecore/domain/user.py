"""The :class:`User`: owner of every connection, strategy, run and row of data."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from attrs import define, field

from tradecore.domain._checks import non_empty, utc
from tradecore.domain.ids import new_id
from tradecore.errors import DomainError

__all__ = ["User"]

_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def _language_code(_: Any, attribute: Any, value: str | None) -> None:
    # The form of a language; which ones tradecore speaks is the service's to say.
    if value is not None and not _LANGUAGE_CODE.fullmatch(value):
        raise DomainError(f"a language is a lowercase code such as 'fr', not {value!r}")


@define(kw_only=True)
class User:
    """A trader. All data is scoped by user and never crosses users.

    :param name: a unique, human-chosen handle (``alice``).
    :param is_admin: an administrator (may see every user's automation state on the operator
        page, never their secrets). A user's password is not kept here: the repository holds
        its hash apart (``UserRepository.password_hash``), so it is never in a ``repr``.
    :param language: the language the user chose for the pages (a lowercase ISO 639-1 code,
        one tradecore speaks: :meth:`~tradecore.services.users.Users.set_language` checks it);
        ``None``: their browser's preference.
    """

    id: str = field(factory=new_id, validator=non_empty)
    name: str = field(validator=non_empty)
    created_at: datetime = field(converter=utc)
    is_admin: bool = False
    language: str | None = field(default=None, validator=_language_code)
