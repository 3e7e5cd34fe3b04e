"""The exactly-once check of a JetStream worker pool: which task was delivered, acked, published.

Members call `TaskLedger.delivered` / `acked` / `naked` from their message paths and the load
generator calls `published` for every task the stream stored; each is one byte update in a
bytearray indexed by stream sequence. The pane asks for a `LedgerReport` a few times a second;
the counts come from C-level bytes operations (``translate`` deletes the bytes a query rejects,
a compiled byte class finds the sequences), never a Python loop over the tasks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LedgerReport", "TaskLedger"]

_DELIVERIES = 0b0000_0111
_ACKS = 0b0001_1000
_PUBLISHED = 0b0010_0000
_NAKED = 0b0100_0000


_Query = tuple[bytes, re.Pattern[bytes] | None]


def _byte_class(predicate: Callable[[int], bool]) -> _Query:
    """The byte values failing `predicate` (to delete) and a regex matching those passing."""
    passing = bytes(v for v in range(256) if predicate(v))
    failing = bytes(v for v in range(256) if not predicate(v))
    pattern = (
        re.compile(b"[" + b"".join(re.escape(bytes([v])) for v in passing) + b"]")
        if passing
        else None
    )
    return failing, pattern


def _deliveries(v: int) -> int:
    return v & _DELIVERIES


def _acks(v: int) -> int:
    return (v & _ACKS) >> 3


_Q_SEEN = _byte_class(lambda v: _deliveries(v) > 0)
_Q_ACKED_ONCE = _byte_class(lambda v: _acks(v) == 1)
_Q_ACKED_TWICE = _byte_class(lambda v: _acks(v) >= 2)
_Q_REDELIVERED = _byte_class(lambda v: _deliveries(v) >= 2)
_Q_NEVER = _byte_class(lambda v: bool(v & _PUBLISHED) and _deliveries(v) == 0)
_Q_UNACKED = _byte_class(lambda v: _deliveries(v) > 0 and _acks(v) == 0)
_Q_PUBLISHED_UNACKED = _byte_class(lambda v: bool(v & _PUBLISHED) and _acks(v) == 0)


@dataclass(frozen=True)
class LedgerReport:
    """The exactly-once check at one moment. Sequences are stream sequences."""

    seen: int
    """Tasks delivered at least once."""
    acked_once: int
    acked_twice: int
    """Tasks acked by two deliveries: processed twice (e.g. a slow member past the ack wait)."""
    redelivered: int
    """Tasks delivered more than once (expected after a kill, a nak or an ack-wait timeout)."""
    never_delivered: int
    """Tasks the load generator published that no member has received yet."""
    unacked: int
    """Tasks delivered but not acknowledged yet."""
    published: int
    """Tasks the load generator published (and the server stored)."""
    published_unacked: int
    twice_seqs: tuple[int, ...]
    redelivered_seqs: tuple[int, ...]
    never_seqs: tuple[int, ...]
    forgotten: int
    """Oldest tasks dropped from the ledger to bound its memory."""

    @property
    def exactly_once(self) -> bool:
        """Every task seen was acknowledged once and only once, and none published is missing."""
        return (
            self.seen > 0
            and self.acked_twice == 0
            and self.unacked == 0
            and self.published_unacked == 0
            and self.acked_once == self.seen
        )


class TaskLedger:
    """Per stream sequence: deliveries (0-7), acks (0-3), published by the generator, nak'd.

    One byte per task in a sliding window of `capacity` sequences (2 MiB by default), so the check
    runs for hours at full rate with bounded memory; counting uses C-level bytes operations.
    Deduplicated by stream sequence, as redeliveries after a reconnect may carry num_delivered == 1.
    """

    def __init__(self, capacity: int = 2 * 1024 * 1024) -> None:
        self.capacity = capacity
        self._base = 0
        self._marks = bytearray()
        self.forgotten = 0
        self.deliveries = 0
        self.acks = 0

    def reset(self) -> None:
        self._base = 0
        self._marks = bytearray()
        self.forgotten = 0
        self.deliveries = 0
        self.acks = 0

    def _slot(self, seq: int) -> int:
        marks = self._marks
        if not marks:
            self._base = seq
            marks.append(0)
            return 0
        index = seq - self._base
        if 0 <= index < len(marks):
            return index
        if index >= len(marks):
            marks.extend(bytes(index + 1 - len(marks)))
            if len(marks) > self.capacity:
                cut = len(marks) - self.capacity
                del marks[:cut]
                self._base += cut
                self.forgotten += cut
                index -= cut
            return index
        # an older sequence than any seen (a redelivery, or a task published before the pool)
        grow = -index
        if len(marks) + grow > self.capacity:
            return -1  # too old to track: ignore it
        marks[:0] = bytes(grow)
        self._base = seq
        return 0

    def delivered(self, seq: int, num_delivered: int = 1) -> None:
        """One delivery of `seq`. The server's count is trusted when higher: a member killed with
        messages still queued in the client never saw them, yet the server counts them."""
        self.deliveries += 1
        i = self._slot(seq)
        if i < 0:
            return
        v = self._marks[i]
        count = min(_DELIVERIES, max((v & _DELIVERIES) + 1, num_delivered))
        self._marks[i] = (v & ~_DELIVERIES) | count

    def acked(self, seq: int) -> None:
        self.acks += 1
        i = self._slot(seq)
        if i < 0:
            return
        v = self._marks[i]
        if v & _ACKS != _ACKS:
            v += 0b1000
        self._marks[i] = v

    def naked(self, seq: int) -> None:
        i = self._slot(seq)
        if i >= 0:
            self._marks[i] |= _NAKED

    def published(self, seq: int) -> None:
        i = self._slot(seq)
        if i >= 0:
            self._marks[i] |= _PUBLISHED

    def count_for(self, query: _Query) -> int:
        # deleting every byte that fails the query leaves those that pass: C speed, no loop
        return len(self._marks.translate(None, query[0]))

    def seqs_for(self, query: _Query, limit: int) -> tuple[int, ...]:
        pattern = query[1]
        if pattern is None or limit <= 0:
            return ()
        out: list[int] = []
        for match in pattern.finditer(self._marks):
            out.append(self._base + match.start())
            if len(out) >= limit:
                break
        return tuple(out)

    def deliveries_of(self, seq: int) -> int:
        index = seq - self._base
        if not self._marks or not 0 <= index < len(self._marks):
            return 0
        return self._marks[index] & _DELIVERIES

    def acks_of(self, seq: int) -> int:
        index = seq - self._base
        if not self._marks or not 0 <= index < len(self._marks):
            return 0
        return (self._marks[index] & _ACKS) >> 3

    def report(self, limit: int = 8) -> LedgerReport:
        return LedgerReport(
            seen=self.count_for(_Q_SEEN),
            acked_once=self.count_for(_Q_ACKED_ONCE),
            acked_twice=self.count_for(_Q_ACKED_TWICE),
            redelivered=self.count_for(_Q_REDELIVERED),
            never_delivered=self.count_for(_Q_NEVER),
            unacked=self.count_for(_Q_UNACKED),
            published=len(self._marks.translate(None, _PUBLISHED_OFF)),
            published_unacked=self.count_for(_Q_PUBLISHED_UNACKED),
            twice_seqs=self.seqs_for(_Q_ACKED_TWICE, limit),
            redelivered_seqs=self.seqs_for(_Q_REDELIVERED, limit),
            never_seqs=self.seqs_for(_Q_NEVER, limit),
            forgotten=self.forgotten,
        )


_PUBLISHED_OFF = bytes(v for v in range(256) if not v & _PUBLISHED)
