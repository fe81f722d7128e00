"""The listing writers: a JSON array written a page at a time is byte for byte what
``json.dumps(rows, indent=2)`` wrote for the whole list; JSON Lines hold the same objects; each
page is one write; a reader gone away ends the command quietly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import MappingProxyType
from typing import Any

import pytest

from tradecore_cli.listing_output import (
    BROKEN_PIPE,
    JsonArrayWriter,
    JsonLinesWriter,
    quiet_broken_pipe,
    write_pages,
)

ROWS: list[dict[str, Any]] = [
    {"symbol": "BTCUSDT", "quantity": "0.00000001", "fee": None, "at": "2024-01-02T15:00:00+00:00"},
    {"symbol": 'quo"te\\back\nline\ttab', "quantity": "1E+3", "fee": "0E-8", "at": "x"},
    {"symbol": "ÉTH/€ 😀", "broker_order_id": None, "client_order_id": "c-1"},
    {},
    {"count": 3, "ratio": 0.5, "flag": True, "nested": {"a": [1, {"b": None}], "c": []}},
]


def written(
    writer_type: type[JsonArrayWriter] | type[JsonLinesWriter], pages: list[list[Any]]
) -> list[str]:
    pieces: list[str] = []
    writer = writer_type(pieces.append)
    for page in pages:
        writer.page(page)
    writer.close()
    return pieces


@pytest.mark.parametrize("cut", [1, 2, 5])
def test_a_json_array_in_pages_is_the_whole_list_dumped(cut: int) -> None:
    pages = [ROWS[start : start + cut] for start in range(0, len(ROWS), cut)]
    pieces = written(JsonArrayWriter, pages)
    assert "".join(pieces) == json.dumps(ROWS, indent=2) + "\n"
    assert len(pieces) == len(pages) + 1  # one write per page, and the closing bracket
    assert json.loads("".join(pieces)) == ROWS


def test_an_empty_array_and_empty_pages() -> None:
    assert "".join(written(JsonArrayWriter, [])) == "[]\n"
    assert (
        "".join(written(JsonArrayWriter, [[], [ROWS[0]], []]))
        == json.dumps([ROWS[0]], indent=2) + "\n"
    )


def test_any_mapping_is_written_as_a_dict_would_be() -> None:
    proxy = MappingProxyType(ROWS[1])
    assert "".join(written(JsonArrayWriter, [[proxy]])) == json.dumps([ROWS[1]], indent=2) + "\n"
    assert json.loads("".join(written(JsonLinesWriter, [[proxy]]))) == ROWS[1]


def test_json_lines_hold_one_object_per_line() -> None:
    pieces = written(JsonLinesWriter, [ROWS[:2], ROWS[2:]])
    assert len(pieces) == 2
    lines = "".join(pieces).splitlines()
    assert [json.loads(line) for line in lines] == ROWS
    assert written(JsonLinesWriter, [[]]) == []


def test_a_broken_pipe_ends_quietly_and_other_errors_pass() -> None:
    with pytest.raises(SystemExit) as ended, quiet_broken_pipe():
        raise BrokenPipeError
    assert ended.value.code == BROKEN_PIPE
    with pytest.raises(ConnectionResetError), quiet_broken_pipe():
        raise ConnectionResetError


async def test_each_page_is_written_before_the_next_is_asked_for() -> None:
    pieces: list[str] = []
    asked: list[int] = []

    async def pages() -> AsyncIterator[list[int]]:
        for number in range(3):
            asked.append(number)
            # Everything before this page is already out: nothing is held back.
            assert "".join(pieces).count('"n"') == number * 2
            yield [number * 2, number * 2 + 1]

    written = await write_pages(pages(), JsonLinesWriter(pieces.append), lambda n: {"n": n})
    assert written == 6
    assert asked == [0, 1, 2]
    assert len(pieces) == 3
    assert [json.loads(line)["n"] for line in "".join(pieces).splitlines()] == list(range(6))
