"""The subjects of one stream with their message counts: a list, or a tree when there are many.

Data flow: `StreamService.subject_counts` (stream info with `subjects_filter`, paged; at most
`MAX_SUBJECTS` held) -> the filter (a piece of the subject, any case; applied `FILTER_DELAY` after
the last key, in a thread, the latest result wins) -> up to `LIST_MAX`
matching subjects fill a table (subject, messages), more become a `Tree` with one level per
subject token (`SubjectTree`: counts summed per node), whose nodes get their children only when
first expanded (`MAX_CHILDREN` at most per node, the rest counted in one line); a lone child
opens with its parent, so a common prefix (``sensors.building``) takes no keys. A node that is
itself a stored subject and has subjects below gets a leaf for its own messages.

The selected row or node is a subject filter: a leaf its subject, an inner node ``a.b.>``. `b` (or
Enter on a row or a leaf) opens the message browser filtered to it, `p` opens the purge dialog with
it filled in (then the count and the confirmation, as from the Streams pane, with its bucket
warning first: `confirm_first`); both come back here, and the counts are read again after a purge.
Every subject is sanitized for display and reaches input fields only in escaped form.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode

from jstui.dialogs.styles import DialogStyles
from jstui.format.columns import ColumnWidths
from jstui.format.text import sanitize
from jstui.format.units import counted, format_count
from jstui.nats.errors import JstuiError
from jstui.nats.session import Session
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.subjects import SubjectCounts, SubjectNode, SubjectTree, subject_contains

if TYPE_CHECKING:
    from jstui.dialogs.stream_browser import ConfirmFirst

LIST_MAX = 200
"""Up to this many matching subjects are a plain list; more are a tree."""
MAX_SUBJECTS = 200_000
"""Subjects read from the server at most (a stream may hold millions); the title says when cut."""
FILTER_DELAY = 0.25
"""Seconds without a key in the filter before it is applied."""
MAX_CHILDREN = 500
"""Children added to one tree node; the rest are counted in a last line (filter to narrow)."""


def _filtered(counts: Mapping[str, int], needle: str) -> tuple[dict[str, int], SubjectTree | None]:
    """The subjects `needle` lets through, and their tree when there are too many for a list."""
    if needle:
        matching = {s: n for s, n in counts.items() if subject_contains(s, needle)}
    else:
        matching = dict(counts)
    return matching, SubjectTree(matching) if len(matching) > LIST_MAX else None


def _label(name: str, messages: int, *, subjects: int = 0, style: str = "") -> Text:
    text = Text(sanitize(name, max_len=120), style=style)
    text.append(f"  {format_count(messages)}", style="bold")
    text.append(" msg" if messages == 1 else " msgs", style="dim")
    if subjects > 1:
        text.append(f" in {format_count(subjects)} subjects", style="dim")
    return text


class StreamSubjectsScreen(DialogStyles, Screen[None]):
    """The subjects of stream `name`, filterable; browse or purge the one selected."""

    DEFAULT_CSS = """
    StreamSubjectsScreen #subjects-title { height: auto; padding: 0 1; }
    StreamSubjectsScreen #subjects-filter { margin: 0 1; }
    StreamSubjectsScreen #subjects-error { height: auto; color: $error; padding: 0 1; }
    StreamSubjectsScreen #subjects-body { height: 1fr; }
    StreamSubjectsScreen #subjects-table, StreamSubjectsScreen #subjects-tree {
        height: 1fr; border: round $primary-darken-2;
    }
    StreamSubjectsScreen #subjects-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("b", "browse", "Browse"),
        Binding("p", "purge", "Purge"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(
        self, service: StreamService, name: str, *, confirm_first: ConfirmFirst | None = None
    ) -> None:
        super().__init__()
        self._service = service
        self._confirm_first = confirm_first
        """The pane's question before a purge or a change in the browser (a bucket behind)."""
        self.stream = name
        self.counts = SubjectCounts({}, 0)
        self.needle = ""
        self.as_tree = False
        """More than `LIST_MAX` subjects match: the tree shows, not the list."""
        self._loaded = False
        self.matching: dict[str, int] = {}
        """The subjects the filter lets through (those on screen), with their counts."""
        self.filter_passes = 0
        """Filter results shown so far (typing fast makes one, not one per key)."""
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="subjects-title")
        yield Input(placeholder="filter: part of a subject (any case)", id="subjects-filter")
        yield Static("", id="subjects-error", markup=False)
        with Container(id="subjects-body"):
            yield DataTable(id="subjects-table", cursor_type="row")
            tree: Tree[SubjectNode] = Tree(Text(sanitize(self.stream)), id="subjects-tree")
            tree.show_root = False
            yield tree
        yield Static(id="subjects-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#subjects-error").display = False
        self.query_one("#subjects-tree").display = False
        self._show_title()
        self.query_one("#subjects-table").focus()
        self.action_reload()

    # -- loading and showing -------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        error = self.query_one("#subjects-error", Static)
        error.update(Text(sanitize(message, max_len=500)))
        error.display = bool(message)

    @work(exclusive=True, group="subjects-load", exit_on_error=False, description="subjects")
    async def action_reload(self) -> None:
        try:
            self.counts = await self._service.subject_counts(self.stream, limit=MAX_SUBJECTS)
        except JstuiError as error:
            self._show_error(str(error))
            return
        self._show_error("")
        self._loaded = True
        self._apply_filter()

    @work(exclusive=True, group="subjects-filter", exit_on_error=False, description="filter")
    async def _apply_filter(self) -> None:
        """Filter (and build the tree) in a thread: 200,000 subjects take a third of a second.
        A newer filter cancels this one (exclusive), and a stale result is never shown."""
        needle, counts = self.needle, self.counts
        matching, tree = await asyncio.to_thread(_filtered, counts.counts, needle)
        if needle == self.needle and counts is self.counts:
            self.filter_passes += 1
            self.matching = matching
            self._show(tree)

    def _show_title(self, shown: int | None = None) -> None:
        title = Text()
        title.append("Subjects of ", style="bold")
        title.append(sanitize(self.stream), style="bold")
        if self._loaded:
            counts = self.counts
            title.append(
                f"  {counted(len(counts.counts), 'subject')}, {counted(counts.messages, 'message')}"
            )
            if counts.cut:
                title.append(f"  (the first of {format_count(counts.total)})", style="yellow")
            if shown is not None and self.needle:
                title.append(f"  {format_count(shown)} match the filter", style="dim")
        self.query_one("#subjects-title", Static).update(title)

    def _show(self, subjects: SubjectTree | None) -> None:
        matching = self.matching
        self.as_tree = subjects is not None
        table = self.query_one("#subjects-table", DataTable)
        tree: Tree[SubjectNode] = self.query_one("#subjects-tree", Tree)
        table.display, tree.display = not self.as_tree, self.as_tree
        with self.app.batch_update():
            if subjects is not None:
                self._fill_tree(tree, subjects)
            else:
                self._fill_table(table, matching)
        self._show_title(len(matching))
        status = "b or Enter: browse the subject  p: purge it  /: filter"
        if self.as_tree:
            status += "  (a tree: more than " + format_count(LIST_MAX) + " subjects; Space opens)"
        self.query_one("#subjects-status", Static).update(Text(status))
        if self.focused is not self.query_one("#subjects-filter"):
            (tree if self.as_tree else table).focus()

    def _fill_table(self, table: DataTable[Text], matching: dict[str, int]) -> None:
        # Widths from the strings shown, not measured by the table: DataTable measures new rows
        # when it next goes idle, and in CI that once left the subjects cut to the header's
        # seven cells ("te98b17") for 30 s.
        subjects = sorted(matching)
        names = [sanitize(subject, max_len=200) for subject in subjects]
        counts = [format_count(matching[subject]) for subject in subjects]
        widths = ColumnWidths(["Subject", "Messages"])
        for row in zip(names, counts, strict=True):
            widths.add(row)
        subject_width, messages_width = widths.widths()
        table.clear(columns=True)
        table.add_column("Subject", key="subject", width=subject_width)
        table.add_column(Text("Messages", justify="right"), key="messages", width=messages_width)
        for subject, name, count in zip(subjects, names, counts, strict=True):
            table.add_row(Text(name, no_wrap=True), Text(count, justify="right"), key=subject)

    def _fill_tree(self, tree: Tree[SubjectNode], subjects: SubjectTree) -> None:
        tree.clear()
        tree.root.data = subjects.root
        self._grow_node(tree.root, subjects.root)
        if len(tree.root.children) == 1:
            tree.root.children[0].expand()

    def _grow_node(self, parent: TreeNode[SubjectNode], node: SubjectNode) -> None:
        if node.own is not None and node.has_children:
            itself = SubjectNode(token=node.path, path=node.path, below={}, own=node.own)
            parent.add_leaf(_label(f"{node.path} itself", node.own, style="italic"), itself)
        children = node.sorted_children()
        for child in children[:MAX_CHILDREN]:
            label = _label(child.token, child.messages, subjects=child.subjects)
            if child.has_children:
                parent.add(label, child)
            else:
                parent.add_leaf(label, child)
        if len(children) > MAX_CHILDREN:
            rest = len(children) - MAX_CHILDREN
            parent.add_leaf(Text(f"... {format_count(rest)} more: filter to narrow", "dim"))

    @on(Tree.NodeExpanded, "#subjects-tree")
    def _expanded(self, event: Tree.NodeExpanded[SubjectNode]) -> None:
        node = event.node
        if node.data is not None and not node.children:
            self._grow_node(node, node.data)  # on first expansion only
        if len(node.children) == 1 and node.children[0].allow_expand:
            node.children[0].expand()  # a lone child (a common prefix): nothing to choose

    # -- what is selected ----------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        """The subject filter of the selected row or node (None: nothing, or the "more" line)."""
        if self.as_tree:
            node = self.query_one("#subjects-tree", Tree).cursor_node
            data = node.data if node is not None else None
            return data.wildcard if isinstance(data, SubjectNode) and data.path else None
        table = self.query_one("#subjects-table", DataTable)
        if not table.row_count:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return str(key) if key is not None else None

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "purge":  # read-only mode hides it, as the Streams pane hides its p
            session = getattr(self.app, "session", None)
            return not (isinstance(session, Session) and session.read_only)
        return True

    def action_close(self) -> None:
        if self.focused is self.query_one("#subjects-filter") and self.needle:
            self.query_one("#subjects-filter", Input).value = ""
            return
        self.dismiss(None)

    def action_filter(self) -> None:
        self.query_one("#subjects-filter", Input).focus()

    @on(Input.Changed, "#subjects-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value.strip()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        # Once the typing pauses: each pass over 200,000 subjects is work for nothing otherwise.
        self._filter_timer = self.set_timer(FILTER_DELAY, self._filter_typed)

    def _filter_typed(self) -> None:
        self._filter_timer = None
        if self._loaded:
            self._apply_filter()

    @on(Input.Submitted, "#subjects-filter")
    def _filter_submitted(self) -> None:
        if self._filter_timer is not None:  # Enter applies a pending filter without waiting
            self._filter_timer.stop()
            self._filter_typed()
        body = "#subjects-tree" if self.as_tree else "#subjects-table"
        self.query_one(body).focus()

    @on(DataTable.RowSelected, "#subjects-table")
    def _row_selected(self) -> None:
        self.action_browse()

    @on(Tree.NodeSelected, "#subjects-tree")
    def _node_selected(self, event: Tree.NodeSelected[SubjectNode]) -> None:
        if not event.node.allow_expand:  # a leaf; Enter on an inner node opens it
            self.action_browse()

    def _need_selection(self) -> str | None:
        subject = self.selected
        if subject is None:
            self.notify("Select a subject first.", markup=False)
        return subject

    def action_browse(self) -> None:
        from jstui.dialogs.stream_browser import StreamBrowserScreen  # on first use

        subject = self._need_selection()
        if subject is not None:
            browser = StreamBrowserScreen(
                self._service, self.stream, subject=subject, confirm_first=self._confirm_first
            )
            self.app.push_screen(browser)

    def action_purge(self) -> None:
        subject = self._need_selection()
        if subject is not None:
            self._purge(subject)

    @work(group="subjects-purge", exit_on_error=False, description="purge subject")
    async def _purge(self, subject: str) -> None:
        from jstui.dialogs.stream_purge import purge_with_confirmation  # on first use

        try:
            if self._confirm_first is not None:
                summary = await self._service.summary(self.stream)
                if not await self._confirm_first(summary, "purge"):
                    return
            purged = await purge_with_confirmation(
                self.app, self._service, self.stream, subject=subject
            )
        except JstuiError as error:
            self._show_error(f"purge: {error}")
            return
        if purged is not None:
            self.notify(f"Purged {counted(purged, 'message')}.", markup=False)
            self.action_reload()
