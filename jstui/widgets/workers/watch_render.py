"""Pure builders of the watch view's picture: a group watched from outside jstui.

Data flow: a `WatchSnapshot` (from `GroupWatch.poll`) goes in, Rich `Text` comes out: the line
above the table, the table's columns and keyed rows (one per member: label, server in a cluster,
its subscription's subject, delivered, rate, share bar, first and last seen, state), and the
lines under it (totals and fairness, the consumer's figures, member notes, the snapshot's notes,
the consumer's dead letters).
Everything in a snapshot came from the server, so every text goes through `sanitize`; colours
come from a `StyleOf` function, so this runs and is tested without the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from jstui.format.text import ELLIPSIS, sanitize
from jstui.format.units import counted, format_count, format_duration_short, format_rate
from jstui.nats.observe.groups import GroupKind, WatchedMember, WatchSnapshot, WatchState
from jstui.widgets.workers.render import StyleOf, percent_text, ratio_text, share_bar

STATE_STYLE = {
    WatchState.ACTIVE: "running",
    WatchState.IDLE: "muted",
    WatchState.LEFT: "killed",
    WatchState.ORPHAN: "bad",
    WatchState.OTHER_FILTER: "warn",
}
PCT = 5
"""Width of the percentage after a share bar."""
MIN_BAR = 6


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    right: bool = False

    def header(self) -> Text:
        label = self.label.rjust(self.width) if self.right else self.label
        return Text(label, style="bold")


def short_subject(subject: str, width: int) -> str:
    """A subject cut in the middle to `width` cells, keeping both ends: an inbox's random tail
    is what tells two inboxes apart (``_INBOX.…O9xTi``). Sanitized first."""
    text = sanitize(subject, max_len=1000)
    if len(text) <= width or width < 3:
        return text[: max(width, 0)]
    head = (width - 1) // 2
    first_token = text.find(".") + 1
    if 0 < first_token <= width - 4:
        head = first_token  # "_INBOX." whole, then as much of the tail as fits
    tail = width - 1 - head
    return f"{text[:head]}{ELLIPSIS}{text[-tail:]}"


def clustered(snapshot: WatchSnapshot) -> bool:
    """Members on more than one server: the server column is worth its room."""
    return len({m.server for m in snapshot.members}) > 1


def subjects_differ(snapshot: WatchSnapshot) -> bool:
    """Members subscribed to different subjects (an orphan, another filter): the subject column
    is worth its room; when they all share one, the title or the consumer line says it."""
    return len({m.subject for m in snapshot.members}) > 1


def watch_columns(
    kind: GroupKind, width: int, cluster: bool, subjects: bool = True
) -> list[Column]:
    """The table's columns for a group of `kind` in a table `width` cells wide (`cluster`: a
    server column; `subjects`: a subject column); the share bar takes the room left."""
    service = kind is GroupKind.SERVICE
    wide = width >= 100
    member_width = 18 if wide else 12 if subjects or cluster else 22
    columns = [Column("member", "member", member_width)]
    if cluster:
        columns.append(Column("server", "server", 10 if wide else 8))
    if service:
        columns += [
            Column("delivered", "requests", 9, True),
            Column("errors", "errors", 7 if wide else 6, True),
            Column("average", "avg", 8 if wide else 7, True),
        ]
    else:
        if subjects:
            columns.append(Column("subject", " subject", 24 if width >= 120 else 12))
        columns.append(Column("delivered", "delivered", 10, True))
    columns.append(Column("rate", "msg/s" if not service else "req/s", 8, True))
    tail = [
        Column("first", "first", 7 if wide else 6, True),
        Column("last", "last", 7 if wide else 6, True),
        Column("state", " state", 13 if wide else 9),
    ]
    if cluster and not wide:
        tail = tail[1:]  # no room for when members were first seen
    used = sum(c.width for c in columns + tail) + 1
    bar = max(MIN_BAR, width - used - PCT)
    columns.append(Column("share", " share", bar + PCT))
    return columns + tail


def _age(now: float, then: float) -> str:
    seconds = max(0.0, now - then)
    return "now" if seconds < 1 else format_duration_short(seconds)


def watch_rows(
    snapshot: WatchSnapshot, columns: list[Column], style: StyleOf
) -> dict[str, list[Text]]:
    """The table's cells by row key (the member's key), in the order of `columns`."""
    rows: dict[str, list[Text]] = {}
    for member in snapshot.members:
        cells = _cells(member, snapshot.at, columns, style)
        rows[member.key] = [cells[column.key] for column in columns]
    return rows


def _cells(
    member: WatchedMember, now: float, columns: list[Column], style: StyleOf
) -> dict[str, Text]:
    width = {column.key: column.width for column in columns}
    present = member.state is not WatchState.LEFT
    muted = style("muted")

    def right(value: str, key: str, text_style: Style | str = "") -> Text:
        return Text(value.rjust(width[key]), style=text_style, no_wrap=True)

    bar_w = width["share"] - PCT - 1
    share = Text(" " + share_bar(member.share, bar_w), style=style("bar-external"), no_wrap=True)
    share.append(f"{member.share * 100:4.0f}%".rjust(PCT), style="" if member.delivered else muted)
    cells = {
        "member": Text(
            sanitize(member.label, max_len=200),
            style="bold" if present else muted,
            no_wrap=True,
            overflow="ellipsis",
        ),
        "delivered": right(format_count(member.delivered), "delivered"),
        "rate": right(format_rate(member.rate) if present else "-", "rate"),
        "share": share,
        "last": right(_age(now, member.last_seen), "last", "" if present else muted),
        "state": Text(
            " " + member.state.value,
            style=style(STATE_STYLE.get(member.state, "muted")),
            no_wrap=True,
            overflow="ellipsis",
        ),
    }
    if "first" in width:  # left out of a cluster's narrow table (see `watch_columns`)
        cells["first"] = right(_age(now, member.first_seen), "first", muted)
    if "server" in width:
        cells["server"] = Text(
            sanitize(member.server, max_len=100), no_wrap=True, overflow="ellipsis"
        )
    if "subject" in width:
        cells["subject"] = Text(" " + short_subject(member.subject, width["subject"] - 1))
    if "errors" in width:
        cells["errors"] = right(
            format_count(member.errors), "errors", style("warn") if member.errors else ""
        )
        cells["average"] = right(_ns_text(member.average_ns), "average")
    return cells


def _ns_text(ns: int) -> str:
    if ns <= 0:
        return "-"
    if ns < 1_000_000:
        return f"{ns / 1000:.0f}\u00b5s"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.1f}ms"
    return f"{ns / 1_000_000_000:.2f}s"


def watch_summary(snapshot: WatchSnapshot, style: StyleOf) -> Text:
    """The line above the table: kind, group, members present, total, rate, source."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("watching (not joined) ", style=style("label"))
    text.append(snapshot.ref.kind.value, style=style("label"))
    text.append(" ")
    text.append(sanitize(snapshot.ref.title, max_len=200), style="bold")
    present = [m for m in snapshot.members if m.state is not WatchState.LEFT]
    text.append(f" \u00b7 {counted(len(present), 'member')}")
    text.append(" \u00b7 ")
    text.append(format_rate(sum(m.rate for m in present)), style="bold")
    if snapshot.source:
        text.append(f" \u00b7 via {sanitize(snapshot.source, max_len=60)}", style=style("muted"))
    return text


