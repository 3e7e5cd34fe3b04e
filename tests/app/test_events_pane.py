"""The Events pane driven with Pilot against the real server: a terminated message becomes a dead
letter shown with its original payload, its detail, "publish again" prefilled in escaped form (and
refused in --read-only), and a hand-made hostile advisory shown sanitized."""

from __future__ import annotations

import json
from typing import Any

from nats.aio.client import Client
from nats.js.api import StreamConfig
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from jstui.app import JstuiApp
from jstui.dialogs.advisory_detail import AdvisoryDetailScreen, DeadLetterDetailScreen
from jstui.dialogs.publish import PublishScreen
from jstui.format.editable import PayloadFormat
from jstui.widgets.events import EventsPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until

SIZE = (160, 45)
HOSTILE_PAYLOAD = b"tea for table seven \x1b[2J is ready, said the kettle"
"""Mostly text (one ESC), so the preview shows it as text with the escape made visible."""


async def _open_pane(pilot: Pilot[Any]) -> EventsPane:
    """The pane, alone on screen (the app is started with --pane events), watching."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    await wait_connected(pilot)
    pane = app.dashboard.query_one(EventsPane)
    await wait_until(pilot, lambda: pane.watcher.started, what="advisories watched")
    await pilot.pause()
    return pane


async def _terminate_one(nc: Client, stream: str) -> None:
    """A plain client stores one message and terminates it: a MSG_TERMINATED advisory."""
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"]))
    await js.publish(f"{stream}.orders", HOSTILE_PAYLOAD, headers={"Trace": "abc"})
    sub = await js.pull_subscribe(f"{stream}.>", durable="billing")
    (msg,) = await sub.fetch(1, timeout=2)
    await msg.term()


async def _show_a_dead_letter(pilot: Pilot[Any], nc: Client, stream: str) -> EventsPane:
    """Open the pane, have a plain client terminate a message, and wait until the Dead letters
    view shows it with its original payload (sanitized)."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    pane = await _open_pane(pilot)
    await _terminate_one(nc, stream)
    await pilot.press("t")
    await wait_until(pilot, lambda: pane.on_dead_letters, what="dead letters view")
    await wait_until(pilot, lambda: "seven ␛[2J is" in screen_text(app), what="the original")
    return pane


async def test_a_terminated_message_is_a_dead_letter_with_its_payload_and_detail(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app(start_pane="events")
    async with app.run_test(size=SIZE) as pilot:
        pane = await _show_a_dead_letter(pilot, nc, unique)
        text = screen_text(app)
        assert "terminated" in text and f"{unique}.orders" in text
        assert "\x1b" not in text
        assert "Dead letters (1)" in text
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, DeadLetterDetailScreen), what="detail"
        )
        detail = app.screen
        assert isinstance(detail, DeadLetterDetailScreen)
        await wait_until(pilot, lambda: "Trace: abc" in detail.body_text, what="original")
        assert f"Subject {unique}.orders" in detail.body_text
        assert "seven ␛[2J is" in detail.body_text and "\x1b" not in detail.body_text
        await pilot.press("escape")
        # the advisories view lists it too; Enter shows its JSON, sanitized
        await pilot.press("t")
        await wait_until(pilot, lambda: not pane.on_dead_letters, what="advisories view")
        await pilot.press("slash")
        await pilot.press(*unique)
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: "CONSUMER.MSG_TERMINATED" in screen_text(app),
            what="filtered advisories",
        )
        table = pane.advisories_table
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AdvisoryDetailScreen), what="json")
        assert isinstance(app.screen, AdvisoryDetailScreen)
        assert '"stream_seq": 1' in app.screen.json_text


async def test_publish_again_is_prefilled_escaped_and_sends_nothing_by_itself(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app(start_pane="events")
    async with app.run_test(size=SIZE) as pilot:
        await _show_a_dead_letter(pilot, nc, unique)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen), what="form")
        form = app.screen
        assert form.query_one("#publish-subject", Input).value == f"{unique}.orders"
        payload = form.query_one("#publish-payload", TextArea).text
        assert "\x1b" not in payload and "\\x1b[2J" in payload
        payload_format = form.query_one("#publish-payload_format", Select).value
        assert payload_format == PayloadFormat.ESCAPED.value
        assert "Trace: abc" in form.query_one("#publish-headers", TextArea).text
        await pilot.press("escape")
        info = await nc.jetstream().stream_info(unique)
        assert info.state.messages == 1  # the form sends only on Publish


async def test_publish_again_is_refused_in_read_only_mode(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app(read_only=True, start_pane="events")
    async with app.run_test(size=SIZE) as pilot:
        pane = await _show_a_dead_letter(pilot, nc, unique)
        assert not pane.offers("publish_again")
        titles = {command.title for command in pane.palette_commands()}
        assert "Events: publish dead letter again" not in titles
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, PublishScreen)
        assert "Publish again" not in screen_text(app).splitlines()[-1]
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, DeadLetterDetailScreen), what="detail"
        )
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, DeadLetterDetailScreen)


async def test_a_hostile_hand_made_advisory_is_shown_sanitized(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app(start_pane="events")
    async with app.run_test(size=SIZE) as pilot:
        pane = await _open_pane(pilot)
        body = {"stream": f"{unique}\x1b[31m\u202eevil[b]", "stream_seq": 5, "deliveries": 9}
        subject = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{unique}.y"
        await nc.publish(subject, json.dumps(body).encode())
        await nc.publish(subject, b"\x1b]52;c;aGk=\x07 not json")
        await nc.flush()
        await wait_until(pilot, lambda: pane.watcher.undecodable == 1, what="undecodable")
        await wait_until(pilot, lambda: f"{unique}␛[31m" in screen_text(app), what="row")
        text = screen_text(app)
        assert "\x1b" not in text and "\u202e" not in text
        assert "undecodable 1" in text
        await pilot.press("t")
        await wait_until(
            pilot,
            lambda: "the stream no longer exists" in screen_text(app),
            what="no such stream",
        )
