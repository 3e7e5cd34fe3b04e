"""The Streams pane, driven as a user would (keys, clicks, typing) against a real nats-server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from textual import events
from textual.containers import ScrollableContainer
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Select

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.stream_browser import StreamBrowserScreen
from jstui.dialogs.stream_form import StreamFormScreen
from jstui.dialogs.stream_purge import StreamPurgeScreen
from jstui.nats.embedded import EmbeddedServer
from jstui.widgets.streams import StreamsPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until
from tests.nats.test_streams import create_hostile_stream, raw_stream_config

# -- helpers ---------------------------------------------------------------------------------------


def pane_of(app: JstuiApp) -> StreamsPane:
    return app.dashboard.query_one(StreamsPane)


async def select_stream(pilot: Pilot[Any], name: str) -> StreamsPane:
    """Move the table cursor onto `name` with the arrow keys."""
    pane = pane_of(pilot.app)  # type: ignore[arg-type]
    table = pane.table
    await wait_until(pilot, lambda: name in table.rows, what=f"stream {name} in the table")
    if pilot.app.focused is not table:
        table.focus()  # not a click: at the top left it would land on a header, which sorts
    for _ in range(table.row_count + 1):
        target = table.get_row_index(name)
        if table.cursor_row == target:
            break
        await pilot.press("down" if table.cursor_row < target else "up")
    await wait_until(pilot, lambda: pane.selected == name, what=f"{name} selected")
    return pane


def _in_view(widget: Widget) -> bool:
    """Whether the whole widget shows inside its scrolling container (or the screen)."""
    viewport = widget.screen.region
    for ancestor in widget.ancestors:
        if isinstance(ancestor, ScrollableContainer):
            viewport = ancestor.region
            break
    return bool(widget.region) and viewport.contains_region(widget.region)


async def fill(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Click a form field, clear it with keys, and paste `text` as a terminal would.

    Pasting (one event) instead of typing each character keeps the form tests fast: every
    `pilot.press` waits for the app to settle, about 70 ms a key on this machine.
    """
    widget = pilot.app.screen.query_one(selector, Input)
    if not _in_view(widget):
        widget.scroll_visible(animate=False)
        await pilot.pause()
    await pilot.click(selector)
    if widget.value:
        await pilot.press("end", "ctrl+u")
    if text:
        pilot.app.post_message(events.Paste(text))
    await wait_until(pilot, lambda: widget.value == text, what=f"{selector} filled")


async def open_form(pilot: Pilot[Any], key: str = "n") -> StreamFormScreen:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, StreamFormScreen), what="form")
    screen = pilot.app.screen
    assert isinstance(screen, StreamFormScreen)
    return screen


def field_error(form: StreamFormScreen, key: str) -> str:
    static = form.query_one(f"#error-{key}")
    return str(static.render()) if static.display else ""


def form_error(form: StreamFormScreen) -> str:
    static = form.query_one("#stream-form-error")
    return str(static.render()) if static.display else ""


async def stream_names(nc: Client) -> set[str]:
    return {info.config.name for info in await nc.jsm().streams_info() if info.config.name}


@pytest.fixture
async def fresh_nc(fresh_server: EmbeddedServer) -> AsyncIterator[Client]:
    client = await nats.connect(fresh_server.url)
    yield client
    await client.drain()


async def make_stream(nc: Client, name: str, subjects: list[str], **config: Any) -> None:
    await nc.jsm().add_stream(StreamConfig(name=name, subjects=subjects, **config))


async def publish(nc: Client, subject: str, count: int, start: int = 0) -> None:
    js = nc.jetstream()
    for i in range(start, start + count):
        await js.publish(subject, f"message {i}".encode())


# -- the tutorial flow -----------------------------------------------------------------------------


