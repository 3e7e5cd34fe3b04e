"""The flood detector (jstui/nats/feeds/saturation.py) with a fake clock: no timing, no server."""

from __future__ import annotations

import pytest

from jstui.nats.feeds.saturation import SaturationDetector

TICK = 0.05


class Run:
    """Feeds samples to a detector at TICK intervals with per-feed rates (msgs/s)."""

    def __init__(self, detector: SaturationDetector[str]) -> None:
        self.detector = detector
        self.now = 100.0
        self.counts: dict[str, int] = {}

    def step(
        self, lag: float, rates: dict[str, float], late: float = 0.0, backlog: float = 0.0
    ) -> tuple[str, float] | None:
        self.now += TICK
        for key, rate in rates.items():
            self.counts[key] = self.counts.get(key, 0) + round(rate * TICK)
        return self.detector.observe(self.now, lag, late, dict(self.counts), backlog)


def detector() -> SaturationDetector[str]:
    # sustain between two and three ticks: the float sums of the fake clock cannot tip it
    return SaturationDetector(lag_limit=0.1, sustain=0.075, min_rate=5_000, cooldown=1.0)


def test_a_connection_that_keeps_up_is_never_saturated() -> None:
    run = Run(detector())
    for _ in range(200):  # 10 s at 40k msgs/s, answered in a few milliseconds
        assert run.step(0.004, {"fast": 40_000, "quiet": 1_000}) is None


def test_a_growing_lag_suspends_the_feed_that_floods_not_the_quiet_one() -> None:
    run = Run(detector())
    run.step(0.002, {"flood": 0, "quiet": 1_000})
    verdicts = [run.step(0.05 * i, {"flood": 300_000, "quiet": 1_000}) for i in range(1, 8)]
    found = [v for v in verdicts if v is not None]
    assert len(found) == 1
    key, rate = found[0]
    assert key == "flood"
    assert 290_000 <= rate <= 310_000
    # it fired once the lag had stayed over the limit for the sustain time, not before
    assert verdicts.index(found[0]) == 3  # lags 0.05, 0.10 (since), 0.15, 0.20 (sustained)


def test_one_slow_answer_is_not_a_flood() -> None:
    run = Run(detector())
    assert run.step(0.3, {"feed": 50_000}) is None  # baseline
    assert run.step(0.3, {"feed": 50_000}) is None  # over the limit: not sustained yet
    assert run.step(0.004, {"feed": 50_000}) is None  # answered quickly again
    assert run.step(0.3, {"feed": 50_000}) is None  # a new window starts here


def test_a_backlog_waiting_unread_is_seen_before_any_pong() -> None:
    run = Run(detector())
    run.step(0.0, {"flood": 0})
    assert run.step(0.0, {"flood": 200_000}, backlog=0.4) is None  # the first sample over it
    assert run.step(0.0, {"flood": 200_000}, backlog=0.6) is None
    verdict = run.step(0.0, {"flood": 200_000}, backlog=0.8)
    assert verdict is not None and verdict[0] == "flood"


def test_a_backlog_that_drains_at_once_is_not_a_flood() -> None:
    # after a frozen loop the socket holds what arrived meanwhile; a client that keeps up reads it
    run = Run(detector())
    for _ in range(10):
        assert run.step(0.002, {"feed": 40_000}, backlog=0.5) is None
        assert run.step(0.002, {"feed": 40_000}, backlog=0.01) is None


def test_a_frozen_loop_is_not_a_flood() -> None:
    # the PING waited because the loop did other work (the ticker woke as late), not in a queue
    run = Run(detector())
    for _ in range(20):
        assert run.step(0.5, {"feed": 50_000}, late=0.45) is None


def test_what_piled_up_while_the_loop_was_frozen_is_not_a_flood() -> None:
    # a 40k msgs/s feed read in time, but each sample comes after the loop did 0.28 s of other
    # work: the socket holds what arrived meanwhile, which is no queue the client cannot read
    run = Run(detector())
    for _ in range(20):
        assert run.step(0.002, {"feed": 40_000}, late=0.28, backlog=0.3) is None
    # a backlog beyond what the freeze explains is one
    verdicts = [run.step(0.002, {"feed": 40_000}, late=0.28, backlog=0.6) for _ in range(4)]
    assert any(verdict is not None for verdict in verdicts)


def test_slow_feeds_are_never_suspended_whatever_the_lag() -> None:
    run = Run(detector())
    for _ in range(40):
        assert run.step(2.0, {"a": 3_000, "b": 4_000}) is None


def test_after_a_suspension_the_draining_backlog_blames_no_other_feed() -> None:
    run = Run(detector())
    run.step(0.0, {"flood": 0, "second": 0})
    verdict = None
    while verdict is None:
        verdict = run.step(0.5, {"flood": 200_000, "second": 20_000})
    assert verdict[0] == "flood"
    # the backlog drains for a while: the lag stays high, the second feed stays fast enough
    for _ in range(19):  # 0.95 s, inside the cool-down
        assert run.step(0.5, {"flood": 0, "second": 20_000}) is None
    # if the connection is still saturated after the cool-down, the second feed is the flood now
    results = [run.step(0.5, {"flood": 0, "second": 20_000}) for _ in range(5)]
    found = [v for v in results if v is not None]
    assert [key for key, _ in found] == ["second"]
    assert round(found[0][1]) == 20_000


def test_a_new_feed_starts_at_rate_zero() -> None:
    run = Run(detector())
    run.step(0.0, {"old": 1_000})  # 50 messages in one tick
    rates = run.detector.rates(run.now + TICK, {"old": 100, "new": 999_999})
    assert rates == {"old": pytest.approx(1_000.0), "new": 0.0}
