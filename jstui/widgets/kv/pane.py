"""The Key/Value pane: the account's buckets, and the selected bucket's keys on a live watch.

What it shares with the Object stores pane (the buckets table, its poll, switching the watch,
creating and deleting a bucket) is `BucketPane`, jstui/widgets/bucket_pane.py.

Data flow: a `PeriodicPoll` lists the buckets every `POLL_SECONDS` (one paged list of the
streams, the `KV_*` ones kept) into the small buckets table. The bucket under its cursor (the first
one by default) and the key pattern (`>`, or what `/` set: `a.*`, `a.>`) decide the one
`KeyWatch` running: a change of either stops the old watch (its consumer deleted) and starts a new
one, one switch at a time (`_switch_watch`). The watch stores each delivered entry by key inside
the read loop; the pane takes the changed keys every `DRAIN_SECONDS` while it is shown
(`_drain`): new keys are placed in key order in one step, changed rows in view get only their
changed cells written and rows out of view when they come into view (`HeldKeys`,
`LiveTable.update_cells`), so a burst of 10,000 keys or a steady stream of updates costs one
small redraw a tick. Ages are rewritten a few rows in view a tick. The keys table
(`KeysTable`) caches its rows whatever row the cursor is on. The cursor stays on its key.

Every change (put, edit, delete, purge, purge deleted keys, create and delete a bucket) is one of
`CHANGING_ACTIONS`: read-only mode neither offers nor runs it, and the service refuses it anyway.
Destructive ones ask first, saying what goes. An edit puts with the revision the table showed
when the form opened, so a change made elsewhere since is never overwritten (the form says so).
Every string from the server reaches the screen through `sanitize`, as `Text`, never as markup.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.reactive import var
from textual.widgets import DataTable, Input

from jstui.format.text import sanitize
from jstui.format.units import counted
from jstui.nats.errors import JstuiError
from jstui.nats.kv.model import BucketSummary, KeyEntry
from jstui.nats.kv.service import KvService, check_pattern
from jstui.nats.kv.watch import KeyWatch
from jstui.widgets.bucket_pane import BucketPane
from jstui.widgets.bucket_table import cell, row_key_at_cursor
from jstui.widgets.kv import questions
from jstui.widgets.kv.keys import HeldKeys, KeysTable
from jstui.widgets.kv.render import BUCKET_COLUMNS, KEY_COLUMNS, bucket_cells

if TYPE_CHECKING:
    from jstui.dialogs.kv_bucket_form import KvBucketFormScreen

DRAIN_SECONDS = 0.1
"""How often the keys the watch changed are drawn: ten redraws a second at most, whatever the
rate of changes."""
AGE_ROWS_PER_TICK = 2
"""Rows in view whose age is rewritten per drain tick. Drawing a row costs ~1 ms a cell here (five
cells), and every age in view changes each second: all at once, a screenful is a 40-row frame
that keys wait behind (p99 600 ms in benchmarks/kv.py); two a tick keep each frame small, and a
screenful's ages are still at most a few seconds behind."""

EMPTY_HINT = (
    "No key-value buckets on this server yet.\n\n"
    "Press c to create one (name, history, TTL, sizes). Buckets created by other programs "
    "(nats kv add, nats-py create_key_value...) appear here by themselves."
)


