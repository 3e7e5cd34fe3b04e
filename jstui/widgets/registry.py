"""The pane registry: the one list of the dashboard's panes, in the order of their number keys.

Adding a pane is adding one `PaneEntry` to `PANES`: its name, title, tab label and the module and
class that implement it. The registry names the class without importing it, so that `--pane NAME`
is checked, the switcher drawn and the number keys bound without loading every pane (and, through
the panes, every dialog): `PaneEntry.build` imports a pane's module the first time that pane is
built, which the dashboard does when the pane is first shown. Everything else reads this list: the
dashboard builds the panes from it and binds their number keys, the compact switcher shows their
short names, the app's palette offers "Go to <title>" for each and the help lists their keys.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from jstui.widgets.base import Pane

__all__ = ["PANES", "PaneEntry", "entry_named", "pane_names"]


@dataclass(frozen=True)
class PaneEntry:
    """One pane of the dashboard: `name` is what `--pane` takes (lower case, one word) and the
    pane's DOM id stem; `title` is the pane's `PANE_TITLE` (a test keeps the two equal); `tab` is
    the short label of the compact switcher; `module` and `class_name` say where the pane lives."""

    name: str
    title: str
    tab: str
    module: str
    class_name: str
    number: int = 0
    """The pane's number key; `PANES` numbers the entries 1, 2, ... in order."""

    @property
    def key(self) -> str:
        return str(self.number)

    @property
    def pane_class(self) -> type[Pane]:
        """The pane's class, its module imported now if it was not yet."""
        return cast("type[Pane]", getattr(importlib.import_module(self.module), self.class_name))

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
        PaneEntry(entry.name, entry.title, entry.tab, entry.module, entry.class_name, number)
        for number, entry in enumerate(entries, 1)
    )


PANES: tuple[PaneEntry, ...] = _numbered(
    PaneEntry("streams", "Streams", "Streams", "jstui.widgets.streams", "StreamsPane"),
    PaneEntry("feeds", "Feeds", "Feeds", "jstui.widgets.feeds", "FeedsPane"),
    PaneEntry("requests", "Request/Reply", "Req/Rep", "jstui.widgets.requests", "RequestsPane"),
    PaneEntry("workers", "Workers", "Workers", "jstui.widgets.workers", "WorkersPane"),
    PaneEntry("server", "Server", "Server", "jstui.widgets.server", "ServerPane"),
    PaneEntry("events", "Events", "Events", "jstui.widgets.events", "EventsPane"),
    PaneEntry("consumers", "Consumers", "Consumers", "jstui.widgets.consumers", "ConsumersPane"),
    PaneEntry("kv", "Key/Value", "KV", "jstui.widgets.kv", "KvPane"),
    PaneEntry("objects", "Object stores", "Obj", "jstui.widgets.objects", "ObjectsPane"),
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
