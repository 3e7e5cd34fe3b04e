"""The Request/Reply pane's Watch tab driven like a user: started with --watch-requests or from the
form (w), it shows the requests of plain nats-py programs (the tutorial's core requester and
responder, its stored requester and durable replier, run as subprocesses) matched with their
replies and latency; an unanswered request says "no reply"; read-only mode allows it; stopping
leaves no subscription and no consumer behind on the server."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from nats.aio.client import Client
from textual.widgets import Button, DataTable, Static, TabbedContent

from jstui.app import JstuiApp
from jstui.dialogs.watch_requests_form import WatchRequestsFormScreen
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.requests.watch import INBOX_CATCH_ALLS
from jstui.widgets.requests import RequestsPane
from jstui.widgets.requests.watch import RequestWatchView
from tests.app.conftest import AppFactory, built_pane, screen_text, wait_connected, wait_until
from tests.interop import run, running

TIMEOUT = 20.0  # generous: the machine is shared with other test runs


def _rows(view: RequestWatchView) -> list[str]:
    table = view.query_one("#requests-watch", DataTable)
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


def _counts(view: RequestWatchView) -> str:
    return str(view.query_one("#watch-counts", Static).render())


def _server_subscriptions(server: EmbeddedServer, cid: int) -> set[str]:
    with urllib.request.urlopen(f"{server.monitor_url}/connz?subs=1&cid={cid}", timeout=5) as f:
        connections = json.load(f)["connections"]
    return set(connections[0].get("subscriptions_list", [])) if connections else set()


async def test_watch_requests_option_matches_an_external_requester_and_responder(
    make_app: AppFactory, nats_url: str, unique: str
) -> None:
    app = make_app(watch_requests=f"{unique}.*")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, RequestsPane)
        view = pane.query_one(RequestWatchView)
        await wait_until(pilot, lambda: view.watching == f"{unique}.*", TIMEOUT, "the watch")
        assert f"watching {unique}.*" in str(pane.border_title)
        subject = f"{unique}.echo"
        async with running("external_responder.py", "--server", nats_url, "--subject", subject):
            for payload in ("first", "second"):
                args = ["--server", nats_url, "--subject", subject, "--payload", payload]
                status, out, _ = await run("core_requester.py", *args)
                assert (status, out.strip()) == (0, f"external got: {payload}")
        await wait_until(pilot, lambda: len(_rows(view)) == 2, TIMEOUT, "two rows")
        await wait_until(pilot, lambda: "replied 2" in _counts(view), TIMEOUT, "both matched")
        for row, payload in zip(_rows(view), ("first", "second"), strict=True):
            assert f"{subject} replied " in row and " ms " in row  # the outcome, its latency
            assert f" {payload} external got: {payload} _INBOX." in row
        assert "seen 2 = replied 2 + no reply 0 + waiting 0" in _counts(view)
        assert "first reply p50 " in _counts(view)
        assert "outcome   replied  first " in screen_text(app)  # the newest row's detail


async def test_watch_form_in_read_only_mode_stored_pattern_timeout_and_clean_stop(
    make_app: AppFactory,
    nats_url: str,
    nats_server: EmbeddedServer,
    nc: Client,
    unique: str,
) -> None:
    """Read-only mode offers the watch (it only subscribes); the tutorial's stored requester and
    durable replier are matched through the reply-to header; a request nobody answers says "no
    reply in 1s"; stopping from the form leaves the server as it was."""
    stream, subject = f"{unique}_watch", f"{unique}.requests"
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[subject])
    app: JstuiApp = make_app(read_only=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, RequestsPane)
        view = pane.query_one(RequestWatchView)
        cid = app.session.nc.client_id
        assert cid is not None
        await pilot.press("3", "w")
        await wait_until(
            pilot, lambda: isinstance(app.screen, WatchRequestsFormScreen), TIMEOUT, "the form"
        )
        await pilot.press(*f"{unique}.*", "tab", "ctrl+u", *"1s", "enter")
        await wait_until(pilot, lambda: view.watching == f"{unique}.*", TIMEOUT, "the watch")
        args = ["--server", nats_url, "--stream", stream, "--subject", subject]
        async with running("stored_replier.py", *args, "--durable", "replier", "--name", "Ann"):
            status, out, _ = await run("stored_requester.py", "--server", nats_url, *args[4:])
            assert (status, out.strip()) == (0, "Response from Ann : HELLO, CONSUMERS!")
            await nc.publish(f"{unique}.quiet", b"anyone?", reply=f"_INBOX.{unique}.q1")
            await wait_until(pilot, lambda: len(_rows(view)) == 2, TIMEOUT, "two rows")
            await wait_until(
                pilot, lambda: "no reply 1 " in _counts(view), TIMEOUT, "the unanswered one"
            )
        stored, quiet = _rows(view)
        assert f"{subject} replied " in stored and " ms " in stored
        assert "Hello, Consumers! Response from Ann : HELLO, CONSUMERS! hdr _INBOX." in stored
        assert f"{unique}.quiet no reply in 1s  anyone?" in quiet
        assert "seen 2 = replied 1 + no reply 1 + waiting 0" in _counts(view)
        assert view.request_watch is not None and view.request_watch.counts.adds_up
        stored_record = next(iter(view.request_watch.requests.values()))
        table = view.query_one("#requests-watch", DataTable)
        table.move_cursor(row=0)
        await wait_until(
            pilot,
            lambda: f"stream {stream} seq 1" in screen_text(app),
            TIMEOUT,
            "the stored request's detail",
        )
        # stop from the form: its Stop button
        await pilot.press("w")
        await wait_until(
            pilot, lambda: isinstance(app.screen, WatchRequestsFormScreen), TIMEOUT, "the form"
        )
        app.screen.query_one("#watch-stop", Button).press()
        await wait_until(
            pilot, lambda: "watching" not in str(pane.border_title), TIMEOUT, "the title"
        )
        assert view.watching is None
        # nothing of the watch is left (jstui's own polls come and go meanwhile: not compared)
        watched = {f"{unique}.*", *INBOX_CATCH_ALLS, stored_record.reply_to, f"_INBOX.{unique}.q1"}
        assert not watched & _server_subscriptions(nats_server, cid)
        assert (await js.stream_info(stream)).state.consumer_count == 1  # the replier's only
    await js.delete_stream(stream)