class KvPane(BucketPane[BucketSummary, KeyWatch, KvService]):
    """Buckets and the selected bucket's keys, live, with put / edit / delete / purge / history."""

    PANE_TITLE = "Key/Value"
    PANE_HELP = (
        "The upper table lists the key-value buckets of the account: keys (deleted keys count "
        "until their markers are purged), values stored (every kept revision), bytes, history "
        "(revisions kept per key), TTL (how long a value lives), max value size, storage, "
        "replicas (R) and compression. The lower table shows the selected bucket's keys, live: "
        "the value (JSON is recognised and shown compact, in colour), the revision, the "
        "operation (PUT, DEL for deleted, PURGE for purged) and the age. Changes made by other "
        "programs appear as they happen. Tab moves between the tables; the bucket under the "
        "cursor is the one shown. / filters keys by a pattern (a.* is one token under a, a.> "
        "everything under a), Escape shows every key again. Enter or h shows the selected key's "
        "history. n puts a new key (text, JSON checked before it is sent, or escaped bytes), e "
        "edits the selected key: the edit is saved only if nobody changed the key since the "
        "form opened, else the form says which revision is there now. d deletes the key (its "
        "history stays until purged), p purges it with its whole history, x removes every "
        "deleted key for good. c creates a bucket, D deletes the selected bucket with all its "
        "keys. Each destructive change asks first. With --read-only every change is refused."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_key", "Put"),
        Binding("e", "edit_key", "Edit"),
        Binding("d", "delete_key", "Delete"),
        Binding("p", "purge_key", "Purge"),
        Binding("h", "key_history", "History"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("x", "purge_deletes", "Purge deleted", show=False),
        Binding("c", "new_bucket", "New bucket", show=False),
        Binding("D", "delete_bucket", "Delete bucket", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
    ]
    CHANGING_ACTIONS = frozenset(
        {
            "new_key",
            "edit_key",
            "delete_key",
            "purge_key",
            "purge_deletes",
            "new_bucket",
            "delete_bucket",
        }
    )

    ID_PREFIX = "kv"
    EMPTY_HINT = EMPTY_HINT
    POLL_DESCRIPTION = "key-value buckets"
    SELECT_BUCKET_HINT = "Select a bucket first (or press c to create one)."
    BUCKET_COLUMNS = BUCKET_COLUMNS
    DRAIN_SECONDS = DRAIN_SECONDS

    DEFAULT_CSS = """
    KvPane #kv-keys { height: 1fr; }
    KvPane #kv-pattern { display: none; }
    KvPane.-empty #kv-keys { display: none; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.keys = HeldKeys()
        self._wanted: tuple[str | None, str] = (None, ">")
        self._selected_key: str | None = None
        self._age_turn = 0
        self._on_screen: set[str] = set()
        """The keys whose rows were on screen at the last drain."""

    pattern: var[str] = var(">")
    """The key pattern the watch follows (`>`: every key)."""

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._buckets_table()
        pattern = Input(
            placeholder="key pattern: a.*, a.>, Enter applies, Escape clears", id="kv-pattern"
        )
        pattern.disabled = True  # keys typed before / must not land in it
        yield pattern
        keys = KeysTable(id="kv-keys", cursor_type="row", zebra_stripes=True)
        keys.rows_in_view = self._write_keys
        for column in KEY_COLUMNS:
            keys.add_column(cell(column, column.label), key=column.key)
        yield keys
        yield from self._notes()

    def _make_service(self) -> KvService:
        return KvService(self.session)

    @property
    def key_watch(self) -> KeyWatch | None:
        return self.bucket_watch

    @property
    def key_table(self) -> KeysTable:
        return self.query_one("#kv-keys", KeysTable)

    @property
    def selected_bucket(self) -> str | None:
        return self._wanted[0]

    @property
    def selected_key(self) -> str | None:
        return self._selected_key

    # -- buckets -------------------------------------------------------------------------------

    def _bucket_row(self, bucket: BucketSummary) -> tuple[str, ...]:
        return bucket_cells(bucket)

    def _select_bucket(self, name: str | None) -> None:
        if name != self._wanted[0]:
            self._selected_key = None
            self._want(name, self.pattern)

    def _forget_wanted(self) -> None:
        self._wanted = (None, ">")

    # -- the watch -----------------------------------------------------------------------------

    def _want(self, bucket: str | None, pattern: str, *, again: bool = False) -> None:
        """Make the watch follow `pattern` in `bucket` (none: no watch); `again` restarts an
        equal one (after a purge of delete markers, which no watch hears)."""
        self._wanted = (bucket, pattern)
        self._switch_watch(again)

    def _follows(self, watch: KeyWatch) -> bool:
        return (watch.bucket, watch.pattern) == self._wanted

    def _new_watch(self) -> KeyWatch | None:
        bucket, pattern = self._wanted
        return KeyWatch(self.session, bucket, pattern) if bucket is not None else None

    def _clear_contents(self) -> None:
        self.keys.clear()
        self.keys.place(self.key_table)
        self._show_title()

    def _drain(self) -> None:
        """Draw what changed since the last tick: new keys placed in order, then the changed
        cells of the rows in view (a few of their ages among them)."""
        watch = self.bucket_watch
        if watch is None:
            return
        self._say_watch_error(watch)
        now = self.session.clocks.wall()
        if watch.changed:
            self.keys.take(watch.take_changes(), now)
        table = self.key_table
        with self.app.batch_update():
            if self.keys.place(table):
                self._keep_cursor()
            view = self._rows_in_view()
            # Rows new on screen (scrolled to, the pane shown again) are drawn anew anyway: their
            # ages are brought up to date now, not minutes old until their turn comes.
            arrived = [key for key in view if key not in self._on_screen]
            self._on_screen = set(view)
            self.keys.age(arrived, now, len(arrived))
            # Round the rows in view from where the last tick stopped: none waits for long.
            start = self._age_turn % max(len(view), 1)
            self._age_turn = start + self.keys.age(
                view[start:] + view[:start], now, AGE_ROWS_PER_TICK
            )
            for key in self.keys.changed():
                table.hold(key)  # written now when in view, else as it comes into view
            table.write_held()
            self.keys.size(table)
            self._show_title()

    @on(events.Hide)
    def _forget_screen(self) -> None:
        self._on_screen = set()  # shown again, every row on screen is new to it

    def _write_keys(self, keys: list[str]) -> None:
        if changes := self.keys.writes(keys):
            self.key_table.update_cells(changes)

    def _rows_in_view(self) -> list[str]:
        screen = self.key_table.rows_on_screen()
        return self.keys.order[screen.start : screen.stop]

    def _keep_cursor(self) -> None:
        table = self.key_table
        key = self._selected_key
        if key is not None and key in self.keys.entries:
            index = table.get_row_index(key)
            if index != table.cursor_row:
                table.move_cursor(row=index, scroll=False)
        else:
            self._selected_key = self._key_at_cursor()

    def _contents_summary(self, watch: KeyWatch | None) -> str:
        count = counted(len(self.keys.entries), "key")
        pattern = self._wanted[1]
        return count if pattern == ">" else f"keys {sanitize(pattern, max_len=60)} · {count}"

    def _key_at_cursor(self) -> str | None:
        return row_key_at_cursor(self.key_table)

    @on(DataTable.RowHighlighted, "#kv-keys")
    def _key_highlighted(self) -> None:
        self._selected_key = self._key_at_cursor()

    @on(DataTable.RowSelected, "#kv-keys")
    def _key_chosen(self) -> None:
        self.action_key_history()

    # -- pattern filter ------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#kv-pattern", Input)
        field.disabled = False
        field.display = True
        field.value = "" if self.pattern == ">" else self.pattern
        field.focus()

    @on(Input.Submitted, "#kv-pattern")
    def _pattern_submitted(self, event: Input.Submitted) -> None:
        try:
            pattern = check_pattern(event.value)
        except JstuiError as error:
            self.report_error(error, title="Key pattern")
            return
        self.pattern = pattern
        self.key_table.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#kv-pattern", Input)
        field.value = ""
        field.display = False
        field.disabled = True
        self.pattern = ">"
        self.key_table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            with contextlib.suppress(NoMatches):
                if not (self.pattern != ">" or self.query_one("#kv-pattern").display):
                    return False  # Escape keeps its meaning elsewhere
        return super().check_action(action, parameters)

    def watch_pattern(self, pattern: str) -> None:
        if self.is_mounted:
            self._want(self._wanted[0], pattern)

    # -- actions -------------------------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        offers = (
            ("new_key", "Put key", "Put a key into the selected bucket (Key/Value pane, n)"),
            ("edit_key", "Edit key", "Edit the selected key (Key/Value pane, e)"),
            ("key_history", "Key history", "Every kept revision of the key (Key/Value pane, h)"),
            ("new_bucket", "New bucket", "Create a key-value bucket (Key/Value pane, c)"),
            ("delete_bucket", "Delete bucket", "Delete the selected bucket (Key/Value pane, D)"),
            ("purge_deletes", "Purge deleted keys", "Remove deleted keys (Key/Value pane, x)"),
        )
        return self.offered_actions(offers)

    def selected_entry(self) -> KeyEntry | None:
        key = self._selected_key
        return self.keys.entries.get(key) if key is not None else None

    def _need_entry(self) -> tuple[str, KeyEntry] | None:
        bucket = self._need_bucket()
        entry = self.selected_entry()
        if bucket is None:
            return None
        if entry is None:
            self.notify("Select a key first (or press n to put one).", markup=False)
            return None
        return bucket, entry

    def action_new_key(self) -> None:
        bucket = self._need_bucket()
        if bucket is not None and self.writable("put key"):
            self._put_key(bucket, None)

    def action_edit_key(self) -> None:
        chosen = self._need_entry()
        if chosen is not None and self.writable("put key"):
            self._put_key(*chosen)

    @work(group="kv-action", exit_on_error=False, description="put key")
    async def _put_key(self, bucket: str, entry: KeyEntry | None) -> None:
        from jstui.dialogs.kv_put import KvPutScreen  # on first use (start-up)

        revision = await self.app.push_screen_wait(KvPutScreen(self.service, bucket, entry))
        if revision is not None:
            self._done(f"Stored revision {revision} in bucket {bucket}")

    def action_key_history(self) -> None:
        chosen = self._need_entry()
        if chosen is not None:
            from jstui.dialogs.kv_history import KvHistoryScreen  # on first use (start-up)

            bucket, entry = chosen
            self.app.push_screen(KvHistoryScreen(self.service, bucket, entry.key))

    def action_delete_key(self) -> None:
        chosen = self._need_entry()
        if chosen is not None and self.writable("delete key"):
            self._delete_key(*chosen)

    @work(group="kv-action", exit_on_error=False, description="delete key")
    async def _delete_key(self, bucket: str, entry: KeyEntry) -> None:
        question = questions.delete_key(bucket, entry.key)
        if await self._confirmed("Delete key", question, "Delete"):
            with self.reporting_errors():
                await self.service.delete(bucket, entry.key)
                self._done(f"Deleted key {entry.key}")

    def action_purge_key(self) -> None:
        chosen = self._need_entry()
        if chosen is not None and self.writable("purge key"):
            self._purge_key(*chosen)

    @work(group="kv-action", exit_on_error=False, description="purge key")
    async def _purge_key(self, bucket: str, entry: KeyEntry) -> None:
        with self.reporting_errors():
            revisions = len(await self.service.history(bucket, entry.key))
            question = questions.purge_key(bucket, entry.key, revisions)
            if await self._confirmed("Purge key", question, "Purge"):
                await self.service.purge(bucket, entry.key)
                self._done(f"Purged key {entry.key}")

    def action_purge_deletes(self) -> None:
        bucket = self._need_bucket()
        if bucket is not None and self.writable("purge deleted keys"):
            self._purge_deletes(bucket)

    @work(group="kv-action", exit_on_error=False, description="purge deleted keys")
    async def _purge_deletes(self, bucket: str) -> None:
        with self.reporting_errors():
            markers = await self.service.delete_markers(bucket)
            if not markers:
                self.notify(f"No deleted keys in {sanitize(bucket)}.", markup=False)
                return
            question = questions.purge_deletes(bucket, len(markers))
            if await self._confirmed("Purge deleted keys", question, "Purge"):
                count = await self.service.purge_deletes(bucket, markers)
                self._want(bucket, self.pattern, again=True)  # no watch hears a stream purge
                self._done(f"Removed {counted(count, 'deleted key')} from {bucket}")

    def _bucket_form(self) -> KvBucketFormScreen:
        from jstui.dialogs.kv_bucket_form import KvBucketFormScreen  # on first use (start-up)

        return KvBucketFormScreen(self.service)

    async def _delete_question(self, name: str) -> Text:
        return questions.delete_bucket(await self.service.bucket(name))
