"""The Workers pane: worker pools inside jstui, and a live picture of how the work is spread.

One row per member (jstui's own, then members found outside jstui through the monitoring
endpoint): a bar of its share of the messages handled, count and percentage, a sparkline of its
rate, in-flight, acks, naks, redeliveries and state. Under the table: totals and fairness, the
consumer's figures, the load generator's progress, the exactly-once check and external members.

The message path never touches a widget: members bump counters, and a 4 Hz timer redraws the
table (keyed rows, changed cells only) and the text under it, built by `render` (pure); consumer
info and the monitoring endpoint are polled about once a second by a `PeriodicPoll`.

The `--workers` pools start once connected; a JetStream pool whose stream does not exist yet
waits for it (`wait_for_stream`), and the pane says "waiting for a stream on SUBJECT" meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from functools import partial
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.reactive import var
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowDoesNotExist

from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.worker_load import WorkerLoadScreen
from jstui.dialogs.worker_member import WorkerMemberScreen
from jstui.dialogs.worker_pool import WorkerPoolScreen
from jstui.format.text import sanitize
from jstui.format.units import format_duration_short
from jstui.nats.errors import JstuiError, SpecErrors
from jstui.nats.observe.model import Connection, queue_members
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.nats.stream_lookup import wait_for_stream
from jstui.nats.workers.load import LoadGenerator, LoadSpec, LoadState, default_task_subject
from jstui.nats.workers.member import Member, MemberState
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import MemberSettings, PoolMode, PoolSpec, parse_workers_option
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.workers.render import (
    FIXED,
    PCT,
    PoolView,
    column_widths,
    details_text,
    empty_text,
    pool_rows,
    summary_text,
)

REDRAW_HZ = 4
POLL_SECONDS = 1.0


class EmptyNote(Static, can_focus=True):
    """What the pane says before any pool runs; focusable so the pane's keys work."""


