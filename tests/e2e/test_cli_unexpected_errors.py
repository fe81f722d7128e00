"""An error that is not tradecore's own (a bug, or a library's error that escaped) is one
``Error:`` sentence and exit status 1, never a traceback or a raw text such as
``[<class 'decimal.Overflow'>]`` or SQLAlchemy's ``[SQL: …]`` and link; ``--traceback`` shows
the whole of it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, localcontext

import click
import pytest
from click.testing import CliRunner, Result
from tests.e2e.cli_runner import error_line

from tradecore_cli.main import cli


class FakeSqlError(Exception):
    """Text shaped like SQLAlchemy's."""


def _overflow() -> None:
    with localcontext() as context:
        context.Emax = 5
        Decimal("9e5") * 10


def _sql() -> None:
    raise FakeSqlError(
        "(sqlite3.OperationalError) disk I/O error\n[SQL: INSERT INTO users VALUES (?)]\n"
        "[parameters: ('alice',)]\n(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )


@pytest.fixture
def broken() -> Iterator[None]:
    @click.group(name="broken")
    def group() -> None:
        """A command group that fails (test only)."""

    group.command(name="overflow")(_overflow)
    group.command(name="sql")(_sql)
    cli.add_command(group)
    try:
        yield
    finally:
        cli.commands.pop("broken")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"environ": {}}, catch_exceptions=False)


@pytest.mark.usefixtures("broken")
def test_a_decimal_error_is_one_sentence_naming_the_command() -> None:
    result = invoke("broken", "overflow")
    assert result.exit_code == 1
    assert error_line(result) == (
        "Error: a number was too large to compute with while running `tradecore broken` "
        "(run it again with --traceback for details)"
    )


@pytest.mark.usefixtures("broken")
def test_a_library_error_shows_no_sql_parameters_or_link() -> None:
    result = invoke("broken", "sql")
    line = error_line(result)
    assert line == (
        "Error: unexpected FakeSqlError while running `tradecore broken`: "
        "(sqlite3.OperationalError) disk I/O error (run it again with --traceback for details)"
    )
    for raw in ("[SQL", "alice", "sqlalche.me"):
        assert raw not in result.output


@pytest.mark.usefixtures("broken")
def test_traceback_shows_the_original_error() -> None:
    result = CliRunner().invoke(cli, ["--traceback", "broken", "sql"], obj={"environ": {}})
    assert isinstance(result.exception, FakeSqlError)


@pytest.mark.usefixtures("broken")
def test_usage_errors_are_still_clicks_own() -> None:
    result = invoke("broken", "nope")
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output
