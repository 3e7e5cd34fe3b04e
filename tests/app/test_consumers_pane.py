"""The Consumers pane, driven as a user would (keys, typing) against a real nats-server: the list
with consumers of plain nats-py programs, the filter, a pull consumer created through the form, its
description edited, a server refusal shown in the form, delete after a confirmation that says who
is attached, read-only mode, and hostile descriptions and metadata shown inert."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Select, Static

from jstui.app import JstuiApp
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.consumer_form import ConsumerFormScreen
from jstui.dialogs.consumer_pause import ConsumerPauseScreen, pause_until
from jstui.widgets.consumers import ConsumersPane
from tests.app.conftest import AppFactory, built_pane, screen_text, wait_connected, wait_until
from tests.app.test_streams_pane import fill


@pytest.fixture
async def stream(nc: Client, unique: str) -> AsyncIterator[str]:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    for index in range(6):
        await js.publish(f"{unique}.{'a' if index % 2 else 'b'}", b"x")
    yield unique
    await js.delete_stream(unique)


async def open_pane(pilot: Pilot[Any], stream: str, *, count: int) -> ConsumersPane:
    """The pane, filtered to the test's stream, once its `count` consumers show."""
    await wait_connected(pilot)
    pane = await built_pane(pilot, ConsumersPane)
    await pilot.press("slash")
    pilot.app.post_message(events.Paste(stream))
    await wait_until(
        pilot,
        lambda: len(pane.row_keys) == count and all(k.startswith(stream) for k in pane.row_keys),
        what=f"{count} consumers of {stream}",
    )
    await pilot.press("enter")
    await wait_until(pilot, lambda: pane.selected is not None, what="a consumer selected")
    return pane


async def select(pilot: Pilot[Any], pane: ConsumersPane, name: str) -> None:
    """Move the table cursor onto the consumer `name` with the arrow keys."""
    await wait_until(pilot, lambda: any(k.endswith(f"\0{name}") for k in pane.row_keys))
    key = next(k for k in pane.row_keys if k.endswith(f"\0{name}"))
    table = pane.table
    table.focus()
    for _ in range(table.row_count + 1):
        target = table.get_row_index(key)
        if table.cursor_row == target:
            break
        await pilot.press("down" if table.cursor_row < target else "up")
    await wait_until(pilot, lambda: pane.selected is not None and pane.selected.name == name)


async def open_form(pilot: Pilot[Any], key: str) -> ConsumerFormScreen:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConsumerFormScreen), what="form")
    screen = pilot.app.screen
    assert isinstance(screen, ConsumerFormScreen)
    return screen


async def test_list_filter_create_edit_and_delete(
    make_app: AppFactory, nc: Client, stream: str
) -> None:
    js = nc.jetstream()
    fetcher = await js.pull_subscribe(f"{stream}.a", durable="fetcher", stream=stream)
    await fetcher.fetch(2, timeout=5)  # two sent, none acked
    app = make_app(start_pane="consumers")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        pane = await open_pane(pilot, stream, count=1)
        text = screen_text(app)
        assert "fetcher" in text and "pull durable" in text and f"{stream}.a" in text
        assert pane.selected is not None and pane.selected.num_ack_pending == 2

        # Create a pull consumer through the form; the stream is the selected consumer's.
        form = await open_form(pilot, "n")
        assert form.query_one("#field-stream", Select).value == stream
        assert not form.query_one("#row-deliver_subject").display  # a pull consumer has none
        assert not form.query_one("#row-start_seq").display  # deliver all reads no start
        await fill(pilot, "#field-name", "reports")
        await fill(pilot, "#field-filter_subjects", f"{stream}.b")
        await fill(pilot, "#field-ack_wait", "1m")
        await fill(pilot, "#field-replicas", "3")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: "replicas > 1 not supported" in screen_text(app),
            what="the server's refusal in the form",
        )
        assert isinstance(app.screen, ConsumerFormScreen)  # still open, input intact
        await fill(pilot, "#field-replicas", "")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")
        info = await js.consumer_info(stream, "reports")
        assert info.config.filter_subject == f"{stream}.b" and info.config.ack_wait == 60
        assert info.num_pending == 3
        await wait_until(pilot, lambda: len(pane.row_keys) == 2, what="the new row")

        # Edit its description: what cannot change is disabled, with the reason.
        await select(pilot, pane, "reports")
        form = await open_form(pilot, "e")
        assert form.query_one("#field-ack_policy", Select).disabled
        assert form.query_one("#field-durable", Checkbox).disabled
        assert "the ack policy cannot be changed after creation" in screen_text(app)
        await fill(pilot, "#field-description", "monthly reports")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")
        await wait_until(pilot, lambda: "monthly reports" in screen_text(app), what="detail")
        info = await js.consumer_info(stream, "reports")
        assert info.config.description == "monthly reports" and info.config.ack_wait == 60

        # Delete, only after a confirmation that says who is attached.
        await select(pilot, pane, "fetcher")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "Delete consumer fetcher" in question and "waiting on it now" in question
        assert "2 unacknowledged" in question
        await pilot.press("y")
        await wait_until(pilot, lambda: len(pane.row_keys) == 1, what="row gone")
        assert [entry.name for entry in pane.entries.values() if entry.stream == stream] == [
            "reports"
        ]


