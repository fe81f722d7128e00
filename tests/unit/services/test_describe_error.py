"""describe_error: every error a step or a command reports is one sentence, never a raw text
such as ``[<class 'decimal.Overflow'>]`` or a database library's SQL and links."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from tradecore.errors import BrokerUnavailable, RepositoryError
from tradecore.services import describe_error


def raised(action: object) -> BaseException:
    try:
        action()  # type: ignore[operator]
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


def overflow() -> Decimal:
    with localcontext() as context:
        context.Emax = 10
        return Decimal("9e10") * 10


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        (overflow, "a number was too large to compute with"),
        (lambda: Decimal(1) / Decimal(0), "a number was divided by zero"),
        (
            lambda: Decimal("1e30").quantize(Decimal("0.00000001")),
            "a number was out of range or not a number",
        ),
        (lambda: Decimal("1.2.3"), "a number was out of range or not a number"),
    ],
)
def test_decimal_errors_become_a_sentence(action: object, sentence: str) -> None:
    exc = raised(action)
    assert describe_error(exc) == sentence
    assert describe_error(exc, doing="sizing the order") == f"{sentence} while sizing the order"
    assert "class" not in describe_error(exc)


class FakeOperationalError(Exception):
    """What SQLAlchemy's errors look like as text: the driver's message, then SQL and a link."""


def test_an_unexpected_error_keeps_its_type_and_first_line_only() -> None:
    exc = FakeOperationalError(
        "(sqlite3.OperationalError) database is locked\n[SQL: BEGIN IMMEDIATE]\n"
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )
    assert describe_error(exc) == (
        "unexpected FakeOperationalError: (sqlite3.OperationalError) database is locked"
    )
    inline = FakeOperationalError("boom [SQL: SELECT 1] [parameters: ('x',)]")
    assert (
        describe_error(inline, doing="syncing")
        == "unexpected FakeOperationalError while syncing: boom"
    )
    assert describe_error(KeyError("x")) == "unexpected KeyError: 'x'"
    assert describe_error(RuntimeError()) == "unexpected RuntimeError: (no message)"


def test_tradecores_own_errors_keep_their_sentence_and_code() -> None:
    assert describe_error(RepositoryError("the database is busy")) == (
        "RepositoryError: the database is busy"
    )
    down = BrokerUnavailable("Binance is\n down", broker="binance", code="-1001")
    assert (
        describe_error(down, doing="ignored") == "BrokerUnavailable: Binance is down (code -1001)"
    )
