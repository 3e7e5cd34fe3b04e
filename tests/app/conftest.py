"""Fixtures for driving the real app with Pilot against the test server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.session import ConnectionState
from jstui.widgets.base import Pane

PaneT = TypeVar("PaneT", bound=Pane)

AppFactory = Callable[..., JstuiApp]


@pytest.fixture
def make_app(nats_url: str) -> AppFactory:
    """Build the app connected to the session server; keyword arguments override Settings fields."""

    def factory(**overrides: Any) -> JstuiApp:
        fields: dict[str, Any] = {"servers": (nats_url,), **overrides}
        return JstuiApp(Settings(**fields))

    return factory


async def wait_until(
    pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run until `predicate()` is true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)


async def wait_connected(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, JstuiApp)
    # Generous: on a loaded 2-core machine a server's start or a stalled disk has taken over 10 s.
    await wait_until(
        pilot,
        lambda: app.session.status.state is ConnectionState.CONNECTED,
        timeout=30,
        what="connection",
    )
    # the panes shown at start are built after the first frame, one per refresh
    await wait_until(pilot, lambda: app.dashboard.start_panes_built, timeout=30, what="the panes")
    await pilot.pause()


async def built_pane(pilot: Pilot[Any], pane_type: type[PaneT]) -> PaneT:
    """The dashboard's pane of `pane_type` once it is built and composed. Panes beyond the grid
    are built when first shown: right after the key that shows one, it may not exist yet."""
    app = pilot.app
    assert isinstance(app, JstuiApp)

    def composed() -> bool:
        found = app.dashboard.query(pane_type)
        return bool(found) and found.first().is_mounted and bool(found.first().children)

    await wait_until(pilot, composed, what=f"the {pane_type.__name__} built")
    await pilot.pause()
    return app.dashboard.query_one(pane_type)


def screen_text(app: App[Any]) -> str:
    """Everything visible on the active screen, as plain text: what the user reads."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def count_layouts(monkeypatch: pytest.MonkeyPatch, within: Widget) -> list[str]:
    """From now on, record each layout `within` or a widget inside it asks for (a layout reflows
    the whole screen: ~10 ms on the dashboard)."""
    layouts: list[str] = []
    refresh = Widget.refresh

    def counted(widget: Widget, *args: Any, **kwargs: Any) -> Widget:
        if kwargs.get("layout") and (widget is within or within in widget.ancestors):
            layouts.append(repr(widget))
        return refresh(widget, *args, **kwargs)

    monkeypatch.setattr(Widget, "refresh", counted)
    return layouts
