"""Unit tests of the pure rate meter and latency statistics."""

from __future__ import annotations

import pytest

from jstui.nats.stats import LatencyStats, RateMeter, percentile


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_rate_meter_counts_totals_and_sliding_rate() -> None:
    clock = FakeClock(1000.0)
    meter = RateMeter(clock=clock)
    clock.now = 1001.0
    meter.add(100, 1600)
    clock.now = 1002.0
    meter.add(200, 3200)
    clock.now = 1002.5  # half of second 1002 done: half of 1001's bucket still in the window
    assert meter.total == 300
    assert meter.total_bytes == 4800
    assert meter.rate() == pytest.approx(200 + 100 * 0.5)
    assert meter.byte_rate() == pytest.approx(3200 + 1600 * 0.5)


def test_rate_meter_young_meter_is_not_diluted() -> None:
    clock = FakeClock(1000.0)
    meter = RateMeter(clock=clock)
    clock.now = 1000.25
    meter.add(50)
    # 50 messages in a quarter of a second is 200/s, not 50/s
    assert meter.rate() == pytest.approx(200.0)


def test_rate_meter_history_is_complete_seconds_oldest_first() -> None:
    clock = FakeClock(2000.0)
    meter = RateMeter(span=10, clock=clock)
    for second, n in [(2000, 1), (2001, 2), (2003, 4)]:
        clock.now = second + 0.1
        meter.add(n, n * 10)
    clock.now = 2004.5
    assert meter.history() == [0, 0, 0, 0, 0, 1, 2, 0, 4]
    assert meter.history(3) == [2, 0, 4]
    assert meter.byte_history(2) == [0, 40]


def test_rate_meter_forgets_after_span_and_stays_bounded() -> None:
    clock = FakeClock(0.0)
    meter = RateMeter(span=60, clock=clock)
    for second in range(500):
        clock.now = second + 0.5
        meter.add(10, 100)
    clock.now = 1000.0  # long idle gap: everything has aged out
    assert meter.rate() == 0
    assert meter.history() == [0] * 59
    assert meter.total == 5000


def test_rate_meter_window_average() -> None:
    clock = FakeClock(0.0)
    meter = RateMeter(clock=clock)
    for second in range(1, 11):
        clock.now = second
        meter.add(100)
    clock.now = 11.0  # second 11 just started, empty
    assert meter.rate(window=5) == pytest.approx(100 * 4 / 5 + 100 / 5)


def test_rate_meter_rejects_tiny_span() -> None:
    with pytest.raises(ValueError):
        RateMeter(span=1)


def test_percentile_nearest_rank() -> None:
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 90) == 90
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 99) == 7.0


def test_latency_stats_percentiles_count_and_extremes() -> None:
    stats = LatencyStats(clock=FakeClock())
    stats.extend(i / 1000 for i in range(1, 1001))  # 1 ms .. 1000 ms
    assert stats.count == 1000
    assert stats.p50 == pytest.approx(0.5)
    assert stats.p90 == pytest.approx(0.9)
    assert stats.p99 == pytest.approx(0.99)
    assert stats.max == pytest.approx(1.0)
    assert stats.min == pytest.approx(0.001)
    assert stats.mean == pytest.approx(0.5005)


def test_latency_stats_window_is_bounded_but_count_and_max_cover_all() -> None:
    stats = LatencyStats(window=100, clock=FakeClock())
    stats.add(5.0)  # an old outlier, pushed out of the window
    stats.extend([0.001] * 200)
    assert stats.count == 201
    assert len(stats.samples()) == 100
    assert stats.p99 == pytest.approx(0.001)
    assert stats.max == pytest.approx(5.0)
    assert stats.samples(3) == [0.001] * 3


def test_latency_stats_history_mean_and_max_per_second() -> None:
    clock = FakeClock(100.0)
    stats = LatencyStats(span=5, clock=clock)
    clock.now = 100.2
    stats.add(0.010)
    stats.add(0.030)
    clock.now = 102.7
    stats.add(0.050)
    clock.now = 103.1
    assert stats.history() == pytest.approx([0.0, 0.020, 0.0, 0.050])
    assert stats.history(stat="max") == pytest.approx([0.0, 0.030, 0.0, 0.050])
    assert stats.history(2) == pytest.approx([0.0, 0.050])
    with pytest.raises(ValueError):
        stats.history(stat="p99")


def test_latency_stats_empty_and_reset() -> None:
    stats = LatencyStats(clock=FakeClock())
    assert (stats.count, stats.p50, stats.p99, stats.max, stats.mean) == (0, 0.0, 0.0, 0.0, 0.0)
    stats.add(0.2)
    stats.add(-1)  # a clock hiccup never yields a negative latency
    assert stats.min == 0.0
    stats.reset()
    assert stats.count == 0
    assert stats.samples() == []


def test_sparkline_scales_pads_and_blanks_idle_seconds() -> None:
    from jstui.widgets.sparkline import BARS, spark

    assert spark([0, 1, 2, 4, 8]) == " " + BARS[0] + BARS[1] + BARS[3] + BARS[7]
    assert spark([5, 5], width=4) == "  " + BARS[7] * 2
    assert spark(list(range(100)), width=3) == BARS[7] * 3
    assert spark([1, float("nan"), -1], maximum=1) == BARS[7] + "  "
    assert spark([]) == "" and spark([1], width=0) == ""
