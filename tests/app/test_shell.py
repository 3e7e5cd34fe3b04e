"""The dashboard shell: connection status, the four panes, layout keys, help, failures."""

from __future__ import annotations

from jstui.app import EXIT_CANNOT_CONNECT, JstuiApp
from jstui.config import Settings
from jstui.dialogs.connect_failed import ConnectFailedScreen
from jstui.dialogs.help import HelpScreen
from jstui.nats.embedded import free_port
from jstui.widgets.status import StatusLine
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until


async def test_status_line_shows_server_and_jetstream(make_app: AppFactory, nats_url: str) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        status = app.dashboard.query_one(StatusLine)
        await wait_until(pilot, lambda: "JS streams" in status.plain, what="JetStream usage")
        text = status.plain
        assert "connected" in text
        assert nats_url in text
        assert "jstui-test" in text
        assert "rtt" in text


async def test_all_four_panes_visible_on_a_large_terminal(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        panes = app.dashboard.panes
        assert [p.PANE_TITLE for p in panes] == ["Streams", "Feeds", "Request/Reply", "Workers"]
        for pane in panes:
            assert pane.region.width > 40 and pane.region.height > 10, pane.PANE_TITLE
        text = screen_text(app)
        for title in ("1 Streams", "2 Feeds", "3 Request/Reply", "4 Workers"):
            assert title in text


async def test_maximize_and_restore_with_one_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("2")
        feeds = app.dashboard.pane(2)
        await pilot.press("z")
        assert app.dashboard.maximized is feeds
        assert feeds.region.width >= 150
        await pilot.press("z")
        assert app.dashboard.maximized is None
        assert feeds.region.width < 100


async def test_small_terminal_shows_one_pane_at_a_time(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        visible = [p.PANE_TITLE for p in app.dashboard.panes if p.display]
        assert visible == ["Streams"]
        await pilot.press("4")
        await pilot.pause()
        visible = [p.PANE_TITLE for p in app.dashboard.panes if p.display]
        assert visible == ["Workers"]
        assert "4 Workers" in screen_text(app)


async def test_help_lists_the_keys(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "ctrl+q" in text and "maximize" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await wait_until(pilot, lambda: app.focused is not None, what="focus back in a pane")


async def test_help_leaves_out_the_keys_textual_widgets_bind(make_app: AppFactory) -> None:
    """A jstui subclass of a Textual widget (the responders' DataTable) adds no cursor keys."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        sections = dict(app._key_sections())
        requests = [description for _, description in sections["Request/Reply"]]
        assert "New request" in requests
        assert "Cursor up" not in requests and "Select" not in requests


async def test_read_only_is_shown(make_app: AppFactory) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        assert "READ-ONLY" in app.dashboard.query_one(StatusLine).plain


async def test_unreachable_server_gives_a_reason_and_exit_status() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    app = JstuiApp(Settings(servers=(url,)))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, ConnectFailedScreen), timeout=6, what="dialog"
        )
        await wait_until(pilot, lambda: url in screen_text(app), what="the reason on screen")
        text = screen_text(app)
        assert "connection refused" in text, text
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == EXIT_CANNOT_CONNECT


async def test_every_builtin_theme_renders(make_app: AppFactory) -> None:
    from textual.theme import BUILTIN_THEMES

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_connected(pilot)
        for name in BUILTIN_THEMES:
            app.theme = name
            await pilot.pause()
            assert "1 Streams" in screen_text(app), name
