"""Pure builders of what the Consumers pane draws: a consumer's table row (plain strings, already
sanitized) and the detail of the selected consumer (state, then its whole configuration).

Data flow: `ConsumerEntry` values from the service go in, plain strings and Rich renderables come
out; every string from the server goes through `jstui.format.sanitize`. No widget, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from jstui.format.text import sanitize
from jstui.format.units import (
    NS_PER_SECOND,
    duration_field,
    format_age,
    format_count,
    format_duration_short,
)
from jstui.nats.consumers.summaries import ConsumerEntry
from jstui.widgets.streams.render import Column, cell

__all__ = ["COLUMNS", "Column", "cell", "render_detail", "row_cells", "row_clock"]

NAME_WIDTH = 24
FILTER_WIDTH = 24
"""Widest a name or filter cell gets; longer values end in an ellipsis (the detail shows all)."""


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name"),
    Column("stream", "Stream"),
    Column("kind", "Kind"),
    Column("pending", "Pending", numeric=True),
    Column("ack_pending", "Ack pend", numeric=True),
    Column("redelivered", "Redeliv", numeric=True),
    Column("waiting", "Waiting", numeric=True),
    Column("ack_floor", "Ack floor", numeric=True),
    Column("delivered", "Last deliv", numeric=True),
    Column("active", "Last active"),
    Column("paused", "Paused"),
    Column("filter", "Filter"),
    Column("deliver", "Deliver"),
    Column("ack", "Ack"),
)


def clip(value: str, width: int) -> str:
    """The sanitized value, cut to `width` characters with an ellipsis."""
    text = sanitize(value, max_len=width + 16)
    return text if len(text) <= width else text[: width - 1] + "…"


def _age(moment: datetime | None, now: float) -> str:
    return format_age(now - moment.timestamp()) if moment is not None else "never"


def paused_text(entry: ConsumerEntry, now: float) -> str:
    if not entry.paused:
        return "no"
    if entry.pause_until is None:
        return "yes"
    return f"for {format_duration_short(max(entry.pause_until.timestamp() - now, 0))}"


def row_clock(entry: ConsumerEntry, now: float) -> tuple[str, str]:
    """The cells of a row that move with the clock alone (last active, paused for): a row whose
    entry and clock cells are as before needs no new strings."""
    return _age(entry.last_active, now), paused_text(entry, now)


def row_cells(entry: ConsumerEntry, now: float) -> tuple[str, ...]:
    """The plain text of a consumer's table row, in `COLUMNS` order (already sanitized)."""
    return (
        clip(entry.name, NAME_WIDTH),
        clip(entry.stream, NAME_WIDTH),
        entry.kind,
        format_count(entry.num_pending),
        format_count(entry.num_ack_pending),
        format_count(entry.num_redelivered),
        format_count(entry.num_waiting) if not entry.push else "-",
        format_count(entry.ack_floor_stream_seq),
        format_count(entry.delivered_stream_seq),
        _age(entry.last_active, now),
        paused_text(entry, now),
        clip(", ".join(entry.filter_subjects) or "all", FILTER_WIDTH),
        sanitize(entry.deliver_policy, max_len=24),
        sanitize(entry.ack_policy, max_len=16),
    )


def _config_value(key: str, value: object) -> str:
    """A config value as a person reads it: durations in units, lists joined."""
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (key in ("ack_wait", "inactive_threshold", "idle_heartbeat", "max_expires"))
    ):
        return duration_field(value / NS_PER_SECOND) or "0"
    if key == "backoff" and isinstance(value, list):
        return ", ".join(duration_field(int(ns) / NS_PER_SECOND) for ns in value)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return "unlimited"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _grid(pairs: Sequence[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in pairs:
        grid.add_row(Text(sanitize(label, max_len=80)), Text(sanitize(value, max_len=2000)))
    return grid


def render_detail(entry: ConsumerEntry, *, now: float) -> RenderableType:
    """The selected consumer: what it is, its state, then its whole configuration."""
    title = Text()
    title.append(sanitize(entry.name), style="bold")
    title.append(f"  on stream {sanitize(entry.stream)}  {entry.kind}")
    if entry.paused:
        title.append(f"  paused {paused_text(entry, now)}", style="bold reverse")
    parts: list[RenderableType] = [title]
    if entry.description:
        parts.append(Text(sanitize(entry.description, max_len=600), style="italic"))
    attached = (
        ("bound" if entry.push_bound else "nobody bound")
        if entry.push
        else f"{format_count(entry.num_waiting)} waiting pulls"
    )
    state = [
        ("Pending", format_count(entry.num_pending)),
        ("Ack pending", format_count(entry.num_ack_pending)),
        ("Redelivered", format_count(entry.num_redelivered)),
        ("Attached", attached),
        (
            "Delivered",
            f"stream seq {format_count(entry.delivered_stream_seq)}, consumer seq "
            f"{format_count(entry.delivered_consumer_seq)}, {_age(entry.last_delivered, now)}",
        ),
        (
            "Ack floor",
            f"stream seq {format_count(entry.ack_floor_stream_seq)}, consumer seq "
            f"{format_count(entry.ack_floor_consumer_seq)}",
        ),
        ("Last active", _age(entry.last_active, now)),
        ("Created", _age(entry.created, now)),
    ]
    if entry.pause_until is not None:
        state.append(("Paused until", f"{entry.pause_until.astimezone():%Y-%m-%d %H:%M:%S}"))
    parts += [Text(), Text("State", style="bold underline"), _grid(state)]
    config = [
        (key, _config_value(key, value))
        for key, value in sorted(entry.config.items())
        if key not in ("metadata", "description")
    ]
    parts += [Text(), Text("Configuration", style="bold underline"), _grid(config)]
    if entry.metadata:
        parts += [Text(), Text("Metadata", style="bold underline"), _grid(entry.metadata)]
    return Group(*parts)
