"""The Object stores pane (`pane`), the pure builders of its rows (`render`) and what it asks
before a destructive change (`questions`)."""

from jstui.widgets.objects.pane import ObjectsPane

__all__ = ["ObjectsPane"]
