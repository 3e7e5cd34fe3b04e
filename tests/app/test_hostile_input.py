"""Every place server data enters a widget, checked with hostile data against a real server.

Textual's `Input`, `TextArea` and `Select` draw their text unescaped, like `Static` with a raw
string would: ESC, OSC 52 (clipboard write), CSI 2J (clear screen), BEL, C1 ``\\x9b``, BiDi
``\\u202e`` and NUL reach the terminal, and Rich markup changes styles. The places (`PLACES`
below is the same list, one parametrized test each):

Editable widgets, filled from server data or from files anyone may have written
- publish-again: message detail, ``r`` -> the publish form's subject `Input`, headers and payload
  `TextArea`s (`PublishScreen`: escaped via `jstui.format.editable`, re-published byte for byte)
- publish-selected: Feeds pane ``p`` on a wildcard feed -> the selected message's subject in the
  publish form's subject `Input` (left out, with the reason, when it has control characters)
- feed-dialog-prefill: Feeds pane ``n`` -> the current feed's subject in `FeedDialog`'s `Input`
- request-edit: Request/Reply ``e`` (edit and send) -> `RequestFormScreen`'s subject, headers and
  payload (a request record; its payload may be any bytes)
- saved-requests: the saved requests file -> the form's "Saved" `Select` options, the name
  `Input`, and the fields of the loaded request
- stream-edit-form: the stream edit form (`jstui/dialogs/stream_form.py`) -> description, subjects,
  names. Defect 3 of issue #10, tested in tests/app/test_streams_pane.py (not here).
- message-detail payload: a read-only `TextArea`, filled through `render_payload` (sanitized)
- not from the server (listed for completeness, not tested here): the filter dialog (what the user
  typed), worker and responder forms (the pool's and the request's own validated specs), the
  export path (typed or built from a validated subject)

Read-only widgets (covered by tests/app/test_feeds_pane.py, test_streams_pane.py,
test_stream_browser.py and tests/test_format.py; checked here again where a form passes by)
- feed lines, message detail metadata and headers (`Static` of sanitized `Text`), its border title
  (the message number only), notifications (`Pane.report_error` and every `notify` with network
  text go through `sanitize` with ``markup=False``: `assert_notifications_safe`)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from jstui.app import JstuiApp
from jstui.dialogs.feed_dialog import FeedDialog
from jstui.dialogs.message_detail import CLIPBOARD_LIMIT, MessageDetailScreen, PayloadExportDialog
from jstui.dialogs.publish import PublishScreen
from jstui.dialogs.request_form import RequestFormScreen
from jstui.format.editable import PayloadFormat, is_plain
from jstui.nats.requests.saved import SavedRequests
from jstui.nats.requests.spec import RequestMode, RequestSpec
from jstui.widgets.feeds import FeedLog
from jstui.widgets.requests import RequestsPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until
from tests.app.test_feeds_pane import BIG, current, open_feed
from tests.nats.test_publish import collect

HOSTILE: dict[str, bytes] = {
    "osc52-csi2j": b"P\x1b]52;c;SElKQUNLRUQ=\x07Q\x1b[2J",
    "bel": b"ring\x07\x07",
    "c1-utf8": "c1 \x9b2J".encode(),
    "c1-byte": b"raw \x9b2J",
    "bidi": "invoice\u202egpj.exe".encode(),
    "nul": b"a\x00b",
    "invalid-utf8": b"\xff\xfe\xc3 end",
    "markup": b"[bold red]x[/] [@click=app.quit]q[/]",
    "long": b"L" * 150_000 + b"\x1b]0;T\x07",
}
"""The hostile payloads; header values are their text (headers are text), cut to 2,000 chars."""

PLACES = [
    "publish-again",
    "publish-selected",
    "feed-dialog-prefill",
    "request-edit",
    "saved-requests",
    pytest.param(
        "stream-edit-form",
        marks=pytest.mark.skip(reason="defect 3: tests/app/test_streams_pane.py"),
    ),
]


def header_value(data: bytes) -> str:
    return data.decode("utf-8", "replace")[:2000]


def field_texts(app: JstuiApp) -> list[str]:
    """What every editable widget on the screen holds, and every Select option's label."""
    screen = app.screen
    texts = [widget.value for widget in screen.query(Input)]
    texts += [widget.text for widget in screen.query(TextArea)]
    for select in screen.query(Select):
        texts += [str(prompt) for prompt, _ in select._options]
    return texts


