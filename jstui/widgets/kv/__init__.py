"""The Key/Value pane (`pane`), what its keys table holds (`keys`) and the pure builders of its
rows (`render`).

`KvPane` is imported on first use, not with the package: the shared `BucketPane`
(jstui/widgets/bucket_pane.py) imports this package's table helpers, and the Object stores pane
imports `BucketPane` first; an eager import here would go round in a circle."""

from typing import TYPE_CHECKING, Any

__all__ = ["KvPane"]

if TYPE_CHECKING:
    from jstui.widgets.kv.pane import KvPane
else:

    def __getattr__(name: str) -> Any:
        if name == "KvPane":
            from jstui.widgets.kv.pane import KvPane

            return KvPane
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
