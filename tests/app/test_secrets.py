"""The real app never shows the password inside a server URL, and names the natscli context.

Against a real nats-server that wants a password (tests/password_server.py): a refused password
(the "cannot connect" dialog, the status line, the exit message) and an accepted one (the
status line, every widget, the title, notifications).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from jstui.app import EXIT_CANNOT_CONNECT, JstuiApp
from jstui.config import Settings
from jstui.dialogs.connect_failed import ConnectFailedScreen
from jstui.widgets.status import StatusLine
from tests.app.conftest import screen_text, wait_connected, wait_until
from tests.config.helpers import resolve, select, write_context
from tests.password_server import (
    PASSWORD,
    SECRETS,
    WRONG_PASSWORD,
    password_server,
    url_with,
)


def everything_shown(app: JstuiApp) -> str:
    """The active screen as drawn, every Static of every screen, the titles, the notifications
    and the exit message: all the text a user can be shown."""
    parts: list[Any] = [screen_text(app), app.title, app.sub_title]
    for screen in app.screen_stack:
        parts += [str(widget.render()) for widget in screen.query(Static)]
        parts += [screen.title, screen.sub_title]
    parts += [notification.message for notification in app._notifications]
    parts += [str(renderable) for renderable in app._exit_renderables]
    return "\n".join(str(part) for part in parts)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


async def test_a_refused_password_is_shown_nowhere(tmp_path: Path) -> None:
    with password_server(tmp_path) as port:
        app = JstuiApp(Settings(servers=(url_with(WRONG_PASSWORD, port),)))
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_until(
                pilot, lambda: isinstance(app.screen, ConnectFailedScreen), what="the dialog"
            )
            await pilot.pause()
            text = everything_shown(app)
            assert "authorization violation" in text
            assert f"nats://u:xxxxx@127.0.0.1:{port}" in text
            assert_no_secret(text)
            await pilot.press("q")
            await pilot.pause()
            assert_no_secret(everything_shown(app))
        assert app.return_code == EXIT_CANNOT_CONNECT


async def test_an_accepted_password_is_shown_nowhere(tmp_path: Path) -> None:
    with password_server(tmp_path) as port:
        app = JstuiApp(Settings(servers=(url_with(PASSWORD, port),)))
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            status = app.dashboard.query_one(StatusLine)
            await wait_until(pilot, lambda: "JS streams" in status.plain, what="JetStream usage")
            assert f"nats://u:xxxxx@127.0.0.1:{port}" in status.plain
            assert_no_secret(everything_shown(app))


async def test_status_line_names_the_natscli_context(tmp_path: Path, nats_url: str) -> None:
    config_home = tmp_path / "config"
    write_context(config_home, "prod", {"url": nats_url})
    select(config_home, "prod")
    settings = resolve(config_home, {"HOME": str(tmp_path)})
    assert settings.context == "prod"
    app = JstuiApp(settings)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        assert "ctx: prod" in app.dashboard.query_one(StatusLine).plain
        assert "ctx: prod" in screen_text(app)
