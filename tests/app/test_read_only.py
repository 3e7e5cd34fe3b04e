"""`--read-only` as the user sees it: footers and the palette offer no change, forms that change
something say "read-only" when they open (their button disabled), and a refused request says why.

The service side (every change refused before anything is sent) is in tests/nats/test_read_only.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from nats.aio.client import Client
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, DataTable

from jstui.app import JstuiApp
from jstui.cli import main
from jstui.dialogs.feed_dialog import FeedDialog
from jstui.dialogs.form_screen import FormScreen, ReadOnlyNotice
from jstui.dialogs.publish import PublishScreen
from jstui.dialogs.request_form import RequestFormScreen
from jstui.dialogs.responder_form import ResponderFormScreen
from jstui.dialogs.stream_form import StreamFormScreen
from jstui.dialogs.stream_purge import StreamPurgeScreen
from jstui.dialogs.worker_load import WorkerLoadScreen
from jstui.dialogs.worker_pool import WorkerPoolScreen
from jstui.nats.requests.saved import SavedRequests
from jstui.nats.streams.service import StreamService
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import PoolSpec
from jstui.widgets.base import Pane
from jstui.widgets.requests import RequestsPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until

SIZE = (160, 45)


def _action_name(action: str) -> str:
    return action.partition("(")[0]


def _offered(app: JstuiApp, pane: Pane) -> tuple[set[str], set[str]]:
    """The actions of `pane` the footer offers (pane focused), and every palette title."""
    pane.focus_pane()
    keys = {
        _action_name(active.binding.action)
        for active in app.screen.active_bindings.values()
        if active.node is pane
    }
    titles = {command.title for command in app.get_system_commands(app.screen)}
    return keys, titles


@pytest.mark.parametrize("read_only", [False, True])
async def test_footers_and_palette_offer_no_change(make_app: AppFactory, read_only: bool) -> None:
    app = make_app(read_only=read_only)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        writable_titles = {
            "New stream",
            "Edit stream",
            "Purge stream",
            "Delete stream",
            "Feeds: publish",
            "Start responders",
            "Workers: new pool",
            "Workers: generate load",
            "Workers: add member",
        }
        for pane in app.dashboard.panes:
            await pilot.press(str(pane.number))
            await pilot.pause()
            keys, titles = _offered(app, pane)
            changing = keys & pane.CHANGING_ACTIONS
            if read_only:
                assert not changing, pane.PANE_TITLE
            else:
                # some keys act on a selection (a pool's member keys need a pool shown): at least
                # one change is offered wherever the pane has any
                assert changing or not pane.CHANGING_ACTIONS, pane.PANE_TITLE
            assert bool(titles & writable_titles) is not read_only
            assert "Browse stream" in titles and "New request" in titles  # looking stays
        await pilot.press("1")
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        for label in ("New", "Edit", "Purge", "Delete"):
            assert (f" {label} " in footer) is not read_only, footer
        assert " Browse " in footer


def test_every_changing_action_is_a_bound_action() -> None:
    for pane_class in Pane.__subclasses__():
        bound = {_action_name(str(b.action)) for b in pane_class.BINDINGS}  # type: ignore[union-attr]
        for action in pane_class.CHANGING_ACTIONS:
            assert hasattr(pane_class, f"action_{action}"), (pane_class, action)
            assert action in bound, (pane_class, action)


async def _open(pilot: Pilot[Any], screen: Screen[Any]) -> Screen[Any]:
    pilot.app.push_screen(screen)
    await wait_until(pilot, lambda: pilot.app.screen is screen, what=type(screen).__name__)
    await pilot.pause()
    return screen


async def test_forms_that_change_something_say_read_only_when_they_open(
    make_app: AppFactory, nc: Client, unique: str, tmp_path: Any
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.*"])

    async def start(spec: PoolSpec) -> WorkerPool:
        raise AssertionError("never started")

    for read_only in (True, False):
        app = make_app(read_only=read_only)
        async with app.run_test(size=SIZE) as pilot:
            await wait_connected(pilot)
            streams = StreamService(app.session)
            summary = await streams.summary(unique)
            forms: list[tuple[FormScreen[Any], str]] = [
                (PublishScreen(app.session, f"{unique}.a"), "publish-ok"),
                (ResponderFormScreen(f"{unique}.a"), "responder-start"),
                (WorkerPoolScreen(start), "worker-form-submit"),
                (WorkerLoadScreen(f"{unique}.a", jetstream=False), "worker-form-submit"),
                (StreamFormScreen(streams), "stream-form-save"),
                (StreamPurgeScreen(summary), "purge-go"),
                (RequestFormScreen(SavedRequests(tmp_path)), "request-send"),
                (FeedDialog(app.session, subject=f"{unique}.a"), "feed-ok"),
            ]
            for form, button_id in forms:
                await _open(pilot, form)
                notice = form.query_one(ReadOnlyNotice)
                assert notice.display is read_only, type(form).__name__
                if read_only:
                    assert "Read-only mode: " in screen_text(app), type(form).__name__
                # Requests and feeds are refused one by one (by subject, by mode): still sendable.
                refuses_all = not isinstance(form, RequestFormScreen | FeedDialog)
                disabled = form.query_one(f"#{button_id}", Button).disabled
                assert disabled is (read_only and refuses_all), type(form).__name__
                form.dismiss(None)
                await pilot.pause()


async def test_a_request_a_stream_would_store_is_refused_with_the_reason(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.subject.*"])
    subject = f"{unique}.subject.requests"
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_connected(pilot)
        await pilot.press("3", "n")
        await wait_until(pilot, lambda: isinstance(app.screen, RequestFormScreen), what="form")
        assert "Read-only mode: stored requests, and requests on a subject" in screen_text(app)
        await pilot.press(*subject, "enter")
        reason = (
            f"read-only mode: a request on {subject} is not allowed: stream {unique} captures "
            f"{subject}, so a request there would store a message"
        )
        await wait_until(
            pilot,
            lambda: any(n.message == reason for n in app._notifications),
            what="the reason",
        )
        await wait_until(pilot, lambda: "Request refused" in screen_text(app), what="the toast")
        pane = app.dashboard.query_one(RequestsPane)
        assert pane.query_one("#requests-history", DataTable).row_count == 0
    assert (await js.stream_info(unique)).state.messages == 0


def test_help_says_what_read_only_allows_and_refuses() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--read-only Look, change nothing. Refused: publishing, stored requests" in text
    for refused in ("a stream captures", "responders", "worker pools", "consuming feeds", "acks"):
        assert refused in text
    assert "Allowed: other requests" in text
