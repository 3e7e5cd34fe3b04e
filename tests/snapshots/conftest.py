"""Fixtures for the snapshot tests: a nats-server of each test's own on a fixed port, started on a
copy of the stored tutorial stream; stopped clocks; UTC as the local time zone.

Data flow of one test: `snapshot_server` copies `store/` (see store_template.py) and starts the
server on it, so `example_stream` is there, empty, with the same created time every run; the test
builds the app with `snapshot_app`, whose `stopped_clocks` are the only time the app reads; its
`run_before` (async, on the app's loop) publishes the messages and waits until every pane shows
them, and then the picture is taken.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jstui.app import JstuiApp
from jstui.config import Settings
from jstui.nats.embedded import EmbeddedServer, EmbeddedServerError
from jstui.nats.session import Clocks
from tests.snapshots.store_template import STORE_TEMPLATE, SUBJECTS

SNAPSHOT_PORT = 14229
"""The status line shows the server URL, so the port is fixed. It lies below the kernel's range of
ephemeral ports (32768 and up), where `free_port()` finds the other tests' servers theirs."""
SERVER_NAME = "jstui-snapshots"
PINNED_SERVER_VERSION = "2.15.1"
"""The status line shows the server's version, and the server decides the stored byte counts and
reads the store template: the pictures hold for this nats-server (a newer one: regenerate the
template, review the pictures with `--snapshot-update`)."""

STOPPED_AT = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
"""Where the app's clocks stand. It lies before any time the server puts on a stream or message,
so every age of a server time reads "just now" (format_age's answer to clock skew)."""


class StoppedClocks:
    """Wall and monotonic time that stand still unless the test moves them on."""

    def __init__(self, at: datetime = STOPPED_AT) -> None:
        self._wall = at.timestamp()
        self._monotonic = 1_000_000.0

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._monotonic += seconds

    @property
    def clocks(self) -> Clocks:
        return Clocks(wall=lambda: self._wall, monotonic=lambda: self._monotonic)


@pytest.fixture
def snapshot_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A server of the test's own whose store starts as a copy of `store/`: the stream
    `example_stream`, empty, created (by the server, at a time it chose) once and for all."""
    store = tmp_path / "store"
    shutil.copytree(STORE_TEMPLATE, store)
    server = EmbeddedServer(port=SNAPSHOT_PORT, store_dir=store, server_name=SERVER_NAME)
    try:
        server.start()
    except EmbeddedServerError as error:
        pytest.fail(f"the snapshot server needs port {SNAPSHOT_PORT}: {error}")
    yield server
    server.stop()


@pytest.fixture
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times of day are shown in the local zone: make it UTC for the test, then restore it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def stopped_clocks() -> StoppedClocks:
    return StoppedClocks()


SnapshotApp = Callable[..., JstuiApp]


@pytest.fixture
def snapshot_app(
    snapshot_server: EmbeddedServer, utc_local_time: None, stopped_clocks: StoppedClocks
) -> SnapshotApp:
    """Build the app on the snapshot server with `stopped_clocks` and a core feed on
    `my.subject.*` (the `--feed` option); keyword arguments override Settings fields."""

    def factory(**overrides: Any) -> JstuiApp:
        fields: dict[str, Any] = {
            "servers": (snapshot_server.url,),
            "feeds": (f"{SUBJECTS},core",),  # core: a bare subject would read the stream
            **overrides,
        }
        return JstuiApp(Settings(**fields), clocks=stopped_clocks.clocks)

    return factory
