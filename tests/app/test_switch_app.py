"""Switching servers from the command palette (#15): "Connect to server…" and "Connect to
context…" move jstui to another server without a restart; the status line names it, the feeds
follow (messages published there appear, nothing more from the old server), jstui's consumers
on the old server are deleted, and a failed switch is said in the form with nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from textual.widgets import Input, OptionList

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.dialogs.connect_to import ConnectServerScreen, ContextChooserScreen
from jstui.nats.embedded import EmbeddedServer, free_port
from jstui.widgets.feeds import FeedsPane
from jstui.widgets.status import StatusLine
from tests.app.conftest import screen_text, wait_connected, wait_until


@pytest.fixture
def other_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with EmbeddedServer(store_dir=tmp_path / "other", server_name="jstui-other") as server:
        yield server


async def _palette(pilot: object, command: str) -> None:
    await pilot.press("ctrl+p")  # type: ignore[attr-defined]
    await pilot.press(*command)  # type: ignore[attr-defined]
    await pilot.pause(0.3)  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]


async def test_connect_to_server_moves_the_feeds_and_leaves_nothing_on_the_old_one(
    fresh_server: EmbeddedServer, other_server: EmbeddedServer, unique: str
) -> None:
    stream, js_subject, core_subject = unique, f"{unique}.s.>", f"{unique}.c"
    old_nc = await nats.connect(fresh_server.url)
    new_nc = await nats.connect(other_server.url)
    try:
        for nc in (old_nc, new_nc):
            await nc.jetstream().add_stream(name=stream, subjects=[js_subject])
        settings = Settings(servers=(fresh_server.url,), feeds=(js_subject, core_subject))
        app = JstuiApp(settings)
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            line = app.dashboard.query_one(StatusLine)
            feeds = app.dashboard.query_one(FeedsPane)
            await wait_until(pilot, lambda: len(feeds.views) == 2, what="two feeds")
            by_subject = {view.feed.spec.subject: view.feed for view in feeds.views}
            js_feed, core_feed = by_subject[js_subject], by_subject[core_subject]
            await wait_until(pilot, lambda: bool(js_feed.consumer), what="the consumer on A")
            assert len(await old_nc.jetstream().consumers_info(stream)) == 1

            observer = app.observer
            await _palette(pilot, "Connect to server")
            form = await _form(pilot, app)
            dead = f"nats://127.0.0.1:{free_port()}"
            form.query_one("#field-server", Input).value = dead
            await pilot.press("enter")
            await wait_until(
                pilot, lambda: "cannot connect" in screen_text(app), what="the failure said"
            )
            assert app.screen is form and app.session.status.url == fresh_server.url

            form.query_one("#field-server", Input).value = other_server.url
            form.query_one("#field-server", Input).focus()
            await pilot.press("enter")
            await wait_until(
                pilot,
                lambda: other_server.url in line.plain and "jstui-other" in line.plain,
                timeout=15,
                what="the status line names the new server",
            )
            assert app.screen is not form
            assert app.observer is observer  # the same object, held by panes and watches
            await wait_until(
                pilot, lambda: observer.status.account != "not asked yet", what="sources found"
            )
            assert await old_nc.jetstream().consumers_info(stream) == []  # jstui's are gone
            await old_nc.publish(f"{unique}.s.a", b"old")
            await old_nc.publish(core_subject, b"old")
            await new_nc.publish(f"{unique}.s.b", b"new")
            await new_nc.publish(core_subject, b"new")
            await wait_until(
                pilot,
                lambda: js_feed.count == 1 and core_feed.count == 1,
                what="B's messages in both feeds",
            )
            await app.session.nc.flush()
            assert [m.data for m in js_feed.buffer] == [b"new"]
            assert [m.data for m in core_feed.buffer] == [b"new"]
    finally:
        await old_nc.close()
        await new_nc.close()


async def _form(pilot: object, app: JstuiApp) -> ConnectServerScreen:
    await wait_until(
        pilot,  # type: ignore[arg-type]
        lambda: isinstance(app.screen, ConnectServerScreen),
        what="the form",
    )
    assert isinstance(app.screen, ConnectServerScreen)
    return app.screen


async def test_connect_to_context_lists_the_saved_ones(
    fresh_server: EmbeddedServer,
    other_server: EmbeddedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "config" / "nats" / "context"
    folder.mkdir(parents=True)
    (folder / "other.json").write_text(json.dumps({"url": other_server.url}))
    (folder / "broken.json").write_text("{not json")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    app = JstuiApp(Settings(servers=(fresh_server.url,)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        line = app.dashboard.query_one(StatusLine)
        await _palette(pilot, "Connect to context")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ContextChooserScreen), what="the list"
        )
        options = app.screen.query_one("#context-options", OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(2)] == [
            "broken",
            "other",
        ]
        await pilot.press("enter")  # "broken": said in the list, nothing changes
        await wait_until(pilot, lambda: "invalid JSON" in screen_text(app), what="said")
        assert app.session.status.url == fresh_server.url
        await pilot.press("down", "enter")
        await wait_until(
            pilot,
            lambda: "ctx: other" in line.plain and "jstui-other" in line.plain,
            timeout=15,
            what="the status line names the context",
        )
