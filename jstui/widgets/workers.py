"""The Workers pane: worker pools inside jstui, and a live picture of how the work is spread.

One row per member (jstui's own, then members found outside jstui through the monitoring
endpoint): a bar of its share of the messages handled, count and percentage, a sparkline of its
rate, in-flight, acks, naks, redeliveries and state. Under the table: totals and fairness, the
consumer's figures, the load generator's progress, the exactly-once check and external members.

The message path never touches a widget: members bump counters, and a 4 Hz timer redraws the
table (keyed rows, changed cells only) and the text under it; consumer info and the monitoring
endpoint are polled once a second in a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowDoesNotExist
from textual.worker import Worker

from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.worker_load import WorkerLoadScreen
from jstui.dialogs.worker_member import WorkerMemberScreen
from jstui.dialogs.worker_pool import WorkerPoolScreen
from jstui.format.text import sanitize
from jstui.format.units import format_count, format_duration_short, format_rate
from jstui.nats.errors import JstuiError, ReadOnlyError, SpecErrors
from jstui.nats.monitor import ExternalMember, MonitorClient, MonitorError
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.nats.workers import (
    LoadGenerator,
    LoadSpec,
    LoadState,
    Member,
    MemberSettings,
    MemberState,
    PoolMode,
    PoolSpec,
    PoolState,
    WorkerPool,
    default_task_subject,
    parse_workers_option,
)
from jstui.widgets.base import Pane
from jstui.widgets.sparkline import spark

REDRAW_HZ = 4
POLL_SECONDS = 1.0
EIGHTHS = " \u258f\u258e\u258d\u258c\u258b\u258a\u2589\u2588"
"""Partial block characters, 0/8 to 8/8 of a cell, for bars that grow smoothly."""

# fixed column widths (content only: cell padding is 0, numbers carry their own leading space)
_FIXED = {
    "name": 7,
    "count": 8,
    "rate": 8,
    "inflight": 6,
    "ack": 7,
    "nak": 5,
    "redl": 5,
    "state": 10,
}
_PCT = 5
_MIN_BAR, _MIN_SPARK, _MAX_SPARK = 6, 5, 40


_SHORT_MODE = {
    PoolMode.CORE: "core group",
    PoolMode.GROUP: "deliver group",
    PoolMode.PULL: "pull consumer",
}


class EmptyNote(Static, can_focus=True):
    """What the pane says before any pool runs; focusable so the pane's keys work."""


@dataclass
class PoolView:
    """A pool and what the pane keeps beside it."""

    pool: WorkerPool
    generator: LoadGenerator | None = None
    load_worker: Worker[None] | None = None
    published_before: int = 0
    """Tasks published by earlier load runs on this pool."""
    externals: list[ExternalMember] = field(default_factory=list)
    external_note: str = ""


def share_bar(share: float, width: int) -> str:
    """A bar `width` cells wide filled to `share` (0..1), in eighths of a cell."""
    if width <= 0:
        return ""
    eighths = max(0, min(width * 8, round(share * width * 8)))
    full, rest = divmod(eighths, 8)
    bar = "\u2588" * full + (EIGHTHS[rest] if rest else "")
    return bar.ljust(width)


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "\u221e"
    return f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _seq_line(label: str, seqs: tuple[int, ...], total: int, style: Style) -> Text:
    shown = ", ".join(str(s) for s in seqs)
    more = f" +{total - len(seqs):,} more" if total > len(seqs) else ""
    return Text.assemble((f"{label} \u00d7{total:,}: ", style), f"seq {shown}{more}")


