"""The Object stores pane: the account's object stores, and the selected store's objects, live.

Data flow: a `PeriodicPoll` lists the buckets every `POLL_SECONDS` (one paged list of the
streams, the `OBJ_*` ones kept) into the small buckets table. Each bucket's object count is read
once (its meta messages, `ObjectService.count_objects`) and again only when its stream's last
sequence moved; the selected bucket's count is its watch's. The bucket under the cursor (the
first one by default) has the one `ObjectWatch` running: moving the cursor stops the old watch
(its consumer deleted) and starts a new one, one switch at a time (`_switch_watch`). The watch
stores each object's latest meta inside the read loop and bumps its version; every
`DRAIN_SECONDS` while the pane is shown (`_drain`) a moved version redraws the objects table:
rows placed in name order in one step, changed cells written. Objects put, replaced or deleted by
any program appear that way, with no key pressed.

Put (p), get (g or Enter) and delete (d) work on the selected bucket and object; c creates a
bucket and D deletes one. Every change is one of `CHANGING_ACTIONS`: read-only mode neither
offers nor runs it, and the service refuses it anyway; a get changes nothing on the server and
stays. Destructive ones ask first, saying what goes. Every string from the server reaches the
screen through `sanitize`, as `Text`, never as markup.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.reactive import var
from textual.widgets import DataTable, Static

from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.errors import translate
from jstui.nats.objects.model import ObjectEntry, StoreSummary
from jstui.nats.objects.service import ObjectService
from jstui.nats.objects.watch import ObjectWatch
from jstui.nats.session import ConnectionStatus
from jstui.widgets.base import Pane, PeriodicPoll, jetstream_problem
from jstui.widgets.kv.keys import row_key_at_cursor
from jstui.widgets.kv.render import Column, cell, changed_cells, widest
from jstui.widgets.objects import questions
from jstui.widgets.objects.render import (
    OBJECT_COLUMNS,
    STORE_COLUMNS,
    object_cells,
    object_order,
    store_cells,
)
from jstui.widgets.table import LiveTable

POLL_SECONDS = 2.0
"""How often the bucket list (sizes, counts) is asked again."""
DRAIN_SECONDS = 0.2
"""How often a change the watch heard is drawn: five redraws a second at most."""

EMPTY_HINT = (
    "No object stores on this server yet.\n\n"
    "Press c to create one (name, TTL, max bytes, storage). Stores created by other programs "
    "(nats object add, nats-py create_object_store...) appear here by themselves."
)

NO_OBJECTS_HINT = "No objects in this store yet: press p to put a file."
NO_OBJECTS_READ_ONLY = "No objects in this store yet."


def show_rows(
    table: LiveTable[Text],
    columns: Sequence[Column],
    before: dict[str, tuple[str, ...]],
    after: dict[str, tuple[str, ...]],
) -> None:
    """Make `table` hold `after`'s rows in its order, writing only the cells that changed."""
    table.place_rows(
        list(after), lambda key: [cell(c, v) for c, v in zip(columns, after[key], strict=True)]
    )
    if changes := changed_cells(columns, before, after):
        table.update_cells(changes)
    table.set_widths(widest(columns, after.values()))


