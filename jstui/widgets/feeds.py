"""The Feeds pane."""

from __future__ import annotations

from jstui.widgets.base import ComingNextPane


class FeedsPane(ComingNextPane):
    PANE_TITLE = "Feeds"
    PANE_NUMBER = 2
    PANE_HELP = "Coming next: live message feeds per subscription (core subjects and JetStream consumers), with rates, pause, filter and a detail view."
    NOTICE = (
        "Coming next in jstui: live message feeds per subscription (core subjects and JetStream consumers), with rates, pause, filter and a detail view.\n\n"
        "Until then, use the Streams pane (key 1)."
    )