def watch_details(
    snapshot: WatchSnapshot, style: StyleOf, dead_letters: Text | None = None
) -> Text:
    """The lines under the table: totals and fairness, the consumer's figures, `dead_letters`
    (the line `render.dead_letters_text` built) when given, why members get nothing, and the
    snapshot's notes."""
    label, muted, warn = style("label"), style("muted"), style("warn")
    lines: list[Text] = []
    active = sum(1 for m in snapshot.members if m.state is WatchState.ACTIVE)
    line = Text()
    noun = "requests" if snapshot.ref.kind is GroupKind.SERVICE else "delivered"
    line.append(f"{noun} to members ", style=label)
    line.append(format_count(snapshot.members_total))
    line.append(f" \u00b7 fairness of {active} max/min ", style=label)
    line.append(ratio_text(snapshot.max_min))
    line.append(" cv ", style=label)
    line.append(percent_text(snapshot.cv))
    lines.append(line)
    consumer = snapshot.consumer
    if consumer is not None:
        line = Text()
        line.append("consumer delivered ", style=label)
        line.append(format_count(consumer.delivered))
        line.append(f" ({format_rate(consumer.rate)})")
        line.append(" pending ", style=label)
        line.append(format_count(consumer.pending))
        line.append(" ack pending ", style=label)
        line.append(format_count(consumer.ack_pending))
        line.append(" redelivered ", style=label)
        line.append(format_count(consumer.redelivered), style=warn if consumer.redelivered else "")
        lines.append(line)
        line = Text()
        line.append("waiting pulls ", style=label)
        line.append(format_count(consumer.waiting))
        line.append(" ack floor ", style=label)
        line.append(format_count(consumer.ack_floor))
        if consumer.deliver_subject:
            line.append(" delivers to ", style=label)
            line.append(sanitize(consumer.deliver_subject, max_len=200))
            if consumer.deliver_group:
                line.append(" group ", style=label)
                line.append(sanitize(consumer.deliver_group, max_len=100))
            bound = " \u00b7 bound" if consumer.push_bound else " \u00b7 not bound"
            line.append(bound, style=muted)
        if consumer.filter_subjects:
            line.append(" filter ", style=label)
            line.append(", ".join(sanitize(s, max_len=100) for s in consumer.filter_subjects))
        lines.append(line)
    if dead_letters is not None:
        lines.append(dead_letters)
    for member in snapshot.members:
        if member.note and member.state is not WatchState.ACTIVE:
            line = Text()
            line.append(f"{member.state.value} ", style=style(STATE_STYLE[member.state]))
            line.append(sanitize(member.label, max_len=40), style="bold")
            line.append(": ")
            line.append(sanitize(member.note, max_len=300))
            lines.append(line)
    for note in snapshot.notes:
        lines.append(Text(sanitize(note, max_len=400), style=muted))
    return Text("\n").join(lines)  # wraps: a note says how to avoid an orphan, in full
