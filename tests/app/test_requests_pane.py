"""The Request/Reply pane driven like a user would: the form for each mode, the history and the
detail, failures shown in the console, responders started and stopped, re-send, saved requests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Select, Static, TabbedContent

from jstui.app import JstuiApp
from jstui.dialogs.request_form import RequestFormScreen
from jstui.dialogs.responder_form import ResponderFormScreen
from jstui.nats.requests.spec import RequestSpec
from jstui.widgets.requests import RequestsPane
from jstui.widgets.requests import pane as requests_pane
from tests.app.conftest import AppFactory, count_layouts, screen_text, wait_connected, wait_until

TIMEOUT = 20.0  # generous: the machine is shared with other test runs


@pytest.fixture(autouse=True)
def saved_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Saved requests go to a folder of the test's own, never the user's config directory."""
    folder = tmp_path / "config"
    monkeypatch.setattr(RequestsPane, "saved_requests_dir", folder)
    return folder


def _pane(app: JstuiApp) -> RequestsPane:
    return app.dashboard.query_one(RequestsPane)


def _history(app: JstuiApp) -> DataTable[Any]:
    return _pane(app).query_one("#requests-history", DataTable)


def _counts(stats: DataTable[Any]) -> dict[str, str]:
    """The Stats tab's request count per subject."""
    return {str(row[0]): str(row[1]) for row in map(stats.get_row_at, range(stats.row_count))}


def _row_texts(table: DataTable[Any]) -> list[str]:
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def _open_request_form(pilot: Pilot[Any]) -> RequestFormScreen:
    await pilot.press("3", "n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RequestFormScreen), what="form")
    return pilot.app.screen  # type: ignore[return-value]


async def _fill_request(
    pilot: Pilot[Any],
    subject: str,
    *,
    mode_downs: int = 0,
    max_replies: str = "",
    headers: str = "",
    payload: str = "",
    timeout: str = "",
) -> None:
    """Type into the form as a user does: subject, then tab through mode, timeout, limit, ..."""
    await pilot.press(*subject)
    await pilot.press("tab")  # mode
    if mode_downs:
        await pilot.press("enter", *["down"] * mode_downs, "enter")
    await pilot.press("tab")  # timeout
    if timeout:
        await pilot.press(*["backspace"] * 4, *timeout)
    await pilot.press("tab")  # max replies
    await pilot.press(*max_replies)
    await pilot.press("tab")  # headers
    for line_number, line in enumerate(headers.splitlines()):
        if line_number:
            await pilot.press("enter")
        await pilot.press(*line)
    await pilot.press("tab")  # payload
    await pilot.press(*payload)


async def _wait_row(pilot: Pilot[Any], app: JstuiApp, count: int, status: str) -> str:
    table = _history(app)
    await wait_until(
        pilot,
        lambda: table.row_count >= count and status in _row_texts(table)[count - 1],
        timeout=TIMEOUT,
        what=f"history row {count} with {status!r}",
    )
    return _row_texts(table)[count - 1]


async def _one_request_replied(pilot: Pilot[Any], app: JstuiApp, subject: str) -> RequestsPane:
    """Connected, one request on `subject` sent from the pane, and its row showing "replied"."""
    await wait_connected(pilot)
    pane = _pane(app)
    pane.send_request(RequestSpec(subject, payload=b"first", timeout=TIMEOUT))
    await _wait_row(pilot, app, 1, "replied")
    return pane


async def _echo_responder(
    nc: Client, subject: str, held: Callable[[str], asyncio.Event | None] = lambda _: None
) -> None:
    """Answer every request on `subject` with its payload; a request for whose subject `held`
    gives an event is answered once the event is set."""

    async def echo(msg: Msg) -> None:
        if (event := held(msg.subject)) is not None:
            await event.wait()
        await msg.respond(msg.data)

    await nc.subscribe(subject, cb=echo)
    await nc.flush()


async def test_each_mode_through_the_form(make_app: AppFactory, nc: Client, unique: str) -> None:
    # The tutorial's shape (a stream on <prefix>.*, requests on <prefix>.requests), short names:
    # every character is a key press.
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.*"])
    subject = f"{unique}.rq"
    app = make_app(
        responders=(
            f"{unique}s,behaviour=upper,name=Alice",
            f"{unique}s,name=Echo",
            f"{subject},mode=stored,behaviour=upper,name=Bob",
        )
    )
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: len(_pane(app).responders or ()) == 3, what="responders")

        await _open_request_form(pilot)
        await _fill_request(pilot, f"{unique}s", headers="X-T: 7", payload="hi")
        await pilot.press("ctrl+s")
        row = await _wait_row(pilot, app, 1, "replied")
        assert (
            "request" in row
            and f"{unique}s" in row
            and re.search(r"replied [0-9.]+ (µs|ms|s)\b", row)
        )

        await pilot.press("e")  # edit the selected (last) request: gather, until 2 replies
        await wait_until(pilot, lambda: isinstance(app.screen, RequestFormScreen), what="form")
        await pilot.press("tab", "enter", "down", "enter", "tab", "tab", *"2")
        await pilot.press("ctrl+s")
        await _wait_row(pilot, app, 2, "2 replies")

        await _open_request_form(pilot)
        await _fill_request(pilot, subject, mode_downs=2, max_replies="1", payload="Hey, you")
        await pilot.press("ctrl+s")
        await _wait_row(pilot, app, 3, "1 reply")

        await pilot.press("z")  # the pane maximized: the whole detail of the selected request
        await pilot.pause()
        text = screen_text(app)
        assert f"stream {unique} seq 1" in text
        assert "reply 1" in text and "from Bob" in text
        assert "Response from Bob : HEY, YOU" in text

        await pilot.press("up")  # the gather: every reply, each with its latency and responder
        await pilot.pause()
        text = screen_text(app)
        assert "reply 2" in text and "from Alice" in text and "from Echo" in text
        assert "X-T: 7" in text


