"""The Key/Value pane (`pane`), what its keys table holds (`keys`) and the pure builders of its
rows (`render`)."""

from jstui.widgets.kv.pane import KvPane

__all__ = ["KvPane"]