class ObjectsPane(Pane):
    """Object stores and the selected store's objects, live, with put / get / delete."""

    PANE_TITLE = "Object stores"
    PANE_HELP = (
        "The upper table lists the object stores of the account: description, objects, bytes "
        "stored (chunks and meta), storage, replicas (R), whether the store is sealed, and the "
        "TTL (how long an object lives). The lower table shows the selected store's objects, "
        "live: name, size, chunks, the start of the SHA-256 digest (as sha256sum prints it), "
        "when it was modified, its description and, for a link, where it points. Objects put or "
        "deleted by other programs appear as it happens. Tab moves between the tables; the store "
        "under the cursor is the one shown. p puts a file (the object's name defaults to the "
        "file's), g or Enter gets the selected object into a file (an existing file is replaced "
        "only after you confirm); both show a progress bar and the rate, stream the object chunk "
        "by chunk, and check the SHA-256 digest at the end. d deletes the selected object, c "
        "creates a store, D deletes the selected store with all its objects. Each destructive "
        "change asks first. With --read-only every change is refused; getting stays possible."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "put_object", "Put file"),
        Binding("g", "get_object", "Get"),
        Binding("d", "delete_object", "Delete"),
        Binding("c", "new_bucket", "New store", show=False),
        Binding("D", "delete_bucket", "Delete store", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
    ]
    CHANGING_ACTIONS = frozenset({"put_object", "delete_object", "new_bucket", "delete_bucket"})

    DEFAULT_CSS = """
    ObjectsPane #objects-buckets { height: auto; max-height: 8; }
    ObjectsPane #objects-list { height: 1fr; }
    ObjectsPane #objects-problem { display: none; color: $warning; height: auto; }
    ObjectsPane.-problem #objects-problem { display: block; }
    ObjectsPane #objects-empty { display: none; height: auto; padding: 1 2; color: $text-muted; }
    ObjectsPane.-empty #objects-empty { display: block; }
    ObjectsPane.-empty #objects-list { display: none; }
    ObjectsPane #objects-none { display: none; height: auto; padding: 0 2; color: $text-muted; }
    ObjectsPane.-no-objects #objects-none { display: block; }
    ObjectsPane.-no-objects #objects-list { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._service: ObjectService | None = None
        self.buckets: dict[str, StoreSummary] = {}
        self._bucket_cells: dict[str, tuple[str, ...]] = {}
        self._counts: dict[str, tuple[int, int]] = {}
        """Bucket -> (stream last sequence when counted, live objects then)."""
        self._object_cells: dict[str, tuple[str, ...]] = {}
        self.object_watch: ObjectWatch | None = None
        self._drawn_version = -1
        self._wanted: str | None = None
        self._watch_lock = asyncio.Lock()
        self._loaded = False
        self._poll: PeriodicPoll | None = None
        self._stopping: set[asyncio.Task[None]] = set()

    empty: var[bool] = var(False, toggle_class="-empty")
    problem: var[str] = var("")
    """What keeps the pane from being current (already sanitized)."""

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        for table_id, columns in (
            ("objects-buckets", STORE_COLUMNS),
            ("objects-list", OBJECT_COLUMNS),
        ):
            table: LiveTable[Text] = LiveTable(
                id=table_id, cursor_type="row", zebra_stripes=table_id == "objects-list"
            )
            for column in columns:
                table.add_column(cell(column, column.label), key=column.key)
            yield table
        yield Static(id="objects-problem", markup=False)
        yield Static(EMPTY_HINT, id="objects-empty", markup=False)
        yield Static(NO_OBJECTS_HINT, id="objects-none", markup=False)

    def on_mount(self) -> None:
        if self.host.settings.read_only:
            self.border_subtitle = "read-only: changes are refused"
            self.query_one("#objects-none", Static).update(NO_OBJECTS_READ_ONLY)
        self.problem = "connecting…"
        self._poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self._refresh_buckets,
            description="object stores",
            when=lambda: self._can_poll() and self.app.screen is self.screen,
        )
        self.interval_while_shown(DRAIN_SECONDS, self._drain)

    def on_unmount(self) -> None:
        watch, self.object_watch = self.object_watch, None
        self._wanted = None
        if watch is not None:
            # The pane is going: its consumer must not outlive it. The task is kept so that it
            # is not collected half-way.
            task = asyncio.get_running_loop().create_task(watch.stop())
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    @property
    def service(self) -> ObjectService:
        if self._service is None:
            self._service = ObjectService(self.session)
        return self._service

    @property
    def bucket_table(self) -> LiveTable[Text]:
        return self.query_one("#objects-buckets", LiveTable)

    @property
    def object_table(self) -> LiveTable[Text]:
        return self.query_one("#objects-list", LiveTable)

    @property
    def selected_bucket(self) -> str | None:
        return self._wanted

    def selected_object(self) -> ObjectEntry | None:
        watch = self.object_watch
        subject = row_key_at_cursor(self.object_table)
        if watch is None or subject is None:
            return None
        return watch.entries.get(subject)

    # -- buckets -------------------------------------------------------------------------------

    def connection_changed(self, status: ConnectionStatus) -> None:
        self.problem = jetstream_problem(status, "the tables show")
        if not self.problem:
            self.refresh_now()

    def _can_poll(self) -> bool:
        return self.session.connected and self.session.status.jetstream

    def refresh_now(self) -> None:
        if self._poll is not None:
            self._poll.wake()

    def action_refresh_now(self) -> None:
        self.refresh_now()

    async def _refresh_buckets(self) -> None:
        try:
            listed = await self.service.buckets()
        except Exception as error:  # keep the pane alive; say what it was
            self.problem = f"cannot list object stores: {sanitize(str(translate(error)))}"
            return
        if self.problem.startswith("cannot list"):
            self.problem = ""
        self.apply_buckets(listed)
        for store in listed:
            counted = self._counts.get(store.name)
            if store.name == self._wanted or (counted and counted[0] == store.last_seq):
                continue
            try:
                count = await self.service.count_objects(store.name)
            except Exception:  # the count stays "…" and is tried again next poll
                continue
            self._counts[store.name] = (store.last_seq, count)
            self.apply_buckets(list(self.buckets.values()))

    def _object_count(self, name: str) -> int | None:
        watch = self.object_watch
        if name == self._wanted and watch is not None and watch.bucket == name:
            return len(watch.entries) if watch.caught_up.is_set() else None
        counted = self._counts.get(name)
        return counted[1] if counted else None

    def apply_buckets(self, listed: list[StoreSummary]) -> None:
        """Show `listed` (every bucket, by name) and keep the cursor on its bucket."""
        table = self.bucket_table
        self.buckets = {store.name: store for store in listed}
        cells = {store.name: store_cells(store, self._object_count(store.name)) for store in listed}
        with self.app.batch_update():
            show_rows(table, STORE_COLUMNS, self._bucket_cells, cells)
            self._bucket_cells = cells
            self._loaded = True
            self.empty = not cells
            if self._wanted in cells:
                index = table.get_row_index(self._wanted)
                if table.cursor_row != index:
                    table.move_cursor(row=index)
            else:
                self._select_bucket(row_key_at_cursor(table))

    @on(DataTable.RowHighlighted, "#objects-buckets")
    def _bucket_highlighted(self) -> None:
        if self._loaded:
            self._select_bucket(row_key_at_cursor(self.bucket_table))

    def _select_bucket(self, name: str | None) -> None:
        if name != self._wanted:
            self._wanted = name
            self._switch_watch()

    # -- the watch -----------------------------------------------------------------------------

    @work(group="objects-watch", exit_on_error=False, description="switch object watch")
    async def _switch_watch(self) -> None:
        async with self._watch_lock:
            wanted = self._wanted
            current = self.object_watch
            if current is not None and current.bucket == wanted:
                return
            if current is not None:
                self.object_watch = None
                await current.stop()
            self._drawn_version = -1
            self._draw_objects({})
            if wanted is None:
                return
            watch = ObjectWatch(self.session, wanted)
            try:
                await watch.start()
            except Exception as error:
                await watch.stop()
                self.problem = f"cannot watch {sanitize(wanted)}: {sanitize(str(translate(error)))}"
                return
            if self._wanted != wanted:
                await watch.stop()  # the user moved on meanwhile; the next switch follows
                return
            if self.problem.startswith("cannot watch"):
                self.problem = ""
            self.object_watch = watch
            self._drain()

    def _drain(self) -> None:
        """Redraw the objects when the watch heard a change since the last tick."""
        watch = self.object_watch
        if watch is None:
            self._show_title()
            return
        if watch.error and not self.problem:
            # The consumer went (bucket deleted, server lost it) and cannot be made again yet.
            self.problem = f"watching objects: {sanitize(watch.error)}"
        elif not watch.error and self.problem.startswith("watching objects"):
            self.problem = ""
        if watch.version != self._drawn_version:
            self._drawn_version = watch.version
            self._draw_objects(watch.entries)
            store = self.buckets.get(watch.bucket)
            if store is not None and watch.caught_up.is_set():
                # Known without asking: the count stays when the cursor moves to another bucket.
                self._counts[watch.bucket] = (store.last_seq, len(watch.entries))
            if watch.bucket in self.buckets:
                self.apply_buckets(list(self.buckets.values()))

    def _draw_objects(self, entries: dict[str, ObjectEntry]) -> None:
        table = self.object_table
        chosen = row_key_at_cursor(table)
        cells = {subject: object_cells(entries[subject]) for subject in object_order(entries)}
        with self.app.batch_update():
            show_rows(table, OBJECT_COLUMNS, self._object_cells, cells)
            self._object_cells = cells
            watch = self.object_watch
            caught_up = watch is not None and watch.caught_up.is_set()
            self.set_class(caught_up and not cells, "-no-objects")
            if chosen in cells:
                index = table.get_row_index(chosen)
                if index != table.cursor_row:
                    table.move_cursor(row=index, scroll=False)
            self._show_title()

    def _show_title(self) -> None:
        parts = [f"{self.number} {self.PANE_TITLE}"]
        bucket, watch = self._wanted, self.object_watch
        if bucket is not None:
            parts.append(sanitize(bucket, max_len=60))
            loading = watch is None or not watch.caught_up.is_set()
            count = format_count(len(watch.entries)) if watch is not None else "0"
            noun = "object" if watch is not None and len(watch.entries) == 1 else "objects"
            parts.append(f"{count} {noun}" + (" (loading…)" if loading else ""))
        title = " · ".join(parts)
        if title != self.border_title:
            self.border_title = title

    @on(DataTable.RowSelected, "#objects-list")
    def _object_chosen(self) -> None:
        self.action_get_object()

    def watch_problem(self, text: str) -> None:
        self.set_class(bool(text), "-problem")
        with contextlib.suppress(NoMatches):
            self.query_one("#objects-problem", Static).update(Text(text))

    # -- actions -------------------------------------------------------------------------------

    def palette_commands(self) -> list[SystemCommand]:
        offers = (
            ("put_object", "Put file", "Put a file into the selected object store (p)"),
            ("get_object", "Get object", "Get the selected object into a file (g)"),
            ("delete_object", "Delete object", "Delete the selected object (d)"),
            ("new_bucket", "New object store", "Create an object store (Object stores, c)"),
            ("delete_bucket", "Delete object store", "Delete the selected store (D)"),
        )
        return self.offered_actions(offers)

    def _need_bucket(self) -> str | None:
        bucket = self.selected_bucket
        if bucket is None or bucket not in self.buckets:
            self.notify("Select an object store first (or press c to create one).", markup=False)
            return None
        return bucket

    def _need_object(self) -> tuple[str, ObjectEntry] | None:
        bucket = self._need_bucket()
        if bucket is None:
            return None
        entry = self.selected_object()
        if entry is None:
            self.notify("Select an object first (or press p to put a file).", markup=False)
            return None
        return bucket, entry

    def _done(self, message: str) -> None:
        self.notify(sanitize(message), markup=False)
        self.refresh_now()

    async def _confirmed(self, title: str, question: Text, label: str) -> bool:
        from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)

        screen = ConfirmScreen(title, question, confirm_label=label)
        confirmed: bool = await self.app.push_screen_wait(screen)
        return confirmed

    def _not_sealed(self, bucket: str, action: str) -> bool:
        """False (and said why) for a sealed store: the server refuses every change to it."""
        if self.buckets[bucket].sealed:
            self.report_error(f"{action}: object store {bucket} is sealed, nothing can change")
            return False
        return True

    def action_put_object(self) -> None:
        bucket = self._need_bucket()
        if bucket is not None and self.writable("put object") and self._not_sealed(bucket, "put"):
            self._put_object(bucket)

    @work(group="objects-action", exit_on_error=False, description="put object")
    async def _put_object(self, bucket: str) -> None:
        from jstui.dialogs.object_transfer import ObjectPutScreen  # on first use (start-up)

        watch = self.object_watch
        existing = dict(watch.entries) if watch is not None and watch.bucket == bucket else {}
        stored = await self.app.push_screen_wait(ObjectPutScreen(self.service, bucket, existing))
        if stored is not None:
            self._done(f"Put {stored.name} into {bucket}")

    def action_get_object(self) -> None:
        chosen = self._need_object()
        if chosen is not None:
            from jstui.dialogs.object_transfer import ObjectGetScreen  # on first use (start-up)

            self.app.push_screen(ObjectGetScreen(self.service, chosen[1]))

    def action_delete_object(self) -> None:
        chosen = self._need_object()
        if (
            chosen is not None
            and self.writable("delete object")
            and self._not_sealed(chosen[0], "delete")
        ):
            self._delete_object(*chosen)

    @work(group="objects-action", exit_on_error=False, description="delete object")
    async def _delete_object(self, bucket: str, entry: ObjectEntry) -> None:
        question = questions.delete_object(bucket, entry)
        if await self._confirmed("Delete object", question, "Delete"):
            with self.reporting_errors():
                await self.service.delete_object(bucket, entry.name)
                self._done(f"Deleted object {entry.name}")

    def action_new_bucket(self) -> None:
        if self.writable("create object store"):
            self._new_bucket()

    @work(group="objects-action", exit_on_error=False, description="create object store")
    async def _new_bucket(self) -> None:
        from jstui.dialogs.object_store_form import ObjectStoreFormScreen  # on first use

        created = await self.app.push_screen_wait(ObjectStoreFormScreen(self.service))
        if created is not None:
            self._select_bucket(created.name)
            self._done(f"Created object store {created.name}")

    def action_delete_bucket(self) -> None:
        bucket = self._need_bucket()
        if bucket is not None and self.writable("delete object store"):
            self._delete_bucket(bucket)

    @work(group="objects-action", exit_on_error=False, description="delete object store")
    async def _delete_bucket(self, name: str) -> None:
        with self.reporting_errors():
            store = await self.service.bucket(name)
            question = questions.delete_bucket(store, self._object_count(name))
            if await self._confirmed("Delete object store", question, "Delete"):
                if self.selected_bucket == name:
                    self._select_bucket(None)  # the watch goes before its stream does
                await self.service.delete_bucket(name)
                self._counts.pop(name, None)
                self._done(f"Deleted object store {name}")
