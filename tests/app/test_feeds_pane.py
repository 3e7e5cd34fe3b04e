"""The Feeds pane driven like a user would: dialogs, publish form, lines, detail, pause, export."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.api import RetentionPolicy
from textual import events
from textual.pilot import Pilot
from textual.selection import Selection
from textual.widgets import Input, RadioButton, TextArea

from jstui.app import JstuiApp
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.feed_dialog import ExportDialog, FeedDialog, FilterDialog
from jstui.dialogs.message_detail import MessageDetailScreen
from jstui.dialogs.publish import PublishScreen
from jstui.format.payload import PayloadView
from jstui.nats.feeds.feed import Feed
from jstui.nats.feeds.filter import NO_FILTER, FeedFilter
from jstui.nats.feeds.spec import FeedMode
from jstui.widgets.feeds import FeedLog, FeedsPane, FeedView
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until

BIG = (160, 45)


def pane(app: JstuiApp) -> FeedsPane:
    return app.dashboard.query_one(FeedsPane)


def current(app: JstuiApp) -> FeedView:
    view = pane(app).current
    assert view is not None
    return view


def log_lines(app: JstuiApp) -> list[str]:
    return list(current(app).query_one(FeedLog).lines)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def fill(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Focus a field, empty it and paste `text` (a terminal paste: one event, not a key each).

    Focused, not clicked: a click aims at where the field was a moment ago, and a form that is
    still laying out (a mode change shows other rows) can move it, so the click lands beside it
    and the keys that should empty the field go elsewhere."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    if isinstance(widget, Input):
        await pilot.press("ctrl+a", "ctrl+k")
    elif isinstance(widget, TextArea):
        await pilot.press("ctrl+a", "backspace")
    widget.post_message(events.Paste(text))
    await pilot.pause()


async def open_feed(pilot: Pilot[Any], subject: str, mode: str = "core") -> FeedView:
    app = pilot.app
    assert isinstance(app, JstuiApp)
    await pilot.press("2", "n")
    await wait_until(pilot, lambda: isinstance(app.screen, FeedDialog), what="subscribe dialog")
    await fill(pilot, "#feed-subject", subject)
    if mode != "core":
        await pilot.click(f"#mode-{mode}")
    before = len(pane(app).views)
    await pilot.click("#feed-ok")
    await wait_until(
        pilot,
        # the tab is mounted before it is made the active one
        lambda: len(pane(app).views) == before + 1 and pane(app).current is pane(app).views[-1],
        what="a new feed tab, shown",
    )
    view = current(app)
    await wait_until(pilot, lambda: view.feed.state.value == "live", what="feed live")
    return view


async def open_publish_form(pilot: Pilot[Any]) -> PublishScreen:
    app = pilot.app
    await pilot.press("p")
    await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen), what="publish form")
    screen = app.screen
    assert isinstance(screen, PublishScreen)
    return screen


async def publish_via_form(pilot: Pilot[Any], form: PublishScreen, payload: str) -> None:
    """Replace the payload (select all, paste) and press ctrl+s; wait for the outcome."""
    before = form.published
    area = form.query_one("#publish-payload", TextArea)
    if not area.has_focus:
        await pilot.click("#publish-payload")
    await pilot.press("ctrl+a")
    area.post_message(events.Paste(payload))
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: form.published == before + 1, what=f"publish {payload!r}")


async def test_open_a_core_feed_publish_and_see_the_line(make_app: AppFactory, unique: str) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.hello")
        form = await open_publish_form(pilot)
        assert form.query_one("#publish-subject", Input).value == f"{unique}.hello"
        await fill(pilot, "#publish-headers", "Trace: 42")
        await publish_via_form(pilot, form, "hello world")
        assert "core" in str(form.query_one("#publish-result").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: view.feed.counts().shown == 1, what="line drawn")
        # a quiet feed's counters line follows within a second (its slow tick), not at once
        counters = "recv 1  shown 1  skipped 0  dropped 0"
        await wait_until(pilot, lambda: counters in screen_text(app), what="the counters")
        text = screen_text(app)
        assert f"{unique}.hello" in text and "hello world" in text and "h1" in text


async def test_tutorial_flow_jetstream_feed_with_form_and_external_publisher(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    # DEVELOPERS.md tutorial: example_stream on my.subject.*, then Message 1..5 to my.subject.test
    stream = f"{unique}_example_stream"
    subjects = f"{unique}.my.subject"
    await nc.jetstream().add_stream(name=stream, subjects=[f"{subjects}.*"])
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{subjects}.*", mode="js")
        assert view.feed.stream == stream
        form = await open_publish_form(pilot)
        await fill(pilot, "#publish-subject", f"{subjects}.test")
        for i in range(1, 6):
            await publish_via_form(pilot, form, f"Message {i}")
            result = str(form.query_one("#publish-result").render())
            assert f"stored in stream {stream} as sequence {i}" in result
        await pilot.press("escape")
        await wait_until(pilot, lambda: view.feed.counts().shown == 5, what="five lines")
        lines = log_lines(app)
        for i in range(1, 6):
            assert any(f"{i}/{i}" in line and f"Message {i}" in line for line in lines), lines
        # the same with an external program publishing on the same server
        js = nc.jetstream()
        for i in range(6, 11):
            ack = await js.publish(f"{subjects}.test", f"Message {i}".encode())
            assert ack.seq == i
        await wait_until(pilot, lambda: view.feed.counts().shown == 10, what="ten lines")
        await pilot.pause()
        text = screen_text(app)
        for i in range(1, 11):
            assert f"Message {i}" in text
        assert f"{subjects}.test" in text


async def test_detail_view_hex_toggle_copy_and_publish_again(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.d")
        await nc.publish(f"{unique}.d", b'{"id": 7, "ok": true}', headers={"K": "v"})
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.counts().shown == 1, what="line")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MessageDetailScreen), what="detail")
        detail = app.screen
        assert isinstance(detail, MessageDetailScreen)
        text = screen_text(app)
        assert f"{unique}.d" in text and "K: v" in text and "[JSON]" in text
        assert detail.view is PayloadView.JSON and '"id": 7' in detail.payload_text
        await pilot.press("v")
        assert detail.view is PayloadView.HEX
        assert detail.payload_text.startswith("00000000  7b 22 69 64")
        await pilot.press("v")
        assert detail.view is PayloadView.TEXT
        await pilot.press("c")
        assert app.clipboard == '{"id": 7, "ok": true}'
        await pilot.press("j")
        copied = json.loads(app.clipboard)
        assert copied["subject"] == f"{unique}.d" and copied["headers"] == {"K": "v"}
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen), what="form")
        form = app.screen
        assert form.query_one("#publish-subject", Input).value == f"{unique}.d"
        assert form.query_one("#publish-payload", TextArea).text == '{"id": 7, "ok": true}'
        assert form.query_one("#publish-headers", TextArea).text == "K: v"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: view.feed.count == 2, what="published again")


async def test_pause_shows_new_count_and_end_follows(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.p")
        await pilot.press("space")
        assert view.paused
        for i in range(30):
            await nc.publish(f"{unique}.p", f"n{i}".encode())
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 30, what="30 received")
        await wait_until(pilot, lambda: "+30 new" in screen_text(app), what="+30 new")
        assert "paused" in screen_text(app)
        assert log_lines(app) == []
        await pilot.press("end")
        assert not view.paused
        await wait_until(pilot, lambda: "n29" in screen_text(app), what="tail drawn")
        assert "+30 new" not in screen_text(app)
        c = view.feed.counts()
        assert c.received == c.shown + c.filtered + c.skipped + c.dropped + c.pending
        # moving the cursor up holds the view too
        await pilot.press("up")
        assert view.paused and view.pause_reason == "scrolled"
        await nc.publish(f"{unique}.p", b"later")
        await nc.flush()
        await wait_until(pilot, lambda: "+1 new" in screen_text(app), what="+1 new")


async def test_export_writes_ndjson_and_says_where(
    make_app: AppFactory, nc: Client, unique: str, tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=BIG, notifications=True) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.x")
        await nc.publish(f"{unique}.x", b"text one")
        await nc.publish(f"{unique}.x", b"\xff\xfe binary")
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 2, what="two messages")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog), what="export")
        target = tmp_path / "feed.ndjson"
        await fill(pilot, "#export-path", str(target))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportDialog), what="done")
        await pilot.pause()
        rows = [json.loads(line) for line in target.read_text().splitlines()]
        assert [r["payload_encoding"] for r in rows] == ["utf-8", "base64"]
        assert rows[0]["payload"] == "text one"
        text = screen_text(app)
        assert "Exported 2 messages" in text and "feed.ndjson" in text  # the toast wraps the path


async def test_filter_by_subject_and_payload_without_unsubscribing(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.f.*")
        for region in ("eu", "us", "eu"):
            await nc.publish(f"{unique}.f.{region}", f"order from {region}".encode())
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.counts().shown == 3, what="three lines")
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterDialog), what="filter")
        await fill(pilot, "#filter-payload", "(unclosed")
        await pilot.press("enter")
        assert "invalid regular expression" in screen_text(app)
        await fill(pilot, "#filter-payload", "from eu")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilterDialog), what="closed")
        assert len(log_lines(app)) == 2
        await nc.publish(f"{unique}.f.us", b"order from us")
        await nc.publish(f"{unique}.f.eu", b"order from eu again")
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 5, what="five received")
        await wait_until(pilot, lambda: len(log_lines(app)) == 3, what="filtered line")
        # the counters follow the filter: both "us" messages are filtered, the earlier one too
        counters = "recv 5  shown 3  filtered 2  skipped 0  dropped 0"
        await wait_until(pilot, lambda: counters in screen_text(app), what="the counters")
        assert "filter: payload /from eu/" in screen_text(app)
        assert view.feed.state.value == "live"


async def test_hostile_payloads_are_safe_in_line_and_detail(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    hostile = [
        b"[bold red]markup[/] [@click=app.quit]x[/]",
        b"\xe2\x80\xaeRLO \x1b]0;pwned\x07 then a clear screen \x1b[2J",
        b"\xff\xfe\xfd invalid utf-8",
        b"A" * (1024 * 1024 - 512),
        b"",
    ]
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.h.>")
        for i, payload in enumerate(hostile):
            await nc.publish(f"{unique}.h.\x1b[31m{i}", payload, headers={"X": "\x1b[5m"})
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.counts().shown == 5, what="five lines")
        await pilot.pause()
        lines = log_lines(app)
        for line in lines:
            assert "\x1b" not in line and "\x9b" not in line and "\u202e" not in line
        assert "[bold red]markup[/]" in lines[0]
        assert "\\u202eRLO \u241b]0;pwned\u2407" in lines[1]
        assert "<binary" in lines[2]
        assert "1.0M" in lines[3] and "\u2026" in lines[3]
        assert "<empty>" in lines[4]
        assert app.is_running
        log = current(app).query_one(FeedLog)
        for index in range(5):
            log.cursor = index
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, MessageDetailScreen))
            detail = app.screen
            assert isinstance(detail, MessageDetailScreen)
            shown = screen_text(app) + detail.payload_text
            assert "\x1b" not in shown and "\x9b" not in shown and "\u202e" not in shown
            if index == 3:
                assert detail.payload_text.endswith("chars)")  # 1 MB is cut, and says so
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, MessageDetailScreen))
        assert app.is_running


async def test_consuming_feed_ack_removes_from_work_queue(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"], retention=RetentionPolicy.WORK_QUEUE)
    for i in range(3):
        await js.publish(f"{unique}.job", f"job {i}".encode())
    app = make_app(feeds=(f"{unique}.>,consume,durable=ui",))
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: pane(app).views, what="start-up feed")
        await pilot.press("2")
        view = current(app)
        await wait_until(pilot, lambda: view.feed.counts().shown == 3, what="three jobs")
        assert "consuming" in screen_text(app)
        await pilot.press("up", "a")  # the first press selects the newest line: ack it
        await wait_until(pilot, lambda: len(view.feed.acks) == 1, what="ack sent")
        await pilot.press("up", "T")  # the one above: terminate
        await wait_until(pilot, lambda: len(view.feed.acks) == 2, what="term sent")
        info = await js.stream_info(unique)
        assert info.state.messages == 1
        acked = {view.feed.find(i).data: kind.value for i, kind in view.feed.acks.items()}
        assert acked == {b"job 2": "ack", b"job 1": "term"}


async def test_startup_feeds_and_bad_option_and_close(make_app: AppFactory, unique: str) -> None:
    app = make_app(feeds=(f"{unique}.a", f"{unique}.b,bogus"), feed_buffer=500)
    async with app.run_test(size=BIG, notifications=True) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: len(pane(app).views) == 1, what="one good feed")
        await wait_until(pilot, lambda: "unknown option" in screen_text(app), what="error")
        feed, sids = await _fill_startup_feed(pilot, app, f"{unique}.a")
        await pilot.press("2", "x")
        await wait_until(pilot, lambda: not pane(app).views, what="closed")
        await wait_until(pilot, lambda: not sids & set(app.session.nc._subs), what="unsubscribed")
        assert "No feed open" in screen_text(app)
        # a closed feed gives its ring buffer back at once, whoever still refers to the feed
        gc.collect()
        closed = feed()
        assert closed is None or not closed.buffer


async def _fill_startup_feed(
    pilot: Pilot[Any], app: JstuiApp, subject: str
) -> tuple[weakref.ref[Feed], set[int]]:
    view = pane(app).views[0]
    assert view.feed.spec.buffer == 500
    await wait_until(pilot, lambda: view.feed.state.value == "live")
    for i in range(50):
        await app.session.nc.publish(subject, b"m%d" % i)
    await wait_until(pilot, lambda: view.feed.count == 50, what="50 received")
    return weakref.ref(view.feed), set(view.feed._sids)


async def test_bulk_publish_from_the_form_and_read_only_refusal(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.bulk")
        form = await open_publish_form(pilot)
        await fill(pilot, "#publish-payload", "n={{i}}")
        await fill(pilot, "#publish-count", "300")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: form.published == 300, what="300 published")
        assert "300/300 sent" in str(form.query_one("#publish-result").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: view.feed.count == 300, what="300 received")
        await wait_until(pilot, lambda: "n=300" in screen_text(app), what="last line")
    ro = make_app(read_only=True)
    async with ro.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        await pilot.press("2")
        pane(ro).action_publish()  # p is not offered in read-only mode
        await wait_until(pilot, lambda: isinstance(ro.screen, PublishScreen), what="form")
        await pilot.pause()  # composed
        await fill(pilot, "#publish-subject", f"{unique}.ro")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: "read-only mode: publish is not allowed" in screen_text(ro), what="no"
        )


async def test_small_terminal_shows_the_feed_alone(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app(feeds=(f"{unique}.small",))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: pane(app).views, what="feed")
        await pilot.press("2")
        view = current(app)
        await wait_until(pilot, lambda: view.feed.state.value == "live")
        await nc.publish(f"{unique}.small", b"fits on a small screen")
        await nc.flush()
        await wait_until(pilot, lambda: "fits on a small screen" in screen_text(app), what="line")
        await wait_until(pilot, lambda: "recv 1  shown 1" in screen_text(app), what="counters")
        text = screen_text(app)
        # the pane border titles: the switcher line names every pane
        assert "╭─ 2 Feeds" in text and "╭─ 1 Streams" not in text


async def test_lines_render_in_columns_cursor_spans_the_row_and_selection_copies(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.r.>")
        for i in range(3):
            await nc.publish(f"{unique}.r.s{i}", f"payload {i}".encode())
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.counts().shown == 3, what="three lines")
        await pilot.pause()
        log = current(app).query_one(FeedLog)
        width = log.size.width
        subject_style = log.get_component_rich_style("feed-log--subject", partial=True)
        cursor_style = log.get_component_rich_style("feed-log--cursor", partial=True)

        def row(y: int) -> list[tuple[str, Any]]:
            strip = log.render_line(y - log.scroll_offset.y)
            assert strip.cell_length == width
            return [(segment.text, segment.style) for segment in strip]

        for y, line in enumerate(log_lines(app)):
            segments = row(y)
            assert "".join(text for text, _ in segments) == line.ljust(width)
            subject = next(style for text, style in segments if text.startswith(unique))
            assert subject is not None and subject.color == subject_style.color
        await pilot.press("up")  # the cursor on the newest line
        assert log.cursor == 2
        assert all(style.bgcolor == cursor_style.bgcolor for _, style in row(2))
        assert row(1)[-1][1].bgcolor != cursor_style.bgcolor

        app.screen.selections = {log: Selection(None, None)}  # select all, as a mouse drag would
        await pilot.pause()
        assert "".join(text for text, _ in row(0)).rstrip() == log_lines(app)[0]
        assert app.screen.get_selected_text() == "\n".join(log_lines(app))


async def test_pause_and_filter_are_view_classes_that_show_the_bars(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.c")
        new_bar, filter_bar = view.query_one("#feed-new"), view.query_one("#feed-filter")
        assert not view.has_class("-paused") and not new_bar.display
        await pilot.press("space")
        await pilot.pause()
        assert view.has_class("-paused") and new_bar.display
        await pilot.press("end")
        await pilot.pause()
        assert not view.has_class("-paused") and not new_bar.display
        view.set_filter(FeedFilter.create(payload="x"))
        await pilot.pause()
        assert view.has_class("-filtered") and filter_bar.display
        assert "filter: payload /x/" in screen_text(app)
        view.set_filter(NO_FILTER)
        await pilot.pause()
        assert not view.has_class("-filtered") and not filter_bar.display


async def test_new_feed_defaults_to_jetstream_when_a_stream_captures_the_subject(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.s.>"])
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        await pilot.press("2", "n")
        await wait_until(pilot, lambda: isinstance(app.screen, FeedDialog), what="dialog")
        dialog = app.screen
        await fill(pilot, "#feed-subject", f"{unique}.s.*")
        js_button = dialog.query_one("#mode-js", RadioButton)
        await wait_until(pilot, lambda: js_button.value, what="the mode follows the subject")
        await wait_until(
            pilot,
            lambda: f"stream {unique} captures this subject" in screen_text(app),
            what="the dialog says why",
        )
        await fill(pilot, "#feed-subject", f"{unique}.plain")
        core_button = dialog.query_one("#mode-core", RadioButton)
        await wait_until(pilot, lambda: core_button.value, what="back to core")
        # submitted before the look-up ends: the submit settles the mode the same way
        # Enter, not a click: the look-up's note can move the button under a click's aim
        subject = dialog.query_one("#feed-subject", Input)
        subject.focus()
        subject.value = f"{unique}.s.x"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(pane(app).views) == 1, what="a feed tab")
        feed = current(app).feed
        assert (feed.spec.mode, feed.spec.stream) == (FeedMode.JETSTREAM, unique)


async def test_moving_up_past_the_first_line_brings_back_skipped_messages(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.many")
        for i in range(1, 501):
            await nc.publish(f"{unique}.many", f"n{i}".encode())
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 500, what="500 received")
        await wait_until(pilot, lambda: view.feed.pending == 0, what="all taken")
        c = view.feed.counts()
        assert c.skipped > 0 and c.shown + c.skipped == 500
        log = view.log_widget
        first = log.message_at(0)
        assert first is not None and first.index > 1
        await pilot.press("up", "home")  # select a line, then go to the first one
        assert log.cursor == 0
        await pilot.press("up")  # past the first line: older messages from the ring buffer
        await pilot.pause()
        assert len(log.refs) == c.shown + min(200, first.index - 1)
        selected = log.selected
        assert selected is not None and selected.index == first.index - 1
        await pilot.press("pageup", "home", "up", "home", "up", "home", "up")
        await pilot.pause()
        oldest = log.message_at(0)
        assert oldest is not None and oldest.index == 1 and oldest.data == b"n1"
        await pilot.press("end")  # back to the tail
        await pilot.pause()
        last = log.message_at(len(log.refs) - 1)
        assert last is not None and last.index == 500


async def test_export_offers_what_is_shown_and_asks_before_replacing(
    make_app: AppFactory, nc: Client, unique: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "kept.ndjson"
    target.write_text("precious\n")
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.ex")
        for i in range(6):
            await nc.publish(f"{unique}.ex", f"{'keep' if i % 3 == 0 else 'skip'} {i}".encode())
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.count == 6, what="six received")
        view.set_filter(FeedFilter.create(payload="keep"))
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog), what="export")
        await fill(pilot, "#export-path", "kept.ndjson")  # relative: the working directory
        text = screen_text(app)
        assert f"writes {target}" in text and "exists" in text
        assert "what is shown (payload /keep/): 2 messages" in text
        assert "the whole buffer: 6 messages" in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await pilot.press("escape")  # keep the file
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog), what="back")
        await pilot.pause()
        assert "the file exists" in screen_text(app)
        assert target.read_text() == "precious\n"
        await pilot.click("#export-ok")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await pilot.press("y")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportDialog), what="done")
        rows = [json.loads(line)["payload"] for line in target.read_text().splitlines()]
        assert rows == ["keep 0", "keep 3"]
