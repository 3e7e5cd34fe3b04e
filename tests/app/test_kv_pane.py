"""The Key/Value pane, driven as a user would (keys, typing) against a real nats-server, with a
plain nats-py program changing the same bucket meanwhile."""

from __future__ import annotations

import time
from typing import Any

from nats.aio.client import Client
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TextArea

from jstui.app import JstuiApp
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.kv_bucket_form import KvBucketFormScreen
from jstui.dialogs.kv_history import KvHistoryScreen
from jstui.dialogs.kv_put import KvPutScreen
from jstui.nats.session import Clocks
from jstui.widgets.kv import KvPane
from tests.app.conftest import AppFactory, built_pane, screen_text, wait_connected, wait_until

HOSTILE = "ok\x1b]52;c;cGF3bmVk\x07\x1b[2J\u202eevil"
"""A clipboard write, a bell, a clear-screen and a right-to-left override."""


async def make_bucket(nc: Client, name: str, **config: Any) -> KeyValue:
    return await nc.jetstream().create_key_value(KeyValueConfig(bucket=name, **config))


async def open_bucket(pilot: Pilot[Any], bucket: str) -> KvPane:
    """The pane with `bucket` chosen in the buckets table with the arrow keys, its keys loaded."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    pane = await built_pane(pilot, KvPane)
    await cursor_to(pilot, pane.bucket_table, bucket)
    await wait_until(
        pilot,
        lambda: (
            pane.key_watch is not None
            and pane.key_watch.bucket == bucket
            and pane.key_watch.caught_up.is_set()
        ),
        what=f"{bucket}'s keys watched",
    )
    pane.key_table.focus()
    return pane


async def bucket_of(nc: Client, name: str, keys: int, value: bytes) -> KeyValue:
    """A bucket holding `key.000`, `key.001`, ... each set to `value`."""
    kv = await make_bucket(nc, name)
    for n in range(keys):
        await kv.put(f"key.{n:03d}", value)
    return kv


async def open_loaded(pilot: Pilot[Any], bucket: str, keys: int) -> KvPane:
    """`open_bucket` once connected, with all its `keys` keys held."""
    await wait_connected(pilot)
    pane = await open_bucket(pilot, bucket)
    await wait_until(pilot, lambda: len(pane.keys.entries) == keys, what=f"{keys} keys")
    return pane


async def cursor_to(pilot: Pilot[Any], table: DataTable[Any], row: str) -> None:
    """Move `table`'s cursor onto the row keyed `row` with the arrow keys."""
    await wait_until(pilot, lambda: row in table.rows, what=f"{row} shown")
    table.focus()
    for _ in range(table.row_count + 1):
        target = table.get_row_index(row)
        if table.cursor_row == target:
            break
        await pilot.press("down" if table.cursor_row < target else "up")


async def select_key(pilot: Pilot[Any], pane: KvPane, key: str) -> None:
    await cursor_to(pilot, pane.key_table, key)
    await wait_until(pilot, lambda: pane.selected_key == key, what=f"{key} selected")


async def consumers_of(nc: Client, bucket: str) -> int:
    return (await nc.jsm().stream_info(f"KV_{bucket}")).state.consumer_count


async def test_keys_show_live_and_hostile_values_are_inert(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    kv = await make_bucket(nc, unique, history=5, ttl=3600)
    await kv.put("app.colour", b'{"blue": true}')
    await kv.put("evil", HOSTILE.encode())
    await nc.publish(f"$KV.{unique}.esc\x1b[31mkey", b"red?")
    await nc.flush()
    app = make_app(start_pane="kv")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await open_bucket(pilot, unique)
        await wait_until(pilot, lambda: len(pane.keys.entries) == 3, what="three keys")
        text = screen_text(app)
        assert 'json {"blue":true}' in text
        for bad in ("\x1b", "\x07", "\u202e"):
            assert bad not in text
        assert "evil" in text
        # Another program changes the bucket: the table follows, no key pressed.
        await kv.put("app.colour", b"green")
        await kv.put("app.new", b"fresh")
        await kv.delete("evil")
        await wait_until(
            pilot,
            lambda: "fresh" in screen_text(app) and "<deleted>" in screen_text(app),
            what="changes from another program",
        )
        row = pane.key_table.get_row("app.colour")
        assert [str(cell) for cell in row][1] == "green"
        assert await consumers_of(nc, unique) == 1
        # Filtering restarts the watch on the pattern; the old consumer goes.
        await pilot.press("slash")
        app.post_message(events.Paste("app.*"))
        field = pane.query_one("#kv-pattern", Input)
        await wait_until(pilot, lambda: field.value == "app.*", what="pattern typed")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: set(pane.keys.entries) == {"app.colour", "app.new"},
            what="only app.* keys",
        )
        assert await consumers_of(nc, unique) == 1
    assert await consumers_of(nc, unique) == 0  # the pane went: its watch's consumer too


