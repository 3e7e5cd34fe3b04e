"""Streams pane at scale, timed as the user waits: cursor key to that stream's detail on screen.

    /work/main/.venv/bin/python benchmarks/streams.py [--seconds S] [--rounds R] [--messages M]

One embedded nats-server. N memory streams (200, then 1,000) each receive one message a second
from a publisher process of its own (so its work does not load jstui's loop). The real app runs
headless at 160x45 on the Streams pane. Cursor-down keys are sent through the driver, as a
terminal sends them, one at a time, each timed from the key to the screen refresh after the
pane drew the newly selected stream's detail (render and layout included). Every key figure is
the median over R rounds of S seconds; the rounds of a scenario alternate with the others'
(busy 200, busy 1,000, quiet 1,000 in turn is not possible: the stream count only grows, so the
rounds alternate keys and no keys within each scenario instead). Targets are absolute (issue
#11), so there is no reference client. Measured:

- busy200: key p50/p99 with 200 busy streams; cpu200: the app process's CPU (process_time over
  wall time) while no key is pressed, in % of a core (target: p99 < 100 ms, CPU < 25 %);
- busy1000: key p50/p99 with 1,000 busy streams (target p99 < 150 ms); refresh1000: the UI-loop
  time of one refresh (the CPU time of every synchronous slice of the list poll, plus the wall
  time from its end to the screen refresh that shows it), median (target < 100 ms); slice1000:
  the longest single slice of that poll (CPU time; ~20 ms is the aim); stall1000: the worst lag
  of a 10 ms ticker on the UI loop over the run (wall time, so load shows in it); gc1000: the
  longest garbage collection meanwhile (CPU time; it may fall inside a slice or a stall);
- quiet1000: key p50/p99 once the publisher stopped (target p99 < 100 ms); lists10s: how many
  times the whole stream list was fetched in 10 s of keys (target: about 10, one a second);
- page40 / page40_filtered: one message browser page of 40 messages, newest first, without and
  with a subject filter matching one message in ten (kept from the earlier benchmark).

Prints one line; exits 1 when a target is missed. On a loaded machine the figures are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

import nats
from nats.js.api import StorageType, StreamConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402

from jstui.app import JstuiApp  # noqa: E402
from jstui.config import Settings  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402
from jstui.widgets.streams import StreamsPane  # noqa: E402

TARGETS = {
    "busy200_p99": 100.0,
    "cpu200": 25.0,
    "busy1000_p99": 150.0,
    "refresh1000": 100.0,
    "quiet1000_p99": 100.0,
    "lists10s": 12,
}

PUBLISHER = """
import asyncio, sys, time, nats
async def main():
    url, count = sys.argv[1], int(sys.argv[2])
    nc = await nats.connect(url)
    print("ready", flush=True)
    start = time.monotonic()
    second = 0
    while True:
        # Each stream once a second, spread over the second in batches of 50.
        for first in range(0, count, 50):
            for n in range(first, min(first + 50, count)):
                await nc.publish(f"bench.{n}", b"x" * 16)
            await nc.flush()
            await asyncio.sleep(max(0, start + second + (first + 50) / count - time.monotonic()))
        second += 1
