"""The Workers pane (`pane`) and the pure builders of its picture (`render`)."""

from jstui.widgets.workers.pane import WorkersPane

__all__ = ["WorkersPane"]
