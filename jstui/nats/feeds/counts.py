"""Where each message of a feed went: `FeedCounts` (a snapshot) and `Accounts` (the bookkeeping).

The counters are defined once, in docs/architecture.md ("Feed counters"):

    received = shown + filtered + skipped + dropped + pending

- shown: drawn in the view (passed the view's filter);
- filtered: looked at and did not pass the view's filter;
- skipped: reached the ring buffer but was not drawn as it arrived (more arrived in one redraw
  than a screen shows, or more than the filter's scan budget); still in the buffer, so paging
  back (`older`) reaches it while the buffer keeps it;
- dropped: really lost. `slow`: thrown away by nats-py past a JetStream feed's pending limit
  (slow consumer); `overwritten`: pushed out of the ring buffer before it was ever accounted
  (the view was paused for longer than the buffer holds);
- pending: in the buffer, not accounted yet (the "+N new" of a paused view).

Data flow: `Feed` appends to its ring buffer and bumps `count` (hot path, nothing here). The
view's timer calls `Feed.take_new`, which calls `Accounts.take`: every message since the last
call is given exactly one of shown / filtered / skipped / overwritten, and each one still in the
buffer gets a one-byte mark (`_marks`, a ring indexed like the buffer). Between the draws of a
backlog, `Accounts.skip_through` marks all but the newest messages skipped without looking at
them (one slice assignment), and the newest stay pending for the next draw. A new filter calls
`Accounts.refilter`: the marks of the messages still in the buffer are taken back out of the
counters and the messages are accounted again under the new filter, so the counters follow the
filter and still add up. Nothing here imports Textual or touches the network.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from jstui.nats.feeds.filter import NO_FILTER, FeedFilter
from jstui.nats.feeds.message import FeedMessage

__all__ = ["FILTER_SCAN_BUDGET", "REFILTER_SCAN_BUDGET", "Accounts", "FeedCounts"]

FILTER_SCAN_BUDGET = 5_000
"""At most this many new messages are matched against a filter per `take` call."""
REFILTER_SCAN_BUDGET = 200_000
"""At most this many buffered messages are matched again when the filter changes; older ones
count as skipped (not looked at), as in `take`."""

SHOWN, FILTERED, SKIPPED = 1, 2, 3
"""The marks of accounted messages still in the ring buffer (0: not accounted yet)."""


@dataclass(frozen=True)
class FeedCounts:
    """A consistent snapshot: received = shown + filtered + skipped + dropped + pending."""

    received: int
    shown: int
    filtered: int
    skipped: int
    dropped: int
    pending: int
    slow: int
    """Of `dropped`: thrown away by nats-py past the pending limit (slow consumer)."""
    overwritten: int
    """Of `dropped`: pushed out of the ring buffer before it was accounted (paused too long)."""
    bytes: int

    @property
    def accounted(self) -> int:
        """The right-hand side of the definition; equals `received` by construction."""
        return self.shown + self.filtered + self.skipped + self.dropped + self.pending


class Accounts:
    """The per-feed bookkeeping of where messages went. `cursor` is the index of the last
    accounted message; message indices run 1, 2, ... with no gap, and the ring buffer holds the
    newest `len(buffer)` of them."""

    def __init__(self, capacity: int) -> None:
        self.cursor = 0
        self.shown = 0
        self.filtered = 0
        self.skipped = 0
        self.overwritten = 0
        self._capacity = capacity
        self._marks = bytearray(capacity)

    # -- marks: one byte per buffer slot, slot = (index - 1) % capacity -------------------------

    def _mark_range(self, first: int, last: int, mark: int) -> None:
        """Mark indices first..last (inclusive) at once."""
        n = last - first + 1
        if n <= 0:
            return
        cap = self._capacity
        if n > cap:
            first, n = last - cap + 1, cap
        start = (first - 1) % cap
        end = start + n
        fill = bytes((mark,))
        if end <= cap:
            self._marks[start:end] = fill * n
        else:
            self._marks[start:] = fill * (cap - start)
            self._marks[: end - cap] = fill * (end - cap)

    def _count_marks(self, first: int, last: int) -> tuple[int, int, int]:
        """How many of indices first..last are marked shown, filtered, skipped."""
        n = last - first + 1
        if n <= 0:
            return 0, 0, 0
        cap = self._capacity
        start = (first - 1) % cap
        end = start + n
        marks = self._marks
        part = marks[start:end] if end <= cap else marks[start:] + marks[: end - cap]
        return part.count(SHOWN), part.count(FILTERED), part.count(SKIPPED)

    # -- accounting -------------------------------------------------------------------------------

    def take(
        self, buffer: Sequence[FeedMessage], count: int, limit: int, flt: FeedFilter = NO_FILTER
    ) -> list[FeedMessage]:
        """Account for messages cursor+1..count; return the newest `limit` that pass `flt`,
        oldest first."""
        new = count - self.cursor
        if new <= 0:
            return []
        self.cursor = count
        in_buffer = min(new, len(buffer))
        self.overwritten += new - in_buffer
        self._mark_range(count - in_buffer + 1, count, SKIPPED)
        marks, cap = self._marks, self._capacity
        out: list[FeedMessage] = []
        examined = 0
        limit = max(0, limit)
        if flt.active:
            budget = max(limit, FILTER_SCAN_BUDGET)
            for message in itertools.islice(reversed(buffer), in_buffer):
                if len(out) >= limit or examined >= budget:
                    break
                examined += 1
                if flt.matches(message):
                    out.append(message)
                    marks[(message.index - 1) % cap] = SHOWN
                else:
                    marks[(message.index - 1) % cap] = FILTERED
            self.filtered += examined - len(out)
        else:
            examined = min(limit, in_buffer)
            out = list(itertools.islice(reversed(buffer), examined))
            for message in out:
                marks[(message.index - 1) % cap] = SHOWN
        self.skipped += in_buffer - examined
        self.shown += len(out)
        out.reverse()
        return out

    def skip_pending(self, buffer: Sequence[FeedMessage], count: int) -> None:
        """Account for everything not taken yet as skipped (or overwritten, if already gone)."""
        self.take(buffer, count, 0)

    def skip_through(self, buffer: Sequence[FeedMessage], last: int) -> None:
        """Account for messages cursor+1..last as skipped (overwritten, if already gone) without
        looking at them; the newer ones stay pending. One slice assignment, whatever the count."""
        new = last - self.cursor
        if new <= 0:
            return
        oldest = buffer[0].index if buffer else last + 1
        in_buffer = max(0, min(new, last - oldest + 1))
        self.cursor = last
        self.overwritten += new - in_buffer
        self.skipped += in_buffer
        self._mark_range(last - in_buffer + 1, last, SKIPPED)

    def refilter(
        self, buffer: Sequence[FeedMessage], flt: FeedFilter, limit: int
    ) -> list[FeedMessage]:
        """Account again, under `flt`, for the accounted messages still in the buffer; return the
        newest `limit` of them that pass, oldest first (what a redrawn view shows).

        Messages that already left the buffer keep what they were counted as: they cannot be
        looked at again. Of those still there, the newest `limit` matches are shown, older
        matches skipped (reachable by paging back), the rest filtered.
        """
        if not buffer or self.cursor < buffer[0].index:
            return []
        first = buffer[0].index
        last = self.cursor
        shown, filtered, skipped = self._count_marks(first, last)
        self.shown -= shown
        self.filtered -= filtered
        self.skipped -= skipped
        self._mark_range(first, last, SKIPPED)
        marks, cap = self._marks, self._capacity
        out: list[FeedMessage] = []
        no_match = 0
        not_taken = buffer[-1].index - last  # the newest ones are still pending
        accounted = itertools.islice(reversed(buffer), not_taken, None)
        for message in itertools.islice(accounted, REFILTER_SCAN_BUDGET):
            if not flt.active or flt.matches(message):
                if len(out) < limit:
                    out.append(message)
                    marks[(message.index - 1) % cap] = SHOWN
            else:
                no_match += 1
                marks[(message.index - 1) % cap] = FILTERED
        self.shown += len(out)
        self.filtered += no_match
        self.skipped += (last - first + 1) - len(out) - no_match
        out.reverse()
        return out

    @staticmethod
    def older(
        buffer: Sequence[FeedMessage], before: int, flt: FeedFilter, limit: int, drawn: int
    ) -> list[FeedMessage]:
        """Up to `limit` buffered messages older than index `before` (and at most `drawn`, the
        last accounted index) that pass `flt`, oldest first: paging back past the first line."""
        if not buffer or limit <= 0:
            return []
        newer = buffer[-1].index - min(before - 1, drawn)  # newest messages not to look at
        if newer >= len(buffer):
            return []
        out: list[FeedMessage] = []
        for message in itertools.islice(reversed(buffer), newer, newer + REFILTER_SCAN_BUDGET):
            if not flt.active or flt.matches(message):
                out.append(message)
                if len(out) >= limit:
                    break
        out.reverse()
        return out
