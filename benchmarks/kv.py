"""Key/Value pane at scale, timed as the user waits: cursor key to the screen that shows it.

    /work/main/.venv/bin/python benchmarks/kv.py [--keys N] [--rate R] [--seconds S]

One embedded nats-server, one bucket of N keys (10,000). An updater process of its own (so its
work does not load jstui's loop) puts R keys a second (100) into it, spread over the second, each
time a different key. The real app runs headless at 160x45, started on the Key/Value pane
(maximized) with the bucket's keys loaded. Cursor keys (down to the end of a screenful and back,
so the table scrolls too) are sent through the driver, as a terminal sends them, one at a time,
each timed from the key to the screen refresh after the keys table's cursor moved. Measured:
key p50 / p99 in ms (target: p99 < 100 ms) while the updates arrive, and how many updates the
pane drew meanwhile (they must show: a pane that stopped drawing would be fast for nothing), and
the longest garbage collection meanwhile (wall time; it falls inside some key's wait).

Prints one line; exits 1 when the target is missed. On a loaded machine the figures are
pessimistic (the load average is printed with them).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from nats.js.api import KeyValueConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402

from jstui.app import JstuiApp  # noqa: E402
from jstui.config import Settings  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402
from jstui.widgets.kv import KvPane  # noqa: E402

TARGET_P99_MS = 100.0
BUCKET = "bench"

UPDATER = """
import asyncio, sys, time, nats
async def main():
    url, bucket, keys, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    nc = await nats.connect(url)
    print("ready", flush=True)
    start, n = time.monotonic(), 0
    while True:
        # `rate` puts a second, in ten batches; each a different key, its value the put's number.
        for _ in range(max(rate // 10, 1)):
            await nc.publish(f"$KV.{bucket}.key.{n % keys:05d}", b'{"update": %d}' % n)
            n += 1
        await nc.flush()
        await asyncio.sleep(max(0, start + n / rate - time.monotonic()))
asyncio.run(main())
"""


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def fill_bucket(url: str, keys: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.create_key_value(KeyValueConfig(bucket=BUCKET, history=1))
    for first in range(0, keys, 1000):
        acks = [
            await js.publish_async(f"$KV.{BUCKET}.key.{n:05d}", b'{"value": %d}' % n)
            for n in range(first, min(first + 1000, keys))
        ]
        await asyncio.gather(*acks)
    await nc.close()


class Updater:
    def __init__(self, url: str, keys: int, rate: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", UPDATER, url, BUCKET, str(keys), str(rate)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("the updater did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Probe:
    """Keys through the driver, each timed until the refresh after the cursor moved."""

    def __init__(self, app: JstuiApp, pane: KvPane) -> None:
        self.app = app
        self.pane = pane
        self.latencies: list[float] = []
        self.sent: float | None = None
        self.expected = -1
        self.longest_gc = 0.0
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)
        pane.watch(pane.key_table, "cursor_coordinate", self._moved, init=False)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.longest_gc = max(self.longest_gc, time.perf_counter() - self._gc_started)

    def _moved(self) -> None:
        sent = self.sent
        if sent is not None and self.pane.key_table.cursor_row == self.expected:
            self.sent = None
            self.pane.call_after_refresh(lambda: self.latencies.append(time.perf_counter() - sent))

    async def keys(self, seconds: float) -> list[float]:
        driver = self.app._driver
        assert driver is not None
        table = self.pane.key_table
        span = max(table.size.height * 2, 10)  # two screenfuls: the table scrolls too
        down = True
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            row = table.cursor_row
            if row >= span:
                down = False
            elif row <= 0:
                down = True
            self.expected = row + 1 if down else row - 1
            self.sent = time.perf_counter()
            driver.send_message(events.Key("down" if down else "up", None))
            give_up = time.monotonic() + 5
            while self.sent is not None and time.monotonic() < give_up:
                await asyncio.sleep(0.002)
            if self.sent is not None:  # never shown: count it as the 5 s it was waited for
                self.latencies.append(5.0)
                self.sent = None
            await asyncio.sleep(0.03)
        return [latency * 1000 for latency in self.latencies]


async def measure(
    url: str, keys: int, rate: int, seconds: float, profile: str = ""
) -> dict[str, float]:
    await fill_bucket(url, keys)
    app = JstuiApp(Settings(servers=(url,), start_pane="kv"))
    result: dict[str, float] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        deadline = time.monotonic() + 120
        while True:
            panes = app.dashboard.query(KvPane)
            pane = panes.first() if panes else None
            if pane is not None and pane.key_table.row_count >= keys:
                break
            if time.monotonic() > deadline:
                raise SystemExit("the keys table never filled")
            await pilot.pause(0.1)
        assert pane is not None
        pane.key_table.focus()
        await pilot.pause(0.5)
        probe = Probe(app, pane)
        updater = Updater(url, keys, rate)
        try:
            await asyncio.sleep(1)
            seen = pane.key_watch.received if pane.key_watch else 0
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            latencies = await probe.keys(seconds)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            drawn = (pane.key_watch.received if pane.key_watch else 0) - seen
        finally:
            updater.stop()
        result["p50"] = statistics.median(latencies)
        result["p99"] = p99(latencies)
        result["presses"] = len(latencies)
        result["updates"] = drawn
        result["gc"] = probe.longest_gc * 1000
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=100, help="key updates a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--profile", default="", help="write a cProfile of the keys phase here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as store:
        server = EmbeddedServer(store_dir=Path(store), server_name="bench-kv")
        server.start()
        try:
            r: dict[str, Any] = asyncio.run(
                measure(server.url, args.keys, args.rate, args.seconds, args.profile)
            )
        finally:
            server.stop()
    ok = r["p99"] < TARGET_P99_MS and r["updates"] > 0
    load = os.getloadavg()[0]
    print(
        f"kv: {args.keys:,} keys, {args.rate}/s updated ({r['updates']:,} drawn): "
        f"key p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms over {r['presses']} keys "
        f"(target p99 < {TARGET_P99_MS:.0f} ms) longest gc {r['gc']:.0f} ms, load {load:.1f} "
        f"{'OK' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
