"""The Streams pane (placeholder until the pane lands)."""

from __future__ import annotations

from jstui.widgets.base import ComingNextPane


class StreamsPane(ComingNextPane):
    PANE_TITLE = "Streams"
    PANE_NUMBER = 1
    NOTICE = "Streams pane."
