"""The Server pane (`pane`), the pure builders of its rows and lines (`render`) and its rate meter
(`rates`)."""

from jstui.widgets.server.pane import ServerPane

__all__ = ["ServerPane"]
