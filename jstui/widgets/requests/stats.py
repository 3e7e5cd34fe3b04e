"""The Stats tab: one keyed row per subject with its first-reply latency percentiles (`StatsTable`),
and the latency graph of the subject under the cursor (`StatsView` holds both).

Data flow: the pane hands `StatsView.sync` the console while the tab shows; when the console's
version changed, rows whose count moved get their cells updated, new subjects are appended,
nothing else is touched.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Sparkline, Static

from jstui.format.text import sanitize
from jstui.format.units import counted
from jstui.nats.requests.console import RequestConsole
from jstui.nats.requests.record import format_latency
from jstui.nats.stats import LatencyStats
from jstui.widgets.requests.render import cell
from jstui.widgets.sparkline import spark

SPARK_SAMPLES = 12
GRAPH_SAMPLES = 120
STATS_COLUMNS = (
    ("subject", "subject"),
    ("count", "count"),
    ("p50", "p50"),
    ("p90", "p90"),
    ("p99", "p99"),
    ("max", "max"),
    ("latest", "spark"),
)
"""Label and key of each column."""


class StatsTable(DataTable[Text]):
    """Latency per subject; the row key is the subject."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.shown: dict[str, int] = {}
        """Subject -> the request count its row shows."""

    def on_mount(self) -> None:
        for label, key in STATS_COLUMNS:
            self.add_column(label, key=key)

    def forget(self) -> None:
        self.clear()
        self.shown.clear()

    @property
    def selected_subject(self) -> str | None:
        """The subject of the row under the cursor; None while the table is empty."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or ""

    def sync(self, stats_by_subject: Mapping[str, LatencyStats]) -> None:
        """Add the new subjects and update the rows whose count changed."""
        for subject, stats in stats_by_subject.items():
            shown = self.shown.get(subject)
            if shown == stats.count:
                continue
            cells = [
                cell(sanitize(subject, max_len=200)),
                cell(f"{stats.count:,}"),
                cell(format_latency(stats.p50)),
                cell(format_latency(stats.p90)),
                cell(format_latency(stats.p99)),
                cell(format_latency(stats.max)),
                cell(spark(stats.samples(SPARK_SAMPLES), SPARK_SAMPLES)),
            ]
            if shown is None:
                self.add_row(*cells, key=subject)
            else:
                for (_, column), new_cell in zip(STATS_COLUMNS[1:], cells[1:], strict=True):
                    self.update_cell(subject, column, new_cell)
            self.shown[subject] = stats.count


class StatsView(Vertical):
    """The Stats tab's content: the table, and under it the latency graph of its selected
    subject (redrawn when that subject or its count changed)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._version = -1
        """The console version the table shows."""
        self._stats: Mapping[str, LatencyStats] = {}
        self._graph_key: tuple[str, int] | None = None

    def compose(self) -> ComposeResult:
        yield StatsTable(id="requests-stats")
        yield Static("", id="requests-graph-title", markup=False)
        yield Sparkline([], id="requests-graph")

    def sync(self, console: RequestConsole) -> None:
        if console.version != self._version:
            self._version = console.version
            self._stats = console.stats
            self.query_one(StatsTable).sync(console.stats)
        self._sync_graph()

    def forget(self) -> None:
        self.query_one(StatsTable).forget()

    @on(DataTable.RowHighlighted, "#requests-stats")
    def _sync_graph(self) -> None:
        subject = self.query_one(StatsTable).selected_subject
        stats = None if subject is None else self._stats.get(subject)
        key = (subject, stats.count) if subject is not None and stats is not None else None
        if key == self._graph_key:
            return
        self._graph_key = key
        title = self.query_one("#requests-graph-title", Static)
        graph = self.query_one("#requests-graph", Sparkline)
        if subject is None or stats is None:
            title.update(Text("No latencies yet.", style="dim"))
            graph.data = []
            return
        samples = stats.samples(GRAPH_SAMPLES)
        title.update(
            Text.assemble(
                ("first-reply latency of ", "dim"),
                sanitize(subject, max_len=80),
                (f", last {counted(len(samples), 'request')}", "dim"),
                (f", max {format_latency(max(samples))}", "dim"),
            )
        )
        graph.data = samples
