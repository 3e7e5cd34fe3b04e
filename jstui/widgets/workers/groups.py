"""The group list at the top of the Workers pane: jstui's own pools and every group seen.

Data flow: the pane builds `GroupEntry`s from its pools (`pool_entry`) and from what
`discover_groups` found (`group_entry`), and hands them to `GroupList.show`, which brings its
keyed rows up to date (changed cells only) and keeps the cursor on the entry it was on. Moving
the cursor chooses the entry the pane shows below the list (the pane listens for
`DataTable.RowHighlighted`). Names and subjects came from the server: sanitized here.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from jstui.format.text import sanitize
from jstui.format.units import format_count
from jstui.nats.observe.groups import GroupRef, GroupSummary
from jstui.widgets.workers.panel import update_rows
from jstui.widgets.workers.render import SHORT_MODE, PoolView

POOL_KIND = "jstui pool"
KIND_WIDTH = 18
POOL_PREFIX = "pool:"
"""Row keys of jstui's pools; a discovered group's row key is its `GroupRef.key`."""


@dataclass(frozen=True)
class GroupEntry:
    """One row of the group list: a jstui pool (`ref` None) or a group seen on the server."""

    key: str
    kind: str
    title: str
    members: int
    delivered: int
    ref: GroupRef | None = None


def pool_entry(view: PoolView) -> GroupEntry:
    pool = view.pool
    queue = pool.deliver_group or pool.spec.queue
    title = f"{pool.spec.subject}@{queue} ({SHORT_MODE[pool.spec.mode]})"
    return GroupEntry(
        key=f"{POOL_PREFIX}{pool.name}",
        kind=POOL_KIND,
        title=title,
        members=len(pool.members),
        delivered=pool.totals().delivered,
    )


def group_entry(summary: GroupSummary) -> GroupEntry:
    ref = summary.ref
    return GroupEntry(ref.key, ref.kind.value, ref.title, summary.members, summary.delivered, ref)


def entry_cells(entry: GroupEntry) -> list[Text]:
    return [
        Text(entry.kind, no_wrap=True, overflow="ellipsis"),
        Text(sanitize(entry.title, max_len=300), style="bold", no_wrap=True, overflow="ellipsis"),
        Text(format_count(entry.members).rjust(7), no_wrap=True),
        Text(format_count(entry.delivered).rjust(10), no_wrap=True),
    ]


class GroupList(DataTable[Text]):
    """The group list: kind, group, members, delivered; the cursor chooses."""

    DEFAULT_CLASSES = "group-list"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", cell_padding=1, zebra_stripes=False)
        self.entries: dict[str, GroupEntry] = {}
        self._title_width = 0

    def _ensure_columns(self) -> None:
        # what the fixed columns, the cell padding (2 per column) and a scrollbar leave
        room = (self.size.width or 78) - KIND_WIDTH - 7 - 10 - 4 * 2 - 1
        title_width = max(12, room)
        if title_width != self._title_width:
            self._title_width = title_width
            self.clear(columns=True)
            self.add_column(Text("kind", style="bold"), key="kind", width=KIND_WIDTH)
            self.add_column(Text("group", style="bold"), key="title", width=title_width)
            self.add_column(Text("members".rjust(7), style="bold"), key="members", width=7)
            self.add_column(Text("delivered".rjust(10), style="bold"), key="delivered", width=10)

    def on_resize(self) -> None:
        if self.entries:
            self.show(list(self.entries.values()))

    def show(self, entries: list[GroupEntry]) -> None:
        """Bring the rows to `entries`, keeping the cursor on the entry it was on."""
        selected = self.selected_key
        self._ensure_columns()
        self.entries = {entry.key: entry for entry in entries}
        update_rows(self, {entry.key: entry_cells(entry) for entry in entries})
        if selected in self.entries:
            self.select(selected)

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

    def select(self, key: str) -> None:
        """Move the cursor to the entry `key` (nothing happens when it is not listed)."""
        if key in self.entries:
            index = self.get_row_index(key)
            if index != self.cursor_row:
                self.move_cursor(row=index)