class WorkersPane(Pane):
    PANE_TITLE = "Workers"
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
    CHANGING_ACTIONS = frozenset({"new_pool", "generate", "add_member"})

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

    current: var[int] = var(0, init=False)
    """Index in `views` of the pool shown; [ and ] change it."""
    empty: var[bool] = var(True, toggle_class="-empty")
    """No pool runs: the note on how to start one replaces the picture."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.views: list[PoolView] = []
        self._startup_done = False
        self._waiting: dict[str, str] = {}
        """--workers options waiting for their stream, with what they wait for."""
        self._columns_for: tuple[PoolMode, int, int] | None = None
        self._shown: dict[str, tuple[str, tuple[object, ...]]] = {}

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="workers-summary", markup=False)
        table: DataTable[Text] = DataTable(
            id="workers-table", cursor_type="row", cell_padding=0, zebra_stripes=False
        )
        yield table
        yield Static(id="workers-details", markup=False)
        yield EmptyNote(empty_text(), id="workers-empty", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1 / REDRAW_HZ, self.redraw)
        self._poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self._poll_shown_pool,
            description="worker pool poll",
            when=lambda: (
                self.view is not None and self.session.status.state is ConnectionState.CONNECTED
            ),
        )

    async def on_unmount(self) -> None:
        # Delete the consumers jstui created before the connection goes (the app drains it next).
        for view in self.views:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(view.pool.stop(), 2.0)

    # -- pools ----------------------------------------------------------------------------------

    def validate_current(self, index: int) -> int:
        return max(0, min(index, len(self.views) - 1))

    def watch_current(self) -> None:
        self.redraw()

    @property
    def view(self) -> PoolView | None:
        """The pool shown, with what the pane keeps beside it; None before any pool runs."""
        return self.views[min(self.current, len(self.views) - 1)] if self.views else None

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
        self.redraw()  # also when it was already the last index
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
            for option in self.host.settings.workers:
                self._start_startup_pool(option)

    @work(group="workers-startup", exit_on_error=False, description="start a --workers pool")
    async def _start_startup_pool(self, option: str) -> None:
        """Start a --workers pool; a JetStream one first waits for the stream of its subject."""
        try:
            spec = parse_workers_option(option)
            if spec.mode.jetstream:
                try:
                    await wait_for_stream(
                        self.session,
                        spec.subject,
                        stream=spec.stream or None,
                        waiting=partial(self._show_waiting, option),
                    )
                finally:
                    if self.is_mounted:  # (not when the app closes while it waits)
                        self._show_waiting(option, "")
            await self.start_pool(spec)
        except SpecErrors as errors:
            problems = "; ".join(f"{k}: {v}" for k, v in errors.errors.items())
            self.report_error(f"--workers {option}: {problems}")
        except JstuiError as error:
            self.report_error(f"--workers {option}: {error}")

    def _show_waiting(self, option: str, text: str) -> None:
        """Say, above the note shown before any pool runs, which --workers pool waits and why."""
        if text:
            self._waiting[option] = text
        else:
            self._waiting.pop(option, None)
        note = Text()
        for waiting, why in self._waiting.items():
            note.append(sanitize(f"--workers {waiting}: {why}", max_len=300), style="bold")
            note.append("\n\n")
        note.append_text(empty_text())
        self.query_one("#workers-empty", EmptyNote).update(note)

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
        with self.reporting_errors():
            self.session.check_writable(action)
            return True
        return False

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
        self.app.push_screen(screen, partial(self._load_chosen, view))

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
        with self.reporting_errors(title="Load generator"):
            await generator.run()

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
            self.current = self.current  # clamped to the pools left
        self._info(f"Pool {view.pool.name} stopped")
        self.redraw()

    def action_cycle_pool(self, step: int) -> None:
        if len(self.views) > 1:
            self.current = (self.current + step) % len(self.views)

    def _act(self, coro: Coroutine[Any, Any, None]) -> None:
        self._run_action(coro)

    @work(group="workers-action", exit_on_error=False, description="worker member action")
    async def _run_action(self, coro: Coroutine[Any, Any, None]) -> None:
        with self.reporting_errors():
            await coro
        self.redraw()

    def palette_commands(self) -> list[SystemCommand]:
        return self.offered(
            [
                (
                    "new_pool",
                    self.palette_command(
                        "Workers: new pool", "Start a worker pool (n)", self.action_new_pool
                    ),
                ),
                (
                    "generate",
                    self.palette_command(
                        "Workers: generate load",
                        "Publish tasks to the pool (g)",
                        self.action_generate,
                    ),
                ),
                (
                    "add_member",
                    self.palette_command(
                        "Workers: add member", "One more member (a)", self.action_add_member
                    ),
                ),
                (
                    "stop_pool",
                    self.palette_command(
                        "Workers: stop pool", "Stop the shown pool (s)", self.action_stop_pool
                    ),
                ),
            ]
        )

    # -- polling ---------------------------------------------------------------------------------

    def _is_own(self, connection: Connection) -> bool:
        """jstui's own connection (its members are drawn from the pool itself)."""
        status = self.session.status
        return connection.cid == self.session.nc.client_id and (
            not connection.server or connection.server == status.server_name
        )

    async def _poll_shown_pool(self) -> None:
        view = self.view
        if view is None:
            return
        pool = view.pool
        await pool.refresh_consumer()
        identity = pool.queue_identity()
        if identity is None:
            view.externals = []
            view.external_note = "pull members are not queue subscribers: not visible"
            return
        try:
            seen = await self.host.observer.connections(filter_subject=identity[0])
            view.externals = queue_members(seen.connections, *identity, exclude=self._is_own)
            view.external_note = seen.note if seen.partial else ""
        except JstuiError as error:
            view.externals = []
            view.external_note = str(error)

    # -- drawing -----------------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"workers--{name}", partial=True)

    def redraw(self) -> None:
        view = self.view
        self.empty = view is None
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
            self._set(summary, summary_text(view, self.current, len(self.views), self._style))
            self._draw_table(table, view)
            self._set(details, details_text(view, self._style))

    def _set(self, static: Static, text: Text) -> None:
        """Update only when the text changed: an update re-renders (and re-lays out) the widget."""
        key = (text.plain, tuple(text.spans))
        if self._shown.get(static.id or "") != key:
            self._shown[static.id or ""] = key
            static.update(text)

    # table

    def _ensure_columns(self, table: DataTable[Text], mode: PoolMode) -> tuple[int, int]:
        width = table.size.width or self.size.width or 76
        bar_w, spark_w = column_widths(width)
        wanted = (mode, bar_w, spark_w)
        if self._columns_for == wanted:
            return bar_w, spark_w
        self._columns_for = wanted
        table.clear(columns=True)
        labels = ("ok", "fail", "drop") if mode is PoolMode.CORE else ("ack", "nak", "redl")

        def right(label: str, width: int) -> Text:
            return Text(label.rjust(width), style="bold")

        table.add_column(Text("member"), key="name", width=FIXED["name"])
        table.add_column(Text("share"), key="share", width=bar_w + PCT)
        table.add_column(right("count", FIXED["count"]), key="count", width=FIXED["count"])
        spark_label = f" last {spark_w}s" if spark_w >= 9 else " rate"
        table.add_column(Text(spark_label), key="spark", width=spark_w + 1)
        table.add_column(right("msg/s", FIXED["rate"]), key="rate", width=FIXED["rate"])
        table.add_column(right("in-fl", FIXED["inflight"]), key="inflight", width=FIXED["inflight"])
        table.add_column(right(labels[0], FIXED["ack"]), key="ack", width=FIXED["ack"])
        table.add_column(right(labels[1], FIXED["nak"]), key="nak", width=FIXED["nak"])
        table.add_column(right(labels[2], FIXED["redl"]), key="redl", width=FIXED["redl"])
        table.add_column(Text(" state"), key="state", width=FIXED["state"])
        return bar_w, spark_w

    def _draw_table(self, table: DataTable[Text], view: PoolView) -> None:
        bar_w, spark_w = self._ensure_columns(table, view.pool.spec.mode)
        rows = pool_rows(view, bar_w, spark_w, self._style)
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
