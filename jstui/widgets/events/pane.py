"""The Events pane: "what went wrong", from the JetStream advisories of the account.

Two views in tabs (t switches): **Advisories**, a live table of every advisory decoded (time,
kind, stream, consumer, sequence, deliveries, reason/action/leader), filterable with / and with
the API audit advisory hidden unless a is pressed; and **Dead letters**, one row per message a
consumer gave up on (max deliveries, or terminated), with its original subject and a payload
preview read from the stream by sequence without consuming. Enter opens the detail; p on a dead
letter opens the publish form prefilled with the original (a change: refused in --read-only).

Data flow: the `AdvisoryWatch` (the app's, `host.advisories`, or one the pane starts itself
when the host has none) appends to bounded deques on the message path. A 4 Hz timer looks at
its counter and, only when something arrived, adds the new rows (keyed; the oldest removed past
`MAX_ROWS`) and redraws the counters line. Newest rows go at the bottom, as in the Feeds pane:
rows are appended without re-sorting, and the table follows the newest row only while the
cursor is on the last one, so a row being read does not move. Originals of dead letters are
read by a `PeriodicPoll` through `DeadLetters` (`host.dead_letters`, or the pane's own) while
some are missing. Every string from the server is sanitized in `render`.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.css.query import NoMatches
from textual.events import Key
from textual.message import Message
from textual.reactive import var
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane, Tabs

from jstui.dialogs.advisory_detail import (
    AdvisoryDetailScreen,
    DeadLetterDetailScreen,
    publish_again_screen,
)
from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.errors import JstuiError
from jstui.nats.observe.advisories import Advisory, AdvisoryWatch, shown_of
from jstui.nats.observe.deadletters import DeadLetter, DeadLetters
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.widgets.base import Pane, PeriodicPoll
from jstui.widgets.events.render import (
    ADVISORY_COLUMNS,
    DEAD_LETTER_COLUMNS,
    advisory_cells,
    counts_text,
    dead_letter_cells,
)
from jstui.widgets.streams.render import Column, cell
from jstui.widgets.table import LiveTable

REDRAW_HZ = 4
FETCH_SECONDS = 1.0
MAX_ROWS = 500
"""Advisory rows the table holds at most (the watch keeps more; a filter searches them all)."""
ADVISORIES_TAB = "events-advisories"
DEAD_LETTERS_TAB = "events-dead-letters"
NO_DEAD_LETTERS = (
    "No dead letters yet. A message becomes one when a consumer reaches its max_deliver for it "
    "(never acknowledged in time) or a client terminates it (term)."
)


class FilterInput(Input):
    """The advisories filter; Escape clears it and gives the focus back to the table."""

    class Closed(Message):
        """Escape was pressed in the filter."""

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.value = ""
            self.post_message(self.Closed())


class EventsPane(Pane):
    """JetStream advisories as they come, and the dead letters among them."""

    PANE_TITLE = "Events"
    PANE_HELP = (
        "Events shows what the JetStream server announces about the account's streams and "
        "consumers (its advisories on $JS.EVENT.ADVISORY.>, no system account needed), and "
        "the messages consumers gave up on. t switches between the two views.\n\n"
        "Advisories: one row per event, newest at the bottom: time received, kind, stream, "
        "consumer, sequence, deliveries and what else it says (reason, action, leader). / "
        "filters on kind, stream and consumer; Enter shows the advisory's JSON. The line above "
        "counts them: received = shown or kept + api skipped + undecodable + dropped (the "
        "oldest, once 2,000 are kept). The kinds:\n"
        "  API: an audit of every JetStream API call, jstui's own polls included; counted but "
        "hidden unless a is pressed.\n"
        "  STREAM.CREATED / UPDATED / DELETED: a stream was created, its configuration "
        "changed, or it was deleted.\n"
        "  CONSUMER.CREATED / DELETED: a consumer was created or deleted.\n"
        "  CONSUMER.MAX_DELIVERIES: a message was delivered max_deliver times and never "
        "acknowledged: a dead letter.\n"
        "  CONSUMER.MSG_TERMINATED: a client terminated a message (term), so it is never "
        "delivered again: a dead letter.\n"
        "  CONSUMER.MSG_NAKED: a client asked for a message to be redelivered (nak).\n"
        "  STREAM.LEADER_ELECTED / CONSUMER.LEADER_ELECTED: a new leader in a cluster.\n"
        "  STREAM.QUORUM_LOST / CONSUMER.QUORUM_LOST: too few replicas are reachable.\n"
        "  CONSUMER.PAUSE: a consumer was paused or resumed.\n"
        "  STREAM.SNAPSHOT_* / RESTORE_*: a backup or restore started or finished.\n"
        "  SERVER.OUT_OF_RESOURCES: a server lacked storage or memory for JetStream.\n\n"
        "Dead letters: one row per max-deliveries or terminated advisory, with the original "
        "message's subject and the start of its payload, read from the stream by sequence "
        'without consuming it ("no longer in the stream" when limits, a purge or a work-queue '
        "ack removed it since). Enter shows the original's headers and payload; p opens the "
        "publish form filled with it (nothing is sent before you press Publish; refused with "
        "--read-only). Names, subjects and payloads are shown with control characters made "
        "visible."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "switch_view", "Advisories/Dead letters"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("a", "toggle_api", "API audit"),
        Binding("p", "publish_again", "Publish again"),
    ]
    CHANGING_ACTIONS = frozenset({"publish_again"})

    problem: var[str] = var("")
    """What keeps the views from being live (already sanitized); shown above the tabs."""
    filter_text: var[str] = var("", init=False)
    include_api: var[bool] = var(False, init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.watcher: AdvisoryWatch = AdvisoryWatch()
        """The app's watch, taken at mount (the app starts it once connected)."""
        self.letters: DeadLetters | None = None
        self._drawn_version = -1
        self._last_index = 0
        self._row_order: deque[int] = deque()
        self._advisory_rows: dict[int, Advisory] = {}
        self._letter_cells: dict[int, tuple[str, ...]] = {}
        self._letter_rows: dict[int, DeadLetter] = {}
        self._letters_version: tuple[int, int] = (-1, -1)
        self._fetches = 0
        self._poll: PeriodicPoll | None = None

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="events-problem", markup=False)
        with TabbedContent(id="events-tabs", initial=ADVISORIES_TAB):
            with TabPane("Advisories", id=ADVISORIES_TAB):
                yield Static(id="events-counts", markup=False)
                yield FilterInput(
                    placeholder="filter: part of a kind, stream or consumer",
                    id="events-filter",
                    compact=True,
                )
                yield self._table("events-table", ADVISORY_COLUMNS)
            with TabPane("Dead letters", id=DEAD_LETTERS_TAB):
                yield Static(NO_DEAD_LETTERS, id="dead-letters-note", markup=False)
                yield self._table("dead-letters-table", DEAD_LETTER_COLUMNS)

    @staticmethod
    def _table(table_id: str, columns: tuple[Column, ...]) -> LiveTable[Text]:
        table: LiveTable[Text] = LiveTable(id=table_id, cursor_type="row", zebra_stripes=True)
        for column in columns:
            table.add_column(
                Text(column.label, justify="right" if column.numeric else "left"), key=column.key
            )
        return table

    def on_mount(self) -> None:
        super().on_mount()
        # The tab strip stays out of the focus chain: the tables take the keys, t switches.
        self.query_one(Tabs).can_focus = False
        self.watcher = self.host.advisories
        self.letters = self.host.dead_letters
        self.include_api = self.watcher.include_api
        self.interval_while_shown(1 / REDRAW_HZ, self.redraw)
        self._poll = PeriodicPoll(
            self,
            FETCH_SECONDS,
            self._fetch_originals,
            description="dead letter originals",
            when=self._originals_missing,
        )
        self.redraw()

    @property
    def advisories_table(self) -> DataTable[Text]:
        return self.query_one("#events-table", DataTable)

    @property
    def dead_letters_table(self) -> LiveTable[Text]:
        return self.query_one("#dead-letters-table", LiveTable)

    @property
    def on_dead_letters(self) -> bool:
        return self.query_one(TabbedContent).active == DEAD_LETTERS_TAB

    # -- the connection ----------------------------------------------------------------------------

    def connection_changed(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED:
            self.problem = ""
        elif status.state is ConnectionState.RECONNECTING:
            self.problem = "reconnecting… advisories resume once connected"
        elif status.state is not ConnectionState.CONNECTING:
            self.problem = f"not connected ({status.state.value})"

    def watch_problem(self, text: str) -> None:
        self.set_class(bool(text), "-problem")
        with contextlib.suppress(NoMatches):
            self.query_one("#events-problem", Static).update(Text(text))

    # -- redrawing ---------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Add what arrived since the last call; nothing at all when nothing did."""
        if self.covered:
            return  # a dialog covers the pane: draw when it closes (the deques keep everything)
        if self.watcher.version != self._drawn_version:
            self._drawn_version = self.watcher.version
            with self.app.batch_update():
                self._add_advisories(self.watcher.since(self._last_index))
                self._show_counts()
        self._draw_dead_letters()

    def _add_advisories(self, new: list[Advisory]) -> None:
        """Add the rows of the advisories that arrived (those the filter and switch let through)."""
        if new:
            self._last_index = new[-1].index
        self._add_rows(shown_of(new, self.filter_text, include_api=self.include_api))

    def _add_rows(self, shown: list[Advisory]) -> None:
        """Append rows for `shown` (the newest `MAX_ROWS`), remove the oldest past `MAX_ROWS`."""
        shown = shown[-MAX_ROWS:]
        if not shown:
            return
        table = self.advisories_table
        follow = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        for advisory in shown:
            cells = advisory_cells(advisory)
            key = str(advisory.index)
            table.add_row(
                *(cell(c, v) for c, v in zip(ADVISORY_COLUMNS, cells, strict=True)), key=key
            )
            self._row_order.append(advisory.index)
            self._advisory_rows[advisory.index] = advisory
        while len(self._row_order) > MAX_ROWS:
            oldest = self._row_order.popleft()
            del self._advisory_rows[oldest]
            table.remove_row(str(oldest))
        if follow:
            table.move_cursor(row=table.row_count - 1, animate=False)

    def _rebuild_advisories(self) -> None:
        """Fill the table again from the watch's deque (after a filter or API switch change)."""
        table = self.advisories_table
        table.clear()
        self._row_order.clear()
        self._advisory_rows.clear()
        kept = self.watcher.advisories
        self._last_index = kept[-1].index if kept else 0
        self._drawn_version = self.watcher.version
        shown = self.watcher.matching(
            self.filter_text, include_api=self.include_api, limit=MAX_ROWS
        )
        with self.app.batch_update():
            self._add_rows(shown)
            self._show_counts()

    def _show_counts(self) -> None:
        text = counts_text(
            self.watcher.counts(),
            self.advisories_table.row_count,
            include_api=self.include_api,
            filter_text=self.filter_text,
        )
        self.query_one("#events-counts", Static).update(text, layout=False)

    def _draw_dead_letters(self) -> None:
        letters = self.letters
        if letters is None:
            return
        version = (self.watcher.dead_letters, self._fetches)
        if version == self._letters_version:
            return
        self._letters_version = version
        held = letters.dead_letters()
        table = self.dead_letters_table
        wanted = {letter.index: letter for letter in held}
        with self.app.batch_update():
            for index in [i for i in self._letter_cells if i not in wanted]:
                table.remove_row(str(index))
                del self._letter_cells[index]
            for letter in held:
                cells = dead_letter_cells(letter, letters.cached_original(letter))
                old = self._letter_cells.get(letter.index)
                if old is None:
                    table.add_row(
                        *(cell(c, v) for c, v in zip(DEAD_LETTER_COLUMNS, cells, strict=True)),
                        key=str(letter.index),
                    )
                elif old != cells:
                    row = str(letter.index)
                    table.update_cells(
                        [
                            (row, column.key, cell(column, after))
                            for column, before, after in zip(
                                DEAD_LETTER_COLUMNS, old, cells, strict=True
                            )
                            if before != after
                        ],
                        widen=True,  # grows to a wider value, never re-measures the column
                    )
                self._letter_cells[letter.index] = cells
            self._letter_rows = wanted
            self.set_class(bool(held), "-has-dead-letters")
            label = f"Dead letters ({format_count(len(held))})" if held else "Dead letters"
            self.query_one(TabbedContent).get_tab(DEAD_LETTERS_TAB).label = label
        if letters.missing() and self._poll is not None:
            self._poll.wake()

    def _originals_missing(self) -> bool:
        return (
            self.letters is not None
            and self.session.status.state is ConnectionState.CONNECTED
            and self.letters.missing() > 0
        )

    async def _fetch_originals(self) -> None:
        if self.letters is None:
            return
        try:
            await self.letters.fetch_missing()
        except JstuiError as error:
            self.problem = f"cannot read dead letters: {sanitize(str(error), max_len=200)}"
            return
        finally:
            self._fetches += 1
        self.problem = ""

    # -- the filter and the API switch -------------------------------------------------------------

    def watch_filter_text(self) -> None:
        self._rebuild_advisories()

    def watch_include_api(self, include: bool) -> None:
        self.watcher.include_api = include
        self._rebuild_advisories()

    def action_filter(self) -> None:
        self.query_one(TabbedContent).active = ADVISORIES_TAB
        self.add_class("-filtering")
        self.query_one("#events-filter", FilterInput).focus()

    @on(Input.Changed, "#events-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()

    @on(Input.Submitted, "#events-filter")
    def _filter_submitted(self) -> None:
        if not self.filter_text:
            self.remove_class("-filtering")
        self.advisories_table.focus()

    @on(FilterInput.Closed)
    def _filter_closed(self) -> None:
        self.filter_text = ""
        self.remove_class("-filtering")
        self.advisories_table.focus()

    def action_toggle_api(self) -> None:
        self.include_api = not self.include_api
        shown = "shown" if self.include_api else "hidden"
        self.notify(f"API audit advisories {shown}.", markup=False)

    # -- views, detail, publish again --------------------------------------------------------------

    def action_switch_view(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = ADVISORIES_TAB if self.on_dead_letters else DEAD_LETTERS_TAB

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        # Follow the switch with the focus only when the user is in this pane: the first
        # activation comes at mount, and taking the focus then would make this the current pane.
        focused = self.screen.focused
        if focused is not None and self in focused.ancestors_with_self:
            table = self.dead_letters_table if self.on_dead_letters else self.advisories_table
            table.focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.offers(action):
            return False
        if action == "publish_again" and self.is_mounted and not self.on_dead_letters:
            return None  # shown dimmed: it works on the Dead letters view
        return True

    @staticmethod
    def _key_at_cursor(table: DataTable[Text]) -> int | None:
        if table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return int(key) if key is not None else None

    @property
    def selected_advisory(self) -> Advisory | None:
        index = self._key_at_cursor(self.advisories_table)
        return self._advisory_rows.get(index) if index is not None else None

    @property
    def selected_dead_letter(self) -> DeadLetter | None:
        index = self._key_at_cursor(self.dead_letters_table)
        return self._letter_rows.get(index) if index is not None else None

    @on(DataTable.RowSelected, "#events-table")
    def _advisory_selected(self) -> None:
        advisory = self.selected_advisory
        if advisory is not None:
            self.app.push_screen(AdvisoryDetailScreen(advisory))

    @on(DataTable.RowSelected, "#dead-letters-table")
    def _dead_letter_selected(self) -> None:
        letter = self.selected_dead_letter
        if letter is not None and self.letters is not None:
            self.app.push_screen(DeadLetterDetailScreen(self.letters, letter, self.session))

    def action_publish_again(self) -> None:
        letter = self.selected_dead_letter if self.on_dead_letters else None
        if letter is None:
            self.notify("Select a dead letter first (t shows them).", markup=False)
            return
        with self.reporting_errors(title="Read-only"):
            self.session.check_writable("publish again")
            self._publish_again(letter)

    @work(group="events-publish", exit_on_error=False, description="publish a dead letter again")
    async def _publish_again(self, letter: DeadLetter) -> None:
        if self.letters is None:
            return
        with self.reporting_errors():
            original = await self.letters.original(letter)
            if original.message is None:
                problem = sanitize(original.problem, max_len=200)
                self.notify(f"Nothing to publish: the message is {problem}.", markup=False)
                return
            self.app.push_screen(publish_again_screen(self.session, original.message))

    def palette_commands(self) -> list[SystemCommand]:
        return self.offered(
            [
                (
                    "switch_view",
                    self.palette_command(
                        "Events: dead letters",
                        "Switch between advisories and dead letters (Events pane, t)",
                        self.action_switch_view,
                    ),
                ),
                (
                    "filter",
                    self.palette_command(
                        "Events: filter advisories",
                        "Filter advisories by kind, stream or consumer (Events pane, /)",
                        self.action_filter,
                    ),
                ),
                (
                    "toggle_api",
                    self.palette_command(
                        "Events: show or hide API audit",
                        "The advisory every JetStream API call makes (Events pane, a)",
                        self.action_toggle_api,
                    ),
                ),
                (
                    "publish_again",
                    self.palette_command(
                        "Events: publish dead letter again",
                        "Open the publish form with the selected dead letter (Events pane, p)",
                        self.action_publish_again,
                    ),
                ),
            ]
        )