async def test_put_edit_conflict_history_delete(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    kv = await make_bucket(nc, unique, history=10)
    await kv.put("seed", b"1")
    app = make_app(start_pane="kv")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await open_bucket(pilot, unique)
        # Put a new key as JSON; a bad JSON value is refused under the field first.
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, KvPutScreen), what="put form")
        form = app.screen
        assert isinstance(form, KvPutScreen)
        form.query_one("#kv-put-key", Input).value = "cfg.json"
        form.query_one("#kv-put-format").value = "json"  # type: ignore[attr-defined]
        form.query_one("#kv-put-value", TextArea).text = '{"a": 1,}'
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "not valid JSON" in screen_text(app), what="the JSON error")
        form.query_one("#kv-put-value", TextArea).text = '{"a": 1}'
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form, what="form closed")
        assert (await kv.get("cfg.json")).value == b'{"a": 1}'
        # Edit it while another program changes it: the conflict is said, nothing overwritten.
        await select_key(pilot, pane, "cfg.json")
        read = pane.keys.entries["cfg.json"].revision
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, KvPutScreen), what="edit form")
        form = app.screen
        assert isinstance(form, KvPutScreen)
        newer = await kv.put("cfg.json", b'{"theirs": true}')
        form.query_one("#kv-put-value", TextArea).text = '{"mine": true}'
        await pilot.press("ctrl+s")
        expected = f"changed by someone else since you opened it: revision {read} is now {newer}"
        await wait_until(pilot, lambda: expected in screen_text(app), what="the conflict")
        assert app.screen is form
        assert (await kv.get("cfg.json")).value == b'{"theirs": true}'
        await pilot.press("escape")
        # History lists every revision, newest first.
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        await select_key(pilot, pane, "cfg.json")
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, KvHistoryScreen))
        history = app.screen
        assert isinstance(history, KvHistoryScreen)
        await wait_until(pilot, lambda: len(history.entries) == 2, what="two revisions")
        assert history.entries[0].revision == newer
        await pilot.press("escape")
        # Delete asks first, naming the key; then the row says deleted.
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Delete key cfg.json from bucket" in screen_text(app)
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: pane.keys.entries["cfg.json"].operation == "DEL",
            what="deleted key shown",
        )


async def test_create_and_delete_a_bucket(make_app: AppFactory, nc: Client, unique: str) -> None:
    app = make_app(start_pane="kv")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await built_pane(pilot, KvPane)
        pane.bucket_table.focus()
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, KvBucketFormScreen))
        form = app.screen
        assert isinstance(form, KvBucketFormScreen)
        form.query_one("#kv-bucket-name", Input).value = unique
        form.query_one("#kv-bucket-history", Input).value = "99"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "from 1 to 64" in screen_text(app), what="history error")
        form.query_one("#kv-bucket-history", Input).value = "4"
        form.query_one("#kv-bucket-ttl", Input).value = "1h30m"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form, what="form closed")
        status = await (await nc.jetstream().key_value(unique)).status()
        assert (status.history, status.ttl) == (4, 5400.0)
        await wait_until(pilot, lambda: pane.selected_bucket == unique, what="new bucket chosen")
        await (await nc.jetstream().key_value(unique)).put("k", b"v")
        await wait_until(pilot, lambda: "k" in pane.keys.entries, what="key")
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_until(pilot, lambda: "with its 1 key" in screen_text(app), what="count said")
        await pilot.press("y")
        await wait_until(pilot, lambda: unique not in pane.buckets, what="bucket gone")
    names = [info.config.name for info in await nc.jsm().streams_info()]
    assert f"KV_{unique}" not in names


