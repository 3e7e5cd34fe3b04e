"""The Object stores pane, driven as a user would (keys, the dialogs) against a real nats-server,
with a plain nats-py program changing the same store meanwhile."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.api import ObjectMeta, ObjectStoreConfig
from nats.js.errors import ObjectNotFoundError
from nats.js.object_store import ObjectStore
from rich.text import Text
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from jstui.app import JstuiApp
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.object_store_form import ObjectStoreFormScreen
from jstui.dialogs.object_transfer import ObjectGetScreen, ObjectPutScreen
from jstui.nats.objects.model import meta_subject
from jstui.widgets.objects import ObjectsPane
from tests.app.conftest import AppFactory, built_pane, screen_text, wait_connected, wait_until

HOSTILE = "ok\x1b]52;c;cGF3bmVk\x07\x1b[2J\u202eevil.txt"
"""A clipboard write, a bell, a clear-screen and a right-to-left override."""


async def consumers_of(nc: Client, bucket: str) -> int:
    return (await nc.jsm().stream_info(f"OBJ_{bucket}")).state.consumer_count


def question(app: JstuiApp) -> str:
    """What the confirmation on top asks, unwrapped (long temporary paths wrap on screen)."""
    try:
        content = app.screen.query_one("#confirm-question", Static).content
    except NoMatches:  # not composed yet
        return ""
    return content.plain if isinstance(content, Text) else str(content)


async def cursor_to(pilot: Pilot[Any], table: DataTable[Any], row: str) -> None:
    """Move `table`'s cursor onto the row keyed `row` with the arrow keys."""
    await wait_until(pilot, lambda: row in table.rows, what=f"{row} shown")
    table.focus()
    for _ in range(table.row_count + 1):
        target = table.get_row_index(row)
        if table.cursor_row == target:
            break
        await pilot.press("down" if table.cursor_row < target else "up")


async def open_store(pilot: Pilot[Any], bucket: str, objects: int) -> ObjectsPane:
    """The pane with `bucket` chosen with the arrow keys and its `objects` objects shown."""
    pane = await built_pane(pilot, ObjectsPane)
    await cursor_to(pilot, pane.bucket_table, bucket)
    await wait_until(
        pilot,
        lambda: (
            pane.object_watch is not None
            and pane.object_watch.bucket == bucket
            and pane.object_table.row_count == objects
        ),
        what=f"{objects} objects of {bucket}",
    )
    pane.object_table.focus()
    return pane


async def select_object(pilot: Pilot[Any], pane: ObjectsPane, bucket: str, name: str) -> None:
    await cursor_to(pilot, pane.object_table, meta_subject(bucket, name))
    await wait_until(
        pilot,
        lambda: (chosen := pane.selected_object()) is not None and chosen.name == name,
        what=f"{name} selected",
    )


async def test_objects_show_live_and_hostile_names_are_inert(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    store = await js.create_object_store(unique, ObjectStoreConfig(description="shared\x1b[31m"))
    await store.put("report.pdf", b"%PDF" * 1000, ObjectMeta(name="report.pdf", description="Q3"))
    await store.put(HOSTILE, b"x", ObjectMeta(name=HOSTILE, description="\x07bell"))
    link = {
        "name": "alias",
        "bucket": unique,
        "nuid": "",
        "options": {"link": {"bucket": unique, "name": "report.pdf"}},
    }
    await js.publish(meta_subject(unique, "alias"), json.dumps(link).encode())
    app = make_app(start_pane="objects")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await open_store(pilot, unique, 3)
        text = screen_text(app)
        digest = hashlib.sha256(b"%PDF" * 1000).hexdigest()
        assert "report.pdf" in text and digest[:12] in text and "-> " + unique in text
        assert "evil.txt" in text and "bell" in text
        for bad in ("\x1b", "\x07", "\u202e"):
            assert bad not in text
        row = [str(cell) for cell in pane.bucket_table.get_row(unique)]
        assert row[2] == "3"  # objects
        # Another program changes the store: the table follows, no key pressed.
        await store.put("later.txt", b"later")
        await store.delete(HOSTILE)
        await wait_until(
            pilot,
            lambda: "later.txt" in screen_text(app) and "evil.txt" not in screen_text(app),
            what="changes from another program",
        )
        assert await consumers_of(nc, unique) == 1
    assert await consumers_of(nc, unique) == 0  # the pane went: its watch's consumer too


async def test_put_get_and_delete_through_the_dialogs(
    make_app: AppFactory, nc: Client, unique: str, tmp_path: Path
) -> None:
    store: ObjectStore = await nc.jetstream().create_object_store(unique)
    await store.put("seed", b"seed")
    source = tmp_path / "upload.bin"
    data = os.urandom(600_000)
    source.write_bytes(data)
    app = make_app(start_pane="objects")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await open_store(pilot, unique, 1)
        # Put: the name defaults to the file's; the digest is checked and shown.
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ObjectPutScreen), what="put form")
        form = app.screen
        assert isinstance(form, ObjectPutScreen)
        form.query_one("#object-put-path", Input).value = str(tmp_path / "missing")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "does not exist" in form.row("path").error, what="error")
        form.query_one("#object-put-path", Input).value = str(source)
        form.query_one("#object-put-description", Input).value = "random bytes"
        await pilot.press("ctrl+s")
        digest = hashlib.sha256(data).hexdigest()
        await wait_until(
            pilot, lambda: f"SHA-256 verified: {digest}" in screen_text(app), what="put done"
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="put form closed")
        assert (await store.get("upload.bin")).data == data  # nats-py checks the digest too
        assert (await store.get_info("upload.bin")).description == "random bytes"
        await wait_until(pilot, lambda: pane.object_table.row_count == 2, what="upload listed")
        # The same name again: replacing it asks first.
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ObjectPutScreen), what="put form")
        form = app.screen
        assert isinstance(form, ObjectPutScreen)
        form.query_one("#object-put-path", Input).value = str(source)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="replace?")
        assert "already holds an object upload.bin" in question(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is form, what="back in the form")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="put form closed")
        # Get into a file that exists: kept unless confirmed, then replaced and checked.
        target = tmp_path / "got.bin"
        target.write_bytes(b"mine")
        await select_object(pilot, pane, unique, "upload.bin")
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, ObjectGetScreen), what="get form")
        get_form = app.screen
        assert isinstance(get_form, ObjectGetScreen)
        path_field = get_form.query_one("#object-get-path", Input)
        assert path_field.value.endswith("upload.bin")
        path_field.value = str(target)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="replace?")
        assert f"{target} exists (4 B)" in question(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: "is kept" in get_form.row("path").error, what="kept")
        assert target.read_bytes() == b"mine"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="replace?")
        await pilot.press("y")
        await wait_until(
            pilot, lambda: f"SHA-256 verified: {digest}" in screen_text(app), what="get done"
        )
        assert target.read_bytes() == data
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="get form closed")
        # Delete asks first, saying what goes.
        await select_object(pilot, pane, unique, "upload.bin")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="delete?")
        assert f"Delete object upload.bin from bucket {unique}" in question(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: pane.object_table.row_count == 1, what="deleted")
    with pytest.raises(ObjectNotFoundError):
        await store.get_info("upload.bin")


