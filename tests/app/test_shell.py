"""The dashboard shell: connection status, the four panes, layout keys, help, failures."""

from __future__ import annotations

from typing import Any

import pytest
from textual.screen import Screen

from jstui.app import EXIT_CANNOT_CONNECT, JstuiApp
from jstui.config import Settings
from jstui.dialogs.connect_failed import ConnectFailedScreen
from jstui.dialogs.feed_dialog import FeedDialog
from jstui.dialogs.help import HelpScreen
from jstui.dialogs.request_form import RequestFormScreen
from jstui.dialogs.stream_form import StreamFormScreen
from jstui.dialogs.worker_pool import WorkerPoolScreen
from jstui.messages import ConnectionChanged
from jstui.nats.embedded import free_port
from jstui.nats.session import ConnectionState, ConnectionStatus
from jstui.paths import pane_stylesheet
from jstui.widgets.base import Pane
from jstui.widgets.navigation import PaneSwitcher, PaneTab
from jstui.widgets.registry import PANES, entry_named
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


async def test_four_panes_in_the_grid_the_others_maximized_by_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        grid, beyond = app.dashboard.panes[:4], app.dashboard.panes[4:]
        assert [p.PANE_TITLE for p in grid] == ["Streams", "Feeds", "Request/Reply", "Workers"]
        for pane in grid:
            assert pane.region.width > 40 and pane.region.height > 10, pane.PANE_TITLE
        assert beyond and all(pane.region.area == 0 for pane in beyond)
        text = screen_text(app)
        for title in ("1 Streams", "2 Feeds", "3 Request/Reply", "4 Workers"):
            assert title in text
        for pane in beyond:  # the switcher names them
            assert f"{pane.number} " in text
        await pilot.press("2")
        last = beyond[-1]
        await pilot.press(str(last.number))
        await pilot.pause()
        assert app.dashboard.maximized is last and last.region.width >= 150
        await pilot.press("z")  # leaving it brings the grid back, on the grid pane used last
        await pilot.pause()
        assert app.dashboard.maximized is None and last.region.area == 0
        assert app.dashboard.current_pane == 2
        await pilot.press(str(last.number), "1")
        await pilot.pause()
        assert app.dashboard.maximized is None and app.dashboard.current_pane == 1


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


