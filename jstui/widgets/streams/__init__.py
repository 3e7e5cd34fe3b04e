"""The Streams pane (`pane`) and the pure builders of its rows and detail (`render`)."""

from jstui.widgets.streams.pane import StreamsPane

__all__ = ["StreamsPane"]