async def test_tutorial_stream_created_through_the_form_then_edited(
    fresh_server: EmbeddedServer, fresh_nc: Client
) -> None:
    app = JstuiApp(Settings(servers=(fresh_server.url,)))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        # An empty server says how to create the first stream.
        await wait_until(pilot, lambda: "No streams on this server yet" in screen_text(app))
        assert "Press n to create one" in screen_text(app)

        form = await open_form(pilot)
        assert "New stream" in screen_text(app)
        await fill(pilot, "#field-name", "example_stream")
        await fill(pilot, "#field-subjects", "my.subject.*")
        await fill(pilot, "#field-max_age", "9s")
        await fill(pilot, "#field-max_msgs", "1000")
        await fill(pilot, "#field-max_bytes", "10MiB")
        assert form.query_one("#field-retention", Select).value == "limits"
        assert form.query_one("#field-storage", Select).value == "file"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")

        pane = pane_of(app)
        await wait_until(pilot, lambda: "example_stream" in pane.table.rows, what="table row")
        text = screen_text(app)
        assert "example_stream" in text and "my.subject.*" in text
        assert "No streams on this server yet" not in text

        info = await fresh_nc.jsm().stream_info("example_stream")
        config = info.config
        assert config.subjects == ["my.subject.*"]
        assert config.retention == RetentionPolicy.LIMITS
        assert config.storage == StorageType.FILE
        assert config.max_age == 9
        assert config.max_msgs == 1000
        assert config.max_bytes == 10 * 1024 * 1024

        # Edit: the form starts from the current config; what cannot change is disabled, and why.
        await select_stream(pilot, "example_stream")
        form = await open_form(pilot, "e")
        assert form.query_one("#field-name", Input).disabled
        assert form.query_one("#field-name", Input).value == "example_stream"
        assert form.query_one("#field-storage", Select).disabled
        assert form.query_one("#field-max_age", Input).value == "9s"
        assert form.query_one("#field-max_bytes", Input).value == "10MiB"
        text = screen_text(app)
        assert "a stream cannot be renamed" in text
        assert "the storage type cannot be changed after creation" in text
        await fill(pilot, "#field-max_msgs", "2000")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")
        await wait_until(pilot, lambda: "2,000" in screen_text(app), what="new limit shown")
        info = await fresh_nc.jsm().stream_info("example_stream")
        assert info.config.max_msgs == 2000
        assert info.config.max_age == 9 and info.config.max_bytes == 10 * 1024 * 1024


# -- bad input and server refusals -----------------------------------------------------------------


async def test_validation_messages_next_to_the_fields(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        form = await open_form(pilot)
        await fill(pilot, "#field-name", f"{unique} bad")
        await fill(pilot, "#field-max_msgs", "-5")
        await fill(pilot, "#field-max_bytes", "lots")
        await fill(pilot, "#field-max_age", "soon")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: field_error(form, "name"), what="name error")
        assert "space" in field_error(form, "name")
        assert "at least one subject" in field_error(form, "subjects")
        assert "negative" in field_error(form, "max_msgs")
        assert "not a size" in field_error(form, "max_bytes")
        assert "not a duration" in field_error(form, "max_age")
        assert field_error(form, "description") == ""
        text = screen_text(app)
        assert "may not contain" in text and "at least one subject is needed" in text

        # Fix the name, break a subject: the name's message goes, the subject's appears.
        await fill(pilot, "#field-name", f"{unique}_valid")
        await fill(pilot, "#field-subjects", f"{unique}..x")
        await fill(pilot, "#field-max_msgs", "")
        await fill(pilot, "#field-max_bytes", "")
        await fill(pilot, "#field-max_age", "")
        await pilot.press("enter")
        await wait_until(pilot, lambda: field_error(form, "subjects"), what="subject error")
        assert "empty token" in field_error(form, "subjects")
        assert field_error(form, "name") == ""
        assert app.screen is form
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")
    names = await stream_names(nc)
    assert not any(name.startswith(unique) for name in names)


async def test_server_error_is_shown_in_the_form_with_the_input_intact(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    await make_stream(nc, f"{unique}_first", [f"{unique}.orders.>"])
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        form = await open_form(pilot)
        await fill(pilot, "#field-name", f"{unique}_second")
        await fill(pilot, "#field-subjects", f"{unique}.orders.eu")
        await fill(pilot, "#field-max_msgs", "50")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: form_error(form), what="server error")
        assert "subjects overlap with an existing stream" in form_error(form)
        assert "subjects overlap with an existing stream" in screen_text(app)
        assert app.screen is form
        assert form.query_one("#field-name", Input).value == f"{unique}_second"
        assert form.query_one("#field-subjects", Input).value == f"{unique}.orders.eu"
        assert form.query_one("#field-max_msgs", Input).value == "50"

        # Replicas above what a single server has: the server's own words again.
        await fill(pilot, "#field-subjects", f"{unique}.other")
        await fill(pilot, "#field-replicas", "3")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "replicas" in form_error(form), what="replicas error")
        assert "not supported in non-clustered mode" in form_error(form)
        assert app.screen is form
    assert f"{unique}_second" not in await stream_names(nc)


# -- purge and delete ------------------------------------------------------------------------------


