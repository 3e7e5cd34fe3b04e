"""A picture of the Workers pane watching a core queue group it is not part of.

Stable data: two worker programs (plain nats-py, named `worker-a` and `worker-b`, one queue
subscription each on `my.subject.*` in group `workers`), started once the tutorial's flow has
moved the clocks on (see test_snapshots): so both are first and last seen "now", and every rate
is 0/s. Only worker-a is subscribed while five tasks are published, so it has all five; worker-b
joins afterwards and has none: the counts, shares and fairness are the same every run (a queue
group spreads at random, so two members sharing the messages would not be).
`--watch my.subject.*@workers` waits for the group and picks it when it appears; the pane is then
maximized (z).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import nats
import pytest
from textual.pilot import Pilot

from jstui.nats.embedded import EmbeddedServer
from jstui.widgets.workers import WorkersPane
from tests.app.conftest import wait_until
from tests.snapshots.conftest import SnapshotApp, StoppedClocks
from tests.snapshots.test_snapshots import WIDE, SnapCompare, _settle, tutorial_flow

WORKER_PROGRAM = """
import asyncio, sys
import nats

async def main():
    url, name = sys.argv[1:3]
    nc = await nats.connect(url, name=name)
    async def handle(msg):
        pass
    await nc.subscribe("my.subject.*", queue="workers", cb=handle)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await nc.close()

asyncio.run(main())
"""


class Workers:
    """The worker programs started so far; all stopped at the end of the test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> None:
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_PROGRAM, self.url, name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.processes.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"

    def stop(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def workers(snapshot_server: EmbeddedServer) -> Iterator[Workers]:
    running = Workers(snapshot_server.url)
    yield running
    running.stop()


def test_watching_a_queue_group(
    snap_compare: SnapCompare,
    snapshot_app: SnapshotApp,
    stopped_clocks: StoppedClocks,
    workers: Workers,
) -> None:
    """You should see the Workers pane alone: the group list with the core queue group
    my.subject.*@workers (2 members, 5 delivered), and under it the watch view: worker-a with 5
    (100%) and worker-b with 0, both active, seen now; fairness "-" (a member has none)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await tutorial_flow(pilot, stopped_clocks)  # the clocks stand still from here on
        workers.start("worker-a")  # (first seen after the clocks moved: "now", every run)
        nc = await nats.connect(workers.url)
        for n in range(1, 6):
            await nc.publish("my.subject.work", f"Task {n}".encode())
        await nc.drain()
        pane = pilot.app.query_one(WorkersPane)
        await wait_until(
            pilot,
            lambda: (
                pane.watcher.snapshot is not None
                and [m.delivered for m in pane.watcher.snapshot.members] == [5]
            ),
            timeout=15,
            what="worker-a watched with its five tasks",
        )
        workers.start("worker-b")

        def both_in() -> bool:
            snapshot = pane.watcher.snapshot
            listed = pane.group_list.entries.get("core:my.subject.*@workers")
            return (
                snapshot is not None
                and [m.delivered for m in snapshot.members] == [5, 0]
                and listed is not None
                and listed.members == 2
            )

        await wait_until(pilot, both_in, timeout=15, what="both workers watched")
        await pilot.press("z")
        await _settle(pilot)

    app = snapshot_app(watch="my.subject.*@workers")
    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)
