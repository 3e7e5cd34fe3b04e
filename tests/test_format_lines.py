"""jstui.format.lines: one feed message as one safe line of fixed columns, no app needed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from jstui.format.lines import (
    HDR_WIDTH,
    SEQ_WIDTH,
    SIZE_WIDTH,
    TIME_WIDTH,
    clock_text,
    format_line,
    head_width,
    header_line,
    seq_text,
    stored_clock_text,
)
from jstui.format.units import compact_size
from jstui.nats.feeds.message import FeedMessage, JsMeta

MOMENT = time.mktime((2024, 5, 17, 14, 3, 59, 0, 0, -1)) + 0.25
"""14:03:59.250 local time."""


def message(
    subject: str = "orders.eu",
    data: bytes = b"hello",
    headers: dict[str, str] | None = None,
    js: JsMeta | None = None,
) -> FeedMessage:
    return FeedMessage(1, MOMENT, subject, "", data, headers, js)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (16, "16B"),
        (999, "999B"),
        (1000, "1.0K"),
        (1024, "1.0K"),
        (12 * 1024, "12K"),
        (1024**2 - 1, "1.0M"),
        (1024**2, "1.0M"),
        (5 * 1024**3, "5.0G"),
        (2000 * 1024**3, "2T"),
    ],
)
def test_compact_size_fits_the_size_column(size: int, text: str) -> None:
    assert compact_size(size) == text
    assert len(text) <= SIZE_WIDTH


def test_clock_text_is_local_time_to_the_millisecond() -> None:
    assert clock_text(MOMENT) == "14:03:59.250"
    assert len(clock_text(MOMENT)) == TIME_WIDTH


def test_seq_text_shows_stream_consumer_and_redeliveries() -> None:
    assert seq_text(None) == "-"
    assert seq_text(JsMeta(stream="S", stream_seq=7)) == "7"
    consumer = JsMeta(stream="S", consumer="c", stream_seq=7, consumer_seq=3)
    assert seq_text(consumer) == "7/3"
    again = JsMeta(stream="S", consumer="c", stream_seq=7, consumer_seq=3, delivered=2)
    assert seq_text(again) == "7/3*2"


def test_format_line_columns_line_up_with_the_header() -> None:
    line, payload_start = format_line(message(headers={"K": "v"}), 12, 40, jetstream=False)
    assert line == "14:03:59.250 orders.eu       5B h1  hello"
    assert payload_start == head_width(12, jetstream=False) == line.index("hello")
    header = header_line(12, jetstream=False)
    assert header.index("payload") == payload_start
    assert header.index("size") + len("size") == line.index("5B") + len("5B")


def test_format_line_jetstream_adds_the_sequence_column() -> None:
    meta = JsMeta(stream="S", consumer="c", stream_seq=12, consumer_seq=4)
    line, payload_start = format_line(message(js=meta), 10, 40, jetstream=True)
    assert line[payload_start:] == "hello"
    assert payload_start == head_width(10, jetstream=True)
    assert payload_start == head_width(10, jetstream=False) + SEQ_WIDTH + 1
    seq_end = TIME_WIDTH + 1 + 10 + 1 + SEQ_WIDTH
    assert line[:seq_end].endswith("12/4")
    assert header_line(10, jetstream=True)[:seq_end].endswith("seq")
    assert line[payload_start - HDR_WIDTH - 1 : payload_start] == " " * (HDR_WIDTH + 1)


def test_a_jetstream_line_shows_when_the_message_was_stored() -> None:
    stored = datetime.fromtimestamp(MOMENT - 3600, UTC)  # stored an hour before it was read
    meta = JsMeta(stream="S", stream_seq=12, timestamp=stored)
    line, _ = format_line(message(js=meta), 10, 40, jetstream=True)
    assert line.startswith(clock_text(MOMENT - 3600))
    assert header_line(10, jetstream=True).startswith("stored ")
    # without a stored time (metadata lost), and on a core feed: when it arrived
    no_time, _ = format_line(message(js=JsMeta(stream="S", stream_seq=12)), 10, 40, True)
    assert no_time.startswith("14:03:59.250")
    core, _ = format_line(message(js=meta), 10, 40, jetstream=False)
    assert core.startswith("14:03:59.250")
    assert header_line(10, jetstream=False).startswith("time ")


def test_a_message_stored_on_another_day_shows_its_date() -> None:
    stored = datetime.fromtimestamp(MOMENT - 2 * 86400, UTC)  # two days before it was read
    line, _ = format_line(
        message(js=JsMeta(stream="S", stream_seq=1, timestamp=stored)), 10, 40, True
    )
    assert line.startswith("05-15 14:03  ")
    assert len(stored_clock_text(MOMENT - 2 * 86400, MOMENT)) == TIME_WIDTH


def test_format_line_cuts_long_subjects_and_payloads() -> None:
    line, payload_start = format_line(
        message("a.very.long.subject.name", b"x" * 100), 10, 20, jetstream=False
    )
    assert line[TIME_WIDTH + 1 : TIME_WIDTH + 11] == "a.very.lo\u2026"
    assert len(line) - payload_start == 20 and line.endswith("\u2026")


def test_format_line_makes_hostile_text_inert() -> None:
    line, _ = format_line(
        message("x.\x1b[31m", b"\x1b]0;pwned\x07 [bold]markup[/]"), 12, 60, jetstream=False
    )
    assert "\x1b" not in line and "\x07" not in line
    assert "\u241b" in line and "[bold]markup[/]" in line
    assert "<empty>" in format_line(message(data=b""), 12, 60, jetstream=False)[0]
