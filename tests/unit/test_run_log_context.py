"""The run context of log records (tradecore.logs): set by run_context, followed through awaits and
into tasks, restored on exit, copied onto each record by RunContextFilter."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tradecore.logs import RunContextFilter, current_run_id, run_context


def a_record() -> logging.LogRecord:
    return logging.LogRecord("tradecore.test", logging.INFO, __file__, 1, "hello", None, None)


def filtered(record: logging.LogRecord) -> logging.LogRecord:
    assert RunContextFilter().filter(record) is True
    return record


def test_outside_a_run_there_is_no_run_id_and_records_show_a_dash() -> None:
    assert current_run_id() is None
    record = filtered(a_record())
    assert (record.run_id, record.user_id) == ("-", "-")


def test_inside_a_run_records_carry_its_run_id_and_user_id() -> None:
    with run_context("run-1", user_id="alice"):
        assert current_run_id() == "run-1"
        record = filtered(a_record())
    assert (record.run_id, record.user_id) == ("run-1", "alice")
    assert current_run_id() is None


def test_a_run_without_a_user_shows_a_dash_for_the_user() -> None:
    with run_context("run-1"):
        record = filtered(a_record())
    assert (record.run_id, record.user_id) == ("run-1", "-")


def test_nested_runs_restore_the_outer_one_even_after_an_error() -> None:
    def inner_run_that_fails() -> None:
        with run_context("inner", "bob"):
            assert current_run_id() == "inner"
            raise RuntimeError("boom")

    with run_context("outer", "alice"):
        with pytest.raises(RuntimeError, match="boom"):
            inner_run_that_fails()
        assert current_run_id() == "outer"
        assert filtered(a_record()).user_id == "alice"
    assert current_run_id() is None


def test_a_record_that_already_has_a_run_id_keeps_it() -> None:
    record = a_record()
    record.run_id = "given"
    with run_context("current", "alice"):
        filtered(record)
    assert (record.run_id, record.user_id) == ("given", "-")


async def test_the_run_id_survives_awaits_and_is_inherited_by_tasks() -> None:
    async def later() -> str | None:
        await asyncio.sleep(0)
        return current_run_id()

    with run_context("run-a"):
        await asyncio.sleep(0)
        assert current_run_id() == "run-a"
        task = asyncio.create_task(later())
    # The task copied the context when it was created: leaving the block does not change it.
    assert current_run_id() is None
    assert await task == "run-a"


async def test_concurrent_runs_in_separate_tasks_do_not_see_each_other() -> None:
    async def run(run_id: str) -> list[str | None]:
        seen: list[str | None] = []
        with run_context(run_id):
            for _ in range(3):
                await asyncio.sleep(0)
                seen.append(current_run_id())
                seen.append(filtered(a_record()).run_id)
        return seen

    first, second = await asyncio.gather(run("run-a"), run("run-b"))
    assert set(first) == {"run-a"}
    assert set(second) == {"run-b"}
    assert current_run_id() is None
