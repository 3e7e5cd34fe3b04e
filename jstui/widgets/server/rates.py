"""Rates per second from counters read at successive polls (a server's or a connection's in/out
messages and bytes).

`CounterRates.update(key, counters, now)` keeps the last reading of each key and returns the rates
since it; the first reading of a key, a clock that did not move (the snapshot tests' stopped
clocks) or a counter that went backwards (a restarted server, a reconnect with a new cid) give
None: "no rate yet", never a wrong one. `forget_others` drops keys that are gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["CounterRates"]


class CounterRates:
    """The last reading of each key's counters, to turn the next reading into rates."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, tuple[int, ...]]] = {}

    def update(self, key: str, counters: Sequence[int], now: float) -> tuple[float, ...] | None:
        """Rates per second of `counters` since the last reading of `key`, or None."""
        values = tuple(counters)
        previous = self._last.get(key)
        self._last[key] = (now, values)
        if previous is None:
            return None
        then, before = previous
        elapsed = now - then
        if elapsed <= 0 or len(before) != len(values):
            if elapsed <= 0:
                self._last[key] = previous  # keep the older reading: the clock will move on
            return None
        if any(after < earlier for after, earlier in zip(values, before, strict=True)):
            return None
        return tuple(
            (after - earlier) / elapsed for after, earlier in zip(values, before, strict=True)
        )

    def forget_others(self, keys: Iterable[str]) -> None:
        """Drop the readings of every key not in `keys` (connections that went away)."""
        keep = set(keys)
        for key in [key for key in self._last if key not in keep]:
            del self._last[key]
