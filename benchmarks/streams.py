"""Streams pane costs: the live table with many streams, and one page of the message browser.

    /work/venv/bin/python benchmarks/streams.py [--streams N] [--messages M] [--runs R]

One embedded nats-server with N streams (memory storage, one message each) and one stream of M
messages. The real app runs headless at 160x45 with the Streams pane showing all N rows. Measured,
as medians over R rounds:

- list: one `list_streams()` call (what the pane asks every second), in ms;
- apply same / apply all: the keyed diff of the table (`StreamsPane.apply`) when nothing changed,
  and when every row's message count changed, in ms (UI thread time);
- lag p99: the worst 1% of 10 ms ticker delays on the UI loop while the pane refreshes at 1 Hz;
- page: one browser page of 40 messages, newest first (40 get-message calls), in ms;
- page filtered: the same with a subject filter that matches one message in ten, in ms.

Prints one line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import nats
from nats.js.api import StorageType, StreamConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jstui.app import JstuiApp  # noqa: E402
from jstui.config import Settings  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402
from jstui.widgets.streams import StreamsPane  # noqa: E402


async def prepare(url: str, streams: int, messages: int) -> None:
    nc = await nats.connect(url)
    jsm = nc.jsm()
    js = nc.jetstream()
    for i in range(streams):
        await jsm.add_stream(
            StreamConfig(name=f"bench_{i:04d}", subjects=[f"bench.{i}"], storage=StorageType.MEMORY)
        )
        await js.publish(f"bench.{i}", b"x")
    await jsm.add_stream(StreamConfig(name="bench_big", subjects=["big.*"], allow_direct=True))
    futures = [
        await js.publish_async(f"big.{'hit' if n % 10 == 0 else 'miss'}", b"payload %d" % n)
        for n in range(messages)
    ]
    await asyncio.gather(*futures)
    await nc.close()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def measure(url: str, streams: int, runs: int) -> dict[str, float]:
    app = JstuiApp(Settings(servers=(url,)))
    results: dict[str, list[float]] = {
        k: [] for k in ("list", "same", "all", "lag", "page", "filtered")
    }
    async with app.run_test(size=(160, 45)) as pilot:
        pane = app.dashboard.query_one(StreamsPane)
        deadline = time.monotonic() + 30
        while pane.table.row_count < streams + 1:
            if time.monotonic() > deadline:
                raise SystemExit("the table never filled")
            await pilot.pause(0.1)
        service = pane.service
        for _ in range(runs):
            t = time.perf_counter()
            summaries = await service.list_streams()
            results["list"].append((time.perf_counter() - t) * 1000)

            t = time.perf_counter()
            pane.apply(summaries)
            results["same"].append((time.perf_counter() - t) * 1000)

            changed = [dataclasses.replace(s, messages=s.messages + 1) for s in summaries]
            t = time.perf_counter()
            pane.apply(changed)
            results["all"].append((time.perf_counter() - t) * 1000)
            await pilot.pause()

            t = time.perf_counter()
            page = await service.page("bench_big", count=40, newest_first=True)
            results["page"].append((time.perf_counter() - t) * 1000)
            assert len(page) == 40
            t = time.perf_counter()
            page = await service.page("bench_big", count=40, newest_first=True, subject="big.hit")
            results["filtered"].append((time.perf_counter() - t) * 1000)

        # Ticker lag on the UI loop while the pane's own 1 Hz refresh runs (3 refreshes).
        lags: list[float] = []
        end = time.monotonic() + 3.2
        while time.monotonic() < end:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append((time.perf_counter() - t - 0.01) * 1000)
        results["lag"].append(p99(lags))
    return {k: statistics.median(v) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with EmbeddedServer() as server:
        asyncio.run(prepare(server.url, args.streams, args.messages))
        r = asyncio.run(measure(server.url, args.streams, args.runs))
    print(
        f"streams={args.streams} list={r['list']:.1f}ms apply_same={r['same']:.2f}ms "
        f"apply_all={r['all']:.1f}ms lag_p99={r['lag']:.1f}ms "
        f"page40={r['page']:.1f}ms page40_filtered={r['filtered']:.1f}ms"
    )


if __name__ == "__main__":
    main()
