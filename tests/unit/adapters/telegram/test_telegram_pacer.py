"""Pacing: one message a second per chat, one every 3 s in a group, 30 a second per bot
(``telegram.constants.FloodLimit``; docs/notifications/telegram.md, "Delivery")."""

from __future__ import annotations

import pytest

from tradecore_adapters.telegram._delivery import Pacer


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_messages_to_one_chat_are_a_second_apart_in_reservation_order() -> None:
    clock = _Clock()
    pacer = Pacer(clock)
    assert [pacer.reserve("bot", "42") for _ in range(3)] == [0.0, 1.0, 2.0]
    clock.now += 5
    assert pacer.reserve("bot", "42") == 0.0


def test_groups_get_twenty_a_minute() -> None:
    pacer = Pacer(_Clock())
    assert [pacer.reserve("bot", "-100123") for _ in range(3)] == [0.0, 3.0, 6.0]


def test_chats_are_independent_but_the_bot_keeps_to_thirty_a_second() -> None:
    pacer = Pacer(_Clock())
    waits = [pacer.reserve("bot", str(chat)) for chat in range(31)]
    assert waits[0] == 0.0
    assert waits[-1] == pytest.approx(1.0)
    assert pacer.reserve("other-bot", "1") == 0.0


def test_flood_control_pushes_the_chats_next_slot() -> None:
    clock = _Clock()
    pacer = Pacer(clock)
    pacer.reserve("bot", "42")
    pacer.hold("bot", "42", 7.1)
    assert pacer.reserve("bot", "42") == pytest.approx(7.1)