asyncio.run(main())
"""


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def create_streams(url: str, first: int, last: int) -> None:
    nc = await nats.connect(url)
    jsm = nc.jsm()
    for start in range(first, last, 100):
        await asyncio.gather(
            *(
                jsm.add_stream(
                    StreamConfig(
                        name=f"bench_{n:04d}", subjects=[f"bench.{n}"], storage=StorageType.MEMORY
                    )
                )
                for n in range(start, min(start + 100, last))
            )
        )
    await nc.close()


async def create_big(url: str, messages: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await nc.jsm().add_stream(StreamConfig(name="big", subjects=["big.*"], allow_direct=True))
    futures = [
        await js.publish_async(f"big.{'hit' if n % 10 == 0 else 'miss'}", b"payload %d" % n)
        for n in range(messages)
    ]
    await asyncio.gather(*futures)
    await nc.close()


class Publisher:
    """The publisher process: every stream bench.0 ... bench.N-1 once a second."""

    def __init__(self, url: str, count: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, url, str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("the publisher did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Timed:
    """Awaits a coroutine step by step, timing each synchronous slice it holds the loop."""

    def __init__(self, coroutine: Any) -> None:
        self.coroutine = coroutine
        self.slices: list[float] = []
        self.ended = 0.0

    def __await__(self) -> Generator[Any, Any, Any]:
        value: Any = None
        error: BaseException | None = None
        while True:
            # CPU time of this thread: on a loaded machine, wall time would count the moments
            # the process was not even running.
            started = time.thread_time()
            try:
                yielded = self.coroutine.throw(error) if error else self.coroutine.send(value)
            except StopIteration as stop:
                self.ended = time.perf_counter()
                self.slices.append(time.thread_time() - started)
                return stop.value
            self.slices.append(time.thread_time() - started)
            try:
                value, error = (yield yielded), None
            except BaseException as caught:  # cancellation and the like go into the coroutine
                value, error = None, caught


class Probe:
    """Keys through the driver; each timed until the refresh after the new row's detail drew."""

    def __init__(self, app: JstuiApp, pane: StreamsPane) -> None:
        self.app = app
        self.pane = pane
        self.latencies: list[float] = []
        self.sent: float | None = None
        self.expected: str | None = None
        self.refreshes: list[float] = []
        self.longest_slice = 0.0
        self.longest_gc = 0.0
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)
        original_detail = pane._show_detail

        def show_detail() -> None:
            original_detail()
            sent = self.sent
            if sent is not None and pane.selected == self.expected:
                self.sent = None
                pane.call_after_refresh(lambda: self.latencies.append(time.perf_counter() - sent))

        pane._show_detail = show_detail  # type: ignore[method-assign]
        assert pane._poll is not None
        original_poll: Callable[[], Awaitable[object]] = pane._poll._poll

        def timed_poll() -> Timed:
            timed = Timed(original_poll())

            async def run() -> None:
                await timed
                ui = sum(timed.slices)
                self.longest_slice = max(self.longest_slice, max(timed.slices))
                pane.call_after_refresh(
                    lambda: self.refreshes.append(ui + time.perf_counter() - timed.ended)
                )

            return run()  # type: ignore[return-value]

        pane._poll._poll = timed_poll  # type: ignore[assignment]

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.thread_time()
        else:
            self.longest_gc = max(self.longest_gc, time.thread_time() - self._gc_started)

    async def keys(self, seconds: float) -> list[float]:
        """Cursor keys for `seconds` (down to the end, then up); the latencies in ms."""
        driver = self.app._driver
        assert driver is not None
        self.latencies = []
        table = self.pane.table
        down = True
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            row = table.cursor_row
            shown = self.pane.row_names
            if row >= len(shown) - 1:
                down = False
            elif row <= 0:
                down = True
            self.expected = shown[row + 1 if down else row - 1]
            self.sent = time.perf_counter()
            driver.send_message(events.Key("down" if down else "up", None))
            give_up = time.monotonic() + 5
            while self.sent is not None and time.monotonic() < give_up:
                await asyncio.sleep(0.005)
            if self.sent is not None:  # never drawn: count it as the 5 s it was waited for
                self.latencies.append(5.0)
                self.sent = None
            await asyncio.sleep(0.05)
        return [latency * 1000 for latency in self.latencies]

    async def ticker(self, seconds: float) -> float:
        """The worst lag of a 10 ms ticker on the UI loop over `seconds`, in ms."""
        worst = 0.0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - started - 0.01)
        return worst * 1000


async def cpu_percent(seconds: float) -> float:
    wall, cpu = time.monotonic(), time.process_time()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu) / (time.monotonic() - wall) * 100


async def wait_rows(pilot: Any, pane: StreamsPane, count: int) -> None:
    deadline = time.monotonic() + 120
    while pane.table.row_count < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"the table never filled ({pane.table.row_count} of {count})")
        await pilot.pause(0.1)


def rounds_of(values: list[list[float]]) -> tuple[float, float]:
    """Median over rounds of each round's p50 and p99."""
    return (
        statistics.median(statistics.median(v) for v in values),
        statistics.median(p99(v) for v in values),
    )


