"""The pool view of the Workers pane: jstui's own worker pools, one shown at a time.

One row per member (jstui's own, then members of the same queue group outside jstui, from the
app's `Observer`): a bar of its share of the messages handled, count and percentage, a sparkline
of its rate, in-flight, acks, naks, redeliveries and state. Under the table: totals and
fairness, the consumer's figures, the load generator's progress, the exactly-once check and
external members.

The message path never touches a widget: members bump counters, and the pane's 4 Hz timer calls
`redraw` (keyed rows, changed cells only), which draws what `render` (pure) builds; consumer info
and the other members of the group are polled about once a second by a `PeriodicPoll`, only
while the pool view is shown. The pane's keys call the pool actions here (`generate`, `kill`...).
A JetStream pool's lines end with its consumer's dead letters (`ConsumerDeadLetters`: the deque
is read only when one came; that poll reads the missing originals, a few at most).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from functools import cached_property, partial
from typing import Any

from rich.text import Text
from textual import work
from textual.coordinate import Coordinate
from textual.reactive import var
from textual.widgets import DataTable

from jstui.format.text import sanitize
from jstui.format.units import counted, format_duration_short
from jstui.nats.errors import JstuiError
from jstui.nats.observe.groups.discovery import is_own
from jstui.nats.observe.model import queue_members
from jstui.nats.workers.load import LoadGenerator, LoadSpec, LoadState, default_task_subject
from jstui.nats.workers.member import Member, MemberState
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import MemberSettings, PoolMode, PoolSpec
from jstui.widgets.base import Pane
from jstui.widgets.workers.dead_letters import ConsumerDeadLetters
from jstui.widgets.workers.panel import TablePanel, update_rows
from jstui.widgets.workers.render import (
    FIXED,
    PCT,
    PoolView,
    StyleOf,
    column_widths,
    details_text,
    pool_rows,
    summary_text,
)


class PoolPanel(TablePanel):
    """jstui's pools (`views`) and the one shown (`current`), drawn and acted on."""

    PREFIX = "workers"
    POLL_DESCRIPTION = "worker pool poll"

    current: var[int] = var(0, init=False)
    """Index in `views` of the pool shown."""

    def __init__(self, pane: Pane, style: StyleOf, *, id: str | None = None) -> None:
        super().__init__(pane, style, id=id)
        self.views: list[PoolView] = []
        self.changed: Callable[[], None] = lambda: None
        """Called when a pool started or stopped (the pane refreshes its group list)."""
        self._columns_for: tuple[PoolMode, int, int] | None = None

    def has_subject(self) -> bool:
        return self.view is not None

    @cached_property
    def dead(self) -> ConsumerDeadLetters:
        """The dead letters of the shown pool's consumer (none followed for core pools)."""
        # D is offered only when the pool shown has dead letters
        return ConsumerDeadLetters(self.pane.host.dead_letters, self.pane.refresh_bindings)

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

    async def start_pool(self, spec: PoolSpec) -> WorkerPool:
        """Start a pool and show it (the pool dialog calls this; errors keep the dialog open)."""
        pool = WorkerPool(self.pane.session, spec, name=self._pool_name(spec))
        await pool.start()
        self.views.append(PoolView(pool))
        self.current = len(self.views) - 1
        self.changed()
        self.redraw()  # also when it was already the last index
        return pool

    def _pool_name(self, spec: PoolSpec) -> str:
        names = {view.pool.name for view in self.views}
        name, n = spec.queue, 2
        while name in names:
            name, n = f"{spec.queue}#{n}", n + 1
        return name

    def _info(self, text: str) -> None:
        self.notify(sanitize(text, max_len=500), markup=False)

    def _selected_member(self) -> Member | None:
        view = self.view
        if view is None:
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
            member = view.pool.member(int(key[1:]))
            if member is not None:
                return member
        if key and key.startswith("x"):
            self._info("That is an external member: jstui can only watch it.")
        return None

    # -- actions (the pane's keys) ---------------------------------------------------------------

    def new_pool(self) -> None:
        from jstui.dialogs.worker_pool import WorkerPoolScreen  # on first use (start-up)

        if self.pane.writable("starting a worker pool"):
            self.app.push_screen(WorkerPoolScreen(self.start_pool), self._pool_started)

    def _pool_started(self, pool: WorkerPool | None) -> None:
        if pool is not None:
            self._info(f"Pool {pool.name} started: {pool.spec.describe()}, press g for load")
            self.query_one("#workers-table", DataTable).focus()

    def generate(self) -> None:
        from jstui.dialogs.worker_load import WorkerLoadScreen  # on first use (start-up)

        view = self.view
        if view is None:
            self._info("No worker pool: press n to start one.")
            return
        if not self.pane.writable("publishing tasks"):
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
        generator = LoadGenerator(self.pane.session, spec, view.pool.ledger)
        view.generator = generator
        view.load_worker = self._run_load(generator)

    @work(group="workers-load", exit_on_error=False, description="worker load generator")
    async def _run_load(self, generator: LoadGenerator) -> None:
        with self.pane.reporting_errors(title="Load generator"):
            await generator.run()

    def add_member(self) -> None:
        view = self.view
        if view is None:
            self._info("No worker pool: press n to start one.")
            return
        self._act(self._add(view.pool))

    async def _add(self, pool: WorkerPool) -> None:
        member = await pool.add_member()
        self._info(f"{member.name} joined pool {pool.name}")

    def remove_member(self) -> None:
        member = self._selected_member()
        if member is not None:
            self._act(member.pool.remove_member(member))

    def pause_member(self) -> None:
        member = self._selected_member()
        if member is not None:
            self._act(member.toggle_pause())

    def kill_member(self) -> None:
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

    def edit_member(self) -> None:
        from jstui.dialogs.worker_member import WorkerMemberScreen  # on first use (start-up)

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

    def stop_pool(self) -> None:
        from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)

        view = self.view
        if view is None:
            self._info("No worker pool to stop.")
            return
        pool = view.pool
        question = Text.assemble(
            "Stop pool ",
            (sanitize(pool.name), "bold"),
            f" ({counted(len(pool.members), 'member')})?",
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
        self.changed()
        self.redraw()

    def _act(self, coro: Coroutine[Any, Any, None]) -> None:
        self._run_action(coro)

    @work(group="workers-action", exit_on_error=False, description="worker member action")
    async def _run_action(self, coro: Coroutine[Any, Any, None]) -> None:
        with self.pane.reporting_errors():
            await coro
        self.redraw()

    # -- polling ---------------------------------------------------------------------------------

    async def poll_once(self) -> None:
        view = self.view
        if view is None:
            return
        pool = view.pool
        await pool.refresh_consumer()
        await self.dead.fetch()
        identity = pool.queue_identity()
        if identity is None:
            view.externals = []
            view.external_note = "pull members are not queue subscribers: not visible"
            return
        session = self.pane.session
        try:
            seen = await self.pane.host.observer.connections(filter_subject=identity[0])
            view.externals = queue_members(
                seen.connections, *identity, exclude=partial(is_own, session)
            )
            view.external_note = seen.note if seen.partial else ""
        except JstuiError as error:
            view.externals = []
            view.external_note = str(error)

    # -- drawing -----------------------------------------------------------------------------------

    def redraw(self) -> None:
        view = self.view
        table = self.table
        if view is None:
            self.dead.show(None)
            self.set_texts(Text(), Text())
            if table.row_count:
                table.clear()
            return
        pool = view.pool  # its rates are ticked by the pane's timer, with every other pool's
        self.dead.show(pool.stream if pool.spec.mode.jetstream else None, pool.consumer_name)
        with self.app.batch_update():
            self._draw_table(table, view)
            self.set_texts(
                summary_text(view, self.current, len(self.views), self._style_of),
                details_text(view, self._style_of, self.dead.line(self._style_of)),
            )

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
        update_rows(table, pool_rows(view, bar_w, spark_w, self._style_of))
