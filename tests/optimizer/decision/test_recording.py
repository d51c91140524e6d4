"""Writes retried through database outages: bounded, with backoff, only for outages."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from optimizer.decision.recording import OutcomeNotRecorded, RecordRetry


class FakeTime:
    def __init__(self):
        self.now, self.waits = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def failing(times: int, error: Exception):
    calls = []

    def write():
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "stored"

    return write, calls


DOWN = OperationalError("INSERT", {}, Exception("connection refused"))


def test_an_outage_is_waited_out_with_growing_waits():
    clock, (write, calls) = FakeTime(), failing(4, DOWN)
    retry = RecordRetry(window_s=60, first_wait_s=0.5, max_wait_s=2)
    assert retry.run("storing", write, sleep=clock.sleep, clock=lambda: clock.now) == "stored"
    assert clock.waits == [0.5, 1.0, 2.0, 2.0] and len(calls) == 5


def test_it_gives_up_after_the_window():
    clock, (write, _) = FakeTime(), failing(1000, DOWN)
    retry = RecordRetry(window_s=10, first_wait_s=1, max_wait_s=4)
    with pytest.raises(OutcomeNotRecorded, match="unreachable for 10 s.*connection refused"):
        retry.run("storing", write, sleep=clock.sleep, clock=lambda: clock.now)
    assert clock.now == pytest.approx(10)


def test_other_errors_are_not_retried():
    clock = FakeTime()
    write, calls = failing(1, IntegrityError("INSERT", {}, Exception("duplicate")))
    with pytest.raises(IntegrityError):
        RecordRetry().run("storing", write, sleep=clock.sleep, clock=lambda: clock.now)
    assert len(calls) == 1 and clock.waits == []
