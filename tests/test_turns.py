"""InTurn: a few threads inside at once, the others let in in the order they came."""

from __future__ import annotations

import threading
import time

import pytest
from slack_harness import eventually

from bot.slack.turns import InTurn


def test_the_waiting_are_let_in_in_the_order_they_came():
    turns = InTurn(1)  # one at a time, so what each does inside is in the order they were let in
    let_go = threading.Event()
    entered: list[int] = []

    def hold() -> None:
        with turns:
            let_go.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    eventually(lambda: turns._free == 0)

    def come(n: int) -> None:
        with turns:
            entered.append(n)

    comers = []
    for n in range(8):  # each starts waiting before the next comes
        comers.append(threading.Thread(target=come, args=(n,)))
        comers[-1].start()
        eventually(lambda n=n: len(turns._waiting) == n + 1)
    let_go.set()
    for thread in [holder, *comers]:
        thread.join(10)
    assert entered == list(range(8))
    assert turns._free == 1 and not turns._waiting


def test_never_more_inside_than_it_lets_in():
    turns = InTurn(2)
    inside, most = [0], [0]
    count = threading.Lock()

    def work() -> None:
        for _ in range(200):
            with turns:
                with count:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0)
                with count:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most[0] == 2 and inside[0] == 0 and turns._free == 2


def test_a_place_comes_free_when_the_work_inside_raises():
    turns = InTurn(1)
    with pytest.raises(ValueError), turns:
        raise ValueError("the answer could not be worked out")
    got_in = threading.Event()
    thread = threading.Thread(target=lambda: turns.__enter__() or got_in.set())
    thread.start()
    assert got_in.wait(5)


def test_a_thread_that_comes_back_as_its_place_frees_waits_behind_those_waiting():
    """(`threading.Semaphore` would let it straight back in, ahead of the thread that waited.)"""
    turns = InTurn(1)
    order: list[str] = []
    turns.__enter__()
    waiting = threading.Thread(target=lambda: (turns.__enter__(), order.append("waited"), turns.__exit__()))
    waiting.start()
    eventually(lambda: len(turns._waiting) == 1)
    turns.__exit__()
    with turns:
        order.append("came back")
    waiting.join(10)
    assert order == ["waited", "came back"]
