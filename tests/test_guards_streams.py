"""Guards that need no timing, so later work cannot undo the Streams pane's speed silently.

`DataTable.update_cell(..., update_width=True)` makes Textual measure the cell again on idle and,
when it got narrower, every cell of its column: at 200 busy streams that was 86 % of the pane's
time. Column widths are computed by jstui from the strings it holds (`jstui.widgets.table`).
"""

from __future__ import annotations

import re
from pathlib import Path

import jstui

SOURCE = Path(jstui.__file__).resolve().parent
MEASURING_UPDATE = re.compile(r"update_width\s*=\s*True")


def test_no_cell_update_remeasures_its_column() -> None:
    offenders = [
        f"{path.relative_to(SOURCE.parent)}:{number}"
        for path in sorted(SOURCE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if MEASURING_UPDATE.search(line)
    ]
    assert not offenders, f"update_cell(..., update_width=True) re-measures columns: {offenders}"


def test_a_cursor_move_in_the_streams_pane_does_not_wake_the_list() -> None:
    """The highlight handler shows what the pane holds and wakes only the consumers' poll."""
    import inspect

    from jstui.widgets.streams.pane import StreamsPane

    for handler in (StreamsPane._row_highlighted, StreamsPane._select):
        source = inspect.getsource(handler)
        assert "refresh_now" not in source
        assert "_poll.wake" not in source.replace("_consumer_poll.wake", "")
