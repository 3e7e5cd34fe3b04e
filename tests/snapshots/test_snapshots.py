"""Pictures of jstui with the tutorial's data, compared with the SVGs in `__snapshots__/`.

Run `pytest tests/snapshots --snapshot-update` after a deliberate change of the look, then review
the new pictures (they are SVG: any browser shows them) before committing them.

What every picture holds, and how it is kept the same from run to run:

- Data: a real nats-server of each test's own on the fixed port 14229 (named `jstui-snapshots`,
  version pinned: see conftest), started on a copy of `store/`, which holds the stream
  `example_stream` (my.subject.*, limits, file, max age 1h, 1,000 msgs, 10 MiB), empty. Once the
  app's core feed on `my.subject.*` is live, a plain nats-py client publishes "Message 1".."Message
  5" to `my.subject.test` through JetStream (plus, for the detail pictures, one text, JSON or
  binary message as a core publish, so that it has no reply inbox, whose name is random).
  Sequence numbers and byte counts are the same every run.
- Time: the app reads every time from `JstuiApp(clocks=...)`, here clocks that stand still at
  2024-06-01 12:00:00 UTC (and local time is UTC during the test). Feed lines show when a message
  arrived: 12:00:00.000. Once the messages are in, the test moves the clocks on 3 s, so the rate
  reads 0/s and the sparkline holds the one second in which they arrived; the message detail says
  "received 2024-06-01T12:00:00.000Z (3s ago)". The round-trip time is measured with the stopped
  monotonic clock: "rtt 0.0 ms" (the test waits for that figure, so a poll that straddled the
  move cannot leave another one on screen).
- Times the server sets: the stream's created time is the one in the store template (the server
  reads it back from there; store_template.py says how it was made). Message stored times are
  real, so no picture shows one: the feed is a core feed (its messages carry no stored time), and
  only their ages appear (first/last seq), which read "just now" because every server time is
  later than the stopped clocks. A core feed also keeps random consumer names out of view.
- Nothing moves when the picture is taken: each test waits for the state it shows (connected,
  figures polled, rows drawn), then for the screen to stay the same for a few frames; text cursors
  are told not to blink.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import nats
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TextArea

from jstui.app import JstuiApp
from jstui.dialogs.help import HelpScreen
from jstui.dialogs.message_detail import MessageDetailScreen
from jstui.dialogs.stream_form import StreamFormScreen
from jstui.nats.feeds.feed import FeedState
from jstui.nats.session import ConnectionState
from jstui.widgets.feeds import FeedsPane
from jstui.widgets.status import StatusLine
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import screen_text, wait_until
from tests.snapshots.conftest import PINNED_SERVER_VERSION, SnapshotApp, StoppedClocks
from tests.snapshots.store_template import STREAM

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]

WIDE = (160, 45)
SMALL = (80, 24)
TUTORIAL_MESSAGES = [("my.subject.test", f"Message {n}".encode()) for n in range(1, 6)]
TEXT_PAYLOAD = b"Tea is ready.\nThe kettle: boiled twice."
JSON_PAYLOAD = b'{"order": 1042, "item": "tea", "quantity": 2, "tags": ["green", "loose"]}'
BINARY_PAYLOAD = bytes(range(0, 256, 3))
SETTLE_FRAMES = 4


# -- driving the app ---------------------------------------------------------------------------


async def _publish(
    url: str, through_jetstream: Iterable[tuple[str, bytes]], core: Iterable[tuple[str, bytes]]
) -> None:
    """From a plain nats-py client (the tutorial's publisher). A JetStream publish is a request,
    whose reply subject is a random inbox: a message whose detail is pictured goes out as a core
    publish, with no reply subject (the stream stores it all the same)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for subject, data in through_jetstream:
            await js.publish(subject, data)
        for subject, data in core:
            await nc.publish(subject, data)
    finally:
        await nc.drain()


async def _settle(pilot: Pilot[Any]) -> None:
    """Wait until the screen is the same for a few frames in a row: nothing left moving."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    deadline = time.monotonic() + 10
    previous, same = "", 0
    while same < SETTLE_FRAMES:
        await pilot.pause(0.05)
        current = screen_text(app)
        same = same + 1 if current == previous else 0
        previous = current
        if time.monotonic() > deadline:
            raise AssertionError("the screen kept changing")


def _no_blinking_cursors(app: JstuiApp) -> None:
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False


async def tutorial_flow(
    pilot: Pilot[Any],
    clocks: StoppedClocks,
    extra: Iterable[tuple[str, bytes]] = (),
) -> None:
    """Connect, publish the tutorial's messages (plus `extra`) once the feed is live, wait until
    every pane shows them, move the clocks on 3 s and wait for the figures to show it."""
    app = pilot.app
    assert isinstance(app, JstuiApp)
    session = app.session
    await wait_until(
        pilot,
        lambda: session.status.state is ConnectionState.CONNECTED,
        timeout=30,  # a busy two-core machine: the suite's heaviest tests run before these
        what="connection",
    )
    assert session.status.server_version == PINNED_SERVER_VERSION, (
        f"the pictures were taken with nats-server {PINNED_SERVER_VERSION}, this is "
        f"{session.status.server_version}: review them with --snapshot-update"
    )
    # the panes shown at start are built after the first frame, one per refresh
    await wait_until(pilot, lambda: app.dashboard.start_panes_built, what="the panes")
    feeds = app.dashboard.query_one(FeedsPane)
    await wait_until(
        pilot,
        lambda: feeds.views and feeds.views[0].feed.state is FeedState.LIVE,
        what="live feed",
    )
    feed = feeds.views[0].feed
    messages = [*TUTORIAL_MESSAGES, *extra]
    assert session.status.url
    await _publish(session.status.url, TUTORIAL_MESSAGES, extra)
    await wait_until(pilot, lambda: feed.counts().shown == len(messages), what="feed lines")
    clocks.advance(3)

    streams = app.dashboard.pane(1)  # built now when jstui started on another pane
    await wait_until(pilot, lambda: streams.is_mounted, what="the Streams pane")
    table: DataTable[Any] = streams.query_one("#streams-table", DataTable)

    def stream_row_shows_all() -> bool:
        try:
            cell = table.get_cell(STREAM, "messages")
        except Exception:  # the row is not there yet
            return False
        return str(cell) == str(len(messages))

    await wait_until(pilot, stream_row_shows_all, what="stream row")
    # The status line's figures are polled every 2 s: wait for a poll made after the messages
    # were stored, and after the clocks moved (a round trip timed across the move is not 0.0).
    stored = f"file {table.get_cell(STREAM, 'bytes')}"
    status = app.dashboard.query_one(StatusLine)
    await wait_until(
        pilot,
        lambda: stored in status.plain and "rtt 0.0 ms" in status.plain,
        what="status figures",
    )
    workers = app.dashboard.query_one(WorkersPane)  # on screen, it says what it looked at
    await wait_until(
        pilot,
        lambda: workers.discovered or not workers.region.area,
        what="the Workers pane's first look",
    )
    await _settle(pilot)


def dashboard(clocks: StoppedClocks, *keys: str) -> RunBefore:
    """The tutorial's data, then `keys` pressed on the dashboard."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await tutorial_flow(pilot, clocks)
        await pilot.press(*keys)
        await _settle(pilot)

    return run_before


# -- the dashboard -----------------------------------------------------------------------------


def test_dashboard_wide(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks
) -> None:
    """You should see all four panes in the textual-dark theme: example_stream with 5 messages
    (Streams), five feed lines "Message 1".."Message 5" at 12:00:00.000 (Feeds), no requests, no
    workers; the status line says connected, rtt 0.0 ms, JS streams 1."""
    app = snapshot_app(theme="textual-dark")
    assert snap_compare(app, terminal_size=WIDE, run_before=dashboard(stopped_clocks))


def test_dashboard_light(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks
) -> None:
    """You should see the same dashboard as test_dashboard_wide, in the textual-light theme."""
    app = snapshot_app(theme="textual-light")
    assert snap_compare(app, terminal_size=WIDE, run_before=dashboard(stopped_clocks))


def test_dashboard_small(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks
) -> None:
    """You should see only the Streams pane (compact layout on 80x24) with example_stream."""
    app = snapshot_app()
    assert snap_compare(app, terminal_size=SMALL, run_before=dashboard(stopped_clocks))


def test_dashboard_read_only(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks
) -> None:
    """You should see test_dashboard_wide with READ-ONLY in the status line, "read-only: changes
    are refused" under the Streams pane, and a footer without New, Edit, Purge and Delete (read-only
    mode offers no change): Browse, Max/restore, Help."""
    app = snapshot_app(theme="textual-dark", read_only=True)
    assert snap_compare(app, terminal_size=WIDE, run_before=dashboard(stopped_clocks))


def test_start_on_workers_pane_small(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks
) -> None:
    """You should see `jstui --pane workers` on 80x24: the Workers pane alone, maximized (no
    status line, no switcher), and the footer starting with ? Help."""
    app = snapshot_app(start_pane="workers")
    assert snap_compare(app, terminal_size=SMALL, run_before=dashboard(stopped_clocks))


@pytest.mark.parametrize(
    "key", ["1", "2", "3", "4"], ids=["streams", "feeds", "requests", "workers"]
)
def test_pane_maximized(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks, key: str
) -> None:
    """You should see one pane alone (number key, then z): Streams with the table and
    example_stream's whole detail; Feeds with the my.subject.* feed and its five lines;
    Request/Reply with no requests yet; Workers with no pool yet."""
    app = snapshot_app()
    run_before = dashboard(stopped_clocks, key, "z")
    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


# -- dialogs -----------------------------------------------------------------------------------


def detail_of_newest(clocks: StoppedClocks, subject: str, payload: bytes) -> RunBefore:
    """The tutorial's data plus one more message, whose detail is then opened from the feed."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await tutorial_flow(pilot, clocks, extra=[(subject, payload)])
        await pilot.press("2", "enter")
        await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, MessageDetailScreen), what="detail"
        )
        assert isinstance(pilot.app, JstuiApp)
        _no_blinking_cursors(pilot.app)
        await _settle(pilot)

    return run_before


@pytest.mark.parametrize(
    ("subject", "payload"),
    [
        pytest.param("my.subject.note", TEXT_PAYLOAD, id="text"),
        pytest.param("my.subject.order", JSON_PAYLOAD, id="json"),
        pytest.param("my.subject.blob", BINARY_PAYLOAD, id="binary"),
    ],
)
def test_message_detail(
    snap_compare: SnapCompare,
    snapshot_app: SnapshotApp,
    stopped_clocks: StoppedClocks,
    subject: str,
    payload: bytes,
) -> None:
    """You should see the detail of message #6 (`subject`): received 2024-06-01T12:00:00.000Z
    (3s ago), no headers, no reply subject, and the payload as text, pretty-printed JSON or a
    hex dump (the test's id)."""
    app = snapshot_app()
    run_before = detail_of_newest(stopped_clocks, subject, payload)
    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_stream_form_errors(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks
) -> None:
    """You should see the new-stream form with an error under Subjects (a space in it) and under
    Max age (no unit "fortnight"); nothing was created."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await tutorial_flow(pilot, stopped_clocks)
        await pilot.press("1", "n")
        await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, StreamFormScreen), what="stream form"
        )
        form = pilot.app.screen
        form.query_one("#field-name", Input).value = "orders"
        form.query_one("#field-subjects", Input).value = "orders. new"
        form.query_one("#field-max_age", Input).value = "1 fortnight"
        form.query_one("#field-name", Input).focus()
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: all(form.query_one(f"#error-{key}").display for key in ("subjects", "max_age")),
            what="field errors",
        )
        assert isinstance(pilot.app, JstuiApp)
        _no_blinking_cursors(pilot.app)
        await _settle(pilot)

    app = snapshot_app()
    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_help(
    snap_compare: SnapCompare, snapshot_app: SnapshotApp, stopped_clocks: StoppedClocks
) -> None:
    """You should see the help screen: the keys that work everywhere, then each pane's keys."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await tutorial_flow(pilot, stopped_clocks)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")
        await _settle(pilot)

    app = snapshot_app()
    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)
