"""``tradecore`` through click's runner, in one home: what the command-line tests share."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from tradecore_cli.main import cli

__all__ = ["Cli", "error_line"]


class Cli:
    """Runs ``tradecore ARGS`` in-process with its own environment (``TRADECORE_HOME``…) and,
    when given, a clock (a :class:`~tradecore.testing.FakeClock`) every command reads time from.

    ``interactive`` says whether the command may prompt (standard input is never a terminal
    under the runner); ``input`` is what the person types.
    """

    def __init__(self, env: dict[str, str], *, clock: object | None = None) -> None:
        self.env = env
        self.clock = clock

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        interactive: bool | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        obj: dict[str, Any] = {"environ": {**self.env, **(env or {})}}
        if self.clock is not None:
            obj["clock"] = self.clock  # each command opens its own application on this clock
        if interactive is not None:
            obj["interactive"] = interactive
        return CliRunner().invoke(cli, list(args), obj=obj, input=input, catch_exceptions=False)

    def ok(self, *args: str, **kwargs: Any) -> str:
        """Standard output of a command that must succeed."""
        result = self(*args, **kwargs)
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str, status: int = 0) -> Any:
        """The JSON document of ``args --json``; standard output holds nothing else."""
        result = self(*args, "--json")
        assert result.exit_code == status, result.output
        assert "Traceback" not in result.output
        return json.loads(result.stdout)


def error_line(result: Result) -> str:
    """The one ``Error:`` line of a failed command; no traceback anywhere."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]
