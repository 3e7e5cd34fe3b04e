"""The Workers pane: jstui's own worker pools, and any group on the server watched from outside.

At the top, the group list (`groups.GroupList`): jstui's pools and every group `discover_groups`
finds (core queue groups, JetStream deliver groups and pull consumers, micro-service endpoints),
refreshed every few seconds by a `PeriodicPoll` while the pane is visible and connected. Below
it, the entry under the list's cursor: a jstui pool in the pool view (`pools.PoolPanel`: members
acted on with the pane's keys), any other group in the watch view (`watch.WatchPanel`: polled
about once a second, never joined). Before anything shows, a note says what was looked at and
how to start a pool or run workers.

`--workers` pools start once connected (a JetStream one waits for its stream, and the note says
so); `--watch NAME` picks the matching group once the first discovery is in, brings the pane to
the front, asks with a chooser when the name fits several groups, and waits for it otherwise.
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import DataTable, Static

from jstui.format.text import sanitize
from jstui.nats.errors import JstuiError, SpecErrors
from jstui.nats.observe.deadletters import DeadLetter
from jstui.nats.observe.groups import GroupRef, GroupSummary, discover_groups, match_groups
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.nats.stream_lookup import wait_for_stream
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import PoolSpec, parse_workers_option
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.workers.groups import POOL_PREFIX, GroupEntry, GroupList, group_entry, pool_entry
from jstui.widgets.workers.panel import ShownText
from jstui.widgets.workers.pools import PoolPanel
from jstui.widgets.workers.render import PoolView, empty_text
from jstui.widgets.workers.watch import WatchPanel

REDRAW_HZ = 4
DISCOVERY_SECONDS = 3.0
DISCOVERY_LONGEST = 12.0
"""While discovery finds the same groups its period stretches up to this (`PeriodicPoll`)."""


class EmptyNote(Static, can_focus=True):
    """What the pane says while there is nothing to show; focusable so the pane's keys work."""


