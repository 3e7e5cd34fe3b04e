"""A one-line sparkline as text, for table cells: `spark()`. Where a widget is needed, use
Textual's own `textual.widgets.Sparkline`.

Both take per-second values (e.g. `RateMeter.history()` or `LatencyStats.history()`), oldest first,
and show the newest ones that fit, right-aligned, scaled to the largest value shown. Zero is a
blank cell so idle seconds read as gaps; any value above zero gets at least the lowest bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["BARS", "spark"]

BARS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
"""Eight block heights, lowest first."""


def spark(
    values: Sequence[float], width: int | None = None, *, maximum: float | None = None
) -> str:
    """The last `width` values as block characters (all of them when `width` is None).

    Scaled to `maximum` (default: the largest value shown). Negative, NaN and zero values are blank.
    The result is exactly `width` characters when `width` is given (left-padded with spaces).
    """
    shown = list(values if width is None else values[-width:] if width > 0 else [])
    top = maximum if maximum is not None else max((v for v in shown if v == v), default=0.0)
    cells = []
    for value in shown:
        if not (value > 0) or not math.isfinite(value) or top <= 0:
            cells.append(" ")
            continue
        level = min(len(BARS) - 1, max(0, math.ceil(value / top * len(BARS)) - 1))
        cells.append(BARS[level])
    line = "".join(cells)
    if width is not None and len(line) < width:
        line = " " * (width - len(line)) + line
    return line
