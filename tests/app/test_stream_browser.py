"""The message browser: paging, order, jump, filter, the detail views; it never consumes."""

from __future__ import annotations

import json
from typing import Any

from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy
from textual import events
from textual.pilot import Pilot

from jstui.app import JstuiApp
from jstui.dialogs.stream_browser import StreamBrowserScreen
from tests.app.conftest import AppFactory, screen_text, wait_until
from tests.app.conftest import wait_connected as connected
from tests.app.test_streams_pane import make_stream, select_stream


async def open_browser(pilot: Pilot[Any], name: str) -> StreamBrowserScreen:
    app = pilot.app
    await connected(pilot)
    await select_stream(pilot, name)
    await pilot.press("b")
    await wait_until(pilot, lambda: isinstance(app.screen, StreamBrowserScreen), what="browser")
    browser = app.screen
    assert isinstance(browser, StreamBrowserScreen)
    await wait_until(pilot, lambda: browser.messages, what="first page")
    return browser


def seqs(browser: StreamBrowserScreen) -> list[int]:
    return [m.seq for m in browser.messages]


async def fill_stream(nc: Client, name: str, prefix: str, count: int) -> None:
    """Messages 1..count: every third JSON, every third binary, the rest hostile text."""
    await make_stream(nc, name, [f"{prefix}.b.*"], allow_direct=True)
    js = nc.jetstream()
    for seq in range(1, count + 1):
        subject = f"{prefix}.b.{'even' if seq % 2 == 0 else 'odd'}"
        if seq % 3 == 0:
            data = json.dumps({"seq": seq, "tag": "[b]x[/b]"}).encode()
        elif seq % 3 == 1:
            data = bytes(range(32)) + b"\xff\xfe"
        else:
            data = f"text {seq} \x1b]52;c;aGk=\x07 [link=x]y".encode()
        await js.publish(subject, data, headers={"X-Seq": str(seq), "X-Evil": "\x1b[2J[/]"})


async def test_pages_order_jump_and_filter(make_app: AppFactory, nc: Client, unique: str) -> None:
    name = f"{unique}_pages"
    await fill_stream(nc, name, unique, 30)
    app: JstuiApp = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        browser = await open_browser(pilot, name)
        first = seqs(browser)
        size = len(first)
        assert 5 <= size < 30, "one page is one screenful"
        assert first == list(range(30, 30 - size, -1)), "newest first, no gaps"
        assert "never consumes" in screen_text(app)

        await pilot.press("pagedown")
        await wait_until(pilot, lambda: seqs(browser)[0] == 30 - size, what="older page")
        assert seqs(browser) == list(range(30 - size, max(0, 30 - 2 * size), -1))
        await pilot.press("pageup")
        await wait_until(pilot, lambda: seqs(browser) == first, what="back to the newest")

        await pilot.press("o")
        await wait_until(pilot, lambda: seqs(browser)[0] == 1, what="oldest first")
        assert seqs(browser) == list(range(1, size + 1))

        await pilot.press("g", *"17", "enter")
        await wait_until(pilot, lambda: seqs(browser)[0] == 17, what="jump to 17")
        assert seqs(browser)[:3] == [17, 18, 19]
        assert browser.table.cursor_row == 0

        await pilot.press("g", "end", "ctrl+u", *"99", "enter")
        await wait_until(pilot, lambda: "outside the stream" in screen_text(app), what="error")
        assert seqs(browser)[0] == 17, "a bad jump changes nothing"

        # Escape leaves the field; f then goes to the filter.
        await pilot.press("escape", "f")
        app.post_message(events.Paste(f"{unique}.b.even"))  # a paste, as from a terminal
        await pilot.press("enter")
        await wait_until(pilot, lambda: seqs(browser)[0] == 2, what="filtered")
        assert all(m.subject.endswith(".even") for m in browser.messages)
        assert all(s % 2 == 0 for s in seqs(browser))

        await pilot.press("f", "end", "ctrl+u", *"a..b", "enter")
        await wait_until(pilot, lambda: "empty token" in screen_text(app), what="filter error")
        assert all(s % 2 == 0 for s in seqs(browser)), "a bad filter changes nothing"

        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="closed")
    info = await nc.jsm().stream_info(name)
    assert info.state.messages == 30