class WorkersPane(Pane):
    PANE_TITLE = "Workers"
    PANE_HELP = (
        "Workers lists every group that shares work on the server (core queue groups, JetStream "
        "deliver groups and pull consumers, micro-service endpoints) and jstui's own worker "
        "pools, and draws how the messages are spread among their members. The list at the top "
        "is refreshed every few seconds; move its cursor (up/down, [ and ]) to choose what is "
        "shown under it. w (or the palette's \u201cWatch a group\u2026\u201d) opens a chooser; "
        "jstui --watch NAME opens the pane on a group at start-up (a queue group name, "
        "SUBJECT@QUEUE, STREAM/CONSUMER or a micro service name).\n\n"
        "Watching a group never joins it: jstui only asks the server. One row per member: its "
        "connection name (or address and client library), the server holding it in a cluster, "
        "its subscription's subject, what the server delivered to it since it connected, the "
        "rate, its share, and when it was first and last seen. States: active, idle (nothing "
        "lately), left (gone; its last counts stay), other filter, and orphan: a member of a "
        "deliver group subscribed to another subject than the one the consumer delivers to gets "
        "nothing, for ever (several js.subscribe(queue=...) starting at once race to set the "
        "deliver subject; a fixed deliver subject avoids it). Under the table: the total and the "
        "fairness, the consumer's figures (delivered, pending, ack pending, redelivered, waiting "
        "pulls, ack floor), and notes. Pull consumers: the server does not say which client got "
        "what, so only the consumer's figures show. Micro services: requests, errors and "
        "average processing time per instance.\n\n"
        "jstui's own pools: press n to start one (a core queue group, a JetStream deliver "
        "group, or JetStream pull members sharing one durable consumer), or start jstui with "
        "--workers SUBJECT; press g to publish tasks to it.\n\n"
        "Each row is a member. The bar and percentage are its share of the messages the pool "
        "handled, then the count, a sparkline of its rate over the last seconds and the rate "
        "now, in-flight (received, not finished yet), acks, naks and redeliveries received (for "
        "core pools: ok, failed and dropped), and its state. A killed member's in-flight column "
        "shows what it held when it died: \u21ba for JetStream (redelivered to the others after "
        "the ack wait), \u2717 for core (lost). Rows marked external are subscribers in the same "
        "queue group on other connections; their count is what the server delivered to them.\n\n"
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
        "[ and ] switch between pools and groups.\n\n"
        "Dead letters: messages a JetStream consumer gave up on, because a message reached the "
        "consumer's max deliveries (every member nakked it or let its ack wait run out) or a "
        "member terminated it. The server says so in an advisory; jstui follows them from its "
        "start. For a watched deliver group or pull consumer, and for a JetStream pool, the "
        "last line under the table counts them and lists the newest by stream sequence with "
        "the start of the original payload (read from the stream without consuming it); D "
        "opens the newest, with \u201cpublish again\u201d. The Events pane lists them all."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_pool", "New pool"),
        Binding("g", "generate", "Load"),
        Binding("a", "add_member", "Add"),
        Binding("k", "kill_member", "Kill"),
        Binding("space", "pause_member", "Pause", key_display="space"),
        Binding("w", "watch_group", "Watch"),
        Binding("D", "open_dead_letter", "Dead letter"),
        Binding("x", "remove_member", "Remove member", show=False),
        Binding("e", "edit_member", "Edit member", show=False),
        Binding("s", "stop_pool", "Stop pool", show=False),
        Binding(
            "left_square_bracket", "cycle_pool(-1)", "Previous group", show=False, key_display="["
        ),
        Binding("right_square_bracket", "cycle_pool(1)", "Next group", show=False, key_display="]"),
    ]
    CHANGING_ACTIONS = frozenset({"new_pool", "generate", "add_member"})
    POOL_ACTIONS = frozenset(
        {"generate", "add_member", "kill_member", "pause_member", "remove_member", "edit_member"}
    )
    """Keys that act on a pool's members: not offered while a watched group is shown."""

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

    empty: var[bool] = var(True, toggle_class="-empty")
    """Nothing to list: the note on what was looked at replaces the picture."""
    showing: var[str] = var("")
    """What is shown under the list: "pool", "watch" or ""."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._startup_done = False
        self._waiting: dict[str, str] = {}
        """--workers options waiting for their stream, with what they wait for."""
        self.groups: list[GroupSummary] = []
        """What the last discovery found."""
        self.discovery_note = ""
        self.discovered = False
        self.watch_pending: str | None = None
        """A --watch NAME not resolved yet."""
        self._texts = ShownText()
        self._discovery: PeriodicPoll | None = None
        self._redraw_timer: Timer | None = None
        """Runs while jstui has pools: without them there is nothing to redraw between polls."""
        self.group_list = GroupList(id="workers-groups")
        self.pools = PoolPanel(self, self._style, id="workers-pool")
        """jstui's own pools, and the pool view."""
        self.watcher = WatchPanel(self, self._style, id="workers-watch")
        """The watch view: a group seen from outside."""

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="workers-waiting", markup=False)
        yield self.group_list
        yield EmptyNote(id="workers-empty", markup=False)
        yield self.pools
        yield self.watcher

    def on_mount(self) -> None:
        super().on_mount()
        self.watch_pending = self.host.settings.watch
        self.pools.changed = self._pools_changed
        self._discovery = PeriodicPoll(
            self,
            DISCOVERY_SECONDS,
            self._discover,
            description="group discovery",
            when=lambda: (
                self.session.status.state is ConnectionState.CONNECTED
                and (self.watch_pending is not None or self._visible())
            ),
            longest=DISCOVERY_LONGEST,
        )
        self._show_note()

    def on_show(self) -> None:
        # Brought to the front (small layout, maximized pane): look now, not up to 3 s later.
        if self._discovery is not None:
            self._discovery.wake()

    def _visible(self) -> bool:
        return not self.covered and self.region.area > 0

    # -- pools -------------------------------------------------------------------------------------

    @property
    def views(self) -> list[PoolView]:
        return self.pools.views

    @property
    def view(self) -> PoolView | None:
        return self.pools.view

    @property
    def pool(self) -> WorkerPool | None:
        view = self.pools.view
        return view.pool if view else None

    async def start_pool(self, spec: PoolSpec) -> WorkerPool:
        return await self.pools.start_pool(spec)

    def _pools_changed(self) -> None:
        """A pool started or stopped: list it (or not) and show the current one."""
        if self.pools.views and self._redraw_timer is None:
            self._redraw_timer = self.set_interval(1 / REDRAW_HZ, self.redraw)
        elif not self.pools.views and self._redraw_timer is not None:
            self._redraw_timer.stop()
            self._redraw_timer = None
            self.call_after_refresh(self.redraw)  # the last pool's rows go
        self.refresh_groups()
        view = self.pools.view
        if view is not None:
            self.group_list.select(pool_entry(view).key)
        self._show_selected()

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
        """Say, above the group list, which --workers pool waits and why (whatever else shows)."""
        if text:
            self._waiting[option] = text
        else:
            self._waiting.pop(option, None)
        lines = Text("\n").join(
            Text(sanitize(f"--workers {waiting}: {why}", max_len=300), style="bold")
            for waiting, why in self._waiting.items()
        )
        self.query_one("#workers-waiting", Static).update(lines)
        self.set_class(bool(self._waiting), "-waiting")

    # -- groups ------------------------------------------------------------------------------------

    async def _discover(self) -> bool:
        """Look for groups; False when the same ones were found (discovery then slows down)."""
        found = await discover_groups(self.session, self.host.observer)
        changed = not self.discovered or found != (self.groups, self.discovery_note)
        self.groups, self.discovery_note = found
        self.discovered = True
        self.refresh_groups()
        if self.watch_pending is not None:
            self._resolve_watch(self.watch_pending)
        return changed

    def entries(self) -> list[GroupEntry]:
        """jstui's pools first, then the groups seen on the server."""
        return [pool_entry(view) for view in self.pools.views] + [
            group_entry(summary) for summary in self.groups
        ]

    def refresh_groups(self) -> None:
        entries = self.entries()
        self.empty = not entries
        self.group_list.show(entries)
        self._show_note()
        if not self.showing and entries:
            self._show_selected()

    @on(DataTable.RowHighlighted, "#workers-groups")
    def _group_highlighted(self) -> None:
        self._show_selected()

    @on(DataTable.RowSelected, "#workers-groups")
    def _group_chosen(self) -> None:
        self._show_selected()
        target = "#workers-table" if self.showing == "pool" else "#watch-table"
        self.query_one(target, DataTable).focus()

    def _show_selected(self) -> None:
        """Show the entry under the group list's cursor below the list."""
        key = self.group_list.selected_key
        entry = self.group_list.entries.get(key or "")
        if entry is None:
            self.showing = ""
        elif key and key.startswith(POOL_PREFIX):
            names = [pool_entry(view).key for view in self.pools.views]
            if key in names:
                self.pools.current = names.index(key)
            self.showing = "pool"
            self.pools.redraw()
        elif entry.ref is not None:
            self.watcher.follow(entry.ref)
            self.showing = "watch"

    def watch_showing(self, showing: str) -> None:
        self.set_class(showing == "pool", "-pool")
        self.set_class(showing == "watch", "-watch")
        self.refresh_bindings()

    def show_group(self, ref: GroupRef, *, to_front: bool = True) -> None:
        """Show `ref` in the watch view and (`to_front`) bring the pane to the front."""
        entry = group_entry(GroupSummary(ref, 0, 0))
        if entry.key not in self.group_list.entries:  # (chosen from a discovery since replaced)
            self.groups.append(GroupSummary(ref, 0, 0))
            self.refresh_groups()
        self.group_list.select(entry.key)
        self._show_selected()
        if to_front:
            self.post_message(self.ShowRequested(self))

    def _resolve_watch(self, name: str) -> None:
        """--watch NAME: one match is watched, several open the chooser, none keeps waiting."""
        refs = match_groups(name, self.groups)
        if not refs:
            self._show_note()
            return
        self.watch_pending = None
        self.border_subtitle = ""
        self._show_note()
        # With --pane the user asked to start on one pane: the group is watched here (a question
        # about it opens over that pane) and the pane is not brought to the front.
        to_front = self.host.settings.start_pane is None
        if len(refs) == 1:
            self.show_group(refs[0], to_front=to_front)
            return
        chosen = [g for g in self.groups if g.ref in refs]
        if to_front:
            self.post_message(self.ShowRequested(self, then=partial(self._choose, name, chosen)))
        else:
            self._choose(name, chosen, to_front=False)

    def _choose(self, name: str, groups: list[GroupSummary], *, to_front: bool = True) -> None:
        from jstui.dialogs.group_chooser import GroupChooserScreen  # on first use (start-up)

        question = f"{name} fits {len(groups)} groups: which one?"
        screen = GroupChooserScreen("Watch a group", question, groups)
        self.app.push_screen(screen, partial(self._chosen, to_front=to_front))

    def _chosen(self, ref: GroupRef | None, *, to_front: bool = True) -> None:
        if ref is not None:
            self.show_group(ref, to_front=to_front)

    def action_watch_group(self) -> None:
        from jstui.dialogs.group_chooser import GroupChooserScreen  # on first use (start-up)

        if not self.groups:
            self._info(f"No group seen yet. {self._looked_at()}")
            return
        question = "Groups seen on the server (watching never joins them):"
        screen = GroupChooserScreen("Watch a group", question, self.groups)
        self.app.push_screen(screen, self._chosen)

    def _looked_at(self) -> str:
        source = sanitize(self.host.observer.describe(), max_len=200)
        note = sanitize(self.discovery_note, max_len=300)
        return f"Looked at: {source}." + (f" {note}" if note else "")

    def _show_note(self) -> None:
        """The note shown when no group is seen: --watch waiting, what was looked at and how to
        start a pool or run workers."""
        note = Text()
        if self.watch_pending is not None:
            waiting_for = f"waiting for group {sanitize(self.watch_pending, max_len=100)}"
            self.border_subtitle = waiting_for
            note.append(waiting_for + " (--watch)\n\n", style="bold")
        if self.discovered:
            note.append("No queue group, consumer or micro service seen. ", style="bold")
            note.append(self._looked_at() + "\n\n")
        note.append_text(empty_text())
        self._texts.set(self.query_one("#workers-empty", EmptyNote), note)

    # -- actions -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.offers(action):
            return False
        if action == "open_dead_letter":  # only when the group shown has one
            return self._shown_dead_letters() is not None
        # The member keys act on jstui's pools: while a group is watched they are not offered.
        return not (action in self.POOL_ACTIONS and self.showing == "watch")

    def _shown_dead_letters(self) -> DeadLetter | None:
        """The newest dead letter of the pool or group shown, if any."""
        if self.showing == "pool":
            return self.pools.dead.newest
        return self.watcher.dead.newest if self.showing == "watch" else None

    def action_open_dead_letter(self) -> None:
        from jstui.dialogs.advisory_detail import DeadLetterDetailScreen

        letter = self._shown_dead_letters()
        if letter is not None:
            screen = DeadLetterDetailScreen(self.host.dead_letters, letter, self.session)
            self.app.push_screen(screen)

    def _info(self, text: str) -> None:
        self.notify(sanitize(text, max_len=500), markup=False)

    def action_new_pool(self) -> None:
        self.pools.new_pool()

    def action_generate(self) -> None:
        self.pools.generate()

    def action_add_member(self) -> None:
        self.pools.add_member()

    def action_remove_member(self) -> None:
        self.pools.remove_member()

    def action_pause_member(self) -> None:
        self.pools.pause_member()

    def action_kill_member(self) -> None:
        self.pools.kill_member()

    def action_edit_member(self) -> None:
        self.pools.edit_member()

    def action_stop_pool(self) -> None:
        self.pools.stop_pool()

    def action_cycle_pool(self, step: int) -> None:
        """[ and ]: the previous or next entry of the group list."""
        table = self.group_list
        if table.row_count > 1:
            table.move_cursor(row=(table.cursor_row + step) % table.row_count)

    def palette_commands(self) -> list[SystemCommand]:
        return self.offered(
            [
                (
                    "watch_group",
                    self.palette_command(
                        "Watch a group\u2026",
                        "Watch a queue group, consumer or service without joining it (w)",
                        self.action_watch_group,
                    ),
                ),
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

    # -- drawing -----------------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"workers--{name}", partial=True)

    def redraw(self) -> None:
        """The 4 Hz timer while jstui has pools: their rows in the list and the pool shown move
        with every message; the watch view redraws on its own poll. Every pool's rates are
        ticked here, shown or not; hidden, the pane draws nothing, and the rows catch up when the
        pane is shown."""
        for view in self.pools.views:  # every pool, shown or not: a rate is that pool's own
            view.pool.tick()  # (one left unticked would show all it did meanwhile as one second)
        if not self.shown:
            return
        if self.pools.views:
            self.group_list.show(self.entries())
        if self.showing == "pool":
            self.pools.redraw()

    def watch_empty(self, empty: bool) -> None:
        if empty:
            self.call_after_refresh(self._focus_note)

    def _focus_note(self) -> None:
        """Nothing listed any more: the focused table was hidden, keep the pane's keys working."""
        note = self.query_one("#workers-empty", EmptyNote)
        focused = self.screen.focused
        if self.empty and focused not in (None, note) and self in focused.ancestors:
            note.focus()