async def test_read_only_refuses_every_change(
    make_app: AppFactory, nc: Client, stream: str
) -> None:
    await nc.jetstream().pull_subscribe(f"{stream}.a", durable="kept", stream=stream)
    app = make_app(read_only=True, start_pane="consumers")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        pane = await open_pane(pilot, stream, count=1)
        for key, action, run in (
            ("n", "create consumer", pane.action_new_consumer),
            ("e", "edit consumer", pane.action_edit_consumer),
            ("d", "delete consumer", pane.action_delete_consumer),
            ("p", "pause consumer", pane.action_pause_consumer),
            ("u", "resume consumer", pane.action_resume_consumer),
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
    assert (await nc.jetstream().consumer_info(stream, "kept")).name == "kept"


async def test_hostile_description_and_metadata_are_shown_inert(
    make_app: AppFactory, nc: Client, stream: str
) -> None:
    config = {
        "durable_name": "hostile",
        "ack_policy": "explicit",
        "description": "[@click=app.quit]quit[/] \x1b[2J\u202e",
        "metadata": {"[b]key": "\x1b]52;c;AAAA\x07"},
    }
    reply = await nc.request(
        f"$JS.API.CONSUMER.CREATE.{stream}.hostile",
        json.dumps({"stream_name": stream, "config": config}).encode(),
    )
    assert "error" not in json.loads(reply.data)
    app = make_app(start_pane="consumers")
    async with app.run_test(size=(160, 45)) as pilot:
        await open_pane(pilot, stream, count=1)
        await wait_until(pilot, lambda: "[@click=app.quit]quit[/]" in screen_text(app))
        text = screen_text(app)
        assert "[b]key" in text
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
        # The form keeps both as they are instead of putting them into fields.
        form = await open_form(pilot, "e")
        assert isinstance(form.query_one("#field-description"), Static)
        assert isinstance(form.query_one("#field-metadata"), Static)
        assert "kept as it is" in screen_text(app)
        assert "\x1b" not in screen_text(app)
        await fill(pilot, "#field-ack_wait", "45s")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="form closed")
    info = await nc.jetstream().consumer_info(stream, "hostile")
    assert info.config.description == config["description"]
    assert info.config.ack_wait == 45
    assert (info.config.metadata or {}).get("[b]key") == "\x1b]52;c;AAAA\x07"


def test_pane_is_registered_as_consumers() -> None:
    from jstui.widgets.registry import entry_named

    entry = entry_named("consumers")
    assert entry.pane_class is ConsumersPane and entry.title == ConsumersPane.PANE_TITLE
    assert isinstance(JstuiApp, type)


async def test_pause_for_a_while_then_resume_and_one_stream(
    make_app: AppFactory, nc: Client, stream: str
) -> None:
    js = nc.jetstream()
    await js.pull_subscribe(f"{stream}.a", durable="napper", stream=stream)
    app = make_app(start_pane="consumers")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        pane = await open_pane(pilot, stream, count=1)
        await pilot.press("p")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ConsumerPauseScreen), what="pause dialog"
        )
        await fill(pilot, "#pause-until", "yesterday")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "a while (30m, 2h, 1d) or a time" in screen_text(app))
        await fill(pilot, "#pause-until", "2h")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: pane.selected is not None and pane.selected.paused,
            what="paused in the table",
        )
        assert "for 1h59m" in screen_text(app) or "for 2h" in screen_text(app)
        info = await nc.request(f"$JS.API.CONSUMER.INFO.{stream}.napper", b"")
        assert json.loads(info.data)["paused"] is True

        await pilot.press("u")
        await wait_until(
            pilot,
            lambda: pane.selected is not None and not pane.selected.paused,
            what="resumed",
        )
        info = await nc.request(f"$JS.API.CONSUMER.INFO.{stream}.napper", b"")
        assert not json.loads(info.data).get("paused")

        # o keeps the selected consumer's stream only; the title says which.
        await pilot.press("escape")  # the filter goes: every stream's consumers again
        await wait_until(pilot, lambda: not pane.filter_text, what="filter cleared")
        await select(pilot, pane, "napper")
        await pilot.press("o")
        await wait_until(pilot, lambda: pane.only_stream == stream, what="one stream")
        await wait_until(
            pilot,
            lambda: pane.row_keys == [f"{stream}\0napper"],
            what="only that stream's consumers",
        )
        assert f"stream {stream}" in str(pane.border_title)
        await pilot.press("o")
        await wait_until(pilot, lambda: pane.only_stream is None, what="every stream again")


def test_pause_until_reads_a_while_or_a_time() -> None:
    now = datetime(2026, 12, 3, 17, 0, tzinfo=UTC).timestamp()
    assert pause_until("30m", now) == datetime(2026, 12, 3, 17, 30, tzinfo=UTC)
    assert pause_until("2026-12-04T00:00:00Z", now) == datetime(2026, 12, 4, tzinfo=UTC)
    for bad in ("", "soon", "2020-01-01T00:00:00Z"):
        with pytest.raises(ValueError):
            pause_until(bad, now)
