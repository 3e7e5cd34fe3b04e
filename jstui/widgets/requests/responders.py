"""The Responders tab's table: one keyed row per responder jstui runs, diffed on every redraw.

Data flow: the pane's 2 Hz timer hands it `ResponderManager.responders`; the table removes the rows
of responders that are gone, adds new ones and updates only the cells whose text changed (it keeps
the strings it shows, so nothing is re-measured when nothing changed).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

from jstui.nats.responders.running import Responder, ResponderState
from jstui.widgets.requests.render import cell, responder_values

RESPONDER_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("name", 12),
    ("subject", 18),
    ("answered", 8),
    ("mean", 8),
    ("state", 18),
    ("behaviour", None),
    ("mode", None),
    ("queue", None),
    ("stream/durable", None),
)
"""What a quarter of the screen shows first; the rest scrolls sideways (or press z)."""
_STATE = 4
"""Index of the state column, drawn in the error colour when a responder failed."""


class ResponderTable(DataTable[Text]):
    """jstui's responders with their counters; the row key is the responder's id."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._shown: dict[int, tuple[str, ...]] = {}

    def on_mount(self) -> None:
        for label, column_width in RESPONDER_COLUMNS:
            self.add_column(label, key=label, width=column_width)

    @property
    def selected_id(self) -> int | None:
        """The id of the responder under the cursor, if any."""
        if not self.row_count:
            return None
        return int(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or 0)

    def sync(self, responders: Mapping[int, Responder], error_style: str) -> None:
        """Make the rows match `responders`, touching only what changed."""
        for responder_id in [r for r in self._shown if r not in responders]:
            self.remove_row(str(responder_id))
            del self._shown[responder_id]
        for responder_id, responder in responders.items():
            values = responder_values(responder)
            shown = self._shown.get(responder_id)
            if shown == values:
                continue
            cells = [cell(value) for value in values]
            if responder.state is ResponderState.FAILED:
                cells[_STATE] = cell(values[_STATE], error_style)
            if shown is None:
                self.add_row(*cells, key=str(responder_id))
            else:
                for (column, _), new_cell, old, new in zip(
                    RESPONDER_COLUMNS, cells, shown, values, strict=True
                ):
                    if old != new:
                        self.update_cell(str(responder_id), column, new_cell)
            self._shown[responder_id] = values