def assert_safe(text: str) -> None:
    bad = {ch for ch in text if not (is_plain(ch) or ch == "\n") or ch == "\t"}
    assert not bad, f"{sorted(map(hex, map(ord, bad)))} in {text[:200]!r}"


def assert_screen_safe(app: JstuiApp) -> None:
    """Nothing a terminal acts on, neither in any field nor in what the screen draws."""
    for text in field_texts(app):
        assert_safe(text)
    assert_safe(screen_text(app))


def assert_notifications_safe(app: JstuiApp) -> None:
    for notification in app._notifications:
        assert_safe(notification.message)
        assert_safe(notification.title)
        assert not notification.markup


async def open_detail(pilot: Pilot[Any], index: int) -> MessageDetailScreen:
    app = pilot.app
    current(app).query_one(FeedLog).cursor = index
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, MessageDetailScreen), what="detail")
    detail = app.screen
    assert isinstance(detail, MessageDetailScreen)
    return detail


async def check_publish_again(
    pilot: Pilot[Any], nc: Client, unique: str, *, jetstream: bool = False
) -> None:
    """Each hostile message: detail, r, the form holds only safe text, ctrl+s sends the same."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    view = await open_feed(pilot, f"{unique}.>", mode="js" if jetstream else "core")
    received = {name: await collect(nc, f"{unique}.{name}") for name in HOSTILE}
    for name, payload in HOSTILE.items():
        await nc.publish(
            f"{unique}.{name}", payload, headers={"X-Esc": header_value(payload), "K": "v"}
        )
    await nc.flush()
    await wait_until(pilot, lambda: view.feed.counts().shown == len(HOSTILE), what="lines")
    for index, (name, payload) in enumerate(HOSTILE.items()):
        detail = await open_detail(pilot, index)
        assert_screen_safe(app)
        assert detail.message.data == payload
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen), what="form")
        form = app.screen
        assert isinstance(form, PublishScreen)
        await pilot.pause()
        assert_screen_safe(app)
        plain = name in ("markup",)
        expected = PayloadFormat.TEXT if plain else PayloadFormat.ESCAPED
        assert form.query_one("#publish-payload_format", Select).value == expected.value, name
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda f=form: f.published == 1, what=f"{name} published again")
        got = received[name]
        await wait_until(pilot, lambda g=got: len(g) == 2, what=f"{name} received twice")
        assert got[1].data == got[0].data == payload, name
        assert got[1].headers == got[0].headers, name
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PublishScreen), what="closed")
    assert_notifications_safe(app)


@pytest.mark.parametrize("place", PLACES)
async def test_hostile_data_never_reaches_a_widget_raw(
    place: str,
    make_app: AppFactory,
    nc: Client,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(RequestsPane, "saved_requests_dir", tmp_path / "config")
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        await PLACE_CHECKS[place](pilot, nc, unique, tmp_path)
        assert_notifications_safe(app)
        assert app.is_running


async def check_publish_selected(pilot: Pilot[Any], nc: Client, unique: str, _: Path) -> None:
    app = pilot.app
    view = await open_feed(pilot, f"{unique}.>")
    hostile_subject = f"{unique}.h.\x1b]0;T\x07.\u202e"
    await nc.publish(hostile_subject, b"x")
    await nc.flush()
    await wait_until(pilot, lambda: view.feed.counts().shown == 1, what="line")
    current(app).query_one(FeedLog).cursor = 0
    await pilot.press("p")
    await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen), what="form")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, PublishScreen)
    assert form.query_one("#publish-subject", Input).value == ""
    error = form.row("subject").error
    assert "left out" in error and "control characters" in error
    assert_screen_safe(app)


async def check_feed_dialog_prefill(pilot: Pilot[Any], nc: Client, unique: str, _: Path) -> None:
    app = pilot.app
    assert isinstance(app, JstuiApp)
    for subject, shown in [(f"{unique}.\x1b[2J.\u202e", ""), (f"{unique}.ok.>", f"{unique}.ok.>")]:
        app.push_screen(FeedDialog(app.session, subject=subject))
        await wait_until(pilot, lambda: isinstance(app.screen, FeedDialog), what="feed dialog")
        await pilot.pause()
        assert app.screen.query_one("#feed-subject", Input).value == shown
        assert_screen_safe(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FeedDialog), what="closed")


def hostile_request(unique: str, payload: bytes) -> RequestSpec:
    return RequestSpec(
        f"{unique}.svc",
        RequestMode.REQUEST,
        payload,
        (("X-Esc", header_value(payload)), ("K", "v")),
        0.5,
    )


async def check_request_edit(pilot: Pilot[Any], nc: Client, unique: str, tmp_path: Path) -> None:
    app = pilot.app
    assert isinstance(app, JstuiApp)
    for name, payload in HOSTILE.items():
        spec = hostile_request(unique, payload)
        results: list[RequestSpec | None] = []
        app.push_screen(RequestFormScreen(SavedRequests(tmp_path), spec), results.append)
        await wait_until(pilot, lambda: isinstance(app.screen, RequestFormScreen), what="form")
        await pilot.pause()
        assert_screen_safe(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda r=results: r, what=f"{name} sent")
        assert results[0] == spec, name  # the same bytes, the same header values


async def check_saved_requests(pilot: Pilot[Any], nc: Client, unique: str, tmp_path: Path) -> None:
    app = pilot.app
    assert isinstance(app, JstuiApp)
    saved = SavedRequests(tmp_path / "saved")
    hostile_names = {f"n{i} {name} \x1b]0;T\x07\u202e": name for i, name in enumerate(HOSTILE)}
    requests = {
        key: hostile_request(unique, HOSTILE[name]).to_json() for key, name in hostile_names.items()
    }
    saved.directory.mkdir()
    saved.path.write_text(json.dumps({"version": 1, "requests": requests}), encoding="utf-8")
    results: list[RequestSpec | None] = []
    app.push_screen(RequestFormScreen(saved), results.append)
    await wait_until(pilot, lambda: isinstance(app.screen, RequestFormScreen), what="form")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, RequestFormScreen)
    select = form.query_one("#request-load", Select)
    await wait_until(pilot, lambda: len(select._options) > len(HOSTILE), what="saved loaded")
    assert_screen_safe(app)
    for key, name in hostile_names.items():
        select.value = key
        await pilot.pause()
        assert_screen_safe(app)
        assert form.query_one("#request-name", Input).value == ""  # not printable: left out
        spec = form._spec_from_fields()
        assert spec == hostile_request(unique, HOSTILE[name]), name
    await pilot.press("escape")


PLACE_CHECKS = {
    "publish-again": lambda pilot, nc, unique, _: check_publish_again(pilot, nc, unique),
    "publish-selected": check_publish_selected,
    "feed-dialog-prefill": check_feed_dialog_prefill,
    "request-edit": check_request_edit,
    "saved-requests": check_saved_requests,
}


async def test_publish_again_from_a_jetstream_feed_is_byte_exact(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.>"])
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        await check_publish_again(pilot, nc, unique, jetstream=True)


async def test_a_copy_too_large_for_the_clipboard_says_so_and_export_writes_the_bytes(
    make_app: AppFactory, nc: Client, unique: str, tmp_path: Path
) -> None:
    payload = b"\x00\xff" + b"x" * CLIPBOARD_LIMIT
    app = make_app()
    async with app.run_test(size=BIG) as pilot:
        await wait_connected(pilot)
        view = await open_feed(pilot, f"{unique}.big")
        await nc.publish(f"{unique}.big", payload)
        await nc.flush()
        await wait_until(pilot, lambda: view.feed.counts().shown == 1, what="line")
        await open_detail(pilot, 0)
        app._clipboard = "before"  # what the terminal's clipboard held
        for key in ("c", "j"):
            await pilot.press(key)
            await pilot.pause()
            assert app.clipboard == "before"
            last = list(app._notifications)[-1]
            assert "not copied" in last.message and "Press e to export" in last.message
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PayloadExportDialog), what="export")
        target = tmp_path / "payload.bin"
        for attempt in range(2):
            app.screen.query_one("#payload-export-path", Input).value = str(target)
            await pilot.press("enter")
            if attempt == 0:
                await wait_until(pilot, target.exists, what="file written")
                assert target.read_bytes() == payload
                await wait_until(pilot, lambda: isinstance(app.screen, MessageDetailScreen))
                await pilot.press("e")
                await wait_until(pilot, lambda: isinstance(app.screen, PayloadExportDialog))
        dialog = app.screen
        assert isinstance(dialog, PayloadExportDialog)
        await wait_until(pilot, lambda: "exists already" in dialog.row("path").error)
        assert target.read_bytes() == payload  # never overwritten
        await asyncio.sleep(0)
