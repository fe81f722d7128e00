"""Logging setup (issue 8): the run id on every line, a rotating log file that never sees a secret,
the AUTOMATION_LOG_* variables, -v, and no duplicate handler when set up twice."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from tradecore.errors import ConfigurationError
from tradecore.logs import RunContextFilter, run_context
from tradecore_adapters.logging_setup import configure_logging
from tradecore_adapters.redaction import MASK, RedactingFilter, register_secret
from tradecore_cli.settings import apply_verbosity, load_settings, settings_of, verbosity_level

LIBRARY_LOGGERS = ("httpx", "httpcore", "aiosqlite", "alembic")
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<level>[A-Z]+) (?P<name>\S+) "
    r"\[run (?P<run>[^\]]+)\]: (?P<message>.*)$"
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


OUR_HANDLERS = {"tradecore.stderr", "tradecore.file"}


def context(environ: dict[str, str]) -> click.Context:
    return click.Context(click.Command("test"), obj={"environ": environ})


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


log = logging.getLogger("tradecore.test.logging_setup")


def test_a_line_logged_inside_a_run_carries_its_run_id_in_the_file(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "nested" / "tradecore.log"  # parent folders are created
    configure_logging("INFO", log_file=log_file)

    log.info("before the run")
    with run_context("run-42", user_id="alice"):
        log.info("cycle started for %s", "alice")
    log.debug("below the level")

    first, second = (LINE.match(line) for line in lines(log_file))
    assert first is not None
    assert second is not None
    assert (first["level"], first["name"], first["run"]) == ("INFO", log.name, "-")
    assert (second["run"], second["message"]) == ("run-42", "cycle started for alice")


def test_a_registered_secret_never_reaches_the_log_file(tmp_path: Path) -> None:
    log_file = tmp_path / "tradecore.log"
    secret = "file-canary-secret-8c1f2e"
    register_secret(secret)
    configure_logging("DEBUG", log_file=log_file)

    log.debug("sending %s", secret)
    try:
        raise RuntimeError(f"refused {secret}")
    except RuntimeError:
        log.exception("failed")

    text = log_file.read_text(encoding="utf-8")
    assert secret not in text
    assert text.count(MASK) >= 2


def test_the_file_rotates_at_max_bytes_and_keeps_the_backups(tmp_path: Path) -> None:
    log_file = tmp_path / "tradecore.log"
    configure_logging("INFO", log_file=log_file, max_bytes=1024, backups=2)

    for number in range(100):
        log.info("line %03d %s", number, "x" * 60)

    kept = sorted(path.name for path in tmp_path.iterdir())
    assert kept == ["tradecore.log", "tradecore.log.1", "tradecore.log.2"]
    assert all((tmp_path / name).stat().st_size <= 1024 for name in kept)
    assert lines(log_file)[-1].endswith("line 099 " + "x" * 60)


def test_with_no_backup_the_file_still_keeps_its_size(tmp_path: Path) -> None:
    log_file = tmp_path / "tradecore.log"
    configure_logging("INFO", log_file=log_file, max_bytes=1024, backups=0)

    for number in range(100):
        log.info("line %03d %s", number, "x" * 60)

    assert [path.name for path in tmp_path.iterdir()] == ["tradecore.log"]
    assert log_file.stat().st_size <= 1024
    assert lines(log_file)[-1].endswith("line 099 " + "x" * 60)


def test_setting_up_twice_adds_no_handler_and_writes_each_line_once(tmp_path: Path) -> None:
    log_file = tmp_path / "tradecore.log"
    first, second = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    # Handlers of an earlier setup in this process (a CLI test's) are replaced, not kept.
    before = len([h for h in root.handlers if h.get_name() not in OUR_HANDLERS])

    configure_logging("INFO", log_file=log_file, stream=first)
    after_one = root.handlers[:]
    configure_logging("DEBUG", log_file=log_file, stream=second)

    assert len(after_one) == before + 2
    assert len(root.handlers) == len(after_one)
    ours = [h for h in root.handlers if h.get_name() in OUR_HANDLERS]
    assert len(ours) == 2
    assert all(sum(type(f).__name__ == "RedactingFilter" for f in h.filters) == 1 for h in ours)
    log.debug("only once")
    assert [line.endswith("[run -]: only once") for line in lines(log_file)] == [True]
    assert first.getvalue() == ""
    assert second.getvalue().endswith("[run -]: only once\n")
    assert root.level == logging.DEBUG
    assert logging.getLogger("alembic").level == logging.DEBUG
    assert logging.getLogger("httpx").level == logging.WARNING


def test_a_log_file_that_cannot_be_opened_is_a_configuration_error_changing_nothing(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    root = logging.getLogger()
    configure_logging("INFO", stream=io.StringIO())
    handlers = root.handlers[:]

    with pytest.raises(ConfigurationError, match="cannot open the log file"):
        configure_logging("DEBUG", log_file=blocker / "tradecore.log")

    assert root.handlers == handlers
    assert root.level == logging.INFO


def test_with_someone_elses_handlers_no_terminal_handler_is_added_and_theirs_are_filtered() -> None:
    # As a library user's application (or pytest) has it: their handlers, not ours.
    root = logging.getLogger()
    foreign = [h for h in root.handlers if h.get_name() not in OUR_HANDLERS]
    assert foreign  # pytest's own
    configure_logging("WARNING")
    after_first = {id(handler): list(handler.filters) for handler in root.handlers}
    configure_logging("WARNING")
    assert root.level == logging.WARNING
    assert root.handlers == foreign
    for handler in root.handlers:
        # Each of their handlers masks and carries the run id; a second setup adds nothing.
        # (Counted against the first setup: pytest's session handlers keep the filters of
        # every earlier test in the process.)
        shown = [f"{type(f).__module__}.{type(f).__qualname__}" for f in handler.filters]
        assert handler.filters == after_first[id(handler)], shown
        assert any(isinstance(f, RunContextFilter) for f in handler.filters), shown
        assert any(isinstance(f, RedactingFilter) for f in handler.filters), shown


def test_the_log_variables_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "AUTOMATION_LOG_FILE": str(tmp_path / "logs" / "tradecore.log"),
            "AUTOMATION_LOG_MAX_BYTES": " 2048 ",
            "AUTOMATION_LOG_BACKUPS": "0",
        }
    )
    assert settings.log_file == tmp_path / "logs" / "tradecore.log"
    assert (settings.log_max_bytes, settings.log_backups) == (2048, 0)

    defaults = load_settings({"AUTOMATION_LOG_FILE": " "})
    assert defaults.log_file is None
    assert (defaults.log_max_bytes, defaults.log_backups) == (10 * 1024 * 1024, 5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AUTOMATION_LOG_MAX_BYTES", "1023", "at least 1024"),
        ("AUTOMATION_LOG_MAX_BYTES", "10MB", "whole number of bytes"),
        ("AUTOMATION_LOG_MAX_BYTES", "2048.5", "whole number of bytes"),
        ("AUTOMATION_LOG_BACKUPS", "-1", "from 0 to 100"),
        ("AUTOMATION_LOG_BACKUPS", "101", "from 0 to 100"),
        ("AUTOMATION_LOG_BACKUPS", "five", "from 0 to 100"),
    ],
)
def test_a_bad_log_value_is_refused_with_its_name(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^{name} .*{message}.*{re.escape(repr(value))}"):
        load_settings({name: value})


def test_a_log_file_that_is_a_directory_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^AUTOMATION_LOG_FILE must be a file"):
        load_settings({"AUTOMATION_LOG_FILE": str(tmp_path)})


def test_a_log_file_that_cannot_be_opened_is_refused_with_its_name(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    ctx = context({"AUTOMATION_LOG_FILE": str(blocker / "tradecore.log")})
    with pytest.raises(ConfigurationError, match=r"^AUTOMATION_LOG_FILE: cannot open the log file"):
        settings_of(ctx)


def test_settings_of_sets_up_the_log_file(tmp_path: Path) -> None:
    log_file = tmp_path / "tradecore.log"
    settings = settings_of(context({"AUTOMATION_LOG_FILE": str(log_file)}))
    with run_context("run-7"):
        log.info("hello")
    assert settings.log_file == log_file
    assert lines(log_file)[-1].endswith(f"{log.name} [run run-7]: hello")


@pytest.mark.parametrize(
    ("base", "verbose", "level"),
    [
        ("WARNING", 0, "WARNING"),
        ("WARNING", 1, "INFO"),
        ("WARNING", 2, "DEBUG"),
        ("ERROR", 3, "DEBUG"),
        ("INFO", 1, "INFO"),
        ("DEBUG", 1, "DEBUG"),  # -v never shows less than AUTOMATION_LOG_LEVEL
        ("CRITICAL", 0, "CRITICAL"),
    ],
)
def test_verbosity_level(base: str, verbose: int, level: str) -> None:
    assert verbosity_level(base, verbose) == level


def test_apply_verbosity_raises_the_level_of_the_invocation(tmp_path: Path) -> None:
    log_file = tmp_path / "tradecore.log"
    ctx = context({"AUTOMATION_LOG_LEVEL": "WARNING", "AUTOMATION_LOG_FILE": str(log_file)})
    root = logging.getLogger()

    assert apply_verbosity(ctx, 0) == "WARNING"
    assert root.level == logging.WARNING
    handlers = len(root.handlers)

    assert apply_verbosity(ctx, 2) == "DEBUG"
    assert root.level == logging.DEBUG
    assert settings_of(ctx).log_level == "DEBUG"
    assert len(root.handlers) == handlers
    log.debug("now shown")
    assert lines(log_file)[-1].endswith("now shown")
