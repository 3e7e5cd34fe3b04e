"""The Events pane (`pane`): JetStream advisories and dead letters; `render` builds its rows."""

from jstui.widgets.events.pane import EventsPane

__all__ = ["EventsPane"]