async def test_purge_by_subject_keep_newest_and_all(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name = f"{unique}_purge"
    await make_stream(nc, name, [f"{unique}.p.*"])
    await publish(nc, f"{unique}.p.a", 10)
    await publish(nc, f"{unique}.p.b", 10, start=10)
    jsm = nc.jsm()

    async def stored() -> int:
        return (await jsm.stream_info(name)).state.messages

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, name)

        async def purge(mode: str, field: str | None, value: str, expect: str) -> None:
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(app.screen, StreamPurgeScreen))
            assert name in screen_text(app)
            await pilot.click(f"#{mode}")
            if field is not None:
                await wait_until(pilot, lambda: not app.screen.query_one(f"#{field}").disabled)
                await fill(pilot, f"#{field}", value)
            await pilot.click("#purge-go")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
            question = screen_text(app)
            assert expect in question and name in question
            await pilot.press("y")
            await wait_until(pilot, lambda: app.screen is app.dashboard, what="back to the table")

        await purge("purge-by-subject", "purge-subject", f"{unique}.p.a", "Purge 10 messages")
        await wait_until(pilot, lambda: pane_of(app).table.get_row(name)[1].plain == "10")
        assert await stored() == 10

        await purge("purge-keep", "purge-keep-count", "4", "Purge 6 messages")
        await wait_until(pilot, lambda: pane_of(app).table.get_row(name)[1].plain == "4")
        assert await stored() == 4

        await purge("purge-all", None, "", "Purge 4 messages")
        await wait_until(pilot, lambda: pane_of(app).table.get_row(name)[1].plain == "0")
        assert await stored() == 0
        assert name in await stream_names(nc)


async def test_delete_only_after_confirmation(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name = f"{unique}_delete"
    await make_stream(nc, name, [f"{unique}.d"])
    await publish(nc, f"{unique}.d", 3)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await select_stream(pilot, name)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        question = screen_text(app)
        assert f"Delete stream {name}" in question and "3 messages" in question
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        assert name in await stream_names(nc)

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: name not in pane.table.rows, what="row removed")
    assert name not in await stream_names(nc)


# -- browsing never consumes -----------------------------------------------------------------------


async def test_browsing_a_work_queue_stream_leaves_its_messages(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name = f"{unique}_wq"
    await make_stream(nc, name, [f"{unique}.jobs.*"], retention=RetentionPolicy.WORK_QUEUE)
    js = nc.jetstream()
    for i in range(5):
        payload = f'{{"job": {i}}}'.encode()
        await js.publish(f"{unique}.jobs.{i}", payload, headers={"X-Job": str(i)})
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, name)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamBrowserScreen))
        browser = app.screen
        assert isinstance(browser, StreamBrowserScreen)
        await wait_until(pilot, lambda: len(browser.messages) == 5, what="five messages")
        assert [m.seq for m in browser.messages] == [5, 4, 3, 2, 1]
        text = screen_text(app)
        assert f"{unique}.jobs.4" in text and "never consumes" in text
        await pilot.press("down", "down")
        await wait_until(pilot, lambda: "X-Job: 2" in browser.detail_text, what="detail of seq 3")
        assert '"job": 2' in browser.detail_text
        await pilot.press("o")
        await wait_until(pilot, lambda: browser.messages and browser.messages[0].seq == 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="browser closed")
    info = await nc.jsm().stream_info(name)
    assert info.state.messages == 5
    assert info.state.consumer_count == 0


# -- read-only -----------------------------------------------------------------------------------


async def test_read_only_refuses_every_change(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name = f"{unique}_ro"
    await make_stream(nc, name, [f"{unique}.ro"])
    await publish(nc, f"{unique}.ro", 2)
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, name)
        pane = app.dashboard.query_one(StreamsPane)
        for key, action, run in (
            ("n", "create stream", pane.action_new_stream),
            ("e", "edit stream", pane.action_edit_stream),
            ("p", "purge stream", pane.action_purge_stream),
            ("d", "delete stream", pane.action_delete_stream),
        ):
            await pilot.press(key)  # not offered in read-only mode: the key does nothing
            await pilot.pause()
            assert app.screen is app.dashboard
            run()  # reached another way, the action is still refused, with the reason
            await wait_until(
                pilot,
                lambda action=action: (
                    f"read-only mode: {action} is not allowed" in screen_text(app)
                ),
                what=f"{action} refused",
            )
            assert app.screen is app.dashboard
        # Looking is still allowed.
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamBrowserScreen))
        browser = app.screen
        assert isinstance(browser, StreamBrowserScreen)
        await wait_until(pilot, lambda: len(browser.messages) == 2, what="messages")
    info = await nc.jsm().stream_info(name)
    assert info.state.messages == 2
    assert name in await stream_names(nc)


# -- what the user sees ----------------------------------------------------------------------------


