"""The Workers pane shows the dead letters of the consumer it shows: a deliver group of plain
nats-py programs that nak everything, watched from outside, and a jstui pull pool whose members
fail every task; D opens the newest with its original payload; a group without any says "none",
a core group says nothing about dead letters."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from nats.js.client import JetStreamContext
from textual.pilot import Pilot

from jstui.app import JstuiApp
from jstui.dialogs.advisory_detail import DeadLetterDetailScreen
from jstui.nats.observe.groups import GroupKind, GroupRef
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import AppFactory, screen_text, wait_connected, wait_until

SIZE = (160, 45)
PAYLOAD = b"resize image 17 \x1b[2J"
SHOWN = "'resize image 17 \u241b[2J'"
"""The preview as the line shows it: quoted, the escape made visible."""


def pane_of(app: JstuiApp) -> WorkersPane:
    pane = app.dashboard.pane(4)
    assert isinstance(pane, WorkersPane)
    return pane


async def _dead_letter_shown_and_opened(
    pilot: Pilot[Any], pane: WorkersPane, js: JetStreamContext, subject: str
) -> None:
    """None shown and D not offered; one message every member naks, shown with its payload
    (sanitized) within seconds; D opens it with the original."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    await wait_until(pilot, lambda: "dead letters none" in screen_text(app))
    assert pane.check_action("open_dead_letter", ()) is False  # no D without one
    await js.publish(subject, PAYLOAD)
    await wait_until(
        pilot,
        lambda: (
            "dead letters 1 (max deliveries 1, terminated 0): seq 1 " + SHOWN in screen_text(app)
        ),
        what="the dead letter with its payload",
    )
    assert "\x1b" not in screen_text(app)
    assert pane.check_action("open_dead_letter", ()) is True
    pane.focus()
    await pilot.press("D")
    await wait_until(pilot, lambda: isinstance(app.screen, DeadLetterDetailScreen), what="detail")
    detail = app.screen
    assert isinstance(detail, DeadLetterDetailScreen)
    await wait_until(pilot, lambda: "resize image 17" in detail.body_text, what="the original")
    assert "max deliveries" in screen_text(app)
    await pilot.press("escape")
    await wait_until(pilot, lambda: not isinstance(app.screen, DeadLetterDetailScreen))


async def test_a_watched_deliver_group_shows_its_dead_letter_and_d_opens_it(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=unique, subjects=[f"{unique}.>"]))
    core_subject = f"{unique}.plain"
    await js.add_consumer(
        unique,
        ConsumerConfig(
            durable_name="crew",
            deliver_subject=f"_deliver.{unique}",
            deliver_group="crew",
            filter_subject=f"{unique}.jobs",
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=1,
            max_deliver=2,
        ),
    )
    await js.add_consumer(
        unique, ConsumerConfig(durable_name="idle", ack_policy=AckPolicy.EXPLICIT)
    )

    async def nak(msg: Msg) -> None:
        await msg.nak()

    try:
        await nc.subscribe(f"_deliver.{unique}", queue="crew", cb=nak)
        await nc.subscribe(core_subject, queue="plain", cb=nak)  # a core group: no dead letters
        await nc.flush()
        app = make_app(watch=f"{unique}/crew", start_pane="workers")
        async with app.run_test(size=SIZE) as pilot:
            await wait_connected(pilot)
            pane = pane_of(app)
            await wait_until(pilot, lambda: pane.watcher.snapshot is not None, what="watched")
            await _dead_letter_shown_and_opened(pilot, pane, js, f"{unique}.jobs")
            # another consumer of the same stream has none
            pane.show_group(GroupRef(GroupKind.PULL, stream=unique, consumer="idle"))
            await wait_until(pilot, lambda: "dead letters none" in screen_text(app))
            assert pane.check_action("open_dead_letter", ()) is False
            # a core queue group: no dead-letter line at all
            pane.show_group(GroupRef(GroupKind.CORE, subject=core_subject, queue="plain"))
            await wait_until(
                pilot,
                lambda: (s := pane.watcher.snapshot) is not None and s.ref.queue == "plain",
                what="the core group watched",
            )
            await wait_until(pilot, lambda: "watching (not joined) core" in screen_text(app))
            assert "dead letters" not in screen_text(app)
    finally:
        await js.delete_stream(unique)


async def test_a_jetstream_pool_shows_the_dead_letters_of_its_consumer(
    make_app: AppFactory, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=unique, subjects=[f"{unique}.>"]))
    # the pool adopts this durable: every member naks, the server gives up after two deliveries
    await js.add_consumer(
        unique,
        ConsumerConfig(
            durable_name="nakkers",
            filter_subject=f"{unique}.jobs",
            ack_policy=AckPolicy.EXPLICIT,
            max_deliver=2,
        ),
    )
    try:
        app = make_app(
            workers=(f"{unique}.jobs,mode=pull,durable=nakkers,count=2,fail=100",),
            start_pane="workers",
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_connected(pilot)
            pane = pane_of(app)
            await wait_until(pilot, lambda: pane.showing == "pool", what="the pool shown")
            await _dead_letter_shown_and_opened(pilot, pane, js, f"{unique}.jobs")
    finally:
        await js.delete_stream(unique)
