"""Streams beyond the limits in the Streams pane: mirrors and sourced streams made in the form
and fed by plain nats-py publishers, a mirror made by another program edited (it has no subjects,
and the form saves it all the same, its origin shown locked), sealing asked first, bucket streams
marked and warned about, and fields an older server lacks disabled with the reason."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client
from nats.js.api import StreamConfig, StreamSource
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from jstui.app import JstuiApp
from jstui.dialogs.confirm import ConfirmScreen
from jstui.dialogs.stream_form import StreamFormScreen
from jstui.nats.streams.summaries import Bucket
from jstui.widgets.streams import StreamsPane
from jstui.widgets.streams.buckets import managing_pane
from jstui.widgets.streams.parts import PartsView
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until
from tests.app.test_streams_pane import fill, form_error, open_form, select_stream

# -- helpers -------------------------------------------------------------------------------------


def question_text(app: JstuiApp) -> str:
    """The question of the confirmation on top, whole (the screen wraps it)."""
    return str(app.screen.query_one("#confirm-question", Static).render())


def detail_text(pane: StreamsPane) -> str:
    """The selected stream's whole detail, scrolled out of view or not."""
    return pane.query_one("#streams-detail-body", PartsView).plain


async def fill_area(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Put `text` into a form's TextArea as a paste, as a terminal would."""
    area = pilot.app.screen.query_one(selector, TextArea)
    area.scroll_visible(animate=False)
    area.focus()
    await wait_until(pilot, lambda: area.has_focus, what=f"{selector} focused")
    area.clear()
    pilot.app.post_message(events.Paste(text))
    await wait_until(pilot, lambda: area.text == text, what=f"{selector} filled")


async def toggle(pilot: Pilot[Any], selector: str) -> None:
    box = pilot.app.screen.query_one(selector, Checkbox)
    before = box.value
    box.scroll_visible(animate=False)
    box.focus()
    await wait_until(pilot, lambda: box.has_focus, what=f"{selector} focused")
    await pilot.press("space")
    await wait_until(pilot, lambda: box.value != before, what=f"{selector} toggled")


async def save_form(pilot: Pilot[Any], form: StreamFormScreen) -> None:
    app = pilot.app
    await pilot.press("ctrl+s")
    await wait_until(
        pilot,
        lambda: app.screen is not form or form_error(form) or any(r.invalid for r in form.rows()),
        what="saved or refused",
    )
    errors = {row.key: row.error for row in form.rows() if row.invalid}
    assert app.screen is not form, (form_error(form), errors)


# -- mirrors and sources made in the form ----------------------------------------------------------


async def test_a_mirror_and_a_sourced_stream_made_in_the_form_and_fed(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=f"{unique}_a", subjects=[f"{unique}.a.>"])
    await js.add_stream(name=f"{unique}_b", subjects=[f"{unique}.b.>"])
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, f"{unique}_a")
        form = await open_form(pilot)
        await fill(pilot, "#field-name", f"{unique}_m")
        await fill(pilot, "#field-mirror", f"{unique}_a filter={unique}.a.keep")
        await save_form(pilot, form)

        form = await open_form(pilot)
        await fill(pilot, "#field-name", f"{unique}_all")
        await fill(pilot, "#field-subjects", f"{unique}.own")
        await fill_area(pilot, "#field-sources", f"{unique}_a\n{unique}_b start=2")
        await save_form(pilot, form)

        for subject in ("a.keep", "a.drop", "b.one", "b.two", "own"):
            await js.publish(f"{unique}.{subject}", b"x")
        pane = await select_stream(pilot, f"{unique}_all")
        # the form's streams, fed by plain nats-py publishers: a's two, b's second, its own one
        await wait_until(
            pilot, lambda: pane._summaries[f"{unique}_all"].messages == 4, what="sourced"
        )
        text = detail_text(pane)
        assert f"Source {unique}_a" in text and f"Source {unique}_b start=2" in text
        await select_stream(pilot, f"{unique}_m")
        await wait_until(pilot, lambda: pane._summaries[f"{unique}_m"].messages == 1)
        await wait_until(
            pilot, lambda: f"Mirror of {unique}_a filter={unique}.a.keep" in detail_text(pane)
        )
        assert f"{unique}_m [mirror]" in screen_text(app)
        # its state: where it copies from, how far behind, when it last brought something
        text = detail_text(pane)
        assert "Copied from" in text
        assert f"Mirror {unique}_a ({unique}.a.keep)  lag 0  active " in text
    info = await js.stream_info(f"{unique}_m")
    assert info.config.mirror is not None and info.config.mirror.name == f"{unique}_a"
    assert not info.config.subjects
    sourced = await js.stream_info(f"{unique}_all")
    assert sourced.config.subjects == [f"{unique}.own"]
    assert [s.name for s in sourced.config.sources or ()] == [f"{unique}_a", f"{unique}_b"]


