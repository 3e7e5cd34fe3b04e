"""Garbage-collector settings for a long-running UI that takes in floods of messages.

Measured during a 100k msgs/s feed of 1 KiB messages (`benchmarks/feed_ingest.py` shows the effect
on ingest): with CPython's defaults the collector took 131-142 ms of CPU per 300,000 messages, about
a tenth of the loop. Textual builds several small tracked objects per rendered line (a `Strip` and
its caches), so a young-generation collection (threshold 700) ran about 30 times a second, each
walking whatever was alive at that moment (0.5 ms each, most of it cache misses while a ring
buffer of payloads streams through memory), and every few seconds a full collection walked the
whole UI (40-55 ms). With a young threshold of 5,000 it ran about 3 times a second (3-4 ms each,
well under a frame) and no full collection came in three rounds: 25-55 ms in all.

`gc.freeze()` once the UI is built did no better on top of that (35-52 ms), and it would keep
whatever existed at that moment alive for good once it became cyclic garbage: a feed opened at
start-up and closed later would never give back its ring buffer. So it is not used.

The threshold is put back on exit (tests start many apps in one process).

Start-up (`pause`, called by the `jstui` command before it imports the UI): importing and building
the UI allocates hundreds of thousands of objects and frees few, so every young collection in that
phase (about 120 of them, and a full one) walks objects that all survive. The collector is off from
then until `apply`, after the first frame. Switching it back on must not walk them either: ~400,000
objects are waiting in the young generation by then, and the first allocation after `gc.enable()`
would collect them all (60 ms on this machine, half of it before the "connected" frame). Since
they survive anyway, `gc.freeze()` + `gc.unfreeze()` move them straight into the oldest
generation (constant time), where full collections see them as they would have after surviving.
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
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Switch the collector off until `apply` (or `restore`); nothing if it was off already."""
        if gc.isenabled():
            gc.disable()
            self._paused = True

    def _resume(self) -> None:
        if self._paused:
            self._paused = False
            gc.freeze()  # what start-up built goes to the old generation, uncollected (see above)
            gc.unfreeze()
            gc.enable()

    @property
    def applied(self) -> bool:
        return self._saved is not None

    def apply(self) -> None:
        self._resume()
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gen0, gen1, gen2 = self._saved
        gc.set_threshold(max(self.gen0_threshold, gen0), gen1, gen2)

    def restore(self) -> None:
        self._resume()
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        self._saved = None
