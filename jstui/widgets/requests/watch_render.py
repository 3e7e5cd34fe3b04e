"""Pure builders of what the Watch tab draws: a watched request's row, its detail, the counts line.

Data flow: `WatchedRequest` records and the `RequestWatch` counts (jstui.nats.requests) go in;
Rich `Text` comes out, every network value (subjects, inboxes, headers, payloads) through
`jstui.format` (`sanitize`, `payload_preview`, `render_payload`). Colours come in as the app's
theme variables, so nothing here needs a widget or the app.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group
from rich.text import Text

from jstui.format.lines import clock_text, time_of_day
from jstui.format.payload import payload_preview, render_payload
from jstui.format.text import ELLIPSIS, headers_lines, sanitize
from jstui.format.units import counted
from jstui.nats.requests.record import format_latency, reply_identity
from jstui.nats.requests.watch import RequestWatch
from jstui.nats.requests.watched import KEPT_BYTES, WatchedRequest, WatchOutcome
from jstui.widgets.requests.render import cell

WATCH_COLUMNS: tuple[tuple[str, int], ...] = (
    ("time", 8),
    ("subject", 18),
    ("outcome", 14),
    ("latency", 8),
    ("request", 16),
    ("reply", 20),
    ("reply to", 24),
)
"""What a half-width pane shows first comes first; the rest scrolls into view (or the detail)."""
WATCH_CHANGING = ("outcome", "latency", "reply")
"""The columns a record's later versions change (the others never do)."""
PREVIEW_WIDTH = 60


def outcome_style(record: WatchedRequest, colours: Mapping[str, str]) -> str:
    if record.outcome is WatchOutcome.REPLIED:
        return colours.get("success", "green")
    if record.outcome is WatchOutcome.WAITING:
        return "dim"
    if record.outcome is WatchOutcome.NO_REPLY:
        return colours.get("warning", "yellow")
    return f"bold {colours.get('error', 'red')}"


def watch_cells(record: WatchedRequest, colours: Mapping[str, str]) -> dict[str, Text]:
    """A row by column: time, subject, outcome, first-reply latency, request, reply, reply to."""
    reply_to = sanitize(record.reply_to, max_len=200)
    replied = record.outcome is WatchOutcome.REPLIED
    return {
        "time": cell(time_of_day(record.seen), "dim"),
        "subject": cell(sanitize(record.subject, max_len=200)),
        "outcome": cell(record.outcome_text, outcome_style(record, colours)),
        "latency": cell(format_latency(record.first_latency) if replied else ""),
        "request": cell(payload_preview(record.data, PREVIEW_WIDTH)),
        "reply": cell(payload_preview(record.reply_data, PREVIEW_WIDTH) if replied else ""),
        "reply to": cell(f"hdr {reply_to}" if record.stored else reply_to, "dim"),
    }


def counts_line(watch: RequestWatch | None) -> Text:
    """The counters (they add up), what jstui listens on, and anything that went wrong."""
    if watch is None:
        return Text("Not watching: press w to watch other programs' requests on a subject.")
    counts = watch.counts
    state = "watching" if watch.running else "stopped watching"
    text = Text(f"{state} ", style="bold" if watch.running else "dim")
    text.append(sanitize(watch.subject, max_len=120), style="bold")
    text.append(f" · reply within {watch.window:g}s · ", style="dim")
    text.append(counts.describe())
    latency = watch.latency
    if latency.count:
        text.append(
            f" · first reply p50 {format_latency(latency.p50)} p99 {format_latency(latency.p99)}"
            f" max {format_latency(latency.max)}",
            style="dim",
        )
    if watch.running:
        text.append(f" · {counted(watch.listening, 'subscription')}", style="dim")
    for note in (watch.catch_all_note, watch.error):
        if note:
            text.append(f"\n{sanitize(note, max_len=300)}", style="italic")
    return text


def watch_detail(record: WatchedRequest) -> Group:
    """A watched request in full: where it came from and went, its headers and payload, and the
    first reply with its latency (payloads as text, JSON or hex, the first 4 KiB)."""
    text = Text()
    kind = "stored request (reply-to header)" if record.stored else "request"
    text.append(f"#{record.id} {kind}", style="bold")
    text.append(f"  {clock_text(record.seen)}  window {record.window:g}s\n", style="dim")
    text.append("subject   ", style="bold")
    text.append(sanitize(record.subject) + "\n")
    text.append("reply to  ", style="bold")
    text.append(sanitize(record.reply_to) + "\n")
    if record.stored and record.stream is not None:
        text.append("stored    ", style="bold")
        text.append(f"stream {sanitize(record.stream)} seq {record.seq}\n")
    text.append("outcome   ", style="bold")
    text.append(record.outcome_text)
    if record.first_latency is not None:
        text.append(f"  first {format_latency(record.first_latency)}")
        if record.replies > 1:
            text.append(f"  last {format_latency(record.last_latency)}")
    text.append("\n")
    if record.unheard:
        text.append(sanitize(record.unheard) + "\n", style="italic")
    elif record.late and record.outcome is not WatchOutcome.REPLIED:
        text.append(
            "jstui began listening on this reply subject only when it saw the request: a reply "
            "faster than that was not seen.\n",
            style="italic",
        )
    parts: list[Text] = []
    _message(text, parts, record.headers, record.data, record.size)
    if record.outcome is WatchOutcome.REPLIED:
        text = Text()
        text.append(f"\n── first reply · {format_latency(record.first_latency)}", style="bold")
        who = reply_identity(record.reply_headers, record.reply_data)
        if who:
            text.append(f" · from {sanitize(who, max_len=64)}", style="bold")
        text.append(" ──\n", style="bold")
        _message(text, parts, record.reply_headers, record.reply_data, record.reply_size)
    return Group(*parts)


def _message(
    text: Text, parts: list[Text], headers: dict[str, str] | None, data: bytes, size: int
) -> None:
    for line in headers_lines(headers):
        text.append(f"  {line}\n", style="dim")
    used, body = render_payload(data)
    text.append(f"  payload ({used.value}, {size:,} B)\n", style="dim")
    parts.append(text)
    parts.append(Text("  " + body.replace("\n", "\n  ")))
    if size > len(data):
        parts.append(Text(f"  {ELLIPSIS} first {KEPT_BYTES:,} of {size:,} bytes kept", style="dim"))