class WorkersPane(Pane):
    PANE_TITLE = "Workers"
    PANE_NUMBER = 4
    PANE_HELP = (
        "Workers runs pools of queue-group members inside jstui and draws how the messages are "
        "spread among them. Press n to start a pool (a core queue group, a JetStream deliver "
        "group, or JetStream pull members sharing one durable consumer), or start jstui with "
        "--workers SUBJECT; press g to publish tasks to it.\n\n"
        "Each row is a member. The bar and percentage are its share of the messages the pool "
        "handled, then the count, a sparkline of its rate over the last seconds and the rate "
        "now, in-flight (received, not finished yet), acks, naks and redeliveries received (for "
        "core pools: ok, failed and dropped), and its state. A killed member's in-flight column "
        "shows what it held when it died: \u21ba for JetStream (redelivered to the others after "
        "the ack wait), \u2717 for core (lost). Rows marked external are subscribers in the same "
        "queue group on other connections, found through the server's monitoring endpoint; their "
        "count is what the server delivered to them.\n\n"
        "Under the table: tasks published, delivered, acked and outstanding; fairness as the "
        "max/min ratio of the counts (1.00 is perfectly even) and their coefficient of variation "
        "(0% is even), over the members still running; for JetStream pools the consumer's num "
        "pending, ack pending and redelivered from consumer info; and the exactly-once check, "
        "which follows every task by stream sequence: acked once is right, redeliveries after a "
        "kill, a nak or an ack-wait timeout are expected and listed as such, and a task acked "
        "twice (processed twice: a slow member went past the ack wait) or never delivered is "
        "listed as a problem.\n\n"
        "Why the spread differs between modes: a core queue group and a JetStream deliver group "
        "push each message to a member the server picks at random, without knowing whether it "
        "is busy. A slow member therefore gets the same share as the fast ones and works "
        "through a growing backlog (its in-flight rises; in a deliver group its unacked messages "
        "also use up max ack pending and hold the whole pool back). In a pull pool a member asks "
        "for a batch only when it has finished the last one, so a slow member simply asks less "
        "often and its share shrinks to what it can do.\n\n"
        "Keys act on the selected row: space pauses or resumes (a paused member finishes what "
        "it holds and takes nothing new), k kills, x removes, e changes its processing time and "
        "failure rate; a adds a member, s stops the pool (deleting the consumer jstui created), "
        "[ and ] switch between pools."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_pool", "New pool"),
        Binding("g", "generate", "Load"),
        Binding("a", "add_member", "Add"),
        Binding("k", "kill_member", "Kill"),
        Binding("space", "pause_member", "Pause", key_display="space"),
        Binding("x", "remove_member", "Remove member", show=False),
        Binding("e", "edit_member", "Edit member", show=False),
        Binding("s", "stop_pool", "Stop pool", show=False),
        Binding(
            "left_square_bracket", "cycle_pool(-1)", "Previous pool", show=False, key_display="["
        ),
        Binding("right_square_bracket", "cycle_pool(1)", "Next pool", show=False, key_display="]"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "workers--bar",
        "workers--bar-external",
        "workers--spark",
        "workers--muted",
        "workers--running",
        "workers--paused",
        "workers--killed",
        "workers--external",
        "workers--good",
        "workers--warn",
        "workers--bad",
        "workers--label",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.views: list[PoolView] = []
        self.current = 0
        self._startup_done = False
        self._columns_for: tuple[PoolMode, int, int] | None = None
        self._monitor: MonitorClient | None = None
        self._monitor_url: str | None = None
        self._shown: dict[str, tuple[str, tuple[object, ...]]] = {}

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="workers-summary", markup=False)
        table: DataTable[Text] = DataTable(
            id="workers-table", cursor_type="row", cell_padding=0, zebra_stripes=False
        )
        yield table
        yield Static(id="workers-details", markup=False)
        yield EmptyNote(self._empty_text(), id="workers-empty", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_class(True, "-empty")
        self.set_interval(1 / REDRAW_HZ, self.redraw)
        self.set_interval(POLL_SECONDS, self._poll_tick)

    async def on_unmount(self) -> None:
        # Delete the consumers jstui created before the connection goes (the app drains it next).
        for view in self.views:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(view.pool.stop(), 2.0)

    def _empty_text(self) -> Text:
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

    # -- pools ----------------------------------------------------------------------------------

    @property
    def view(self) -> PoolView | None:
        if not self.views:
            return None
        self.current = max(0, min(self.current, len(self.views) - 1))
        return self.views[self.current]

    @property
    def pool(self) -> WorkerPool | None:
        view = self.view
        return view.pool if view else None

    async def start_pool(self, spec: PoolSpec) -> WorkerPool:
        """Start a pool and show it (the pool dialog calls this; errors keep the dialog open)."""
        pool = WorkerPool(self.session, spec, name=self._pool_name(spec))
        await pool.start()
        self.views.append(PoolView(pool))
        self.current = len(self.views) - 1
        self.redraw()
        return pool

    def _pool_name(self, spec: PoolSpec) -> str:
        names = {view.pool.name for view in self.views}
        name, n = spec.queue, 2
        while name in names:
            name, n = f"{spec.queue}#{n}", n + 1
        return name

    def connection_changed(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED and not self._startup_done:
            self._startup_done = True
            if self.host.settings.workers:
                self._start_startup_pools(tuple(self.host.settings.workers))

    @work(group="workers-startup", exit_on_error=False, description="start --workers pools")
    async def _start_startup_pools(self, options: tuple[str, ...]) -> None:
        for option in options:
            try:
                spec = parse_workers_option(option)
                await self.start_pool(spec)
            except SpecErrors as errors:
                problems = "; ".join(f"{k}: {v}" for k, v in errors.errors.items())
                self._error(f"--workers {option}: {problems}")
            except JstuiError as error:
                self._error(f"--workers {option}: {error}")

    def _error(self, text: str) -> None:
        self.notify(sanitize(text, max_len=500), severity="error", markup=False)

    def _info(self, text: str) -> None:
        self.notify(sanitize(text, max_len=500), markup=False)

    def _selected_member(self) -> Member | None:
        pool = self.pool
        if pool is None:
            self._info("No worker pool: press n to start one.")
            return None
        table = self.query_one("#workers-table", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        except Exception:
            return None
        if key and key.startswith("m"):
            member = pool.member(int(key[1:]))
            if member is not None:
                return member
        if key and key.startswith("x"):
            self._info("That is an external member: jstui can only watch it.")
        return None

    # -- actions ---------------------------------------------------------------------------------

    def _writable(self, action: str) -> bool:
        try:
            self.session.check_writable(action)
        except ReadOnlyError as error:
            self._error(str(error))
            return False
        return True

    def action_new_pool(self) -> None:
        if not self._writable("starting a worker pool"):
            return
        self.app.push_screen(WorkerPoolScreen(self.start_pool), self._pool_started)

    def _pool_started(self, pool: WorkerPool | None) -> None:
        if pool is not None:
            self._info(f"Pool {pool.name} started: {pool.spec.describe()}, press g for load")
            self.query_one("#workers-table", DataTable).focus()

    def action_generate(self) -> None:
        view = self.view
        if view is None:
            self._info("No worker pool: press n to start one.")
            return
        if not self._writable("publishing tasks"):
            return
        if view.generator is not None and view.generator.state is LoadState.RUNNING:
            self._info("The load generator is still running for this pool.")
            return
        pool = view.pool
        screen = WorkerLoadScreen(
            default_task_subject(pool.spec.subject), jetstream=pool.spec.mode.jetstream
        )
        self.app.push_screen(screen, lambda spec: self._load_chosen(view, spec))

    def _load_chosen(self, view: PoolView, spec: LoadSpec | None) -> None:
        if spec is None:
            return
        if view.generator is not None:
            view.published_before += view.generator.published
        generator = LoadGenerator(self.session, spec, view.pool.ledger)
        view.generator = generator
        view.load_worker = self._run_load(generator)

    @work(group="workers-load", exit_on_error=False, description="worker load generator")
    async def _run_load(self, generator: LoadGenerator) -> None:
        try:
            await generator.run()
        except JstuiError as error:
            self._error(f"Load generator: {error}")

    def action_add_member(self) -> None:
        pool = self.pool
        if pool is None:
            self._info("No worker pool: press n to start one.")
            return
        self._act(self._add(pool))

    async def _add(self, pool: WorkerPool) -> None:
        member = await pool.add_member()
        self._info(f"{member.name} joined pool {pool.name}")

    def action_remove_member(self) -> None:
        member = self._selected_member()
        if member is not None:
            self._act(member.pool.remove_member(member))

    def action_pause_member(self) -> None:
        member = self._selected_member()
        if member is not None:
            self._act(member.toggle_pause())

    def action_kill_member(self) -> None:
        member = self._selected_member()
        if member is None:
            return
        if member.state in (MemberState.KILLED, MemberState.STOPPED):
            self._info(f"{member.name} is already {member.state.value}; space starts it again")
            return
        self._act(self._kill(member))

    async def _kill(self, member: Member) -> None:
        held = await member.kill()
        pool = member.pool
        if pool.spec.mode.jetstream:
            wait = format_duration_short(pool.ack_wait)
            self._info(
                f"{member.name} killed holding {held} unacked: redelivered to the others after "
                f"the ack wait ({wait})"
            )
        else:
            self._info(f"{member.name} killed: {held} queued messages lost (core has no acks)")

    def action_edit_member(self) -> None:
        member = self._selected_member()
        if member is None:
            return
        screen = WorkerMemberScreen(
            member.name, member.settings, core=member.pool.spec.mode is PoolMode.CORE
        )

        def chosen(settings: MemberSettings | None) -> None:
            if settings is not None:
                member.set_settings(settings)
                self._info(f"{member.name}: {settings.describe()}")

        self.app.push_screen(screen, chosen)

    def action_stop_pool(self) -> None:
        view = self.view
        if view is None:
            self._info("No worker pool to stop.")
            return
        pool = view.pool
        question = Text.assemble(
            "Stop pool ",
            (sanitize(pool.name), "bold"),
            f" ({len(pool.members)} members)?",
        )
        if pool.created_consumer and not pool.spec.keep_consumer:
            question.append("\nIts consumer ")
            question.append(sanitize(pool.consumer_name), style="bold")
            question.append(" is deleted; unacked messages stay in the stream.")
        elif pool.spec.mode.jetstream:
            question.append("\nThe consumer ")
            question.append(sanitize(pool.consumer_name), style="bold")
            question.append(" is kept.")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._act(self._stop(view))

        self.app.push_screen(
            ConfirmScreen("Stop worker pool", question, confirm_label="Stop"), confirmed
        )

    async def _stop(self, view: PoolView) -> None:
        if view.load_worker is not None:
            view.load_worker.cancel()
        if view.generator is not None:
            view.generator.cancel_pending()
        await view.pool.stop()
        if view in self.views:
            self.views.remove(view)
        self._info(f"Pool {view.pool.name} stopped")
        self.redraw()

    def action_cycle_pool(self, step: int) -> None:
        if len(self.views) > 1:
            self.current = (self.current + step) % len(self.views)
            self.redraw()

    def _act(self, coro: Coroutine[Any, Any, None]) -> None:
        self._run_action(coro)

    @work(group="workers-action", exit_on_error=False, description="worker member action")
    async def _run_action(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except JstuiError as error:
            self._error(str(error))
        self.redraw()

    def palette_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand(
                "Workers: new pool", "Start a worker pool (n)", self._palette(self.action_new_pool)
            ),
            SystemCommand(
                "Workers: generate load",
                "Publish tasks to the pool (g)",
                self._palette(self.action_generate),
            ),
            SystemCommand(
                "Workers: add member", "One more member (a)", self._palette(self.action_add_member)
            ),
            SystemCommand(
                "Workers: stop pool",
                "Stop the shown pool (s)",
                self._palette(self.action_stop_pool),
            ),
        ]

    def _palette(self, action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            self.app.dashboard.action_show_pane(self.PANE_NUMBER)  # type: ignore[attr-defined]
            action()

        return run

    # -- polling ---------------------------------------------------------------------------------

    def _poll_tick(self) -> None:
        if self.view is not None and self.session.status.state is ConnectionState.CONNECTED:
            self._poll(self.view)

    def _monitor_client(self) -> MonitorClient | None:
        url = self.host.settings.monitor_url
        if not url:
            embedded = getattr(self.app, "embedded", None)
            url = getattr(embedded, "monitor_url", None)
        if not url:
            return None
        if url != self._monitor_url:
            self._monitor_url = url
            try:
                self._monitor = MonitorClient(url)
            except MonitorError:
                self._monitor = None
        return self._monitor

    @work(exclusive=True, group="workers-poll", exit_on_error=False, description="worker pool poll")
    async def _poll(self, view: PoolView) -> None:
        pool = view.pool
        await pool.refresh_consumer()
        identity = pool.queue_identity()
        if identity is None:
            view.externals = []
            view.external_note = "pull members are not queue subscribers: not visible"
            return
        monitor = self._monitor_client()
        if monitor is None:
            view.externals = []
            view.external_note = "monitoring endpoint unknown (start jstui with --monitor URL)"
            return
        try:
            own = self.session.nc.client_id
            view.externals = await monitor.queue_members(*identity, exclude_cid=own)
            view.external_note = ""
        except (MonitorError, JstuiError) as error:
            view.externals = []
            view.external_note = str(error)

    # -- drawing -----------------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"workers--{name}", partial=True)

    def redraw(self) -> None:
        view = self.view
        self.set_class(view is None, "-empty")
        summary = self.query_one("#workers-summary", Static)
        details = self.query_one("#workers-details", Static)
        table = self.query_one("#workers-table", DataTable)
        if view is None:
            self._set(summary, Text())
            self._set(details, Text())
            if table.row_count:
                table.clear()
            if table.has_focus:
                self.query_one("#workers-empty").focus()
            return
        pool = view.pool
        pool.tick()
        with self.app.batch_update():
            self._set(summary, self._summary(view))
            self._draw_table(table, view)
            self._set(details, self._details(view))

    def _set(self, static: Static, text: Text) -> None:
        """Update only when the text changed: an update re-renders (and re-lays out) the widget."""
        key = (text.plain, tuple(text.spans))
        if self._shown.get(static.id or "") != key:
            self._shown[static.id or ""] = key
            static.update(text)

    def _summary(self, view: PoolView) -> Text:
        pool = view.pool
        text = Text(no_wrap=True, overflow="ellipsis")
        if len(self.views) > 1:
            text.append(f"[{self.current + 1}/{len(self.views)}] ", style=self._style("label"))
        text.append(_SHORT_MODE[pool.spec.mode], style=self._style("label"))
        text.append(" ")
        text.append(sanitize(pool.deliver_group or pool.spec.queue), style="bold")
        text.append(" on ")
        text.append(sanitize(pool.spec.subject), style="bold")
        if pool.spec.mode.jetstream:
            text.append(f" ({sanitize(pool.stream)})", style=self._style("label"))
        active = sum(1 for m in pool.members if m.active)
        text.append(f" \u00b7 {active}/{len(pool.members)} running \u00b7 ")
        text.append(format_rate(pool.rate), style="bold")
        if pool.state is not PoolState.RUNNING:
            text.append(f" \u00b7 {pool.state.value}", style=self._style("warn"))
        return text

    # table

    def _widths(self, table_width: int) -> tuple[int, int]:
        """(bar, sparkline) widths for the room there is."""
        room = max(0, table_width - 1) - sum(_FIXED.values()) - _PCT
        spark_w = max(_MIN_SPARK, min(_MAX_SPARK, room // 3))
        bar_w = max(_MIN_BAR, room - spark_w)
        return bar_w, spark_w

    def _ensure_columns(self, table: DataTable[Text], mode: PoolMode) -> tuple[int, int]:
        width = table.size.width or self.size.width or 76
        bar_w, spark_w = self._widths(width)
        wanted = (mode, bar_w, spark_w)
        if self._columns_for == wanted:
            return bar_w, spark_w
        self._columns_for = wanted
        table.clear(columns=True)
        labels = ("ok", "fail", "drop") if mode is PoolMode.CORE else ("ack", "nak", "redl")

        def right(label: str, width: int) -> Text:
            return Text(label.rjust(width), style="bold")

        table.add_column(Text("member"), key="name", width=_FIXED["name"])
        table.add_column(Text("share"), key="share", width=bar_w + _PCT)
        table.add_column(right("count", _FIXED["count"]), key="count", width=_FIXED["count"])
        spark_label = f" last {spark_w}s" if spark_w >= 9 else " rate"
        table.add_column(Text(spark_label), key="spark", width=spark_w + 1)
        table.add_column(right("msg/s", _FIXED["rate"]), key="rate", width=_FIXED["rate"])
        table.add_column(
            right("in-fl", _FIXED["inflight"]), key="inflight", width=_FIXED["inflight"]
        )
        table.add_column(right(labels[0], _FIXED["ack"]), key="ack", width=_FIXED["ack"])
        table.add_column(right(labels[1], _FIXED["nak"]), key="nak", width=_FIXED["nak"])
        table.add_column(right(labels[2], _FIXED["redl"]), key="redl", width=_FIXED["redl"])
        table.add_column(Text(" state"), key="state", width=_FIXED["state"])
        return bar_w, spark_w

    def _rows(self, view: PoolView, bar_w: int, spark_w: int) -> dict[str, list[Text]]:
        pool = view.pool
        core = pool.spec.mode is PoolMode.CORE
        counts = [m.handled for m in pool.members] + [x.delivered for x in view.externals]
        total = sum(counts) or 1
        histories = {m.index: m.history(spark_w) for m in pool.members}
        top = max((max(h, default=0.0) for h in histories.values()), default=0.0)
        bar_style, spark_style, muted = (
            self._style("bar"),
            self._style("spark"),
            self._style("muted"),
        )

        def num(value: int, width: int, style: Style | str = "") -> Text:
            return Text(format_count(value).rjust(width), style=style, no_wrap=True)

        rows: dict[str, list[Text]] = {}
        for m in pool.members:
            share = m.handled / total
            third = m.abandoned + m.dropped if core else m.redelivered
            state_style = {
                MemberState.RUNNING: "running",
                MemberState.PAUSED: "paused",
                MemberState.PAUSING: "paused",
                MemberState.KILLED: "killed",
                MemberState.STOPPED: "killed",
            }.get(m.state, "muted")
            state = m.state.value
            if m.state is MemberState.KILLED:
                # what it held when killed: redelivered later (JetStream) or lost (core)
                mark = "\u2717" if core else "\u21ba"
                inflight = Text(
                    f"{format_count(m.abandoned)}{mark}".rjust(_FIXED["inflight"]),
                    style=self._style("killed"),
                )
            else:
                inflight = num(m.in_flight, _FIXED["inflight"])
            bar = Text(share_bar(share, bar_w), style=bar_style, no_wrap=True)
            bar.append(f"{share * 100:4.0f}%".rjust(_PCT), style="" if m.handled else muted)
            rows[f"m{m.index}"] = [
                Text(m.name, style="bold"),
                bar,
                num(m.handled, _FIXED["count"]),
                Text(
                    " " + spark(histories[m.index], spark_w, maximum=top or None), style=spark_style
                ),
                Text(format_rate(m.rate).rjust(_FIXED["rate"]), no_wrap=True),
                inflight,
                num(m.acked, _FIXED["ack"]),
                num(
                    m.naked + m.no_acked,
                    _FIXED["nak"],
                    self._style("warn") if m.naked + m.no_acked else "",
                ),
                num(third, _FIXED["redl"], self._style("warn") if third else ""),
                Text(
                    " " + state, style=self._style(state_style), no_wrap=True, overflow="ellipsis"
                ),
            ]
        ext_style = self._style("bar-external")
        for x in view.externals:
            share = x.delivered / total
            bar = Text(share_bar(share, bar_w), style=ext_style, no_wrap=True)
            bar.append(f"{share * 100:4.0f}%".rjust(_PCT))
            dash = Text("-".rjust(_FIXED["inflight"]), style=muted)
            rows[f"x{x.key}"] = [
                Text(
                    sanitize(x.label, max_len=20),
                    style=self._style("external"),
                    no_wrap=True,
                    overflow="ellipsis",
                ),
                bar,
                num(x.delivered, _FIXED["count"]),
                Text(""),
                Text("".rjust(_FIXED["rate"])),
                dash,
                Text("-".rjust(_FIXED["ack"]), style=muted),
                Text("-".rjust(_FIXED["nak"]), style=muted),
                Text("-".rjust(_FIXED["redl"]), style=muted),
                Text(" external", style=self._style("external")),
            ]
        return rows

    def _draw_table(self, table: DataTable[Text], view: PoolView) -> None:
        bar_w, spark_w = self._ensure_columns(table, view.pool.spec.mode)
        rows = self._rows(view, bar_w, spark_w)
        existing = [key.value for key in table.rows]
        if existing != list(rows)[: len(existing)] or len(existing) > len(rows):
            # members left (or pools switched): rebuild, keeping the cursor on the same row index
            cursor = table.cursor_row
            table.clear()
            for key, cells in rows.items():
                table.add_row(*cells, key=key)
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
            return
        columns = list(table.columns)
        for key, cells in rows.items():
            if key not in existing:
                table.add_row(*cells, key=key)
                continue
            try:
                current = table.get_row(key)
            except RowDoesNotExist:
                continue
            for column, old, new in zip(columns, current, cells, strict=False):
                if old != new:
                    table.update_cell(key, column, new)

    # text under the table

    def _details(self, view: PoolView) -> Text:
        pool = view.pool
        label, muted = self._style("label"), self._style("muted")
        good, warn, bad = self._style("good"), self._style("warn"), self._style("bad")
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
        line.append(_ratio(figures.ratio))
        line.append(" cv ", style=label)
        line.append(_pct(figures.cv))
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
            line.append(share_bar(gen.progress, 10), style=self._style("bar"))
            done, wanted = format_count(gen.published), format_count(gen.spec.count)
            line.append(f" {gen.progress * 100:3.0f}% {done}/{wanted}")
            line.append(" \u2192 ")
            line.append(sanitize(gen.spec.subject))
            line.append(f" {format_rate(gen.rate)} {gen.state.value}")
            if gen.errors:
                line.append(f" \u00b7 {format_count(gen.errors)} errors: ", style=bad)
                line.append(sanitize(gen.last_error, max_len=200), style=bad)
            lines.append(line)

        if pool.spec.mode.jetstream:
            lines.extend(self._exactly_once(view, label, muted, good, warn, bad))

        line = Text()
        line.append("external ", style=label)
        if view.externals:
            conns = {x.cid: x.name for x in view.externals}
            line.append(f"{len(view.externals)} members on {len(conns)} connection(s): ")
            line.append(
                ", ".join(
                    f"c{cid} {sanitize(name, max_len=40) or '(no name)'}"
                    for cid, name in conns.items()
                )
            )
        elif view.external_note:
            line.append(sanitize(view.external_note, max_len=200), style=muted)
        else:
            line.append("none in this queue group", style=muted)
        lines.append(line)

        out = Text("\n").join(lines)
        out.no_wrap = True
        out.overflow = "ellipsis"
        return out

    def _exactly_once(
        self, view: PoolView, label: Style, muted: Style, good: Style, warn: Style, bad: Style
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
            lines.append(_seq_line("  acked twice", report.twice_seqs, report.acked_twice, bad))
        if report.redelivered:
            lines.append(
                _seq_line(
                    "  redelivered (expected after a kill, nak or ack wait)",
                    report.redelivered_seqs,
                    report.redelivered,
                    warn,
                )
            )
        if report.never_delivered and not elsewhere:
            lines.append(
                _seq_line("  never delivered", report.never_seqs, report.never_delivered, warn)
            )
        return lines
