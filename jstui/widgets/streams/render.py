"""Pure builders of what the Streams pane draws: a stream's table row and the detail of the selected
stream (state, placement in a cluster, consumers, configuration).

Data flow: `StreamSummary` and `ConsumerSummary` values from the service go in, plain strings and
Rich renderables come out; every string from the server goes through `jstui.format.sanitize`. No
widget, no I/O: the pane calls these on each refresh and they are tested without the app. The
detail comes as keyed parts (`detail_parts`) for `PartsView`, which renders only what changed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from nats.js.api import StreamConfig
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from jstui.format.lines import time_of_day
from jstui.format.text import sanitize
from jstui.format.units import duration_field, format_age, format_count, format_size, size_field
from jstui.nats.names import fits_api_subject
from jstui.nats.observe.cluster_view import replica_state
from jstui.nats.streams.origins import metadata_text, origin_text, transform_text
from jstui.nats.streams.placement import SourceState, StreamPlacement
from jstui.nats.streams.summaries import ConsumerSummary, StreamSummary
from jstui.widgets.streams.buckets import managing_pane

if TYPE_CHECKING:
    from jstui.widgets.streams.parts import Part

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


def kind_mark(summary: StreamSummary) -> str:
    """What the name cell adds for a stream that is more than a stream: "[kv]" for a key/value
    bucket's, "[obj]" for an object store's, "[mirror]" for a mirror; "" otherwise."""
    bucket = summary.bucket
    if bucket is not None:
        return f"[{bucket.kind}]"
    return "[mirror]" if summary.is_mirror else ""


def row_cells(summary: StreamSummary) -> tuple[str, ...]:
    """The plain text of a stream's table row, in `COLUMNS` order (already sanitized)."""
    mark = kind_mark(summary)
    return (
        f"{_clip(summary.name, NAME_WIDTH)} {mark}" if mark else _clip(summary.name, NAME_WIDTH),
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


def _consumer_rows(
    consumers: Sequence[ConsumerSummary], *, wide: bool, now: float
) -> tuple[tuple[str, ...], ...]:
    """Each consumer's cells as shown (sanitized), ages included."""
    rows = []
    for consumer in consumers:
        active = (
            format_age(now - consumer.last_active.timestamp()) if consumer.last_active else "never"
        )
        cells = [
            _clip(consumer.name, 28),
            format_count(consumer.num_pending),
            format_count(consumer.num_ack_pending),
            format_count(consumer.num_redelivered),
            active,
        ]
        if wide:
            kind = ("push" if consumer.push else "pull") + (
                " durable" if consumer.durable else " ephemeral"
            )
            cells.append(kind)
            cells.append(_clip(", ".join(consumer.filter_subjects) or "all", 30))
        rows.append(tuple(cells))
    return tuple(rows)


def _consumers_table(rows: Sequence[tuple[str, ...]], *, wide: bool) -> RenderableType:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("Consumer", no_wrap=True, max_width=28)
    table.add_column("Pending", justify="right")
    table.add_column("Ack pend", justify="right")
    table.add_column("Redeliv", justify="right")
    table.add_column("Last active", no_wrap=True)
    if wide:
        table.add_column("Kind", no_wrap=True)
        table.add_column("Filter", no_wrap=True, max_width=30)
    for cells in rows:
        table.add_row(*(Text(value) for value in cells))
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


def detail_parts(
    summary: StreamSummary,
    consumers: Sequence[ConsumerSummary] | None,
    *,
    width: int,
    now: float | None = None,
) -> list[Part]:
    """The selected stream: state, consumers, then its whole configuration (the part that changes
    comes first, so a quarter pane shows it without scrolling). Server strings are sanitized.

    Each part comes with a key holding every string it shows, so `PartsView` renders again only
    a part whose text changed: an age ticking in the consumers' table leaves the configuration
    alone, and the creation time, whose age ticks for the first hour, is a line of its own."""
    now = time.time() if now is None else now
    config = summary.config
    per_row = 3 if width >= 110 else 2 if width >= 60 else 1

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
    if config is not None:
        settings += switches(config)

    head = (summary.name, summary.sealed, summary.description, tuple(state), per_row)
    parts: list[Part] = [(head, lambda: Group(_title(summary), _pairs_grid(state, per_row)))]
    placement = placement_lines(summary.placement)
    if placement:
        # A standalone mirror or sourced stream has no placement to speak of: where it copies from.
        clustered = summary.placement is not None and summary.placement.clustered
        heading = "Placement" if clustered else "Copied from"
        parts.append(((heading, *placement), lambda: Group(Text(), _heading(heading), *placement)))

    wide = width >= 100
    rows = _consumer_rows(consumers or (), wide=wide, now=now)
    usable = fits_api_subject(summary.name)
    consumers_key = (summary.consumer_count, usable, consumers is None, rows, wide)
    parts.append((consumers_key, lambda: _consumers_part(summary, consumers, rows, wide=wide)))

    subjects = sanitize(", ".join(summary.subjects) or "-", max_len=2000)
    origins = tuple(config_lines(config)) if config is not None else ()
    configuration = (subjects, tuple(settings), per_row, origins)
    parts.append((configuration, lambda: _configuration_part(subjects, settings, per_row, origins)))
    created = _when(summary.created, now)
    parts.append((created, lambda: _labelled("Created ", created)))
    return parts


def switches(config: StreamConfig) -> list[tuple[str, str]]:
    """The settings that are off on most streams, each shown only when on (an ordinary stream's
    detail stays as short as it was)."""
    shown: list[tuple[str, str]] = []
    compression = _enum_text(config.compression or "none")
    if compression != "none":
        shown.append(("Compression", compression))
    if config.first_seq and config.first_seq > 1:
        shown.append(("First seq", format_count(config.first_seq)))
    for label, on in (
        ("Roll-up", config.allow_rollup_hdrs),
        ("Msg TTL", config.allow_msg_ttl),
    ):
        if on:
            shown.append((label, "allowed"))
    for label, on in (("Deny delete", config.deny_delete), ("Deny purge", config.deny_purge)):
        if on:
            shown.append((label, "yes (for good)"))
    return shown


def config_lines(config: StreamConfig) -> list[tuple[str, str]]:
    """Labelled lines for what a stream takes from elsewhere or passes on (mirror, sources,
    transform, republish) and its metadata, as the config says them (sanitized). The mirror's and
    sources' lag and activity are in the placement part, from the stream's state."""
    lines: list[tuple[str, str]] = []
    if config.mirror is not None:
        lines.append(("Mirror of ", sanitize(origin_text(config.mirror), max_len=400)))
    lines.extend(
        ("Source ", sanitize(origin_text(source), max_len=400)) for source in config.sources or ()
    )
    if transform := transform_text(config.subject_transform):
        lines.append(("Transform ", sanitize(transform, max_len=400)))
    if republish := transform_text(config.republish):
        only = " (headers only)" if config.republish and config.republish.headers_only else ""
        lines.append(("Republish ", sanitize(republish, max_len=400) + only))
    if metadata := metadata_text(config.metadata):
        lines.append(("Metadata ", sanitize(metadata.replace("\n", ", "), max_len=1000)))
    return lines


def _title(summary: StreamSummary) -> Text:
    title = Text()
    title.append(sanitize(summary.name), style="bold")
    if summary.sealed:
        title.append("  sealed", style="bold reverse")
    if (bucket := summary.bucket) is not None:
        title.append(f"  {bucket.label} ", style="bold")
        title.append(sanitize(bucket.name, max_len=64), style="bold")
        title.append(f" · managed in {managing_pane(bucket)}")
    if summary.description:
        title.append("  ")
        title.append(sanitize(summary.description, max_len=400), style="italic")
    return title


def _heading(label: str) -> Text:
    return Text(label, style="bold underline")


def _labelled(label: str, value: str) -> Text:
    line = Text()
    line.append(label, style="bold")
    line.append(value)
    return line


def _consumers_part(
    summary: StreamSummary,
    consumers: Sequence[ConsumerSummary] | None,
    rows: Sequence[tuple[str, ...]],
    *,
    wide: bool,
) -> RenderableType:
    heading = _heading("Consumers")
    heading.append(f" {format_count(summary.consumer_count)}", style="bold")
    if not fits_api_subject(summary.name):
        # Never seen from nats-server 2.15 (it refuses such names), but a name that cannot be one
        # token of an API subject would send every request about it elsewhere.
        unusable = "jstui cannot manage this stream: its name cannot be put in a subject."
        body: RenderableType = Text(unusable, style="dim")
    elif consumers is None:
        body = Text("loading…", style="dim")
    elif not consumers:
        body = Text("none", style="dim")
    else:
        body = _consumers_table(rows, wide=wide)
    return Group(Text(), heading, body)


def _configuration_part(
    subjects: str,
    settings: Sequence[tuple[str, str]],
    per_row: int,
    origins: Sequence[tuple[str, str]],
) -> RenderableType:
    return Group(
        Text(),
        _heading("Configuration"),
        _labelled("Subjects ", subjects),
        *(_labelled(label, value) for label, value in origins),
        _pairs_grid(settings, per_row),
    )


STALE_NAMES_SHOWN = 3
"""Streams without a leader named in the problem line; the rest are counted."""


def stale_problem(problem: str, listed_at: float, leaderless: Mapping[str, float]) -> str:
    """The pane's problem line when the table cannot be current: why (`problem`, already
    sanitized: reconnecting, a failed list) with the time the rows were last listed, then the
    streams whose leader does not answer, by name, with the time their rows are from (they are
    kept: the server lists them as missing, not gone)."""
    parts = []
    if problem:
        parts.append(
            f"{problem}: stale data from {time_of_day(listed_at)}" if listed_at else problem
        )
    if leaderless:
        names = sorted(leaderless)
        shown = ", ".join(sanitize(name, max_len=NAME_WIDTH) for name in names[:STALE_NAMES_SHOWN])
        if len(names) > STALE_NAMES_SHOWN:
            shown += f" and {len(names) - STALE_NAMES_SHOWN:,} more"
        noun = "stream" if len(names) == 1 else "streams"
        oldest = min((moment for moment in leaderless.values() if moment), default=0.0)
        since = f": stale data from {time_of_day(oldest)}" if oldest else ""
        parts.append(f"{noun} {shown}: leader unavailable{since}")
    return "; ".join(parts)
