"""The Request/Reply pane (`pane`), its responders table and the pure builders of its text."""

from jstui.widgets.requests.pane import RequestsPane

__all__ = ["RequestsPane"]
