"""The Workers pane."""

from __future__ import annotations

from jstui.widgets.base import ComingNextPane


class WorkersPane(ComingNextPane):
    PANE_TITLE = "Workers"
    PANE_NUMBER = 4
    PANE_HELP = "Coming next: a pool of queue-group workers and a live picture of how messages are spread among them."
    NOTICE = (
        "Coming next in jstui: a pool of queue-group workers and a live picture of how messages are spread among them.\n\n"
        "Until then, use the Streams pane (key 1)."
    )
