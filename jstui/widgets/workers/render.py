"""Pure builders of the Workers pane's picture: share bars, member rows, the summary line and the
lines under the table (totals, fairness, consumer, load, exactly-once check, external members,
and the dead letters of the consumer shown, which the watch view draws too).

Data flow: a `PoolView` (the service's `WorkerPool` with what the pane keeps beside it) goes in,
Rich `Text` comes out. Colours come from a `StyleOf` function (the pane reads its component
classes), so everything here runs and is tested without the app. Names from the network go through
`jstui.format.sanitize`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.worker import Worker

from jstui.format.lines import time_of_day
from jstui.format.payload import payload_preview
from jstui.format.text import sanitize
from jstui.format.units import counted, format_count, format_duration_short, format_rate
from jstui.nats.observe.deadletters import WHY_MAX_DELIVERIES, DeadLetter, Original
from jstui.nats.observe.model import QueueMember
from jstui.nats.session import ConnectionState
from jstui.nats.workers.load import LoadGenerator, LoadState
from jstui.nats.workers.member import MemberState
from jstui.nats.workers.pool import PoolState, WorkerPool
from jstui.nats.workers.spec import PoolMode
from jstui.widgets.sparkline import spark

StyleOf = Callable[[str], Style]
"""The style of a part of the picture by name ("bar", "muted", "warn"...)."""

EIGHTHS = " \u258f\u258e\u258d\u258c\u258b\u258a\u2589\u2588"
"""Partial block characters, 0/8 to 8/8 of a cell, for bars that grow smoothly."""

FIXED = {
    "name": 7,
    "count": 8,
    "rate": 8,
    "inflight": 6,
    "ack": 7,
    "nak": 5,
    "redl": 5,
    "state": 10,
}
"""Fixed column widths (content only: cell padding is 0, numbers carry their own leading space)."""
DEAD_LETTERS_SHOWN = 3
"""Dead letters listed (the newest) in the line under the table."""
DEAD_PREVIEW = 24
"""Characters of a dead letter's payload in that line."""
PCT = 5
"""Width of the percentage after a share bar."""
_MIN_BAR, _MIN_SPARK, _MAX_SPARK = 6, 5, 40

SHORT_MODE = {
    PoolMode.CORE: "core group",
    PoolMode.GROUP: "deliver group",
    PoolMode.PULL: "pull consumer",
}

_STATE_STYLE = {
    MemberState.RUNNING: "running",
    MemberState.PAUSED: "paused",
    MemberState.PAUSING: "paused",
    MemberState.KILLED: "killed",
    MemberState.STOPPED: "killed",
}


@dataclass
class PoolView:
    """A pool and what the pane keeps beside it."""

    pool: WorkerPool
    generator: LoadGenerator | None = None
    load_worker: Worker[None] | None = None
    published_before: int = 0
    """Tasks published by earlier load runs on this pool."""
    externals: list[QueueMember] = field(default_factory=list)
    external_note: str = ""


def share_bar(share: float, width: int) -> str:
    """A bar `width` cells wide filled to `share` (0..1), in eighths of a cell."""
    if width <= 0:
        return ""
    eighths = max(0, min(width * 8, round(share * width * 8)))
    full, rest = divmod(eighths, 8)
    bar = "\u2588" * full + (EIGHTHS[rest] if rest else "")
    return bar.ljust(width)


def ratio_text(value: float | None) -> str:
    """A max/min ratio: two decimals, "-" when unknown, infinity when a member has none."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "\u221e"
    return f"{value:.2f}"


def percent_text(value: float | None) -> str:
    """A fraction as a percentage with one decimal, "-" when unknown."""
    return "-" if value is None else f"{value * 100:.1f}%"


def seq_line(label: str, seqs: tuple[int, ...], total: int, style: Style) -> Text:
    """A labelled list of stream sequences, with how many more there are than listed."""
    shown = ", ".join(str(s) for s in seqs)
    more = f" +{total - len(seqs):,} more" if total > len(seqs) else ""
    return Text.assemble((f"{label} \u00d7{total:,}: ", style), f"seq {shown}{more}")


def empty_text() -> Text:
    """What the pane says before any pool runs."""
    text = Text()
    text.append("No worker pool yet.\n\n", style="bold")
    text.append("n", style="bold")
    text.append("  start a pool: a core queue group, a JetStream deliver group, or pull\n")
    text.append("   members sharing one consumer (or start jstui with --workers SUBJECT)\n")
    text.append("g", style="bold")
    text.append("  publish tasks to it, then watch how they are spread\n")
    text.append("a k space", style="bold")
    text.append("  add, kill, pause members while tasks flow\n\n")
    text.append("Press ? for how to read the picture.", style="italic")
    return text


def column_widths(table_width: int) -> tuple[int, int]:
    """(bar, sparkline) widths for the room there is."""
    room = max(0, table_width - 1) - sum(FIXED.values()) - PCT
    spark_w = max(_MIN_SPARK, min(_MAX_SPARK, room // 3))
    bar_w = max(_MIN_BAR, room - spark_w)
    return bar_w, spark_w


def _connection_lost_since(pool: WorkerPool) -> float | None:
    """When the connection the members receive on was lost; None while it is up."""
    status = pool.session.status
    if status.state is ConnectionState.CONNECTED:
        return None
    return status.since or None


def _outage(pool: WorkerPool) -> str:
    """Why nothing can reach the members now ('' while something can): the connection is lost,
    or the pool's stream has no leader (stream_health.py)."""
    lost = _connection_lost_since(pool)
    if lost is not None:
        return f"connection lost since {time_of_day(lost)}"
    leaderless = pool.leaderless_since
    if leaderless is not None:
        return f"stream leader unavailable since {time_of_day(leaderless)}"
    return ""


