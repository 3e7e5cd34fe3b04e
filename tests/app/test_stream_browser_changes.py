"""The message browser's changes: delete and erase by sequence, NDJSON export and import, and
what read-only mode and a stream that denies deletes say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.api import StreamConfig
from textual.pilot import Pilot
from textual.widgets import Input

from jstui.app import JstuiApp
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.message_delete import MessageDeleteScreen
from jstui.dialogs.stream_browser import StreamBrowserScreen
from jstui.dialogs.stream_ndjson import ExportScreen, ImportScreen
from jstui.dialogs.stream_subjects import StreamSubjectsScreen
from tests.app.conftest import AppFactory, screen_text, wait_until
from tests.app.test_stream_browser import open_browser, seqs
from tests.app.test_stream_mirror import question_text


def notices(app: JstuiApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_delete_and_erase_from_the_browser(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    name, denied = f"{unique}_bdel", f"{unique}_bdeny"
    await nc.jsm().add_stream(StreamConfig(name=name, subjects=[f"{unique}.bd.*"]))
    await nc.jsm().add_stream(
        StreamConfig(name=denied, subjects=[f"{unique}.bn"], deny_delete=True)
    )
    js = nc.jetstream()
    for i in range(1, 6):
        await js.publish(f"{unique}.bd.\x1b[31m{i}", f"message {i}".encode())
    await js.publish(f"{unique}.bn", b"kept")
    app: JstuiApp = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        browser = await open_browser(pilot, name)
        assert seqs(browser)[0] == 5
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, MessageDeleteScreen), what="ask")
        question = screen_text(app)
        assert "Delete message 5" in question and "\u241b[31m5" in question and name in question
        await pilot.press("n")  # cancelled: nothing goes
        await wait_until(pilot, lambda: app.screen is browser, what="back")
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: 5 not in seqs(browser), what="5 deleted")
        assert seqs(browser)[0] == 4 and "Deleted message 5" in notices(app)
        await pilot.press("d", "e")
        await wait_until(pilot, lambda: 4 not in seqs(browser), what="4 erased")
        assert "Erased message 4" in notices(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="closed")

        browser = await open_browser(pilot, denied)
        await pilot.press("d")
        await wait_until(pilot, lambda: "denies deletes" in screen_text(app), what="refusal")
        assert app.screen is browser, "no confirmation for what cannot be done"
    assert (await nc.jsm().stream_info(name)).state.messages == 3
    assert (await nc.jsm().stream_info(denied)).state.messages == 1

    app = make_app(read_only=True)
    async with app.run_test(size=(160, 45)) as pilot:
        browser = await open_browser(pilot, name)
        # Read-only mode hides d and i, as the Streams pane hides its changes; e stays.
        await wait_until(pilot, lambda: "Export" in screen_text(app), what="the footer")
        assert "Delete msg" not in screen_text(app) and "Import" not in screen_text(app)
        await pilot.press("d", "i")
        await pilot.pause()
        assert app.screen is browser
        # The subjects view offers no purge in read-only mode; browsing stays.
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="closed")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamSubjectsScreen), what="u")
        subjects = app.screen
        await wait_until(pilot, lambda: "Browse" in screen_text(app), what="the footer")
        assert "Purge" not in screen_text(app)
        await pilot.press("p")
        await pilot.pause()
        assert app.screen is subjects
    assert (await nc.jsm().stream_info(name)).state.messages == 3


async def test_export_and_import_through_the_browser(
    make_app: AppFactory, nc: Client, unique: str, tmp_path: Path
) -> None:
    name = f"{unique}_bx"
    await nc.jsm().add_stream(StreamConfig(name=name, subjects=[f"{unique}.bx.*"]))
    js = nc.jetstream()
    for i in range(1, 9):
        await js.publish(f"{unique}.bx.{i % 2}", f"m{i}".encode(), headers={"N": str(i)})
    out = tmp_path / "export.ndjson"
    app: JstuiApp = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        browser = await open_browser(pilot, name)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen), what="export form")
        export = app.screen
        assert isinstance(export, ExportScreen)
        assert export.query_one("#ndjson-first", Input).value == "1"
        assert export.query_one("#ndjson-last", Input).value == "8"
        export.query_one("#ndjson-first", Input).value = "3"
        export.query_one("#ndjson-subject", Input).value = f"{unique}.bx.1"
        export.query_one("#ndjson-file", Input).value = str(out)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "(done)" in export.status_text, what="export done")
        assert export.status_text.startswith("3 messages")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is browser, what="back")

        lines = out.read_text().splitlines()
        assert [json.loads(line)["seq"] for line in lines] == [3, 5, 7]
        broken = tmp_path / "broken.ndjson"
        broken.write_text(lines[0] + "\n{oops\n" + lines[1] + "\n")
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportScreen), what="import form")
        importer = app.screen
        assert isinstance(importer, ImportScreen)
        importer.query_one("#ndjson-file", Input).value = str(broken)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "done" in importer.status_text, what="import done")
        assert "2 stored" in importer.status_text and "1 bad lines" in importer.status_text
        assert "line 2: not JSON" in importer.problems_text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is browser, what="back")
        await wait_until(pilot, lambda: seqs(browser)[0] == 10, what="reloaded")
    stored = await nc.jsm().get_msg(name, 10)
    assert (stored.subject, stored.data, stored.headers) == (f"{unique}.bx.1", b"m5", {"N": "5"})


async def test_changes_to_a_bucket_from_the_browser_and_the_subjects_warn_first(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    # An object store: a KV bucket's stream denies deletes, so `d` is refused there at once.
    store = await nc.jetstream().create_object_store(bucket=f"{unique}bw")
    await store.put("o", b"kept")
    stream = f"OBJ_{unique}bw"

    async def refuse_the_warning(pilot: Pilot[Any], key: str, title: str) -> None:
        app, before = pilot.app, pilot.app.screen
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what=f"{key} warns")
        warning = question_text(app)
        assert f"is not an ordinary stream: it keeps the object store {unique}bw" in warning
        assert title in screen_text(app)
        await pilot.press("n")  # the warning says no: nothing else is asked, nothing goes
        await wait_until(pilot, lambda: app.screen is before, what=f"back after {key}")

    app: JstuiApp = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await open_browser(pilot, stream)
        await refuse_the_warning(pilot, "d", "Delete a message of an object store?")
        await refuse_the_warning(pilot, "i", "Import into an object store?")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="closed")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, StreamSubjectsScreen), what="u")
        subjects = app.screen
        assert isinstance(subjects, StreamSubjectsScreen)
        await wait_until(pilot, lambda: subjects.selected is not None, what="the subject")
        await refuse_the_warning(pilot, "p", "Purge an object store?")
        await pilot.press("b")  # the browser opened from here warns too
        await wait_until(pilot, lambda: isinstance(app.screen, StreamBrowserScreen), what="b")
        browser = app.screen
        assert isinstance(browser, StreamBrowserScreen)
        await wait_until(pilot, lambda: browser.messages, what="the page")
        await refuse_the_warning(pilot, "d", "Delete a message of an object store?")
    assert (await store.get("o")).data == b"kept"
