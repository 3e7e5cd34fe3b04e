"""Consumers pane at scale: what one refresh costs the UI loop with 1,000 busy consumers.

    /work/main/.venv/bin/python benchmarks/consumers.py [--streams N] [--per-stream M] [--seconds S]

One embedded nats-server with N streams (20) of M durable pull consumers each (50: 1,000 in all).
Every second one message goes to every stream, so every consumer's pending count (and row)
changes on every refresh: the worst case for the table. The real app runs headless at 160x45 on
the Consumers pane for S seconds (15). Measured, per refresh of the list (one a second):

- apply: the synchronous time of `ConsumersPane.apply` (diff, changed cells written, rows and
  widths placed, detail), median and max (target: median < 100 ms);
- build: the longest synchronous slice of the row strings built before it (`BUILD_SLICE` rows);
- poll: the wall time of a whole refresh (20 `CONSUMER.LIST` requests plus the above);
- refreshes: how many refreshes ran (about one a second).

Prints one line; exits 1 when a target is missed. On a loaded machine the figures are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import nats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jstui.app import JstuiApp  # noqa: E402
from jstui.config import Settings  # noqa: E402
from jstui.nats.consumers.summaries import ConsumerEntry  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402
from jstui.widgets.consumers import ConsumersPane  # noqa: E402
from jstui.widgets.consumers import pane as pane_module  # noqa: E402

APPLY_TARGET_MS = 100.0


async def run(streams: int, per_stream: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as store:
        server = EmbeddedServer(store_dir=Path(store) / "js", server_name="bench-consumers")
        server.start()
        try:
            return await measure(server.url, streams, per_stream, seconds)
        finally:
            server.stop()


async def measure(url: str, streams: int, per_stream: int, seconds: float) -> dict[str, float]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for s in range(streams):
        await js.add_stream(name=f"S{s}", subjects=[f"s{s}.>"])
        for c in range(per_stream):
            config = {"durable_name": f"c{c}", "ack_policy": "explicit"}
            await nc.request(
                f"$JS.API.CONSUMER.CREATE.S{s}.c{c}",
                json.dumps({"stream_name": f"S{s}", "config": config}).encode(),
            )
    total = streams * per_stream
    app = JstuiApp(Settings(servers=(url,), start_pane="consumers"))
    applies: list[float] = []
    slices: list[float] = []
    polls: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        while (
            not (found := app.dashboard.query(ConsumersPane)) or len(found.first().row_keys) < total
        ):
            await pilot.pause(0.1)
        pane = found.first()
        apply, row_of, refresh = pane.apply, pane._row_of, pane._refresh_once

        def timed_apply(entries: Iterable[ConsumerEntry]) -> None:
            started = time.perf_counter()
            apply(entries)
            applies.append(time.perf_counter() - started)

        built = {"count": 0, "started": 0.0}

        def timed_row_of(entry: ConsumerEntry, now: float) -> tuple[str, ...]:
            if built["count"] % pane_module.BUILD_SLICE == 0:
                built["started"] = time.perf_counter()
            built["count"] += 1
            cells = row_of(entry, now)
            if built["count"] % pane_module.BUILD_SLICE == 0:
                slices.append(time.perf_counter() - built["started"])
            return cells

        async def timed_refresh() -> None:
            started = time.perf_counter()
            built["count"] = 0
            await refresh()
            polls.append(time.perf_counter() - started)

        # Timing wrappers on this one pane object (mypy refuses assigning to a method).
        pane.apply = timed_apply  # type: ignore[method-assign]
        pane._row_of = timed_row_of  # type: ignore[method-assign]
        assert pane._poll is not None
        pane._poll._poll = timed_refresh
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for s in range(streams):
                await js.publish(f"s{s}.x", b"x")
            await pilot.pause(1.0)
    await nc.close()
    return {
        "consumers": total,
        "apply_p50": statistics.median(applies) * 1000,
        "apply_max": max(applies) * 1000,
        "build_max": max(slices, default=0.0) * 1000,
        "poll_p50": statistics.median(polls) * 1000,
        "refreshes": len(polls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--per-stream", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    r = asyncio.run(run(args.streams, args.per_stream, args.seconds))
    missed = r["apply_p50"] > APPLY_TARGET_MS
    print(
        f"consumers: {r['consumers']:.0f} busy consumers: apply p50 {r['apply_p50']:.0f} ms "
        f"max {r['apply_max']:.0f} ms (target p50 < {APPLY_TARGET_MS:.0f}) · build slice max "
        f"{r['build_max']:.0f} ms · poll p50 {r['poll_p50']:.0f} ms · refreshes "
        f"{r['refreshes']:.0f}" + (" · MISSED" if missed else "")
    )
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