def summary_text(view: PoolView, position: int, pools: int, style: StyleOf) -> Text:
    """The line above the table: mode, group, subject, members running, rate (pool `position`
    of `pools`, counted from 0)."""
    pool = view.pool
    text = Text(no_wrap=True, overflow="ellipsis")
    if pools > 1:
        text.append(f"[{position + 1}/{pools}] ", style=style("label"))
    text.append(SHORT_MODE[pool.spec.mode], style=style("label"))
    text.append(" ")
    text.append(sanitize(pool.deliver_group or pool.spec.queue), style="bold")
    text.append(" on ")
    text.append(sanitize(pool.spec.subject), style="bold")
    if pool.spec.mode.jetstream:
        text.append(f" ({sanitize(pool.stream)})", style=style("label"))
    active = sum(1 for m in pool.members if m.active)
    outage = _outage(pool)
    if outage:
        text.append(f" \u00b7 {active}/{len(pool.members)} waiting: ")
        text.append(outage, style=style("warn"))
        return text
    text.append(f" \u00b7 {active}/{len(pool.members)} running \u00b7 ")
    text.append(format_rate(pool.rate), style="bold")
    if pool.state is not PoolState.RUNNING:
        text.append(f" \u00b7 {pool.state.value}", style=style("warn"))
    return text


def pool_rows(view: PoolView, bar_w: int, spark_w: int, style: StyleOf) -> dict[str, list[Text]]:
    """The table's cells by row key: `m<index>` for jstui's members, `x<key>` for external ones."""
    pool = view.pool
    core = pool.spec.mode is PoolMode.CORE
    counts = [m.handled for m in pool.members] + [x.delivered for x in view.externals]
    total = sum(counts) or 1
    histories = {m.index: m.history(spark_w) for m in pool.members}
    top = max((max(h, default=0.0) for h in histories.values()), default=0.0)
    bar_style, spark_style, muted = (
        style("bar"),
        style("spark"),
        style("muted"),
    )

    def num(value: int, width: int, style: Style | str = "") -> Text:
        return Text(format_count(value).rjust(width), style=style, no_wrap=True)

    rows: dict[str, list[Text]] = {}
    offline = bool(_outage(pool))
    for m in pool.members:
        share = m.handled / total
        third = m.abandoned + m.dropped if core else m.redelivered
        state_style = _STATE_STYLE.get(m.state, "muted")
        state = m.state.value
        if offline and m.active:  # it runs, but nothing can reach it
            state, state_style = "waiting", "paused"
        if m.state is MemberState.KILLED:
            # what it held when killed: redelivered later (JetStream) or lost (core)
            mark = "\u2717" if core else "\u21ba"
            inflight = Text(
                f"{format_count(m.abandoned)}{mark}".rjust(FIXED["inflight"]),
                style=style("killed"),
            )
        else:
            inflight = num(m.in_flight, FIXED["inflight"])
        bar = Text(share_bar(share, bar_w), style=bar_style, no_wrap=True)
        bar.append(f"{share * 100:4.0f}%".rjust(PCT), style="" if m.handled else muted)
        rows[f"m{m.index}"] = [
            Text(m.name, style="bold"),
            bar,
            num(m.handled, FIXED["count"]),
            Text(" " + spark(histories[m.index], spark_w, maximum=top or None), style=spark_style),
            Text(format_rate(m.rate).rjust(FIXED["rate"]), no_wrap=True),
            inflight,
            num(m.acked, FIXED["ack"]),
            num(
                m.naked + m.no_acked,
                FIXED["nak"],
                style("warn") if m.naked + m.no_acked else "",
            ),
            num(third, FIXED["redl"], style("warn") if third else ""),
            Text(" " + state, style=style(state_style), no_wrap=True, overflow="ellipsis"),
        ]
    ext_style = style("bar-external")
    for x in view.externals:
        share = x.delivered / total
        bar = Text(share_bar(share, bar_w), style=ext_style, no_wrap=True)
        bar.append(f"{share * 100:4.0f}%".rjust(PCT))
        dash = Text("-".rjust(FIXED["inflight"]), style=muted)
        rows[f"x{x.key}"] = [
            Text(
                sanitize(x.label, max_len=20),
                style=style("external"),
                no_wrap=True,
                overflow="ellipsis",
            ),
            bar,
            num(x.delivered, FIXED["count"]),
            Text(""),
            Text("".rjust(FIXED["rate"])),
            dash,
            Text("-".rjust(FIXED["ack"]), style=muted),
            Text("-".rjust(FIXED["nak"]), style=muted),
            Text("-".rjust(FIXED["redl"]), style=muted),
            Text(" external", style=style("external")),
        ]
    return rows


