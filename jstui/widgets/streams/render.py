"""Pure builders of what the Streams pane draws: a stream's table row and the detail of the selected
stream (state, placement in a cluster, consumers, configuration).

Data flow: `StreamSummary` and `ConsumerSummary` values from the service go in, plain strings and
Rich renderables come out; every string from the server goes through `jstui.format.sanitize`. No
widget, no I/O: the pane calls these on each refresh and they are tested without the app.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from jstui.format.text import sanitize
from jstui.format.units import duration_field, format_age, format_count, format_size, size_field
from jstui.nats.names import fits_api_subject
from jstui.nats.observe.cluster_view import replica_state
from jstui.nats.streams.placement import SourceState, StreamPlacement
from jstui.nats.streams.summaries import ConsumerSummary, StreamSummary

NAME_WIDTH = 24
SUBJECTS_WIDTH = 24
"""Widest a name or subjects cell gets; longer values end in an ellipsis (the detail shows all)."""


@dataclass(frozen=True)
class Column:
    """One column of the streams table: its key, header and alignment."""

    key: str
    label: str
    numeric: bool = False


COLUMNS: tuple[Column, ...] = (
    # Live figures come right after the name: in a quarter of the screen the last columns need a
    # sideways scroll, and the detail below repeats them for the selected stream.
    Column("name", "Name"),
    Column("messages", "Msgs", numeric=True),
    Column("bytes", "Bytes", numeric=True),
    Column("subjects", "Subjects"),
    Column("retention", "Retention"),
    Column("storage", "Storage"),
    Column("replicas", "R", numeric=True),
    Column("first", "First", numeric=True),
    Column("last", "Last", numeric=True),
    Column("consumers", "Cons", numeric=True),
)


def _clip(value: str, width: int) -> str:
    """The sanitized value, cut to `width` characters with an ellipsis."""
    text = sanitize(value, max_len=width + 16)
    return text if len(text) <= width else text[: width - 1] + "…"


def row_cells(summary: StreamSummary) -> tuple[str, ...]:
    """The plain text of a stream's table row, in `COLUMNS` order (already sanitized)."""
    return (
        _clip(summary.name, NAME_WIDTH),
        format_count(summary.messages),
        format_size(summary.bytes),
        _clip(", ".join(summary.subjects), SUBJECTS_WIDTH),
        sanitize(summary.retention, max_len=16),
        sanitize(summary.storage, max_len=16),
        str(summary.replicas),
        format_count(summary.first_seq),
        format_count(summary.last_seq),
        format_count(summary.consumer_count),
    )


def cell(column: Column, value: str) -> Text:
    """A table cell: numbers right-aligned, never wrapped."""
    return Text(value, justify="right" if column.numeric else "left", no_wrap=True)


def _limit_count(value: int | None) -> str:
    return "unlimited" if value is None or value <= 0 else format_count(value)


def _limit_size(value: int | None) -> str:
    return "unlimited" if value is None or value <= 0 else size_field(value)


def _limit_duration(seconds: float | None) -> str:
    return "unlimited" if not seconds else duration_field(seconds)


def _when(moment: datetime | None, now: float) -> str:
    if moment is None:
        return "never"
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S} ({format_age(now - moment.timestamp())})"


def _seq_with_time(seq: int, moment: datetime | None, now: float) -> str:
    if not seq:
        return "-"
    if moment is None:
        return format_count(seq)
    return f"{format_count(seq)}  {format_age(now - moment.timestamp())}"


def _enum_text(value: object) -> str:
    return sanitize(str(getattr(value, "value", value) or "-"), max_len=32)


def _pairs_grid(pairs: Sequence[tuple[str, str]], per_row: int) -> Table:
    """Label/value pairs laid out `per_row` to a row, with a gutter between them."""
    grid = Table.grid(padding=(0, 1), expand=False)
    for index in range(per_row):
        if index:
            grid.add_column(width=1)  # gutter
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
    for offset in range(0, len(pairs), per_row):
        cells: list[Text | str] = []
        for index, (label, value) in enumerate(pairs[offset : offset + per_row]):
            if index:
                cells.append("")
            cells += [Text(label), Text(value)]
        grid.add_row(*cells)
    return grid


