"""The Workers pane (`pane`): the group list (`groups`), jstui's pools in the pool view (`pools`,
pictures by `render`) and any other group in the watch view (`watch`, pictures by
`watch_render`); `panel` holds what the two views share."""

from jstui.widgets.workers.pane import WorkersPane

__all__ = ["WorkersPane"]