async def test_a_bad_subject_is_shown_under_its_field(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await built_pane(pilot, RequestsPane)
        await pilot.press("3", "w")
        await wait_until(
            pilot, lambda: isinstance(app.screen, WatchRequestsFormScreen), TIMEOUT, "the form"
        )
        await pilot.press(*"a..b", "tab", "ctrl+u", *"soon", "enter")
        form: Any = app.screen
        await wait_until(pilot, lambda: form.row("subject").error != "", TIMEOUT, "the error")
        assert "empty token" in form.row("subject").error
        assert "not a duration" in form.row("window").error
        assert isinstance(app.screen, WatchRequestsFormScreen)  # still open: nothing watched


@pytest.mark.parametrize("start_pane", ["streams", "requests"])
async def test_watch_requests_starts_whichever_pane_jstui_opens_on(
    make_app: AppFactory, unique: str, start_pane: str
) -> None:
    """With --pane only that pane is built at start (the others when first shown): the option
    builds the Request/Reply pane too, so the watch runs before the user looks at it, and the
    pane opens on its Watch tab (opened on the pane itself, the focus once took it back to
    History)."""
    app = make_app(watch_requests=f"{unique}.early", start_pane=start_pane)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, RequestsPane)
        view = pane.query_one(RequestWatchView)
        await wait_until(pilot, lambda: view.watching == f"{unique}.early", TIMEOUT, "the watch")
        await pilot.pause()
        assert pane.query_one(TabbedContent).active == "requests-watch-tab"
