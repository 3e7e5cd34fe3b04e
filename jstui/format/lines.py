"""One feed message as one safe line of fixed columns, and the header that names those columns.

``time subject [stream/consumer seq] size headers payload``, the time being when the message
arrived, or on a JetStream feed when it was stored (with its date when that was another day). The
Feeds pane calls `format_line` for each message it draws (at most a screenful plus a margin per
tick), then colours the columns by their widths: time is `TIME_WIDTH`, the subject the width it
asked for, and the returned payload start ends the metadata. Every network value goes through
`jstui.format` (no control characters, no markup, one line).

Pure: no Textual, no NATS. A message is anything with the attributes of `LineMessage`
(`jstui.nats.feeds.FeedMessage` in the app), so this layer needs nothing from the service layer.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol

from jstui.format.payload import payload_preview
from jstui.format.text import sanitize
from jstui.format.units import compact_size

__all__ = [
    "HDR_WIDTH",
    "SEQ_WIDTH",
    "SIZE_WIDTH",
    "TIME_WIDTH",
    "LineMessage",
    "LineMeta",
    "clock_text",
    "format_line",
    "head_width",
    "header_line",
    "seq_text",
    "time_of_day",
]

TIME_WIDTH = 12
"""``HH:MM:SS.mmm``"""
SEQ_WIDTH = 9
"""Stream sequence, or stream/consumer sequence, right-aligned (JetStream feeds only)."""
SIZE_WIDTH = 5
"""`compact_size` is never longer."""
HDR_WIDTH = 3
"""``h`` and the header count, blank without headers."""


class LineMeta(Protocol):
    """The JetStream delivery metadata a line shows (`jstui.nats.feeds.JsMeta`)."""

    @property
    def consumer(self) -> str: ...
    @property
    def delivered(self) -> int: ...
    @property
    def stream_seq(self) -> int: ...
    @property
    def consumer_seq(self) -> int: ...
    @property
    def timestamp(self) -> datetime | None: ...


class LineMessage(Protocol):
    """What a line shows of a message (`jstui.nats.feeds.FeedMessage`)."""

    @property
    def time(self) -> float: ...
    @property
    def subject(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def header_count(self) -> int: ...
    @property
    def meta(self) -> LineMeta | None: ...


def time_of_day(moment: float) -> str:
    """Local wall-clock time to the second: ``14:03:59``."""
    return time.strftime("%H:%M:%S", time.localtime(moment))


def clock_text(moment: float) -> str:
    """Local wall-clock time to the millisecond: ``14:03:59.250``."""
    return _clock_of(time.localtime(moment), moment)


def _clock_of(local: time.struct_time, moment: float) -> str:
    return f"{time.strftime('%H:%M:%S', local)}.{int(moment * 1000) % 1000:03d}"


def stored_clock_text(moment: float, arrived: float) -> str:
    """When a message was stored: `clock_text` on the day it arrived, else its date and minute
    (``05-17 14:03``), so that a replay of older days never reads as today's traffic."""
    local = time.localtime(moment)
    if local[:3] == time.localtime(arrived)[:3]:
        return _clock_of(local, moment)
    return time.strftime("%m-%d %H:%M", local).ljust(TIME_WIDTH)


def seq_text(meta: LineMeta | None) -> str:
    """``7`` (stream sequence), ``7/3`` (with the consumer's), ``7/3*2`` (delivered twice), or
    ``-`` for a message without JetStream metadata."""
    if meta is None:
        return "-"
    text = f"{meta.stream_seq}/{meta.consumer_seq}" if meta.consumer else str(meta.stream_seq)
    if meta.delivered > 1:
        text += f"*{meta.delivered}"  # redelivered: how many times so far
    return text


def head_width(subject_width: int, jetstream: bool) -> int:
    """Cells before the payload column: every fixed column and the space after each."""
    width = TIME_WIDTH + 1 + subject_width + 1 + SIZE_WIDTH + 1 + HDR_WIDTH + 1
    return width + SEQ_WIDTH + 1 if jetstream else width


def header_line(subject_width: int, jetstream: bool) -> str:
    """The column names, aligned with the lines `format_line` builds for the same widths."""
    # A JetStream feed shows when each message was stored: a replay of a stream's history
    # would otherwise show the moment it was read, the same for every line.
    time_name = "stored" if jetstream else "time"
    parts = [time_name.ljust(TIME_WIDTH), "subject".ljust(subject_width)]
    if jetstream:
        parts.append("seq".rjust(SEQ_WIDTH))
    parts.append("size".rjust(SIZE_WIDTH))
    parts.append("hdr".ljust(HDR_WIDTH))
    parts.append("payload")
    return " ".join(parts)


def format_line(
    message: LineMessage, subject_width: int, preview: int, jetstream: bool
) -> tuple[str, int]:
    """One safe line for a message, and the column where its payload starts.

    A subject longer than `subject_width` is cut with an ellipsis; the payload preview is at most
    `preview` characters; `jetstream` adds the sequence column and shows the time the message
    was stored (its arrival when it has no JetStream metadata).
    """
    subject = sanitize(message.subject, max_len=256)
    if len(subject) > subject_width:
        subject = subject[: subject_width - 1] + "\u2026"
    meta = message.meta if jetstream else None
    stored = meta.timestamp if meta is not None else None
    if stored is None:
        when = clock_text(message.time)
    else:
        when = stored_clock_text(stored.timestamp(), message.time)
    parts = [when, subject.ljust(subject_width)]
    if jetstream:
        parts.append(seq_text(meta).rjust(SEQ_WIDTH))
    count = message.header_count
    parts.append(compact_size(len(message.data)).rjust(SIZE_WIDTH))
    parts.append((f"h{count}" if count else "").ljust(HDR_WIDTH))
    head = " ".join(parts) + " "
    return head + payload_preview(message.data, preview), len(head)