async def test_read_only_refuses_every_change(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    kv = await make_bucket(nc, unique)
    await kv.put("k", b"v")
    app = make_app(read_only=True, start_pane="kv")
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        pane = await open_bucket(pilot, unique)
        await select_key(pilot, pane, "k")
        for key, action, run in (
            ("n", "put key", pane.action_new_key),
            ("e", "put key", pane.action_edit_key),
            ("d", "delete key", pane.action_delete_key),
            ("p", "purge key", pane.action_purge_key),
            ("x", "purge deleted keys", pane.action_purge_deletes),
            ("c", "create bucket", pane.action_new_bucket),
            ("D", "delete bucket", pane.action_delete_bucket),
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
        await pilot.press("h")  # looking is still allowed
        await wait_until(pilot, lambda: isinstance(app.screen, KvHistoryScreen))
    entry = await kv.get("k")
    assert (entry.value, entry.revision) == (b"v", 1)


def _line_background(app: JstuiApp, text: str) -> set[str]:
    """The background colours of the screen line that shows `text`."""
    for strip in app.screen._compositor.render_strips():
        if text in strip.text:
            return {
                str(segment.style.bgcolor)
                for segment in strip
                if segment.text.strip() and segment.style and segment.style.bgcolor
            }
    raise AssertionError(f"{text!r} is not on screen")


async def test_cursor_shows_on_its_row_through_moves_and_scrolls(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """The keys table caches rows whatever row the cursor is on: the cursor must still show on
    exactly its row after moves that scroll the table and back."""
    await bucket_of(nc, unique, 80, b"v")
    app = make_app(start_pane="kv")
    async with app.run_test(size=(160, 45)) as pilot:
        pane = await open_loaded(pilot, unique, 80)
        await select_key(pilot, pane, "key.060")  # scrolled down
        await select_key(pilot, pane, "key.058")  # and back up a little
        await pilot.pause()
        table = pane.key_table
        cursor = str(table.get_component_styles("datatable--cursor").rich_style.bgcolor)
        await wait_until(
            pilot, lambda: cursor in _line_background(app, "key.058"), what="cursor on its row"
        )
        for other in ("key.059", "key.060", "key.057"):
            assert cursor not in _line_background(app, other)


async def test_a_key_changed_out_of_view_is_written_as_it_comes_into_view(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """Rows out of view are not written while their keys change (at 10,000 keys nobody sees
    them); scrolled to, a row shows its key's latest value, as do rows in view at once."""
    kv = await bucket_of(nc, unique, 200, b"old")
    app = make_app(start_pane="kv")
    async with app.run_test(size=(160, 45)) as pilot:
        pane = await open_loaded(pilot, unique, 200)
        table = pane.key_table

        def shown(key: str) -> str:
            return table.get_cell(key, "value").text

        await kv.put("key.199", b"new-199")  # far below the screen
        await kv.put("key.001", b"new-001")  # on screen
        await wait_until(pilot, lambda: shown("key.001") == "new-001", what="key.001 written")
        assert pane.keys.entries["key.199"].value == b"new-199"  # held, not written
        await pilot.pause(3 * pane.DRAIN_SECONDS)
        assert shown("key.199") == "old"
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: shown("key.199") == "new-199", what="key.199 written")
        await wait_until(
            pilot, lambda: "new-199" in screen_text(app), what="key.199's value on screen"
        )


async def test_rows_that_come_on_screen_show_their_age_now(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    """Ages in view are rewritten a few rows a tick, so that no tick draws a whole screenful;
    rows that come on screen are drawn anew anyway and get their age at once, not the one they
    had when they were last drawn (a user saw "1s ago" on keys 20 s old)."""
    await bucket_of(nc, unique, 200, b"v")
    app = make_app(start_pane="kv")
    async with app.run_test(size=(160, 45)) as pilot:
        pane = await open_loaded(pilot, unique, 200)
        table = pane.key_table
        later = time.time() + 600
        pane.session.clocks = Clocks(wall=lambda: later)  # ten minutes on, at once
        await pilot.press("ctrl+end")
        await pilot.pause()
        on_screen = [
            str(table.ordered_rows[index].key.value)
            for index in table.rows_on_screen()
            if index < table.row_count
        ]
        assert len(on_screen) > 20 and "key.199" in on_screen
        pane._drain()  # one tick after the scroll (its timer may have run others meanwhile)
        ages = {key: table.get_cell(key, "age").text for key in on_screen}
        assert all(age.startswith("10m") for age in ages.values()), ages


async def test_hostile_value_is_edited_escaped_and_deleted_keys_purged(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    kv = await make_bucket(nc, unique)
    await kv.put("evil", HOSTILE.encode())
    await kv.put("gone", b"x")
    await kv.delete("gone")
    app = make_app(start_pane="kv")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await open_bucket(pilot, unique)
        await select_key(pilot, pane, "evil")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, KvPutScreen), what="edit form")
        form = app.screen
        assert isinstance(form, KvPutScreen)
        box = form.query_one("#kv-put-value", TextArea)
        # Never raw into the box: escaped, and read back to exactly the stored bytes.
        assert not any(bad in box.text for bad in ("\x1b", "\x07", "\u202e"))
        assert "\\x1b" in box.text and "\\u202e" in box.text
        assert form.value_format() == "escaped"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not form, what="saved")
        entry = await kv.get("evil")
        assert (entry.value, entry.revision) == (HOSTILE.encode(), 4)
        # x removes the deleted key for good, after saying how many go.
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Remove 1 deleted key from bucket" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: "gone" not in pane.keys.entries, what="gone purged")
    assert await consumers_of(nc, unique) == 0