async def measure(server: EmbeddedServer, seconds: float, rounds: int) -> dict[str, float]:
    url = server.url
    await create_streams(url, 0, 200)
    app = JstuiApp(Settings(servers=(url,)))
    r: dict[str, float] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        # the grid's panes are built once the first connection attempt has an outcome
        while not app.dashboard.start_panes_built:
            await pilot.pause(0.05)
        pane = app.dashboard.query_one(StreamsPane)
        await wait_rows(pilot, pane, 201)  # and "big"
        pane.table.focus()
        probe = Probe(app, pane)
        publisher = Publisher(url, 200)
        try:
            await asyncio.sleep(2)  # every row busy
            keys, cpus = [], []
            for _ in range(rounds):  # alternated: a round without keys (CPU), a round of keys
                cpus.append(await cpu_percent(seconds))
                keys.append(await probe.keys(seconds))
            r["busy200_p50"], r["busy200_p99"] = rounds_of(keys)
            r["cpu200"] = statistics.median(cpus)
        finally:
            publisher.stop()

        await create_streams(url, 200, 1000)
        await wait_rows(pilot, pane, 1001)
        publisher = Publisher(url, 1000)
        try:
            await asyncio.sleep(2)
            probe.refreshes, probe.longest_slice, probe.longest_gc = [], 0.0, 0.0
            keys, stalls = [], []
            for _ in range(rounds):
                stalls.append(await probe.ticker(seconds / 2))
                keys.append(await probe.keys(seconds))
            r["busy1000_p50"], r["busy1000_p99"] = rounds_of(keys)
            r["refresh1000"] = statistics.median(probe.refreshes) * 1000
            r["slice1000"] = probe.longest_slice * 1000
            r["stall1000"] = max(stalls)
            r["gc1000"] = probe.longest_gc * 1000
        finally:
            publisher.stop()

        await asyncio.sleep(2)  # the last messages listed: the streams are quiet now
        keys = []
        lists = []
        for _ in range(rounds):
            runs = pane._poll.runs if pane._poll else 0
            started = time.monotonic()
            keys.append(await probe.keys(seconds))
            elapsed = time.monotonic() - started
            lists.append(((pane._poll.runs if pane._poll else 0) - runs) * 10 / elapsed)
        r["quiet1000_p50"], r["quiet1000_p99"] = rounds_of(keys)
        r["lists10s"] = statistics.median(lists)

        service = pane.service
        pages, filtered = [], []
        for _ in range(5):
            started = time.perf_counter()
            assert len(await service.page("big", count=40, newest_first=True)) == 40
            pages.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await service.page("big", count=40, newest_first=True, subject="big.hit")
            filtered.append((time.perf_counter() - started) * 1000)
        r["page40"] = statistics.median(pages)
        r["page40_filtered"] = statistics.median(filtered)
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=10_000, help="in the browsed stream")
    args = parser.parse_args()
    with EmbeddedServer() as server:
        asyncio.run(create_big(server.url, args.messages))
        r = asyncio.run(measure(server, args.seconds, args.rounds))
    missed = [name for name, target in TARGETS.items() if r[name] > target]
    print(
        f"busy200 key p50={r['busy200_p50']:.0f}ms p99={r['busy200_p99']:.0f}ms "
        f"cpu={r['cpu200']:.0f}% | busy1000 key p50={r['busy1000_p50']:.0f}ms "
        f"p99={r['busy1000_p99']:.0f}ms refresh={r['refresh1000']:.0f}ms "
        f"slice={r['slice1000']:.0f}ms stall={r['stall1000']:.0f}ms gc={r['gc1000']:.0f}ms "
        f"| quiet1000 key "
        f"p50={r['quiet1000_p50']:.0f}ms p99={r['quiet1000_p99']:.0f}ms "
        f"lists/10s={r['lists10s']:.1f} | page40={r['page40']:.1f}ms "
        f"page40_filtered={r['page40_filtered']:.1f}ms"
        + (f" | MISSED: {', '.join(missed)}" if missed else " | all targets met")
    )
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