async def test_failures_get_a_clear_message(make_app: AppFactory, unique: str) -> None:
    app = make_app(responders=(f"{unique}m,behaviour=fail",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: len(_pane(app).responders or ()) == 1, what="responder")

        await _open_request_form(pilot)
        await _fill_request(pilot, f"{unique}n")
        await pilot.press("ctrl+s")
        await _wait_row(pilot, app, 1, "no responders")

        await _open_request_form(pilot)
        await _fill_request(pilot, f"{unique}m", timeout=".3")
        await pilot.press("ctrl+s")
        await _wait_row(pilot, app, 2, "timed out")

        await _open_request_form(pilot)
        await _fill_request(pilot, f"{unique}n", mode_downs=2, timeout="1")
        await pilot.press("ctrl+s")
        await _wait_row(pilot, app, 3, "error")
        await wait_until(pilot, lambda: "no stream captures" in screen_text(app), what="reason")

        form = await _open_request_form(pilot)
        await _fill_request(pilot, "x", headers="A: 1\nbad")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # the form stays open, with the reason next to the field
        assert "line 2: expected 'Key: Value'" in screen_text(app)
        await pilot.press("escape")
        assert _history(app).row_count == 3  # nothing was sent


async def test_start_and_stop_responders_from_the_console(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("3")
        _pane(app).action_add_responder()  # a is not offered in read-only mode
        await wait_until(pilot, lambda: isinstance(app.screen, ResponderFormScreen), what="form")
        await pilot.pause()  # composed
        await pilot.press(*f"{unique}.svc")
        await pilot.press("tab", "tab", "enter", "down", "enter")  # behaviour: upper
        await pilot.press("tab", "backspace", "2")  # count 2
        await pilot.press("tab", *"grp", "tab", *"Zed")  # queue, name
        assert f"--responder {unique}.svc,queue=grp,count=2,behaviour=upper,name=Zed" in (
            screen_text(app)
        )
        await pilot.press("ctrl+s")
        table = _pane(app).query_one("#requests-responders", DataTable)
        await wait_until(
            pilot,
            lambda: table.row_count == 2 and all("running" in r for r in _row_texts(table)),
            timeout=TIMEOUT,
            what="two running responders",
        )
        assert "Responders 2" in screen_text(app)

        for _ in range(4):
            reply = await nc.request(f"{unique}.svc", b"hey", timeout=10)
            assert reply.data.startswith(b"Response from Zed-") and reply.data.endswith(b"HEY")
        await wait_until(
            pilot,
            lambda: sum(int(str(table.get_row_at(i)[2])) for i in range(2)) == 4,
            what="answered counts",
        )

        tabs = _pane(app).query_one(TabbedContent)
        await wait_until(
            pilot, lambda: tabs.active == "requests-responders-tab", what="responders tab shown"
        )
        await pilot.press("x")
        await wait_until(pilot, lambda: table.row_count == 1, what="one stopped")
        await pilot.press("x")
        await wait_until(pilot, lambda: table.row_count == 0, what="both stopped")
        with pytest.raises(nats.errors.NoRespondersError):
            await nc.request(f"{unique}.svc", b"hey", timeout=10)
        assert "No responders: press a" in screen_text(app)


async def test_resend_and_saved_requests_survive_a_restart(
    make_app: AppFactory, unique: str, saved_dir: Path
) -> None:
    app = make_app(responders=(f"{unique}.svc",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: len(_pane(app).responders or ()) == 1, what="responder")
        await _open_request_form(pilot)
        await _fill_request(pilot, f"{unique}.svc", payload="ping")
        await pilot.press("ctrl+s")
        await _wait_row(pilot, app, 1, "replied")

        await pilot.press("r")  # re-send the selected request
        await _wait_row(pilot, app, 2, "replied")

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, RequestFormScreen), what="form")
        app.screen.query_one("#request-name").focus()
        await pilot.press(*"my ping", "enter")
        await wait_until(pilot, lambda: "saved as my ping" in screen_text(app), what="saved")
        await pilot.press("escape")
    assert (saved_dir / "requests.json").exists()

    again = make_app()
    async with again.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        form = await _open_request_form(pilot)
        load = form.query_one("#request-load", Select)
        await wait_until(pilot, lambda: load._options[1:] != [], what="saved list")
        load.focus()
        await pilot.press("enter", "down", "enter")
        await wait_until(
            pilot, lambda: form.query_one("#request-subject").value == f"{unique}.svc", what="fill"
        )
        assert form.query_one("#request-payload").text == "ping"


async def test_read_only_refuses_responders_and_stored_requests(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        await pilot.press("3")
        _pane(app).action_add_responder()  # a is not offered in read-only mode
        await wait_until(pilot, lambda: isinstance(app.screen, ResponderFormScreen), what="form")
        await pilot.pause()  # composed
        await pilot.press(*f"{unique}.svc", "ctrl+s")
        await wait_until(
            pilot, lambda: "read-only mode" in screen_text(app), what="refusal", timeout=TIMEOUT
        )
        await _open_request_form(pilot)
        await _fill_request(pilot, f"{unique}.s", mode_downs=2)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "a stored request" in screen_text(app), what="refusal")
        assert _history(app).row_count == 0
        assert not _pane(app).responders


async def test_small_terminal_shows_the_console(make_app: AppFactory, unique: str) -> None:
    app = make_app(responders=(f"{unique}.svc",))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        await pilot.press("3")
        await pilot.pause()
        text = screen_text(app)
        assert "3 Request/Reply" in text and "History" in text and "Responders" in text
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, RequestFormScreen), what="form")
        await pilot.press(*f"{unique}.svc", "enter")
        await _wait_row(pilot, app, 1, "replied")
        assert "replied" in screen_text(app)