def dead_letters_text(
    letters: list[DeadLetter],
    original_of: Callable[[DeadLetter], Original | None],
    style: StyleOf,
    *,
    watched: bool = True,
) -> Text:
    """The dead-letters line: how many (by why), then the newest few by stream sequence with a
    preview of the original payload once read (`original_of`: cached originals, no I/O).
    `watched`: False while jstui does not yet follow the account's advisories."""
    label, muted = style("label"), style("muted")
    text = Text()
    text.append("dead letters ", style=label)
    if not letters:
        text.append("none" if watched else "not watched yet", style=muted)
        if watched:
            text.append(" since jstui started", style=muted)
        return text
    max_deliveries = sum(1 for letter in letters if letter.why == WHY_MAX_DELIVERIES)
    terminated = len(letters) - max_deliveries
    text.append(format_count(len(letters)), style=style("bad"))
    text.append(
        f" (max deliveries {format_count(max_deliveries)}, terminated {format_count(terminated)})",
        style=label,
    )
    text.append(": ")
    newest = letters[-DEAD_LETTERS_SHOWN:][::-1]
    for number, letter in enumerate(newest):
        if number:
            text.append(" \u00b7 ", style=muted)
        seq = "?" if letter.stream_seq is None else str(letter.stream_seq)
        text.append(f"seq {seq} ")
        original = original_of(letter)
        if original is None:
            text.append("\u2026", style=muted)  # read on the next poll
        elif original.message is None:
            text.append(f"({sanitize(original.problem, max_len=60)})", style=muted)
        else:
            preview = payload_preview(original.message.data, DEAD_PREVIEW)
            text.append(f"'{preview}'", style="bold")
    if len(letters) > len(newest):
        text.append(f" \u00b7 +{format_count(len(letters) - len(newest))} older", style=muted)
    text.append(" \u00b7 D opens the newest", style=muted)
    return text


