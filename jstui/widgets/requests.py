"""The Request/Reply pane."""

from __future__ import annotations

from jstui.widgets.base import ComingNextPane


class RequestsPane(ComingNextPane):
    PANE_TITLE = "Request/Reply"
    PANE_NUMBER = 3
    PANE_HELP = "Coming next: a console for core requests, scatter-gather and stored requests through a stream, with latencies and responders."
    NOTICE = (
        "Coming next in jstui: a console for core requests, scatter-gather and stored requests through a stream, with latencies and responders.\n\n"
        "Until then, use the Streams pane (key 1)."
    )