async def test_responders_show_failed_when_the_connection_closes_for_good(
    make_app: AppFactory, unique: str
) -> None:
    app = make_app(responders=(f"{unique}.svc",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("3")
        table = _pane(app).query_one("#requests-responders", DataTable)
        await wait_until(
            pilot,
            lambda: table.row_count == 1 and "running" in _row_texts(table)[0],
            timeout=TIMEOUT,
            what="a running responder",
        )
        await app.session.nc.close()
        await wait_until(
            pilot,
            lambda: "failed: connection closed" in _row_texts(table)[0],
            what="the responder marked failed",
        )
        assert app.is_running


async def test_a_failure_drawing_the_outcome_is_shown(
    make_app: AppFactory, nc: Client, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The outcome is drawn in the request task's done callback, where an exception would only
    # reach asyncio's handler (stderr, under the screen): a bug there is shown like any other.
    await _echo_responder(nc, f"{unique}.echo")
    app = make_app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        pane = _pane(app)

        def broken() -> None:
            raise RuntimeError("no room left")

        monkeypatch.setattr(pane, "_draw_outcome", broken)
        record = await pane.send_request(RequestSpec(f"{unique}.echo", payload=b"hi"))
        assert record.replies and pane._last_record is record
        await wait_until(
            pilot,
            lambda: any(
                n.message == "drawing the outcome failed: no room left" for n in app._notifications
            ),
            what="the failure shown",
        )
        assert app.is_running


@pytest.mark.parametrize("after_its_waiting_row", [False, True])
async def test_a_reply_is_drawn_the_moment_it_arrives(
    make_app: AppFactory, nc: Client, unique: str, after_its_waiting_row: bool
) -> None:
    # No timer between the reply and the screen: when the record is finished, its row, the
    # detail and the summary already show the reply. Also when the request waited long enough
    # to show its row ("waiting") first: a reply a moment later is not held back as if it were
    # part of a burst of replies.
    answer = asyncio.Event()
    if not after_its_waiting_row:
        answer.set()

    await _echo_responder(nc, f"{unique}.echo", held=lambda _: answer)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = _pane(app)
        assert pane.console is not None
        sending = pane.send_request(RequestSpec(f"{unique}.echo", payload=b"hi", timeout=TIMEOUT))
        if after_its_waiting_row:
            await _wait_row(pilot, app, 1, "waiting")
            answer.set()
        # Not a pause, which would give a redraw timer its turn: whoever awaits the request
        # wakes as its outcome is known, and the reply must already be drawn then.
        await sending  # (it ends by itself, at worst when the request times out)
        assert "replied" in _row_texts(_history(app))[-1]
        assert "replied in" in str(pane.query_one("#requests-summary", Static).render())


async def test_a_request_answered_at_once_lays_nothing_out_again(
    make_app: AppFactory, nc: Client, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A layout reflows the whole screen (~10 ms on the dashboard, four of them per request
    # before): a new row in the history's box, a detail as long as the one before and a reply
    # that comes before the pane's timer ticks need none. The pane's 2 Hz redraw has paused in
    # between (nothing left to draw), so each request wakes it.
    await _echo_responder(nc, f"{unique}.echo")
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        pane = await _one_request_replied(pilot, app, f"{unique}.echo")
        await pilot.pause(1.2)  # the first detail's own layout, and the timer has paused

        layouts = count_layouts(monkeypatch, pane)
        for number in range(2, 5):
            pane.send_request(RequestSpec(f"{unique}.echo", payload=b"hi", timeout=TIMEOUT))
            await _wait_row(pilot, app, number, "replied")
            await pilot.pause(0.8)
        assert layouts == []
        assert _history(app).cursor_row == 3
        text = screen_text(app)
        assert "#4 request" in text and "reply 1" in text  # the detail shows the newest, whole

        detail = pane.query_one("#requests-detail", Static)
        height = detail.size.height
        lines = "\n".join(f"line {n}" for n in range(6)).encode()
        pane.send_request(RequestSpec(f"{unique}.echo", payload=lines, timeout=TIMEOUT))
        await _wait_row(pilot, app, 5, "replied")
        await pilot.pause(0.2)
        assert detail.size.height >= height + 2 * 5  # a longer detail is laid out: all of it
        assert layouts


async def test_an_idle_console_redraws_nothing(
    make_app: AppFactory, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(responders=(f"{unique}.idle,name=Echo",))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = _pane(app)
        await wait_until(pilot, lambda: len(pane.responders or ()) == 1, what="responder")
        pane.send_request(RequestSpec(f"{unique}.idle", payload=b"hi", timeout=TIMEOUT))
        await _wait_row(pilot, app, 1, "replied")
        await pilot.pause(1.5)  # the timer's redraws of stats and responders are done

        redraws: list[str] = []
        refresh = Widget.refresh

        def counted(widget: Widget, *args: Any, **kwargs: Any) -> Widget:
            if widget is pane or pane in widget.ancestors:
                redraws.append(f"{widget!r} {kwargs}")
            return refresh(widget, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", counted)
        await pilot.pause(2.0)  # four ticks of the pane's 2 Hz timer
        assert redraws == []


async def test_the_newest_request_stays_in_view(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    # Sent one after another from the form, each request's row is on screen once its reply is:
    # the history follows its end when the rows outgrow the table. At 158 columns the history's
    # columns fit it exactly until its vertical scrollbar comes, and the horizontal one that
    # follows takes a line from the rows.
    await _echo_responder(nc, f"{unique}.echo.*")
    app = make_app()
    async with app.run_test(size=(158, 45)) as pilot:
        await wait_connected(pilot)
        table = _history(app)
        for number in range(9):
            await _open_request_form(pilot)
            await _fill_request(pilot, f"{unique}.echo.{number:02d}", payload="ping")
            await pilot.press("ctrl+s")
            row = await _wait_row(pilot, app, number + 1, "replied")
            assert f"{unique}.echo.{number:02d}" in row
            await wait_until(
                pilot,
                lambda number=number: re.search(
                    rf"{re.escape(unique)}\.echo\.{number:02d} +replied", screen_text(app)
                ),
                timeout=5,
                what=f"request {number} replied, on screen (scroll {table.scroll_y}"
                f"/{table.max_scroll_y})",
            )


async def test_the_stats_tab_catches_up_when_shown(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    # Hidden, the statistics are not drawn; shown, they hold every request sent meanwhile, and
    # while shown they follow the replies that come.
    answer_late = asyncio.Event()

    await _echo_responder(
        nc,
        f"{unique}.echo.*",
        held=lambda subject: answer_late if subject.endswith(".late") else None,
    )
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = _pane(app)
        stats = pane.query_one("#requests-stats", DataTable)
        for name in ("a", "b", "b"):
            spec = RequestSpec(f"{unique}.echo.{name}", payload=b"hi", timeout=TIMEOUT)
            await pane.send_request(spec)
        late = pane.send_request(RequestSpec(f"{unique}.echo.late", payload=b"hi", timeout=TIMEOUT))
        await pilot.pause(1.2)  # two ticks of the pane's timer
        assert stats.row_count == 0  # the History tab shows: nothing drawn for the hidden one
        await pilot.press("3", "t")
        expected = {f"{unique}.echo.a": "1", f"{unique}.echo.b": "2"}
        await wait_until(
            pilot, lambda: _counts(stats) == expected, what="both subjects with their counts"
        )
        assert re.search(rf"first-reply latency of {re.escape(unique)}\.echo\.", screen_text(app))
        answer_late.set()
        await late
        await wait_until(
            pilot,
            lambda: _counts(stats).get(f"{unique}.echo.late") == "1",
            what=f"the shown tab follows a reply: {_counts(stats)}",
        )


async def test_a_burst_of_requests_redraws_the_history_once_a_second(
    make_app: AppFactory, nc: Client, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dozens of rows between two redraws are a script, not a person: the rows wait for the
    # burst's next redraw (once a second; here never, until the test allows it), while the
    # summary line shows each outcome at once. Nothing is lost: the next redraw shows them all.
    await _echo_responder(nc, f"{unique}.echo")
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        pane = await _one_request_replied(pilot, app, f"{unique}.echo")

        monkeypatch.setattr(requests_pane, "BURST_REDRAW_SECONDS", 3600.0)
        burst = requests_pane.BURST_ROWS + 10
        specs = [
            RequestSpec(f"{unique}.echo", payload=f"{n}".encode(), timeout=TIMEOUT)
            for n in range(burst)
        ]
        await asyncio.gather(*(pane.send_request(spec) for spec in specs))
        await pilot.pause(0.6)  # a tick of the pane's 2 Hz timer, and a SOON redraw
        assert _history(app).row_count == 1
        assert pane.console is not None and len(pane.console.history) == burst + 1
        summary = str(pane.query_one("#requests-summary", Static).render())
        assert "replied in" in summary

        monkeypatch.setattr(requests_pane, "BURST_REDRAW_SECONDS", 0.0)
        await wait_until(
            pilot,
            lambda: _history(app).row_count == burst + 1,
            timeout=TIMEOUT,
            what="every row of the burst",
        )
        assert all("replied" in row for row in _row_texts(_history(app)))
