"""`MessageRing`: a feed's ring buffer keeps plain tuples and gives `FeedMessage`s back."""

from __future__ import annotations

import gc

from jstui.nats.feeds.message import FeedMessage, JsMeta, MessageRing


def _fields(index: int) -> tuple[object, ...]:
    return (index, 1_700_000_000.0 + index, "orders.new", "", f"m{index}".encode(), None, None)


def test_the_ring_reads_back_the_newest_messages_as_feed_messages() -> None:
    ring = MessageRing(3)
    assert not ring and len(ring) == 0 and ring.capacity == 3
    for index in range(1, 6):
        ring.append_fields(_fields(index))
    assert len(ring) == 3 and ring
    assert [m.index for m in ring] == [3, 4, 5]  # the oldest two were pushed out
    assert [m.index for m in reversed(ring)] == [5, 4, 3]
    first, last = ring[0], ring[-1]
    assert isinstance(first, FeedMessage) and isinstance(last, FeedMessage)
    assert (first.data, last.data, last.subject, last.meta) == (b"m3", b"m5", "orders.new", None)
    assert [m.index for m in ring[1:]] == [4, 5]
    assert ring[-1] == FeedMessage(*_fields(5))  # equal on every read, though built each time


def test_a_message_appended_whole_reads_back_the_same() -> None:
    ring = MessageRing(10)
    meta = JsMeta(stream="ORDERS", stream_seq=7)
    message = FeedMessage(1, 2.0, "orders.new", "", b"x", {"k": "v"}, meta)
    ring.append(message)
    assert ring[0] == message and ring[0].js is meta and ring[0].headers == {"k": "v"}
    ring.clear()
    assert not ring and list(ring) == []


def test_what_the_ring_keeps_the_garbage_collector_lets_go_of() -> None:
    # A named tuple stays tracked by the collector for good (CPython untracks only exact
    # tuples); 10,000 of them in every feed's buffer were walked by every collection.
    ring = MessageRing(2_000)
    gc.collect()
    before = len(gc.get_objects())
    for index in range(1, 2_001):
        ring.append_fields(_fields(index))
    gc.collect()
    assert len(gc.get_objects()) - before < 200
    assert len(ring) == 2_000