async def test_create_and_delete_a_store(make_app: AppFactory, nc: Client, unique: str) -> None:
    app = make_app(start_pane="objects")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, ObjectsPane)
        pane.bucket_table.focus()
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ObjectStoreFormScreen))
        form = app.screen
        assert isinstance(form, ObjectStoreFormScreen)
        form.query_one("#object-store-name", Input).value = unique
        form.query_one("#object-store-ttl", Input).value = "soon"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "soon" in form.row("ttl").error, what="TTL error")
        form.query_one("#object-store-ttl", Input).value = "1h30m"
        form.query_one("#object-store-max_bytes", Input).value = "10MiB"
        form.query_one("#object-store-replicas", Input).value = "3"
        await pilot.press("ctrl+s")
        refused = "The server refused: replicas > 1 not supported in non-clustered mode"
        await wait_until(pilot, lambda: refused in screen_text(app), what="server refusal")
        assert app.screen is form
        form.query_one("#object-store-replicas", Input).value = "1"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form, what="form closed")
        status = await (await nc.jetstream().object_store(unique)).status()
        assert status.ttl == 5400.0
        assert status.stream_info.config.max_bytes == 10 * 2**20
        await wait_until(pilot, lambda: pane.selected_bucket == unique, what="new store chosen")
        await (await nc.jetstream().object_store(unique)).put("k", b"v")
        await wait_until(pilot, lambda: pane.object_table.row_count == 1, what="object")
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_until(pilot, lambda: "with 1 object (" in question(app), what="count said")
        await pilot.press("y")
        await wait_until(pilot, lambda: unique not in pane.buckets, what="store gone")
    names = [info.config.name for info in await nc.jsm().streams_info()]
    assert f"OBJ_{unique}" not in names


async def test_read_only_refuses_every_change(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    store = await nc.jetstream().create_object_store(unique)
    await store.put("k", b"v")
    app = make_app(read_only=True, start_pane="objects")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        pane = await open_store(pilot, unique, 1)
        await select_object(pilot, pane, unique, "k")
        for key, action, run in (
            ("p", "put object", pane.action_put_object),
            ("d", "delete object", pane.action_delete_object),
            ("c", "create object store", pane.action_new_bucket),
            ("D", "delete object store", pane.action_delete_bucket),
        ):
            await pilot.press(key)  # not offered: the key does nothing
            await pilot.pause()
            assert app.screen is app.dashboard
            run()
            await wait_until(
                pilot,
                lambda action=action: (
                    f"read-only mode: {action} is not allowed" in screen_text(app)
                ),
                what=f"{action} refused",
            )
            assert app.screen is app.dashboard
        await pilot.press("g")  # getting changes nothing on the server: still allowed
        await wait_until(pilot, lambda: isinstance(app.screen, ObjectGetScreen))
    assert (await store.get("k")).data == b"v"


async def test_a_sealed_store_says_so_before_any_change(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    store = await nc.jetstream().create_object_store(unique)
    await store.put("k", b"v")
    await store.seal()
    app = make_app(start_pane="objects")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        pane = await open_store(pilot, unique, 1)
        await wait_until(pilot, lambda: "sealed" in screen_text(app), what="sealed column")
        await select_object(pilot, pane, unique, "k")
        for key, action in (("p", "put"), ("d", "delete")):
            await pilot.press(key)
            await wait_until(
                pilot,
                lambda action=action: (
                    f"{action}: object store {unique} is sealed" in screen_text(app)
                ),
                what=f"{action} refused",
            )
            assert app.screen is app.dashboard
    assert (await store.get("k")).data == b"v"
