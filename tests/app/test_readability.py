"""Text jstui draws in its own colours stays readable in every built-in theme.

The feed lines' time and size used `$text-muted`, an "auto" colour: FeedLog reads its component
styles partially, where "auto" is never resolved against the background, so they came out white
in every theme (almost invisible on textual-light's light grey).
"""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.theme import BUILTIN_THEMES

from jstui.widgets.feeds.log import FeedLog
from tests.app.conftest import AppFactory, wait_connected, wait_until

MIN_CONTRAST = 3.0
"""WCAG's minimum for large text; secondary figures beside the payload must reach at least this."""
COLOURED_THEMES = [name for name in BUILTIN_THEMES if not name.startswith("ansi")]
"""The ansi themes leave colours to the terminal: nothing to measure."""


def _luminance(colour: Color) -> float:
    """WCAG relative luminance of an opaque colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.r) + 0.7152 * linear(colour.g) + 0.0722 * linear(colour.b)


def contrast(one: Color, other: Color) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("component", ["feed-log--time", "feed-log--meta"])
async def test_feed_line_time_and_size_are_readable_in_every_theme(
    make_app: AppFactory, component: str
) -> None:
    app = make_app(feeds=("readable.>",))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: bool(app.query(FeedLog)), what="the feed's log")
        log = app.query_one(FeedLog)
        unreadable = {}
        for name in COLOURED_THEMES:
            app.theme = name
            await pilot.pause()
            background = log.background_colors[1]
            style = log.get_component_rich_style(component, partial=True)
            assert style.color is not None and style.color.triplet is not None, name
            ratio = contrast(Color.from_rich_color(style.color), background)
            if ratio < MIN_CONTRAST:
                unreadable[name] = round(ratio, 1)
        assert not unreadable, f"{component} too faint in: {unreadable}"
