"""The suite's pilot names the widget that held it up (tests/stuck_widgets.py, installed by the
suite's conftest)."""

from __future__ import annotations

import asyncio

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import WaitForScreenTimeout
from textual.widgets import Static


class Stuck(Static, can_focus=True):
    def on_mount(self) -> None:
        self.released = asyncio.Event()

    async def on_key(self, event: events.Key) -> None:
        await self.released.wait()  # every message after the key waits for this


class StuckApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Stuck("stuck")


async def test_a_pilot_timeout_names_the_stuck_widget_and_where_it_waits() -> None:
    app = StuckApp()
    async with app.run_test() as pilot:
        app.query_one(Stuck).focus()
        await pilot.pause()
        await app._press_keys(["a"])
        with pytest.raises(WaitForScreenTimeout) as timed_out:
            await pilot._wait_for_screen(timeout=0.5)
        app.query_one(Stuck).released.set()  # (or the app could not close)
    said = str(timed_out.value)
    assert "Stuck(): 1 queued ['Callback']" in said, said
    assert "in on_key" in said and "locks.py" in said, said