async def test_panes_know_when_a_dialog_covers_them(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        panes = list(app.dashboard.query(Pane))
        assert panes and not any(pane.covered for pane in panes)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        assert all(pane.covered for pane in panes)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help gone")
        assert not any(pane.covered for pane in panes)


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


# -- the pane registry, the small layout's switcher and footer, --pane, palette actions ----------


async def test_every_registered_pane_has_its_key_tab_palette_entry_and_help(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        assert [entry.number for entry in PANES] == list(range(1, len(PANES) + 1))
        assert [pane.number for pane in app.dashboard.panes] == [e.number for e in PANES]
        palette = [command.title for command in app.get_system_commands(app.dashboard)]
        general = dict(app._key_sections())["Everywhere"]
        for entry in PANES:
            assert isinstance(app.dashboard.pane(entry.number), entry.pane_class)
            assert entry.palette_title in palette
            assert (entry.key, f"show the {entry.title} pane") in general
            await pilot.press(entry.key)
            await pilot.pause()
            assert app.dashboard.current_pane == entry.number
            assert app.dashboard.pane(entry.number).has_focus_within


async def test_small_terminal_shows_a_switcher_and_always_the_help_key(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        lines = screen_text(app).splitlines()
        # every pane's tab fits the 80 columns (the current one has a space on both sides)
        assert " ".join(f"{entry.key} {entry.tab}" for entry in PANES[1:]) in lines[1]
        assert lines[1].rstrip().endswith(f"{PANES[-1].key} {PANES[-1].tab}")
        switcher = app.dashboard.query_one(PaneSwitcher)
        for entry in PANES:
            await pilot.press(entry.key)

            def current() -> list[str | None]:
                return [tab.id for tab in switcher.query(PaneTab) if tab.has_class("-current")]

            # a pane beyond the grid is built on its first show: its tab lights up after that
            await wait_until(
                pilot, lambda entry=entry: current() == [f"tab-{entry.name}"], what=entry.name
            )
            footer = screen_text(app).splitlines()[-1]
            assert footer.startswith("? Help"), footer
        await pilot.click("#tab-feeds")
        await pilot.pause()
        assert [p.PANE_TITLE for p in app.dashboard.panes if p.display] == ["Feeds"]


async def test_the_switcher_names_every_pane_on_a_large_terminal(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        switcher = app.dashboard.query_one(PaneSwitcher)
        assert switcher.display and switcher.region.height == 1
        await pilot.click(f"#tab-{PANES[-1].name}")
        await pilot.pause()
        assert app.dashboard.maximized is app.dashboard.pane(PANES[-1].number)


@pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["wide", "small"])
async def test_start_pane_opens_that_pane_maximized(
    make_app: AppFactory, size: tuple[int, int]
) -> None:
    app = make_app(start_pane="workers")
    async with app.run_test(size=size) as pilot:
        await wait_connected(pilot)
        workers = app.dashboard.pane(entry_named("workers").number)
        await wait_until(pilot, lambda: app.dashboard.maximized is workers, what="maximized")
        await wait_until(pilot, lambda: workers.has_focus_within, what="focus in Workers")
        assert "4 Workers" in screen_text(app)


@pytest.mark.parametrize(
    ("pane_name", "title", "dialog"),
    [
        ("workers", "Workers: new pool", WorkerPoolScreen),
        ("requests", "New request", RequestFormScreen),
        ("streams", "New stream", StreamFormScreen),
        ("feeds", "Feeds: new feed", FeedDialog),
    ],
)
async def test_a_palette_action_brings_its_pane_to_the_front(
    make_app: AppFactory, pane_name: str, title: str, dialog: type[Screen[Any]]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        entry = entry_named(pane_name)
        other = next(e for e in PANES if e is not entry)
        await pilot.press(other.key)
        await pilot.pause()
        command = next(c for c in app.get_system_commands(app.dashboard) if c.title == title)
        command.callback()
        await wait_until(pilot, lambda: isinstance(app.screen, dialog), what=title)
        # a dialog still being built when the app exits fails in Textual's Select: let it settle
        form = app.screen
        await wait_until(pilot, lambda: app.focused is not None and app.focused.screen is form)
        await pilot.pause()
        assert app.dashboard.current_pane == entry.number
        assert [p.number for p in app.dashboard.panes if p.display] == [entry.number]


async def test_escape_does_not_send_a_maximized_pane_away(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        last = app.dashboard.pane(PANES[-1].number)
        await pilot.press(str(last.number), "escape")
        await pilot.pause()
        assert app.dashboard.maximized is last


# -- panes are built when first shown ---------------------------------------------------------


def test_the_registry_names_each_pane_by_its_own_title() -> None:
    for entry in PANES:
        assert entry.title == entry.pane_class.PANE_TITLE, entry.name


class _FirstFrameWatch(JstuiApp):
    """Counts the panes and the observation services made when the first frame is done (the
    app tunes the collector then)."""

    panes_at_first_frame: int | None = None
    services_at_first_frame: list[str] | None = None

    def _tune_collector(self) -> None:
        if self.panes_at_first_frame is None:
            self.panes_at_first_frame = len(self.dashboard.query(Pane))
            made = vars(self)
            self.services_at_first_frame = [
                name for name in ("observer", "advisories", "dead_letters") if name in made
            ]
        super()._tune_collector()


async def test_the_first_frame_waits_for_no_pane(nats_url: str) -> None:
    """The screen's first frame is its shell only; the grid's panes (~200 widgets and their
    modules) and the observation services are made after it, so the connection shows without
    them."""
    app = _FirstFrameWatch(Settings(servers=(nats_url,)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.panes_at_first_frame is not None, what="a frame")
        assert app.panes_at_first_frame == 0
        assert app.services_at_first_frame == []  # made after it (cached properties)
        await wait_until(pilot, lambda: len(app.dashboard.built_panes) == 4, what="the grid")


async def test_hidden_panes_are_built_when_first_shown(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(
            pilot, lambda: len(app.dashboard.built_panes) == 4, what="the grid's panes built"
        )
        assert [pane.number for pane in app.dashboard.built_panes] == [1, 2, 3, 4]
        server = entry_named("server")
        sheet = pane_stylesheet(server.name)
        assert sheet is not None and pane_stylesheet("streams") is not None
        assert app.stylesheet.has_source(str(pane_stylesheet("streams")))  # built: read
        assert not app.stylesheet.has_source(str(sheet))  # its pane is not built yet
        await pilot.press(server.key)
        await wait_until(pilot, lambda: app.dashboard.maximized is not None, what="maximized")
        assert [pane.number for pane in app.dashboard.built_panes] == [1, 2, 3, 4, server.number]
        await wait_until(pilot, lambda: "5 Server" in screen_text(app), what="the Server pane")
        pane = app.dashboard.pane(server.number)
        await wait_until(pilot, lambda: pane.has_focus_within, what="focus in Server")
        # its stylesheet, read as it was built, styles it (styles/server.tcss)
        servers = pane.query_one("#servers-table").styles
        assert servers.max_height is not None and servers.max_height.value == 8
        assert servers.scrollbar_size_vertical == 1


async def test_a_pane_key_pressed_before_the_start_panes_are_built_keeps_the_focus(
    make_app: AppFactory,
) -> None:
    """The first pane is focused once it is mounted, after the first frame. A pane key pressed
    before that (a script, a quick user) opened its pane, and then the first pane, hidden behind
    it, took the focus: its keys went to the hidden pane (the Server snapshot pressed s forever)."""
    app = make_app()
    server = entry_named("server")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press(server.key)  # at once: before the panes shown at start are built
        await wait_until(pilot, lambda: app.dashboard.start_panes_built, what="start panes")
        pane = app.dashboard.pane(server.number)
        await wait_until(pilot, lambda: pane.has_focus_within, what="focus in Server")
        await pilot.pause(0.3)  # (the first pane's deferred focus came after this before)
        assert app.dashboard.maximized is pane
        assert pane.has_focus_within, app.focused


async def test_a_start_pane_alone_is_built_and_the_grid_when_restored(
    make_app: AppFactory,
) -> None:
    app = make_app(start_pane="events")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        events = entry_named("events")
        await wait_until(pilot, lambda: app.dashboard.maximized is not None, what="maximized")
        assert [pane.number for pane in app.dashboard.built_panes] == [events.number]
        await pilot.press("z")
        await wait_until(pilot, lambda: "4 Workers" in screen_text(app), what="the grid")
        grid = app.dashboard.built_panes[:4]
        assert [pane.number for pane in grid] == [1, 2, 3, 4]
        for pane in grid:
            assert pane.region.width > 40 and pane.region.height > 10, pane.PANE_TITLE


async def test_start_up_work_builds_its_pane_with_the_start_pane(make_app: AppFactory) -> None:
    app = make_app(start_pane="server", feeds=("jstui.start.>",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: len(app.dashboard.built_panes) == 2, what="two panes")
        await pilot.pause(0.2)  # no third one follows
        numbers = {pane.number for pane in app.dashboard.built_panes}
        assert numbers == {entry_named("server").number, entry_named("feeds").number}


async def test_help_lists_the_panes_not_shown_yet(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        sections = dict(app._key_sections())
        assert {entry.title for entry in PANES} <= set(sections)
        assert sections["Events"], "the Events pane's keys"


async def test_news_of_an_outage_reaching_a_detached_pane_is_dropped(make_app: AppFactory) -> None:
    """A pane out of the DOM (being built or torn down while the app closes) with a connection
    change in its queue has nowhere to show it: mounting its outage line raised MountError and
    ended the app with a traceback (seen once in CI)."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        detached = type(app.dashboard.query(Pane).first())()
        down = ConnectionStatus(state=ConnectionState.CLOSED)
        detached.on_connection_changed(ConnectionChanged(down))
        await pilot.pause()
        assert not detached.is_attached and not detached.children
