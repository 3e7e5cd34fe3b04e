"""A pane's border title is plain text: stream names and typed filters in it are never markup.

Textual reads a `str` border title as content markup: a stream named ``[@click=app.quit]x`` made
the title a link that quits jstui, and ``[/]`` typed into a filter raised `MarkupError`.
"""

from __future__ import annotations

from typing import Any

from jstui.widgets.consumers import ConsumersPane
from jstui.widgets.streams import StreamsPane
from tests.app.conftest import AppFactory, built_pane, screen_text, wait_connected, wait_until


async def test_pane_titles_show_names_and_filters_as_typed(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        streams = await built_pane(pilot, StreamsPane)
        hostile = "[@click=app.quit]x"
        streams.show_title(f"1 Streams · {hostile} [/]")
        title = f"1 Streams · {hostile} [/]"
        await wait_until(pilot, lambda: title in screen_text(app), what="the title as typed")
        await pilot.press("7")
        consumers: Any = await built_pane(pilot, ConsumersPane)
        consumers.show_title("7 Consumers · stream [b]bold[/b]")
        await wait_until(
            pilot, lambda: "stream [b]bold[/b]" in screen_text(app), what="the name as it is"
        )
        assert app.is_running
