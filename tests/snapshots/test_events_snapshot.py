"""A picture of the Events pane with one dead letter, compared with the SVG in `__snapshots__/`.

The data: the snapshot server's `example_stream` (see conftest), one message "Message 1" on
`my.subject.test` published by a plain nats-py client, which then fetches it through a durable
pull consumer `billing` and terminates it. The advisory arrives at the app's stopped clock
(12:00:00), the original is read back by sequence, and the pane, opened with `--pane events`,
shows the Dead letters view. Nothing random is in view: the consumer is durable and named, the
sequence is 1, and the advisory's id and timestamp stay in its JSON (not pictured).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nats
from textual.pilot import Pilot

from jstui.app import JstuiApp
from jstui.nats.session import ConnectionState
from jstui.widgets.events import EventsPane
from tests.app.conftest import screen_text, wait_until
from tests.snapshots.conftest import PINNED_SERVER_VERSION, SnapshotApp
from tests.snapshots.store_template import STREAM
from tests.snapshots.test_snapshots import WIDE, _settle

SnapCompare = Callable[..., bool]


async def _terminate_one(url: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.publish("my.subject.test", b"Message 1")
        sub = await js.pull_subscribe("my.subject.test", durable="billing", stream=STREAM)
        (msg,) = await sub.fetch(1, timeout=5)
        await msg.term()
    finally:
        await nc.drain()


async def _dead_letter_view(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, JstuiApp)
    session = app.session
    await wait_until(
        pilot,
        lambda: session.status.state is ConnectionState.CONNECTED,
        timeout=30,  # a busy two-core machine: the suite's heaviest tests run before these
        what="connection",
    )
    assert session.status.server_version == PINNED_SERVER_VERSION
    # The start pane is built once the connection has an outcome: wait for it, then its watch.
    await wait_until(
        pilot, lambda: bool(app.dashboard.query(EventsPane)), what="the Events pane built"
    )
    pane = app.dashboard.query_one(EventsPane)
    await wait_until(pilot, lambda: pane.watcher.started, what="advisories watched")
    assert session.status.url
    await _terminate_one(session.status.url)
    await pilot.press("t")
    await wait_until(pilot, lambda: "Message 1" in screen_text(app), what="the original")
    await _settle(pilot)


def test_events_pane_with_a_dead_letter(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp
) -> None:
    """You should see the Events pane alone, on its "Dead letters (1)" tab: one row at 12:00:00,
    example_stream, consumer billing, seq 1, 1 delivery, terminated, subject my.subject.test,
    payload "Message 1"; the footer offers t, /, a and p Publish again."""
    app = snapshot_app(start_pane="events")
    assert snap_compare(app, terminal_size=WIDE, run_before=_dead_letter_view)
