"""The pane registry: the one list of the dashboard's panes, in the order of their number keys.

Adding a pane is adding one `PaneEntry` to `PANES` (a `Pane` subclass says its own title and
help). Everything else reads this list: the dashboard builds the panes from it and binds their
number keys, the compact switcher shows their short names, the app's palette offers "Go to
<title>" for each and the help lists their keys, and `--pane NAME` accepts their names.
"""

from __future__ import annotations

from dataclasses import dataclass

from jstui.widgets.base import Pane
from jstui.widgets.events import EventsPane
from jstui.widgets.feeds import FeedsPane
from jstui.widgets.requests import RequestsPane
from jstui.widgets.server import ServerPane
from jstui.widgets.streams import StreamsPane
from jstui.widgets.workers import WorkersPane

__all__ = ["PANES", "PaneEntry", "entry_named", "pane_names"]


@dataclass(frozen=True)
class PaneEntry:
    """One pane of the dashboard: `name` is what `--pane` takes (lower case, one word) and the
    pane's DOM id stem; `tab` is the short label of the compact switcher."""

    name: str
    pane_class: type[Pane]
    tab: str
    number: int = 0
    """The pane's number key; `PANES` numbers the entries 1, 2, ... in order."""

    @property
    def key(self) -> str:
        return str(self.number)

    @property
    def title(self) -> str:
        return self.pane_class.PANE_TITLE

    @property
    def dom_id(self) -> str:
        return f"{self.name}-pane"

    @property
    def palette_title(self) -> str:
        return f"Go to {self.title}"

    @property
    def palette_help(self) -> str:
        return f"Show the {self.title} pane (key {self.key})"

    def build(self) -> Pane:
        pane = self.pane_class(id=self.dom_id)
        pane.number = self.number
        return pane


def _numbered(*entries: PaneEntry) -> tuple[PaneEntry, ...]:
    """The entries with their number keys 1..9; names must be unique (a mistake fails at import)."""
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names) or len(entries) > 9:
        raise ValueError(f"pane names must be unique and at most 9 panes: {names}")
    return tuple(
        PaneEntry(entry.name, entry.pane_class, entry.tab, number)
        for number, entry in enumerate(entries, 1)
    )


PANES: tuple[PaneEntry, ...] = _numbered(
    PaneEntry("streams", StreamsPane, tab="Streams"),
    PaneEntry("feeds", FeedsPane, tab="Feeds"),
    PaneEntry("requests", RequestsPane, tab="Req/Reply"),
    PaneEntry("workers", WorkersPane, tab="Workers"),
    PaneEntry("server", ServerPane, tab="Server"),
    PaneEntry("events", EventsPane, tab="Events"),
)


def pane_names() -> list[str]:
    return [entry.name for entry in PANES]


def entry_named(name: str) -> PaneEntry:
    """The entry called `name` (any case); `ValueError` naming the valid names if none is."""
    wanted = name.strip().lower()
    for entry in PANES:
        if entry.name == wanted:
            return entry
    raise ValueError(f"unknown pane {name!r}; one of: {', '.join(pane_names())}")
