"""Pure builders of what the Events pane draws: an advisory's row, a dead letter's row, the
counters line.

Data flow: `Advisory` and `DeadLetter` values (and the original, once read) go in, tuples of
plain, sanitized strings come out; the pane diffs them against what its tables show. Every
string from the server (names, reasons, subjects, payloads) goes through `jstui.format`. No
widget, no I/O: tested without the app.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from jstui.format.payload import payload_preview
from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.observe.advisories import Advisory, AdvisoryCounts
from jstui.nats.observe.deadletters import DeadLetter, Original
from jstui.widgets.streams.render import Column

__all__ = [
    "ADVISORY_COLUMNS",
    "DEAD_LETTER_COLUMNS",
    "advisory_cells",
    "counts_text",
    "dead_letter_cells",
]

NAME_WIDTH = 20
DETAIL_WIDTH = 60
SUBJECT_WIDTH = 28
PREVIEW_WIDTH = 60


ADVISORY_COLUMNS: tuple[Column, ...] = (
    Column("time", "Time"),
    Column("kind", "Kind"),
    Column("stream", "Stream"),
    Column("consumer", "Consumer"),
    Column("seq", "Seq", numeric=True),
    Column("deliveries", "Deliv", numeric=True),
    Column("detail", "Detail"),
)

DEAD_LETTER_COLUMNS: tuple[Column, ...] = (
    Column("time", "Time"),
    Column("stream", "Stream"),
    Column("consumer", "Consumer"),
    Column("seq", "Seq", numeric=True),
    Column("deliveries", "Deliv", numeric=True),
    Column("why", "Why"),
    Column("subject", "Subject"),
    Column("payload", "Payload"),
)


def clip(value: str, width: int) -> str:
    """The sanitized value, cut to `width` characters with an ellipsis."""
    text = sanitize(value, max_len=width + 16)
    return text if len(text) <= width else text[: width - 1] + "…"


def time_of_day(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%H:%M:%S")


def _number(value: int | None) -> str:
    return "-" if value is None else format_count(value)


def advisory_cells(advisory: Advisory) -> tuple[str, ...]:
    """An advisory's row, in `ADVISORY_COLUMNS` order (sanitized)."""
    return (
        time_of_day(advisory.received),
        clip(advisory.kind, 28),
        clip(advisory.stream, NAME_WIDTH),
        clip(advisory.consumer, NAME_WIDTH),
        _number(advisory.seq),
        _number(advisory.deliveries),
        clip(advisory.detail, DETAIL_WIDTH),
    )


def dead_letter_cells(letter: DeadLetter, original: Original | None) -> tuple[str, ...]:
    """A dead letter's row, in `DEAD_LETTER_COLUMNS` order (sanitized). Before the original is
    read its subject and payload say "reading…"; when it is gone, why."""
    why = letter.why if not letter.reason else f"{letter.why}: {letter.reason}"
    if original is None:
        subject, payload = "reading…", ""
    elif original.message is None:
        subject, payload = "-", f"({original.problem})"
    else:
        subject = original.message.subject
        payload = payload_preview(original.message.data, PREVIEW_WIDTH)
    return (
        time_of_day(letter.received),
        clip(letter.stream, NAME_WIDTH),
        clip(letter.consumer, NAME_WIDTH),
        _number(letter.stream_seq),
        _number(letter.deliveries),
        clip(why, 40),
        clip(subject, SUBJECT_WIDTH),
        clip(payload, PREVIEW_WIDTH),
    )


def counts_text(counts: AdvisoryCounts, shown: int, *, include_api: bool, filter_text: str) -> Text:
    """The counters line: received = kept + api skipped + undecodable + dropped, and what the
    table shows of the kept ones."""
    text = Text(no_wrap=True, overflow="ellipsis")
    parts = [
        ("received", counts.received),
        ("shown", shown),
        ("api skipped", counts.api_skipped),
        ("undecodable", counts.undecodable),
        ("dropped", counts.dropped),
    ]
    for number, (label, value) in enumerate(parts):
        if number:
            text.append(" · ", style="dim")
        text.append(f"{label} ", style="dim")
        text.append(format_count(value))
    text.append("   API audit ", style="dim")
    text.append("shown" if include_api else "hidden (a)")
    if filter_text:
        text.append("   filter ", style="dim")
        text.append(sanitize(filter_text, max_len=40))
    return text