def details_text(view: PoolView, style: StyleOf, dead_letters: Text | None = None) -> Text:
    """The lines under the table: totals, fairness, consumer, load, exactly-once, externals,
    and `dead_letters` (the line `dead_letters_text` built) when given."""
    pool = view.pool
    label, muted = style("label"), style("muted")
    good, warn, bad = style("good"), style("warn"), style("bad")
    lines: list[Text] = []
    totals = pool.totals()
    gen = view.generator

    line = Text()
    if gen is not None:
        line.append("published ", style=label)
        line.append(format_count(view.published_before + gen.published))
    line.append(" delivered " if gen is not None else "delivered ", style=label)
    line.append(format_count(totals.delivered))
    line.append(" acked " if pool.spec.mode.jetstream else " ok ", style=label)
    line.append(format_count(totals.acked))
    outstanding = totals.in_flight
    if pool.consumer is not None:
        outstanding += pool.consumer.num_pending
    line.append(" outstanding ", style=label)
    line.append(format_count(outstanding), style=warn if outstanding else "")
    lines.append(line)

    figures = pool.fairness(x.delivered for x in view.externals)
    line = Text()
    line.append(f"fairness of {figures.members} max/min ", style=label)
    line.append(ratio_text(figures.ratio))
    line.append(" cv ", style=label)
    line.append(percent_text(figures.cv))
    if pool.spec.mode.jetstream:
        line.append(" \u00b7 ack wait ", style=label)
        line.append(format_duration_short(pool.ack_wait))
        line.append(" \u00b7 max ack pending ", style=label)
        line.append(format_count(pool.max_ack_pending))
        if pool.spec.mode is PoolMode.PULL:
            line.append(" \u00b7 batch ", style=label)
            line.append(format_count(pool.spec.batch))
    lines.append(line)

    if pool.spec.mode.jetstream:
        line = Text()
        line.append("consumer ", style=label)
        line.append(sanitize(pool.consumer_name), style="bold")
        consumer = pool.consumer
        if consumer is not None:
            line.append(" pending ", style=label)
            line.append(format_count(consumer.num_pending))
            line.append(" ack pending ", style=label)
            line.append(format_count(consumer.num_ack_pending))
            line.append(" redelivered ", style=label)
            line.append(
                format_count(consumer.num_redelivered),
                style=warn if consumer.num_redelivered else "",
            )
        if pool.consumer_error:
            line.append(" \u00b7 ")
            line.append(sanitize(pool.consumer_error, max_len=200), style=bad)
        lines.append(line)

    if gen is not None:
        line = Text()
        line.append("load ", style=label)
        line.append(share_bar(gen.progress, 10), style=style("bar"))
        done, wanted = format_count(gen.published), format_count(gen.spec.count)
        line.append(f" {gen.progress * 100:3.0f}% {done}/{wanted}")
        line.append(" \u2192 ")
        line.append(sanitize(gen.spec.subject))
        line.append(f" {format_rate(gen.rate)} {gen.state.value}")
        if gen.resent:
            line.append(f" \u00b7 {format_count(gen.resent)} sent again (no ack)", style=warn)
        if gen.unconfirmed and gen.state is not LoadState.RUNNING:
            text = f" \u00b7 {format_count(gen.unconfirmed)} not known to be stored"
            line.append(text, style=bad)
        if gen.errors:
            line.append(f" \u00b7 {counted(gen.errors, 'error')}: ", style=bad)
            line.append(sanitize(gen.last_error, max_len=200), style=bad)
        lines.append(line)

    if pool.spec.mode.jetstream:
        lines.extend(_exactly_once(view, label, muted, good, warn, bad))

    line = Text()
    line.append("external ", style=label)
    if view.externals:
        conns = {x.cid: x.name for x in view.externals}
        line.append(
            f"{counted(len(view.externals), 'member')} on {counted(len(conns), 'connection')}: "
        )
        line.append(
            ", ".join(
                f"c{cid} {sanitize(name, max_len=40) or '(no name)'}" for cid, name in conns.items()
            )
        )
    elif view.external_note:
        line.append(sanitize(view.external_note, max_len=200), style=muted)
    else:
        line.append("none in this queue group", style=muted)
    lines.append(line)
    if dead_letters is not None:
        lines.append(dead_letters)

    out = Text("\n").join(lines)
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out


def _exactly_once(
    view: PoolView, label: Style, muted: Style, good: Style, warn: Style, bad: Style
) -> list[Text]:
    report = view.pool.ledger.report(limit=8)
    line = Text()
    line.append("exactly once ", style=label)
    if report.seen == 0 and report.published == 0:
        line.append("no task seen yet", style=muted)
        return [line]
    if report.exactly_once:
        line.append("\u2714 ", style=good)
    elif report.acked_twice:
        line.append("\u2718 ", style=bad)
    line.append(f"{format_count(report.seen)} tasks: ")
    settled = report.unacked == 0 and report.published_unacked == 0
    line.append(f"{format_count(report.acked_once)} acked once", style=good if settled else "")
    if report.acked_twice:
        line.append(f" \u00b7 {format_count(report.acked_twice)} twice", style=bad)
    if report.unacked:
        line.append(f" \u00b7 {format_count(report.unacked)} not acked yet", style=muted)
    # Tasks handled by members outside jstui never reach this ledger: say so, not "missing".
    elsewhere = bool(view.externals)
    never = "not seen here (external members?)" if elsewhere else "never delivered"
    if report.never_delivered:
        line.append(
            f" \u00b7 {format_count(report.never_delivered)} {never}",
            style=muted if elsewhere else warn,
        )
    lines = [line]
    if report.acked_twice:
        lines.append(seq_line("  acked twice", report.twice_seqs, report.acked_twice, bad))
    if report.redelivered:
        lines.append(
            seq_line(
                "  redelivered (expected after a kill, nak or ack wait)",
                report.redelivered_seqs,
                report.redelivered,
                warn,
            )
        )
    if report.never_delivered and not elsewhere:
        lines.append(seq_line("  never delivered", report.never_seqs, report.never_delivered, warn))
    return lines
