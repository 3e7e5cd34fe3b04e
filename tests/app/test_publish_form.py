"""The publish form after a bulk publish whose acknowledgements did not all come: it shows
acked, failed and unknown (adding up to sent) and offers to resend the unacknowledged ones."""

from __future__ import annotations

from nats.aio.client import Client
from nats.aio.msg import Msg
from textual.widgets import Button, Input, Select

from jstui.dialogs.publish import PublishScreen
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until


async def test_unacknowledged_messages_are_shown_and_can_be_resent(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    subject = f"{unique}.silent"
    swallowed: list[Msg] = []

    async def swallow(msg: Msg) -> None:  # answers nothing: no ack will ever come
        swallowed.append(msg)

    await nc.subscribe(subject, cb=swallow)
    await nc.flush()
    app = make_app(feeds=(subject,))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await pilot.press("2", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen), what="the form")
        form = app.screen
        assert isinstance(form, PublishScreen)
        form.query_one("#publish-mode", Select).value = "js"
        form.query_one("#publish-count", Input).value = "4"
        await pilot.press("ctrl+s")
        resend = form.query_one("#publish-resend", Button)
        await wait_until(pilot, lambda: resend.display, timeout=20, what="the resend offer")
        result = str(form.query_one("#publish-result").render())
        assert "4/4 sent (JetStream), 0 acked, 0 failed, 4 unknown" in result
        assert "4 without an acknowledgement" in result and "done" in result
        # (the button shows from the next frame on: the layout that places it comes first)
        await wait_until(pilot, lambda: "Resend 4" in screen_text(app), what="Resend 4 drawn")
        first_ids = [msg.headers for msg in swallowed]
        await pilot.click("#publish-resend")
        await wait_until(pilot, lambda: len(swallowed) == 8, timeout=20, what="sent again")
        assert [msg.headers for msg in swallowed[4:]] == first_ids  # the same message ids
        await wait_until(
            pilot,
            lambda: resend.display and form._bulk is not None and form._bulk.done,
            timeout=20,
            what="second run done",
        )
        assert "4/4 sent (JetStream), 0 acked, 0 failed, 4 unknown" in str(
            form.query_one("#publish-result").render()
        )
