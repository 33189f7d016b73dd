"""The watchdog: deadlines interrupt cursors, releases forget them, ``interrupt_all`` reaches every one."""

from __future__ import annotations

import threading
import time

from emulator.olap.timeouts import Watchdog


class FakeCursor:
    def __init__(self) -> None:
        self.interrupted = threading.Event()

    def interrupt(self) -> None:
        self.interrupted.set()


def test_a_query_past_its_deadline_is_interrupted_and_marked_expired() -> None:
    dog = Watchdog()
    slow, fast, free = FakeCursor(), FakeCursor(), FakeCursor()
    g_slow = dog.watch(slow, 0.2)
    g_fast = dog.watch(fast, 0.2)
    g_free = dog.watch(free, None)
    g_fast.release()
    assert slow.interrupted.wait(5)
    assert g_slow.expired
    time.sleep(0.1)
    assert not fast.interrupted.is_set() and not g_fast.expired
    assert not free.interrupted.is_set() and not g_free.expired
    assert dog.running == 2
    g_slow.release()
    g_free.release()
    assert dog.running == 0
    dog.stop()


def test_an_earlier_deadline_wakes_the_watchdog() -> None:
    dog = Watchdog()
    late, early = FakeCursor(), FakeCursor()
    with dog.watch(late, 30), dog.watch(early, 0.1) as g_early:
        assert early.interrupted.wait(5)
        assert g_early.expired
        assert not late.interrupted.is_set()
    dog.stop()


def test_no_thread_without_deadlines() -> None:
    dog = Watchdog()
    with dog.watch(FakeCursor(), None), dog.watch(FakeCursor(), 0):
        assert dog._thread is None
    dog.stop()


def test_interrupt_all_and_wait_idle() -> None:
    dog = Watchdog()
    cursors = [FakeCursor() for _ in range(3)]
    guards = [dog.watch(c, None) for c in cursors]
    assert dog.interrupt_all() == 3
    assert all(c.interrupted.is_set() for c in cursors)
    assert not dog.wait_idle(0.05)
    threading.Timer(0.1, lambda: [g.release() for g in guards]).start()
    assert dog.wait_idle(5)
    dog.stop()
