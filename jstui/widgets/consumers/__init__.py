"""The Consumers pane (`pane`) and the pure builders of its rows and detail (`render`)."""

from jstui.widgets.consumers.pane import ConsumersPane

__all__ = ["ConsumersPane"]
