"""Server pane costs with many connections: key latency while it polls, and one poll's cost.

    /work/venv/bin/python benchmarks/observe.py [--connections N] [--seconds S]

One embedded nats-server (its system account, as `jstui` with no --server uses it). A helper
process opens N nats-py connections with one subscription each (in its own process, so that they
do not load jstui's loop). The real app runs headless at 160x45 on the Server pane with all N
connections in its table, polling every 2 s as it does for a user. Measured:

- key p99: cursor-down keys sent to the connections table every 50 ms for S seconds, from the
  key event to the screen refresh after the cursor moved (render included), 99th percentile;
- poll: one `observer.connections(subscriptions=False)` at N connections (fetch + parse), as the
  pane polls, median of 10, in ms; poll_with_subscriptions: the same with every subscription
  listed (what group discovery asks);
- polls_during_keys: how many of the pane's own polls (and table diffs) ran meanwhile;
- no_poll_key_p99 / median: the same keys for S/2 seconds first, with the pane's polls held:
  what the machine and Textual's table cost without this pane's polling (on a loaded machine
  this alone can miss the target).

Prints one line; exits 1 when key p99 misses the 100 ms target.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from jstui.app import JstuiApp  # noqa: E402
from jstui.config import Settings  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402
from jstui.widgets.server import ServerPane  # noqa: E402

TARGET_P99_MS = 100.0
KEY_EVERY = 0.05

CLIENTS = """
import asyncio, sys, nats
async def main():
    url, count = sys.argv[1], int(sys.argv[2])
    clients = []
    for start in range(0, count, 50):
        names = [f"bench-{n:04d}" for n in range(start, min(start + 50, count))]
        batch = await asyncio.gather(*(nats.connect(url, name=name) for name in names))
        for n, nc in enumerate(batch, start):
            await nc.subscribe(f"bench.{n}", queue="q" if n % 2 else None)
        clients += batch
    for nc in clients:
        await nc.flush()
    print("ready", flush=True)
    sys.stdin.readline()
    for nc in clients:
        await nc.close()
asyncio.run(main())
"""


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class KeyProbe:
    """Cursor-down keys sent through the driver; each timed until the refresh after it moved."""

    def __init__(self, app: JstuiApp) -> None:
        self.app = app
        self.latencies: list[float] = []
        self._sent: float | None = None
        probe = self
        original = DataTable.action_cursor_down

        def timed_cursor_down(table: DataTable[Any]) -> None:
            original(table)
            sent = probe._sent
            if sent is not None and table.id == "connections-table":
                probe._sent = None
                table.call_after_refresh(lambda: probe.latencies.append(time.perf_counter() - sent))

        DataTable.action_cursor_down = timed_cursor_down  # type: ignore[method-assign]

    async def run(self, seconds: float) -> None:
        driver = self.app._driver
        assert driver is not None
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self._sent is None:
                self._sent = time.perf_counter()
                driver.send_message(events.Key("down", None))
            await asyncio.sleep(KEY_EVERY)


async def measure(settings: Settings, count: int, seconds: float) -> dict[str, Any]:
    app = JstuiApp(settings)
    probe = KeyProbe(app)
    async with app.run_test(size=(160, 45)) as pilot:
        app.dashboard.action_show_pane(5)  # beyond the grid: built and shown maximized
        deadline = time.monotonic() + 60
        while not app.dashboard.query(ServerPane) or not app.dashboard.query_one(ServerPane).query(
            "#connections-table"
        ):
            await pilot.pause(0.05)  # built on first show, composed a moment later
        pane = app.dashboard.query_one(ServerPane)
        while pane.connections_table.row_count < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"the table never filled ({pane.connections_table.row_count})")
            await pilot.pause(0.1)
        pane.connections_table.focus()
        # The same keys with the pane's polls held: the machine's and Textual's own share.
        when = [poll._when for poll in pane._polls]
        for poll in pane._polls:
            poll._when = lambda: False
        await probe.run(seconds / 2)
        held = probe.latencies
        probe.latencies = []
        for poll, original in zip(pane._polls, when, strict=True):
            poll._when = original
        runs = pane._polls[1].runs
        await probe.run(seconds)
        polled = pane._polls[1].runs - runs
        polls, detailed = [], []
        source = ""
        for _ in range(10):
            view = await app.observer.connections(subscriptions=False)  # as the pane asks
            polls.append(view.seconds)
            source = view.source.value
            detailed.append((await app.observer.connections()).seconds)  # as discovery asks
    return {
        "key_p99": p99(probe.latencies) * 1000,
        "key_median": statistics.median(probe.latencies) * 1000,
        "keys": len(probe.latencies),
        "poll": statistics.median(polls) * 1000,
        "poll_detail": statistics.median(detailed) * 1000,
        "polled": polled,
        "held_p99": p99(held) * 1000,
        "held_median": statistics.median(held) * 1000,
        "source": source,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with EmbeddedServer() as server:
        clients = subprocess.Popen(
            [sys.executable, "-c", CLIENTS, server.url, str(args.connections)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert clients.stdout is not None
            if clients.stdout.readline().strip() != "ready":
                raise SystemExit("the client process did not start")
            system = Settings(
                servers=(server.url,), user=server.system_user, password=server.system_password
            )
            settings = replace(
                Settings(servers=(server.url,)), monitor_url=server.monitor_url, system=system
            )
            r = asyncio.run(measure(settings, args.connections, args.seconds))
        finally:
            if clients.stdin is not None:
                clients.stdin.write("\n")
                clients.stdin.flush()
            try:
                clients.wait(timeout=30)
            except subprocess.TimeoutExpired:
                clients.kill()
    print(
        f"connections={args.connections} source={r['source']} key_p99={r['key_p99']:.1f}ms "
        f"key_median={r['key_median']:.1f}ms keys={r['keys']} poll={r['poll']:.1f}ms "
        f"poll_with_subscriptions={r['poll_detail']:.1f}ms "
        f"polls_during_keys={r['polled']} no_poll_key_p99={r['held_p99']:.1f}ms "
        f"no_poll_key_median={r['held_median']:.1f}ms target_p99<{TARGET_P99_MS:.0f}ms"
    )
    if r["key_p99"] >= TARGET_P99_MS:
        sys.exit(1)


if __name__ == "__main__":
    main()