def _consumers_table(
    consumers: Sequence[ConsumerSummary], *, width: int, now: float
) -> RenderableType:
    wide = width >= 100
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("Consumer", no_wrap=True, max_width=28)
    table.add_column("Pending", justify="right")
    table.add_column("Ack pend", justify="right")
    table.add_column("Redeliv", justify="right")
    table.add_column("Last active", no_wrap=True)
    if wide:
        table.add_column("Kind", no_wrap=True)
        table.add_column("Filter", no_wrap=True, max_width=30)
    for consumer in consumers:
        active = (
            format_age(now - consumer.last_active.timestamp()) if consumer.last_active else "never"
        )
        cells = [
            Text(_clip(consumer.name, 28)),
            Text(format_count(consumer.num_pending)),
            Text(format_count(consumer.num_ack_pending)),
            Text(format_count(consumer.num_redelivered)),
            Text(active),
        ]
        if wide:
            kind = ("push" if consumer.push else "pull") + (
                " durable" if consumer.durable else " ephemeral"
            )
            cells.append(Text(kind))
            cells.append(Text(_clip(", ".join(consumer.filter_subjects) or "all", 30)))
        table.add_row(*cells)
    return table


def _since(active_ns: int) -> str:
    """When a peer or source was last heard from: the server gives nanoseconds since then."""
    if active_ns <= 0:
        return "never"
    return format_age(active_ns / 1e9)


def _source_line(kind: str, source: SourceState) -> Text:
    line = Text()
    line.append(f"{kind} ", style="bold")
    line.append(sanitize(source.name, max_len=64))
    if source.filter:
        line.append(f" ({sanitize(source.filter, max_len=64)})")
    if source.external:
        line.append(f" from {sanitize(source.external, max_len=64)}")
    line.append(f"  lag {format_count(source.lag)}  active {_since(source.active_ns)}")
    if source.error:
        line.append(f"  error: {sanitize(source.error, max_len=200)}", style="bold")
    return line


def placement_lines(placement: StreamPlacement | None) -> list[Text]:
    """Leader and replicas (the leader's view), then mirror and sources; none on a standalone
    server without mirror or sources."""
    if placement is None:
        return []
    lines: list[Text] = []
    if placement.clustered:
        head = Text()
        head.append("Leader ", style="bold")
        head.append(sanitize(placement.leader or "none (no leader elected)", max_len=64))
        if placement.cluster:
            head.append("  cluster ", style="bold")
            head.append(sanitize(placement.cluster, max_len=64))
        lines.append(head)
        for replica in placement.replicas:
            line = Text("Replica ", style="bold")
            line.append(sanitize(replica.name, max_len=64))
            state = replica_state(replica)
            line.append(f"  {state}", style="" if state == "current" else "bold")
            line.append(f"  lag {format_count(replica.lag)}  seen {_since(replica.active_ns)}")
            lines.append(line)
    if placement.mirror is not None:
        lines.append(_source_line("Mirror", placement.mirror))
    lines.extend(_source_line("Source", source) for source in placement.sources)
    return lines


def detail_ages(
    summary: StreamSummary, consumers: Sequence[ConsumerSummary] | None, now: float
) -> tuple[str, ...]:
    """Every age the detail shows ("3s ago"), as shown: the detail needs drawing again when one
    of them reads differently, not whenever the clock moved."""
    moments = [summary.first_time, summary.last_time, summary.created]
    moments += [consumer.last_active for consumer in consumers or ()]
    return tuple(format_age(now - moment.timestamp()) for moment in moments if moment is not None)


