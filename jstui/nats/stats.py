"""Pure rate meters and latency statistics (no I/O, no Textual), shared by the feeds, request and
worker panes.

Both classes take an injectable monotonic `clock` so tests can drive time by hand. Memory is
bounded whatever the traffic: `RateMeter` keeps one bucket per second for `span` seconds,
`LatencyStats` keeps the last `window` samples plus per-second buckets for `span` seconds.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence

Clock = Callable[[], float]

__all__ = ["Clock", "LatencyStats", "RateMeter", "percentile"]


class _SecondBuckets:
    """`span` per-second slots in a ring; a slot holds the totals of one whole clock second."""

    __slots__ = ("_last", "_values", "span")

    def __init__(self, span: int, width: int) -> None:
        self.span = span
        # width = how many parallel values per second (e.g. messages and bytes)
        self._values: list[list[float]] = [[0.0] * span for _ in range(width)]
        self._last: int | None = None

    def advance(self, second: int) -> None:
        """Zero the slots of the seconds between the last one seen and `second`."""
        last = self._last
        if last is None:
            self._last = second
            return
        if second <= last:
            return  # same second (or a clock that went backwards: keep adding to the newest)
        gap = min(second - last, self.span)
        for offset in range(1, gap + 1):
            slot = (last + offset) % self.span
            for values in self._values:
                values[slot] = 0.0
        self._last = second

    @property
    def last(self) -> int | None:
        return self._last

    def add(self, second: int, *amounts: float) -> None:
        self.advance(second)
        assert self._last is not None
        slot = self._last % self.span
        for values, amount in zip(self._values, amounts, strict=False):
            values[slot] += amount

    def get(self, index: int, second: int) -> float:
        """The total of `second` for value `index` (0 when it is outside the span)."""
        last = self._last
        if last is None or second > last or second <= last - self.span:
            return 0.0
        return self._values[index][second % self.span]


class RateMeter:
    """Messages and bytes per second, with a per-second history of the last `span` seconds.

    `add(n, nbytes)` is O(1) (an occasional zeroing of skipped seconds aside); read `rate()` and
    `history()` from a UI timer. `rate()` is a sliding one-second window: the current partial second
    plus the matching fraction of the previous one, so the figure moves smoothly at 10-20 Hz.
    """

    def __init__(self, span: int = 60, clock: Clock = time.monotonic) -> None:
        if span < 2:
            raise ValueError("span must be at least 2 seconds")
        self.span = span
        self._clock = clock
        self._buckets = _SecondBuckets(span, 2)
        self._started = clock()
        self.total = 0
        """Messages counted since creation or the last `reset()`."""
        self.total_bytes = 0
        """Bytes counted since creation or the last `reset()`."""

    def reset(self) -> None:
        self._buckets = _SecondBuckets(self.span, 2)
        self._started = self._clock()
        self.total = 0
        self.total_bytes = 0

    def add(self, n: int = 1, nbytes: int = 0) -> None:
        """Count `n` messages totalling `nbytes` bytes, now."""
        self._buckets.add(math.floor(self._clock()), n, nbytes)
        self.total += n
        self.total_bytes += nbytes

    def _windowed(self, index: int, window: float) -> float:
        now = self._clock()
        second = math.floor(now)
        self._buckets.advance(second)
        window = max(1.0, min(float(window), float(self.span - 1)))
        # Seconds covered so far, so a meter started 0.3 s ago is not divided by a full window.
        elapsed = max(now - self._started, 1e-3)
        frac = now - second  # part of the current second already elapsed
        whole = math.floor(window)
        total = self._buckets.get(index, second)
        for back in range(1, whole):
            total += self._buckets.get(index, second - back)
        # the oldest, partly covered second contributes the fraction of it inside the window
        total += self._buckets.get(index, second - whole) * (1.0 - frac)
        return total / min(window, elapsed)

    def rate(self, window: float = 1.0) -> float:
        """Messages per second over the last `window` seconds (sliding)."""
        return self._windowed(0, window)

    def byte_rate(self, window: float = 1.0) -> float:
        """Bytes per second over the last `window` seconds (sliding)."""
        return self._windowed(1, window)

    def _history(self, index: int, seconds: int | None) -> list[float]:
        count = self.span - 1 if seconds is None else max(0, min(seconds, self.span - 1))
        second = math.floor(self._clock())
        self._buckets.advance(second)
        # complete seconds only, oldest first: the current second is still filling up
        return [self._buckets.get(index, second - back) for back in range(count, 0, -1)]

    def history(self, seconds: int | None = None) -> list[float]:
        """Messages in each of the last complete seconds, oldest first (default: span - 1)."""
        return self._history(0, seconds)

    def byte_history(self, seconds: int | None = None) -> list[float]:
        """Bytes in each of the last complete seconds, oldest first."""
        return self._history(1, seconds)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) of already sorted values, nearest-rank; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    if q <= 0:
        return float(sorted_values[0])
    rank = math.ceil(q / 100.0 * len(sorted_values))
    return float(sorted_values[min(len(sorted_values), max(rank, 1)) - 1])


class LatencyStats:
    """Latency samples in seconds: percentiles over the last `window` samples, and a per-second
    history (mean and max of each of the last `span` seconds) for a sparkline.

    `count`, `max` and `min` cover every sample since creation or `reset()`; `p50`, `p90`, `p99`
    and `mean` cover the retained window, so they follow the current behaviour rather than an
    average of the whole run.
    """

    def __init__(self, window: int = 10_000, span: int = 60, clock: Clock = time.monotonic) -> None:
        if window < 1:
            raise ValueError("window must be at least 1 sample")
        if span < 2:
            raise ValueError("span must be at least 2 seconds")
        self.window = window
        self.span = span
        self._clock = clock
        self._samples: deque[float] = deque(maxlen=window)
        self._sorted: list[float] | None = None
        # per second: sum, count, max
        self._buckets = _SecondBuckets(span, 3)
        self.count = 0
        self.max = 0.0
        self.min = 0.0

    def reset(self) -> None:
        self._samples.clear()
        self._sorted = None
        self._buckets = _SecondBuckets(self.span, 3)
        self.count = 0
        self.max = 0.0
        self.min = 0.0

    def add(self, seconds: float) -> None:
        """Record one latency, in seconds."""
        value = max(0.0, float(seconds))
        self._samples.append(value)
        self._sorted = None
        if self.count == 0:
            self.max = self.min = value
        else:
            self.max = max(self.max, value)
            self.min = min(self.min, value)
        self.count += 1
        second = math.floor(self._clock())
        self._buckets.advance(second)
        # the max slot needs max(), not +=, so handle it by hand
        current_max = self._buckets.get(2, second)
        self._buckets.add(second, value, 1, max(current_max, value) - current_max)

    def extend(self, values: Iterable[float]) -> None:
        for value in values:
            self.add(value)

    def _sorted_samples(self) -> list[float]:
        # sorting is paid once per change, at most a UI timer's rate, never per sample
        if self._sorted is None:
            self._sorted = sorted(self._samples)
        return self._sorted

    def percentile(self, q: float) -> float:
        """The `q`-th percentile (0-100) of the retained samples, in seconds (0.0 when none)."""
        return percentile(self._sorted_samples(), q)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p90(self) -> float:
        return self.percentile(90)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def mean(self) -> float:
        return sum(self._samples) / len(self._samples) if self._samples else 0.0

    def samples(self, n: int | None = None) -> list[float]:
        """The newest `n` samples (all retained when None), oldest first."""
        if n is None or n >= len(self._samples):
            return list(self._samples)
        if n <= 0:
            return []
        return list(self._samples)[-n:]

    def history(self, seconds: int | None = None, stat: str = "mean") -> list[float]:
        """Per complete second, oldest first: the `mean` (or `max`) latency; 0.0 when idle."""
        if stat not in ("mean", "max"):
            raise ValueError("stat must be 'mean' or 'max'")
        count = self.span - 1 if seconds is None else max(0, min(seconds, self.span - 1))
        second = math.floor(self._clock())
        self._buckets.advance(second)
        out: list[float] = []
        for back in range(count, 0, -1):
            s = second - back
            if stat == "max":
                out.append(self._buckets.get(2, s))
            else:
                n = self._buckets.get(1, s)
                out.append(self._buckets.get(0, s) / n if n else 0.0)
        return out
