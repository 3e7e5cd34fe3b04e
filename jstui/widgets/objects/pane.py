"""The Object stores pane: the account's object stores, and the selected store's objects, live.

What it shares with the Key/Value pane (the buckets table, its poll, switching the watch,
creating and deleting a bucket) is `BucketPane`, jstui/widgets/bucket_pane.py.

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

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from jstui.format.units import format_count
from jstui.nats.objects.model import ObjectEntry, StoreSummary
from jstui.nats.objects.service import ObjectService
from jstui.nats.objects.watch import ObjectWatch
from jstui.widgets.bucket_pane import BucketPane
from jstui.widgets.bucket_table import cell, row_key_at_cursor, show_rows
from jstui.widgets.objects import questions
from jstui.widgets.objects.render import (
    OBJECT_COLUMNS,
    STORE_COLUMNS,
    object_cells,
    object_order,
    store_cells,
)
from jstui.widgets.table import LiveTable

if TYPE_CHECKING:
    from jstui.dialogs.object_store_form import ObjectStoreFormScreen

DRAIN_SECONDS = 0.2
"""How often a change the watch heard is drawn: five redraws a second at most."""

EMPTY_HINT = (
    "No object stores on this server yet.\n\n"
    "Press c to create one (name, TTL, max bytes, storage). Stores created by other programs "
    "(nats object add, nats-py create_object_store...) appear here by themselves."
)

NO_OBJECTS_HINT = "No objects in this store yet: press p to put a file."
NO_OBJECTS_READ_ONLY = "No objects in this store yet."


class ObjectsPane(BucketPane[StoreSummary, ObjectWatch, ObjectService]):
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

    ID_PREFIX = "objects"
    EMPTY_HINT = EMPTY_HINT
    BUCKET_NOUN = "object store"
    BUCKETS_NOUN = "object stores"
    POLL_DESCRIPTION = "object stores"
    CONTENTS_NOUN = "objects"
    SELECT_BUCKET_HINT = "Select an object store first (or press c to create one)."
    BUCKET_COLUMNS = STORE_COLUMNS
    DRAIN_SECONDS = DRAIN_SECONDS

    DEFAULT_CSS = """
    ObjectsPane #objects-list { height: 1fr; }
    ObjectsPane.-empty #objects-list { display: none; }
    ObjectsPane #objects-none { display: none; height: auto; padding: 0 2; color: $text-muted; }
    ObjectsPane.-no-objects #objects-none { display: block; }
    ObjectsPane.-no-objects #objects-list { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._counts: dict[str, tuple[int, int]] = {}
        """Bucket -> (stream last sequence when counted, live objects then)."""
        self._object_cells: dict[str, tuple[str, ...]] = {}
        self._drawn_version = -1
        self._wanted: str | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._buckets_table()
        objects: LiveTable[Text] = LiveTable(
            id="objects-list", cursor_type="row", zebra_stripes=True
        )
        for column in OBJECT_COLUMNS:
            objects.add_column(cell(column, column.label), key=column.key)
        yield objects
        yield from self._notes()
        yield Static(NO_OBJECTS_HINT, id="objects-none", markup=False)

    def on_mount(self) -> None:
        if self.host.settings.read_only:
            self.query_one("#objects-none", Static).update(NO_OBJECTS_READ_ONLY)
        super().on_mount()

    def _make_service(self) -> ObjectService:
        return ObjectService(self.session)

    @property
    def object_watch(self) -> ObjectWatch | None:
        return self.bucket_watch

    @property
    def object_table(self) -> LiveTable[Text]:
        return self.query_one("#objects-list", LiveTable)

    @property
    def selected_bucket(self) -> str | None:
        return self._wanted

    def selected_object(self) -> ObjectEntry | None:
        watch = self.bucket_watch
        subject = row_key_at_cursor(self.object_table)
        if watch is None or subject is None:
            return None
        return watch.entries.get(subject)

    # -- buckets -------------------------------------------------------------------------------

    async def _after_listing(self, listed: list[StoreSummary]) -> None:
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
        watch = self.bucket_watch
        if name == self._wanted and watch is not None and watch.bucket == name:
            return len(watch.entries) if watch.caught_up.is_set() else None
        counted = self._counts.get(name)
        return counted[1] if counted else None

    def _bucket_row(self, bucket: StoreSummary) -> tuple[str, ...]:
        return store_cells(bucket, self._object_count(bucket.name))

    def _select_bucket(self, name: str | None) -> None:
        if name != self._wanted:
            self._wanted = name
            self._switch_watch()

    def _forget_wanted(self) -> None:
        self._wanted = None

    # -- the watch -----------------------------------------------------------------------------

    def _follows(self, watch: ObjectWatch) -> bool:
        return watch.bucket == self._wanted

    def _new_watch(self) -> ObjectWatch | None:
        return ObjectWatch(self.session, self._wanted) if self._wanted is not None else None

    def _clear_contents(self) -> None:
        self._drawn_version = -1
        self._draw_objects({})

    def _drain(self) -> None:
        """Redraw the objects when the watch heard a change since the last tick."""
        watch = self.bucket_watch
        if watch is None:
            self._show_title()
            return
        self._say_watch_error(watch)
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
            watch = self.bucket_watch
            caught_up = watch is not None and watch.caught_up.is_set()
            self.set_class(caught_up and not cells, "-no-objects")
            if chosen in cells:
                index = table.get_row_index(chosen)
                if index != table.cursor_row:
                    table.move_cursor(row=index, scroll=False)
            self._show_title()

    def _contents_summary(self, watch: ObjectWatch | None) -> str:
        count = format_count(len(watch.entries)) if watch is not None else "0"
        noun = "object" if watch is not None and len(watch.entries) == 1 else "objects"
        return f"{count} {noun}"

    @on(DataTable.RowSelected, "#objects-list")
    def _object_chosen(self) -> None:
        self.action_get_object()

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

    def _need_object(self) -> tuple[str, ObjectEntry] | None:
        bucket = self._need_bucket()
        if bucket is None:
            return None
        entry = self.selected_object()
        if entry is None:
            self.notify("Select an object first (or press p to put a file).", markup=False)
            return None
        return bucket, entry

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

        watch = self.bucket_watch
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

    def _bucket_form(self) -> ObjectStoreFormScreen:
        from jstui.dialogs.object_store_form import ObjectStoreFormScreen  # on first use

        return ObjectStoreFormScreen(self.service)

    async def _delete_question(self, name: str) -> Text:
        store = await self.service.bucket(name)
        return questions.delete_bucket(store, self._object_count(name))

    def _forget_bucket(self, name: str) -> None:
        self._counts.pop(name, None)