def detail_shape(
    summary: StreamSummary, consumers: Sequence[ConsumerSummary] | None, width: int
) -> tuple[object, ...]:
    """What decides how many lines the detail takes: equal shapes, equal heights, so moving from
    one stream to a like one needs no layout. Text that may wrap enters whole; the rest by its
    length (counts by their digits, config values by their printed length)."""

    def may_wrap(text: str) -> str | None:
        return text if len(text) > width // 2 else None

    config = summary.raw_config or {}
    return (
        may_wrap(summary.name + summary.description),
        may_wrap(", ".join(summary.subjects)),
        summary.sealed,
        summary.placement,
        tuple(
            (key, len(str(value)))
            for key, value in sorted(config.items())
            if key not in ("name", "subjects", "description")
        ),
        tuple(len(str(n)) for n in (summary.messages, summary.bytes, summary.last_seq)),
        len(consumers) + 1 if consumers else 1,  # "loading…" and "none" take one line alike
        width,
    )


def render_detail(
    summary: StreamSummary,
    consumers: Sequence[ConsumerSummary] | None,
    *,
    width: int,
    now: float | None = None,
) -> RenderableType:
    """The selected stream: state, consumers, then its whole configuration (the part that changes
    comes first, so a quarter pane shows it without scrolling). Server strings are sanitized."""
    now = time.time() if now is None else now
    config = summary.config
    per_row = 3 if width >= 110 else 2 if width >= 60 else 1

    title = Text()
    title.append(sanitize(summary.name), style="bold")
    if summary.sealed:
        title.append("  sealed", style="bold reverse")
    if summary.description:
        title.append("  ")
        title.append(sanitize(summary.description, max_len=400), style="italic")

    state: list[tuple[str, str]] = [
        ("Messages", format_count(summary.messages)),
        ("Bytes", format_size(summary.bytes)),
        ("First seq", _seq_with_time(summary.first_seq, summary.first_time, now)),
        ("Last seq", _seq_with_time(summary.last_seq, summary.last_time, now)),
        ("Deleted", format_count(summary.num_deleted)),
        ("Subjects", format_count(summary.num_subjects)),
    ]

    settings: list[tuple[str, str]] = [
        ("Retention", sanitize(summary.retention)),
        ("Storage", sanitize(summary.storage)),
        ("Replicas", str(summary.replicas)),
    ]
    if config is not None:
        settings += [
            ("Max age", _limit_duration(config.max_age)),
            ("Max msgs", _limit_count(config.max_msgs)),
            ("Max bytes", _limit_size(config.max_bytes)),
            ("Msg size", _limit_size(config.max_msg_size)),
            ("Per subject", _limit_count(config.max_msgs_per_subject)),
            ("Discard", _enum_text(config.discard)),
            ("Dup window", _limit_duration(config.duplicate_window)),
        ]
    settings.append(("Direct get", "allowed" if summary.allow_direct else "no"))
    settings.append(("Created", _when(summary.created, now)))

    parts: list[RenderableType] = [title, _pairs_grid(state, per_row)]
    placement = placement_lines(summary.placement)
    if placement:
        parts.append(Text())
        parts.append(Text("Placement", style="bold underline"))
        parts.extend(placement)
    parts.append(Text())
    heading = Text("Consumers", style="bold underline")
    heading.append(f" {format_count(summary.consumer_count)}", style="bold")
    parts.append(heading)
    if not fits_api_subject(summary.name):
        # Never seen from nats-server 2.15 (it refuses such names), but a name that cannot be one
        # token of an API subject would send every request about it elsewhere.
        unusable = "jstui cannot manage this stream: its name cannot be put in a subject."
        parts.append(Text(unusable, style="dim"))
    elif consumers is None:
        parts.append(Text("loading…", style="dim"))
    elif not consumers:
        parts.append(Text("none", style="dim"))
    else:
        parts.append(_consumers_table(consumers, width=width, now=now))
    parts.append(Text())
    parts.append(Text("Configuration", style="bold underline"))
    subjects = Text()
    subjects.append("Subjects ", style="bold")
    subjects.append(sanitize(", ".join(summary.subjects) or "-", max_len=2000))
    parts.append(subjects)
    parts.append(_pairs_grid(settings, per_row))
    return Group(*parts)