async def test_pane_at_quarter_maximized_and_small_sizes(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name = f"{unique}_look"
    await make_stream(nc, name, [f"{unique}.look.>"], description="[b]not bold[/b]")
    await publish(nc, f"{unique}.look.x", 3)
    await nc.jetstream().pull_subscribe(f"{unique}.look.>", durable=f"{unique}_reader", stream=name)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await select_stream(pilot, name)
        await wait_until(pilot, lambda: f"{unique}_reader" in screen_text(app), what="consumer")
        text = screen_text(app)
        assert pane.region.width < 90
        for expected in ("Msgs", "Subjects", "[b]not bold[/b]", "Pending", "Ack pend"):
            assert expected in text, expected

        await pilot.press("z")
        await wait_until(pilot, lambda: app.dashboard.maximized is pane, what="maximized")
        wide = ("First", "Last", "Cons", "pull durable", "Configuration")
        # the maximized detail is laid out and drawn over the next frames: wait, do not race it
        await wait_until(
            pilot, lambda: all(word in screen_text(app) for word in wide), what="the wide detail"
        )
        await pilot.press("z")

        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: pane.region.width > 70, what="one pane at a time")
        text = screen_text(app)
        assert name in text and "Consumers" in text
        assert "n New" in text and "b Browse" in text


async def test_hostile_names_and_descriptions_are_shown_literally(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    # Another program can create what jstui's form refuses: markup, ESC and BiDi in the name.
    name = f"[b]{unique}\u202e\x1b[2J"
    config = {
        "name": name,
        "subjects": [f"[link=x].{unique}.*"],
        "description": "[@click=app.quit]quit[/] \x9b31m",
        "storage": "memory",
    }
    reply = await nc.request(f"$JS.API.STREAM.CREATE.{name}", json.dumps(config).encode())
    assert "error" not in json.loads(reply.data)
    try:
        app = make_app()
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            await select_stream(pilot, name)
            shown = f"[b]{unique}\\u202e\u241b[2J"
            await wait_until(pilot, lambda: shown in screen_text(app))
            text = screen_text(app)
            assert "cannot manage this stream" not in text  # any name the server took works
            assert shown in text
            assert f"[link=x].{unique}.*" in text
            assert "[@click=app.quit]quit[/] \\x9b31m" in text
            assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text
            await pilot.press("b")
            await wait_until(
                pilot, lambda: isinstance(app.screen, StreamBrowserScreen), what="browser"
            )
            assert "\x1b" not in screen_text(app)
    finally:
        await nc.request(f"$JS.API.STREAM.DELETE.{name}", b"")


# -- editing keeps what the server has -------------------------------------------------------------


async def test_saving_an_unchanged_stream_keeps_its_config(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """Defect 3 of #10: the form used to write back the display text of the description."""
    name = f"{unique}_na\u202eme"
    before = await create_hostile_stream(nc, name, [f"{unique}.x\x1b.*", f"{unique}.y"])
    try:
        app = make_app()
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_connected(pilot)
            await select_stream(pilot, name)
            form = await open_form(pilot, "e")
            # No raw value in an Input, and no display text that saving would write back.
            for widget in form.query(Input):
                assert widget.value.isprintable(), widget.id
            assert not form.query("Input#field-description")
            assert not form.query("Input#field-subjects")
            text = screen_text(app)
            assert text.count("contains control characters: kept as it is") == 3  # + the name
            assert "ESC \u241b]52;c;SElKQUNLRUQ=\u2407" in text
            assert "\x1b" not in text and "\u202e" not in text
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")
            assert await raw_stream_config(nc, name) == before

            # A real change still goes through, and only it.
            form = await open_form(pilot, "e")
            await fill(pilot, "#field-max_msgs", "42")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")
            assert json.loads(await raw_stream_config(nc, name)) == {
                **json.loads(before),
                "max_msgs": 42,
            }
    finally:
        await nc.request(f"$JS.API.STREAM.DELETE.{name}", b"")


async def test_every_action_works_on_a_name_shown_with_escapes(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """`na\\u202eme` (a real RLO) is shown with an escape; the actions use the real name."""
    name = f"{unique}_na\u202eme"
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{unique}.n.*"])
    for i in range(5):
        await js.publish(f"{unique}.n.{i % 2}", f"m{i}".encode())
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await select_stream(pilot, name)
        await wait_until(pilot, lambda: "none" in screen_text(app), what="consumers listed")
        assert f"{unique}_na\\u202eme" in screen_text(app)

        await open_form(pilot, "e")
        await fill(pilot, "#field-max_msgs", "100")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="edit saved")
        assert (await js.stream_info(name)).config.max_msgs == 100

        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamBrowserScreen), what="browse")
        browser = app.screen
        assert isinstance(browser, StreamBrowserScreen)
        await wait_until(pilot, lambda: len(browser.messages) == 5, what="messages")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="browser closed")

        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamPurgeScreen), what="purge")
        await pilot.click("#purge-all")
        await pilot.click("#purge-go")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "Purge 5 messages" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="purged")
        await wait_until(pilot, lambda: pane.selected == name)

        async def messages_left() -> int:
            return (await js.stream_info(name)).state.messages

        for _ in range(50):
            if await messages_left() == 0:
                break
            await pilot.pause(0.05)
        assert await messages_left() == 0

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: name not in pane.table.rows, what="deleted")
    assert name not in await stream_names(nc)
