"""`BucketPane`: what the Key/Value and Object stores panes share. Both show the account's buckets
(streams with a convention on top) in a small upper table and the contents of the one under its
cursor, live, through one watch, below.

Data flow: a `PeriodicPoll` lists the buckets every `POLL_SECONDS` (`service.buckets()`, one paged
list of the streams) into the buckets table (`apply_buckets`: rows placed in name order, changed
cells written, the cursor kept on its bucket). The bucket under the cursor (the first one by
default) is the one watched: a subclass decides what the watch follows (`_wanted`), makes it
(`_new_watch`) and draws it (`_drain`, every `DRAIN_SECONDS` while shown); `_switch_watch` stops
the old watch (its consumer deleted) and starts the new one, one switch at a time, so that no
consumer is left behind when the user moves fast. Creating and deleting a bucket (c, D) ask the
subclass for its form and its confirmation question; every change is one of `CHANGING_ACTIONS`
(read-only mode neither offers nor runs it) and every server string is shown through `sanitize`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import DataTable, Static

from jstui.format.text import sanitize
from jstui.nats.buckets import BucketService, BucketWatch
from jstui.nats.errors import translate
from jstui.nats.session import ConnectionStatus
from jstui.widgets.base import Pane, PeriodicPoll, jetstream_problem
from jstui.widgets.bucket_table import Column, cell, row_key_at_cursor, show_rows
from jstui.widgets.table import LiveTable

__all__ = ["POLL_SECONDS", "BucketPane"]

POLL_SECONDS = 2.0
"""How often the bucket list (sizes, counts) is asked again."""


class Named(Protocol):
    @property
    def name(self) -> str: ...


SummaryT = TypeVar("SummaryT", bound=Named)
WatchT = TypeVar("WatchT", bound=BucketWatch)
ServiceT = TypeVar("ServiceT", bound=BucketService[Any])


class BucketPane(Pane, Generic[SummaryT, WatchT, ServiceT]):
    """Buckets above, the selected bucket's contents below on a live watch (see the module)."""

    ID_PREFIX: ClassVar[str] = ""
    """Of the widget ids: `<ID_PREFIX>-buckets`, `<ID_PREFIX>-problem`."""
    BUCKET_NOUN: ClassVar[str] = "bucket"
    """As the user reads it: "create <noun>", "Deleted <noun> x"."""
    BUCKETS_NOUN: ClassVar[str] = "buckets"
    POLL_DESCRIPTION: ClassVar[str] = "buckets"
    CONTENTS_NOUN: ClassVar[str] = "keys"
    """What the watch follows, for "watching <noun>: <error>"."""
    SELECT_BUCKET_HINT: ClassVar[str] = ""
    BUCKET_COLUMNS: ClassVar[Sequence[Column]] = ()
    DRAIN_SECONDS: ClassVar[float] = 0.1
    EMPTY_HINT: ClassVar[str] = ""
    """Shown instead of the contents when the account has no bucket of this kind."""

    DEFAULT_CSS = """
    BucketPane .bucket-list { height: auto; max-height: 8; }
    BucketPane .bucket-problem { display: none; color: $warning; height: auto; }
    BucketPane.-problem .bucket-problem { display: block; }
    BucketPane .bucket-empty { display: none; height: auto; padding: 1 2; color: $text-muted; }
    BucketPane.-empty .bucket-empty { display: block; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._service: ServiceT | None = None
        self.buckets: dict[str, SummaryT] = {}
        self._bucket_cells: dict[str, tuple[str, ...]] = {}
        self.bucket_watch: WatchT | None = None
        self._watch_lock = asyncio.Lock()
        self._loaded = False
        self._poll: PeriodicPoll | None = None
        self._stopping: set[asyncio.Task[None]] = set()

    empty: var[bool] = var(False, toggle_class="-empty")
    problem: var[str] = var("")
    """What keeps the pane from being current (already sanitized)."""

    # -- what a subclass says ------------------------------------------------------------------

    def _make_service(self) -> ServiceT:
        raise NotImplementedError

    @property
    def selected_bucket(self) -> str | None:
        raise NotImplementedError

    def _select_bucket(self, name: str | None) -> None:
        raise NotImplementedError

    def _forget_wanted(self) -> None:
        """Want no watch any more, starting no switch (the pane is going)."""
        raise NotImplementedError

    def _bucket_row(self, bucket: SummaryT) -> tuple[str, ...]:
        raise NotImplementedError

    def _follows(self, watch: WatchT) -> bool:
        """Whether `watch` follows what `_wanted` asks for now."""
        raise NotImplementedError

    def _new_watch(self) -> WatchT | None:
        """The watch `_wanted` asks for (None: no bucket, no watch)."""
        raise NotImplementedError

    def _clear_contents(self) -> None:
        raise NotImplementedError

    def _drain(self) -> None:
        raise NotImplementedError

    def _contents_summary(self, watch: WatchT | None) -> str:
        """The title's part after the bucket's name: "12 keys"."""
        raise NotImplementedError

    def _bucket_form(self) -> Screen[Any]:
        raise NotImplementedError

    async def _delete_question(self, name: str) -> Text:
        raise NotImplementedError

    def _forget_bucket(self, name: str) -> None:
        """What the pane knew of a deleted bucket goes."""

    async def _after_listing(self, listed: list[SummaryT]) -> None:
        """More to read once the buckets are shown (object counts)."""

    # -- layout and life -----------------------------------------------------------------------

    def _buckets_table(self) -> LiveTable[Text]:
        """The upper table, one row a bucket."""
        table: LiveTable[Text] = LiveTable(
            id=f"{self.ID_PREFIX}-buckets", classes="bucket-list", cursor_type="row"
        )
        for column in self.BUCKET_COLUMNS:
            table.add_column(cell(column, column.label), key=column.key)
        return table

    def _notes(self) -> ComposeResult:
        """What keeps the pane from being current, and the hint of an account with no bucket."""
        yield Static(id=f"{self.ID_PREFIX}-problem", classes="bucket-problem", markup=False)
        yield Static(
            self.EMPTY_HINT, id=f"{self.ID_PREFIX}-empty", classes="bucket-empty", markup=False
        )

    # -- life ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.host.settings.read_only:
            self.border_subtitle = "read-only: changes are refused"
        self.problem = "connecting…"
        self._poll = PeriodicPoll(
            self,
            POLL_SECONDS,
            self._refresh_buckets,
            description=self.POLL_DESCRIPTION,
            when=lambda: self._can_poll() and not self.covered,
        )
        self.interval_while_shown(self.DRAIN_SECONDS, self._drain)

    def on_unmount(self) -> None:
        watch, self.bucket_watch = self.bucket_watch, None
        self._forget_wanted()
        if watch is not None:
            # The pane is going: its consumer must not outlive it (the server would keep it for
            # its inactive threshold). The task is kept so that it is not collected half-way.
            task = asyncio.get_running_loop().create_task(watch.stop())
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    @property
    def service(self) -> ServiceT:
        if self._service is None:
            self._service = self._make_service()
        return self._service

    @property
    def bucket_table(self) -> LiveTable[Text]:
        return self.query_one(f"#{self.ID_PREFIX}-buckets", LiveTable)

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
            listed: list[SummaryT] = await self.service.buckets()
        except Exception as error:  # keep the pane alive; say what it was
            self.problem = f"cannot list {self.BUCKETS_NOUN}: {sanitize(str(translate(error)))}"
            return
        if self.problem.startswith("cannot list"):
            self.problem = ""
        self.apply_buckets(listed)
        await self._after_listing(listed)

    def apply_buckets(self, listed: list[SummaryT]) -> None:
        """Show `listed` (every bucket, by name) and keep the cursor on its bucket."""
        table = self.bucket_table
        self.buckets = {bucket.name: bucket for bucket in listed}
        cells = {bucket.name: self._bucket_row(bucket) for bucket in listed}
        with self.app.batch_update():
            show_rows(table, self.BUCKET_COLUMNS, self._bucket_cells, cells)
            self._bucket_cells = cells
            self._loaded = True
            self.empty = not cells
            wanted = self.selected_bucket
            if wanted in cells:
                index = table.get_row_index(wanted)
                if table.cursor_row != index:
                    table.move_cursor(row=index)
            else:
                self._select_bucket(row_key_at_cursor(table))

    @on(DataTable.RowHighlighted)
    def _bucket_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._loaded and event.data_table.id == f"{self.ID_PREFIX}-buckets":
            self._select_bucket(row_key_at_cursor(self.bucket_table))

    # -- the watch -----------------------------------------------------------------------------

    @work(group="bucket-watch", exit_on_error=False, description="switch bucket watch")
    async def _switch_watch(self, again: bool = False) -> None:
        """Make the running watch the one `_wanted` asks for; `again` restarts an equal one."""
        async with self._watch_lock:
            current = self.bucket_watch
            if current is not None and self._follows(current) and not again:
                return
            if current is not None:
                self.bucket_watch = None
                await current.stop()
            self._clear_contents()
            watch = self._new_watch()
            if watch is None:
                return
            try:
                await watch.start()
            except Exception as error:
                await watch.stop()
                where = sanitize(watch.bucket)
                self.problem = f"cannot watch {where}: {sanitize(str(translate(error)))}"
                return
            if not self._follows(watch):
                await watch.stop()  # the user moved on meanwhile; the next switch follows
                return
            if self.problem.startswith("cannot watch"):
                self.problem = ""
            self.bucket_watch = watch
            self._drain()

    def _say_watch_error(self, watch: WatchT) -> None:
        """Say (or stop saying) that the watch's consumer is gone and cannot be made again yet
        (bucket deleted, server lost it)."""
        said = f"watching {self.CONTENTS_NOUN}"
        if watch.error and not self.problem:
            self.problem = f"{said}: {sanitize(watch.error)}"
        elif not watch.error and self.problem.startswith(said):
            self.problem = ""

    def _show_title(self) -> None:
        parts = [f"{self.number} {self.PANE_TITLE}"]
        bucket, watch = self.selected_bucket, self.bucket_watch
        if bucket is not None:
            parts.append(sanitize(bucket, max_len=60))
            loading = watch is None or not watch.caught_up.is_set()
            parts.append(self._contents_summary(watch) + (" (loading…)" if loading else ""))
        self.show_title(" · ".join(parts))

    def watch_problem(self, text: str) -> None:
        self.set_class(bool(text), "-problem")
        with contextlib.suppress(NoMatches):
            self.query_one(f"#{self.ID_PREFIX}-problem", Static).update(Text(text))

    # -- actions -------------------------------------------------------------------------------

    def _need_bucket(self) -> str | None:
        bucket = self.selected_bucket
        if bucket is None or bucket not in self.buckets:
            self.notify(self.SELECT_BUCKET_HINT, markup=False)
            return None
        return bucket

    def _done(self, message: str) -> None:
        self.notify(sanitize(message), markup=False)
        self.refresh_now()

    async def _confirmed(self, title: str, question: Text, label: str) -> bool:
        from jstui.dialogs.confirm import ConfirmScreen  # on first use (start-up)

        screen = ConfirmScreen(title, question, confirm_label=label)
        confirmed: bool = await self.app.push_screen_wait(screen)
        return confirmed

    def action_new_bucket(self) -> None:
        if self.writable(f"create {self.BUCKET_NOUN}"):
            self._new_bucket()

    @work(group="bucket-action", exit_on_error=False, description="create bucket")
    async def _new_bucket(self) -> None:
        created = await self.app.push_screen_wait(self._bucket_form())
        if created is not None:
            self._select_bucket(created.name)
            self._done(f"Created {self.BUCKET_NOUN} {created.name}")

    def action_delete_bucket(self) -> None:
        bucket = self._need_bucket()
        if bucket is not None and self.writable(f"delete {self.BUCKET_NOUN}"):
            self._delete_bucket(bucket)

    @work(group="bucket-action", exit_on_error=False, description="delete bucket")
    async def _delete_bucket(self, name: str) -> None:
        with self.reporting_errors():
            question = await self._delete_question(name)
            if await self._confirmed(f"Delete {self.BUCKET_NOUN}", question, "Delete"):
                if self.selected_bucket == name:
                    self._select_bucket(None)  # the watch goes before its stream does
                await self.service.delete_bucket(name)
                self._forget_bucket(name)
                self._done(f"Deleted {self.BUCKET_NOUN} {name}")
