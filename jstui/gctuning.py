"""Garbage-collector settings for a long-running UI that takes in floods of messages.

Measured during a 100k msgs/s feed of 1 KiB messages (`benchmarks/feed_ingest.py` shows the effect
on ingest): with CPython's defaults the collector took 131-142 ms of CPU per 300,000 messages, about
a tenth of the loop. Two things make it expensive here:

- Textual builds several small tracked objects per rendered line (a `Strip` and its caches), so a
  young-generation collection (threshold 700) ran about 30 times a second, each walking whatever
  was alive at that moment (0.5 ms each, most of it cache misses while a ring buffer of payloads
  streams through memory). At a threshold of 5,000 it runs about 3 times a second (3-4 ms each):
  25-55 ms in all, still well under one frame per pause.
- A full collection walks the whole UI (about 100,000 objects built at start-up that live as long
  as the app): 40-55 ms, once every few seconds during a flood, a visible hitch. `gc.freeze()`
  once the UI is built moves those objects out of the collector's way: 8-14 ms.

Both are undone on exit (tests start many apps in one process).
"""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "CollectorTuning"]

GEN0_THRESHOLD = 5_000
"""Young-generation threshold while the app runs (CPython's default is 700)."""


class CollectorTuning:
    """Apply once the UI is built; restore when the app ends. Safe to call either twice."""

    def __init__(self, gen0_threshold: int = GEN0_THRESHOLD) -> None:
        self.gen0_threshold = gen0_threshold
        self._saved: tuple[int, int, int] | None = None

    @property
    def applied(self) -> bool:
        return self._saved is not None

    def apply(self) -> None:
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.collect()  # what is garbage now should not be frozen
        gc.freeze()
        _, gen1, gen2 = self._saved
        gc.set_threshold(max(self.gen0_threshold, self._saved[0]), gen1, gen2)

    def restore(self) -> None:
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        self._saved = None
        gc.unfreeze()
