"""Pure builders of what the Request/Reply pane draws: the detail of one request with its replies,
a history row, and the values of a responder row.

Data flow: `RequestRecord` and `Responder` objects owned by the service go in, Rich `Text` (or
plain strings) come out, every network value through `jstui.format.sanitize`. Colours come in as
the app's theme variables, so nothing here needs a widget or the app.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.console import Group
from rich.text import Text

from jstui.format.lines import time_of_day
from jstui.format.payload import PayloadView, render_payload
from jstui.format.text import ELLIPSIS, headers_lines, sanitize
from jstui.nats.requests.record import RequestRecord, RequestStatus, format_latency
from jstui.nats.responders.running import Responder, ResponderState
from jstui.nats.responders.spec import ResponderMode
from jstui.nats.session import ConnectionState

DETAIL_REPLIES = 50
"""Replies shown in full in the detail; the rest are counted."""
DETAIL_PAYLOAD_BYTES = 16 * 1024


def _payload_block(data: bytes, view: PayloadView | None) -> tuple[PayloadView, str]:
    if len(data) <= DETAIL_PAYLOAD_BYTES:
        return render_payload(data, view)
    used, text = render_payload(data[:DETAIL_PAYLOAD_BYTES], view)
    return used, f"{text}\n{ELLIPSIS} first {DETAIL_PAYLOAD_BYTES:,} of {len(data):,} bytes shown"


class _Detail:
    """Builds the detail as Rich parts: prose wraps, hex dumps are cropped rather than wrapped
    (a wrapped dump is unreadable; the pane maximized with z shows it whole)."""

    def __init__(self) -> None:
        self.parts: list[Text] = []
        self.text = Text()

    def block(self, body: str, *, wrap: bool) -> None:
        if wrap:
            self.text.append("  " + body.replace("\n", "\n  ") + "\n")
            return
        self.parts.append(self.text)
        self.parts.append(Text(body, no_wrap=True, overflow="crop"))
        self.text = Text()

    def group(self) -> Group:
        return Group(*self.parts, self.text)


def render_record(record: RequestRecord, view: PayloadView | None = None) -> Group:
    """The detail of one request and its replies, every network value sanitized."""
    spec = record.spec
    detail = _Detail()
    text = detail.text
    started = time.strftime("%H:%M:%S", time.localtime(record.started))
    text.append(f"#{record.id} {spec.mode.value}", style="bold")
    limit = ""
    if spec.max_replies:
        limit = f", until {spec.max_replies} repl{'y' if spec.max_replies == 1 else 'ies'}"
    text.append(f"  {started}  timeout {spec.timeout_text}{limit}\n", style="dim")
    text.append("subject  ", style="bold")
    text.append(sanitize(spec.subject) + "\n")
    if record.stream is not None:
        text.append("stored   ", style="bold")
        text.append(f"stream {sanitize(record.stream)} seq {record.seq}")
        text.append(" (duplicate)\n" if record.duplicate else "\n")
    text.append("status   ", style="bold")
    text.append(record.status_text)
    if record.first_latency is not None:
        text.append(f"  first {format_latency(record.first_latency)}")
        if record.reply_count > 1:
            text.append(f"  last {format_latency(record.last_latency)}")
    text.append("\n")
    if record.error:
        text.append(sanitize(record.error) + "\n", style="bold")
    sent = record.sent_headers if record.sent_headers is not None else dict(spec.headers)
    _headers_and_payload(detail, sent, spec.payload, view)
    for number, reply in enumerate(record.replies[:DETAIL_REPLIES], start=1):
        text = detail.text
        text.append(f"\n── reply {number} · {format_latency(reply.latency)}", style="bold")
        who = reply.responder
        if who:
            text.append(f" · from {sanitize(who, max_len=64)}", style="bold")
        text.append(" ──\n", style="bold")
        if reply.error:
            text.append(f"service error {sanitize(reply.error)}\n", style="bold")
        _headers_and_payload(detail, reply.headers or {}, reply.data, view)
    more = record.reply_count - min(len(record.replies), DETAIL_REPLIES)
    if more > 0:
        detail.text.append(f"\n{ELLIPSIS} {more:,} more replies not shown\n", style="dim")
    return detail.group()


def _headers_and_payload(
    detail: _Detail,
    headers: dict[str, str],
    data: bytes,
    view: PayloadView | None,
) -> None:
    for line in headers_lines(headers):
        detail.text.append(f"  {line}\n", style="dim")
    used, body = _payload_block(data, view)
    detail.text.append(f"  payload ({used.value}, {len(data):,} B)\n", style="dim")
    detail.block(body, wrap=used is not PayloadView.HEX or not data)


def cell(value: str, style: str = "") -> Text:
    """A table cell of one line, cut with an ellipsis."""
    return Text(value, style=style, no_wrap=True, overflow="ellipsis")


def status_style(record: RequestRecord, colours: Mapping[str, str]) -> str:
    """The style of a request's status: success, warning (timed out, a service error) or error."""
    if record.status is RequestStatus.REPLIED:
        if record.replies and record.replies[0].error:
            return colours.get("warning", "yellow")
        return colours.get("success", "green")
    if record.status is RequestStatus.WAITING:
        return "dim"
    if record.status is RequestStatus.TIMED_OUT:
        return colours.get("warning", "yellow")
    return f"bold {colours.get('error', 'red')}"


def history_cells(record: RequestRecord, colours: Mapping[str, str]) -> list[Text]:
    """A history row: time, mode, subject, status, first and last reply latency."""
    started = time.strftime("%H:%M:%S", time.localtime(record.started))
    return [
        cell(started, "dim"),
        cell(record.spec.mode.value),
        cell(sanitize(record.spec.subject, max_len=200)),
        cell(record.status_text, status_style(record, colours)),
        cell(format_latency(record.first_latency)),
        cell(format_latency(record.last_latency) if record.reply_count > 1 else ""),
    ]


def responder_values(responder: Responder) -> tuple[str, ...]:
    """A responder row as plain (sanitized) strings, in the responders table's column order."""
    spec = responder.spec
    state = responder.state.value
    status = responder.session.status
    if responder.state is ResponderState.RUNNING and status.state is not ConnectionState.CONNECTED:
        # it runs, but no request can reach it until the connection is back
        state = f"waiting: connection lost since {time_of_day(status.since)}"
    elif (leaderless := responder.leaderless_since) is not None:
        state = f"waiting: stream leader unavailable since {time_of_day(leaderless)}"
    elif responder.state is ResponderState.FAILED:
        state = f"failed: {responder.error}"
    elif responder.skipped:
        state = f"{state}, {responder.skipped} skipped"
    if responder.failed:
        state = f"{state}, {responder.failed} unanswered"
    stored = spec.mode is ResponderMode.STORED
    return (
        sanitize(responder.name, max_len=64),
        sanitize(spec.subject, max_len=200),
        f"{responder.answered:,}",
        format_latency(responder.mean_handling),
        sanitize(state, max_len=200),
        str(spec.behaviour),
        spec.mode.value,
        sanitize(spec.queue or "-", max_len=64),
        sanitize(f"{responder.stream}/{responder.durable}", max_len=200) if stored else "-",
    )
