"""A mirror made by another program, edited in jstui's stream form: it has no subjects, and the
form must save it all the same, leaving the mirror as it is."""

from __future__ import annotations

from nats.aio.client import Client
from nats.js.api import StreamConfig, StreamSource

from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until
from tests.app.test_streams_pane import fill, form_error, open_form, select_stream


async def test_a_mirror_is_edited_and_saved_without_subjects(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=f"{unique}_src", subjects=[f"{unique}.>"])
    mirror = f"{unique}_mirror"
    await js.add_stream(StreamConfig(name=mirror, mirror=StreamSource(name=f"{unique}_src")))
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await select_stream(pilot, mirror)
        await wait_until(
            pilot, lambda: f"Mirror {unique}_src" in screen_text(app), what="the detail says mirror"
        )
        form = await open_form(pilot, "e")
        await fill(pilot, "#field-description", "a copy")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: app.screen is app.dashboard or form_error(form), what="saved or refused"
        )
        assert app.screen is app.dashboard, (form_error(form), screen_text(app))
    info = await js.stream_info(mirror)
    assert info.config.description == "a copy"
    assert info.config.mirror is not None and info.config.mirror.name == f"{unique}_src"
    assert not info.config.subjects