async def test_a_mirror_made_elsewhere_is_edited_with_its_origin_locked(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=f"{unique}_src", subjects=[f"{unique}.>"])
    mirror = f"{unique}_mirror"
    # Metadata another program wrote with a clipboard-writing escape and a BiDi override.
    hostile = {"note": "\x1b]52;c;aGk=\x07 \u202eevil"}
    await js.add_stream(
        StreamConfig(
            name=mirror,
            mirror=StreamSource(name=f"{unique}_src", opt_start_seq=2),
            metadata=hostile,
        )
    )
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, mirror)
        await wait_until(
            pilot, lambda: f"Mirror {unique}_src" in screen_text(app), what="the detail says mirror"
        )
        form = await open_form(pilot, "e")
        field = form.query_one("#field-mirror", Input)
        assert field.disabled and field.value == f"{unique}_src start=2"
        assert form.query_one("#field-subjects", Input).disabled
        assert form.query_one("#field-sources", TextArea).disabled
        notes = str(form.query_one("#note-mirror").render())
        assert "a mirror cannot be changed after creation" in notes
        # Never raw into a TextArea: a sanitized preview, and the value kept as it is.
        kept = form.query_one("#field-metadata")
        assert isinstance(kept, Static) and "\x1b" not in str(kept.render())
        assert "kept as it is" in str(form.query_one("#note-metadata").render())
        await fill(pilot, "#field-description", "still a mirror")
        await save_form(pilot, form)
    info = await js.stream_info(mirror)
    assert info.config.description == "still a mirror" and not info.config.subjects
    assert info.config.mirror is not None and info.config.mirror.name == f"{unique}_src"
    assert {k: v for k, v in (info.config.metadata or {}).items() if k == "note"} == hostile


# -- one-way switches ------------------------------------------------------------------------------


async def test_sealing_asks_first_then_locks(make_app: AppFactory, nc: Client, unique: str) -> None:
    name = f"{unique}_seal"
    await nc.jetstream().add_stream(name=name, subjects=[f"{unique}.s"])
    app = make_app()
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, name)
        form = await open_form(pilot, "e")
        await toggle(pilot, "#field-sealed")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "Seal stream" in screen_text(app) and "can never be undone" in question_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is form, what="back in the form")
        assert not (await nc.jetstream().stream_info(name)).config.sealed

        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="saved")
        await wait_until(pilot, lambda: f"{name}  sealed" in screen_text(app), what="sealed")
        await pilot.press("p")  # no purge dialog for what the server refuses anyway
        await wait_until(
            pilot, lambda: "it is sealed: the server refuses" in screen_text(app), what="refusal"
        )
        assert app.screen is app.dashboard
        form = await open_form(pilot, "e")
        assert form.query_one("#field-sealed", Checkbox).disabled
        assert "can never be unsealed" in str(form.query_one("#note-sealed").render())
        await pilot.press("escape")
    assert (await nc.jetstream().stream_info(name)).config.sealed


# -- buckets are not ordinary streams --------------------------------------------------------------


async def test_bucket_streams_are_marked_and_purge_delete_warn(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    kv = await js.create_key_value(bucket=f"{unique}kv")
    await kv.put("k", b"v")
    await js.create_object_store(bucket=f"{unique}obj")
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        pane = await select_stream(pilot, f"KV_{unique}kv")
        text = screen_text(app)
        assert f"KV_{unique}kv [kv]" in text and f"OBJ_{unique}obj [obj]" in text
        title = detail_text(pane).replace("\n", " ")
        assert f"key/value bucket {unique}kv · managed in the Key/Value pane (key 8)" in title
        for key, action in (("d", "Delete"), ("p", "Purge")):
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="warn")
            warning = question_text(app)
            assert "is not an ordinary stream" in warning and "Key/Value pane (key 8)" in warning
            assert f"{action} the stream anyway?" in warning
            await pilot.press("n")
            await wait_until(pilot, lambda: app.screen is app.dashboard, what="back")
        await select_stream(pilot, f"OBJ_{unique}obj")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="warn")
        expected = managing_pane(Bucket("obj", f"{unique}obj"))
        assert f"object store {unique}obj, managed in {expected}" in question_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is app.dashboard, what="back")
        assert f"KV_{unique}kv" in pane.table.rows
    assert (await kv.get("k")).value == b"v"


# -- servers too old for a field -------------------------------------------------------------------


async def test_fields_an_older_server_lacks_are_disabled_with_the_reason(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        app.session._set_status(server_version="2.9.25")  # as a 2.9 server's INFO would say
        form = await open_form(pilot)
        for key in ("subject_transform", "first_seq"):
            assert form.query_one(f"#field-{key}", Input).disabled
        assert form.query_one("#field-compression", Select).disabled
        assert form.query_one("#field-metadata", TextArea).disabled
        note = str(form.query_one("#note-subject_transform").render())
        assert note == (
            "cannot change: a subject transform needs nats-server 2.10 or newer; "
            "this server is 2.9.25"
        )
        assert not form.query_one("#field-republish", Input).disabled
        await pilot.press("escape")