async def test_detail_views_and_hostile_content(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name = f"{unique}_detail"
    await fill_stream(nc, name, unique, 6)
    app: JstuiApp = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        browser = await open_browser(pilot, name)
        # Newest first: seq 6 is JSON, shown pretty-printed.
        assert seqs(browser)[0] == 6
        detail = browser.detail_text
        assert "Seq 6" in detail and f"{unique}.b.even" in detail
        assert "as json" in detail and '"tag": "[b]x[/b]"' in detail
        assert "X-Seq: 6" in detail
        assert "X-Evil: \u241b[2J[/]" in detail, "ESC shown as a visible symbol"

        await pilot.press("v")
        await wait_until(pilot, lambda: "as hex" in browser.detail_text, what="hex view")
        assert "00000000  7b 22 73 65" in browser.detail_text
        await pilot.press("v")
        await wait_until(pilot, lambda: "as text" in browser.detail_text, what="text view")

        # seq 5: hostile text; the escape sequences are made visible, never sent.
        await pilot.press("down")
        await wait_until(pilot, lambda: "Seq 5" in browser.detail_text, what="seq 5")
        assert "\u241b]52;c;aGk=\u2407 [link=x]y" in browser.detail_text
        # seq 4: binary; its own choice is a hex dump when the user has not picked a view.
        await pilot.press("down")
        await wait_until(pilot, lambda: "Seq 4" in browser.detail_text, what="seq 4")
        assert "as text" in browser.detail_text  # the user's choice (text) sticks

        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "[b]x[/b]" in text or "[link=x]y" in text


async def test_browsing_an_interest_stream_leaves_it_unchanged(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name = f"{unique}_interest"
    await make_stream(nc, name, [f"{unique}.i.*"], retention=RetentionPolicy.INTEREST)
    durable = f"{unique}_audit"
    await nc.jsm().add_consumer(
        name, ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT)
    )
    js = nc.jetstream()
    for i in range(5):
        await js.publish(f"{unique}.i.{i}", f"event {i}".encode())
    before = await nc.jsm().consumer_info(name, durable)
    app: JstuiApp = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        browser = await open_browser(pilot, name)
        assert seqs(browser) == [5, 4, 3, 2, 1]
        await pilot.press("down", "down", "down", "o")
        await wait_until(pilot, lambda: seqs(browser)[0] == 1, what="oldest first")
        await pilot.press("escape")
    info = await nc.jsm().stream_info(name)
    after = await nc.jsm().consumer_info(name, durable)
    assert info.state.messages == 5
    assert info.state.consumer_count == 1
    assert after.num_pending == before.num_pending == 5
    assert after.delivered.stream_seq == before.delivered.stream_seq == 0


async def test_enter_shows_the_move_into_the_detail_and_escape_steps_back(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """Enter moved the focus into the detail with no sign, and Escape's two steps were unsaid."""
    name = f"{unique}_focus"
    await fill_stream(nc, name, unique, 6)
    app: JstuiApp = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        browser = await open_browser(pilot, name)
        detail = browser.query_one("#browser-detail")
        text = screen_text(app)
        assert "Enter reads the message" in text and "esc Close" in text.replace("  ", " ")
        assert "Back to list" not in text

        await pilot.press("enter")
        await wait_until(pilot, lambda: app.focused is detail, what="detail focused")
        await pilot.pause()
        text = screen_text(app)
        assert "Esc back to the list" in text, "the detail says it has the focus"
        assert "Back to list" in text and "Enter reads the message" not in text
        assert "esc Close" not in text.replace("  ", " ")

        await pilot.press("escape")  # one step back: the list, browser still open
        await wait_until(pilot, lambda: app.focused is browser.table, what="list focused")
        assert app.screen is browser
        await pilot.pause()
        assert "Esc back to the list" not in screen_text(app)

        await pilot.press("escape")  # and out
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="closed")
