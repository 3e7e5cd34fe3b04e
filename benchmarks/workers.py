"""Worker pool throughput: raw nats-py queue subscribers vs jstui's pool with the picture drawn.

    /work/venv/bin/python benchmarks/workers.py [--messages N] [--runs R]

One embedded nats-server. A publisher in a separate process sends N messages (16 bytes) to a
subject as fast as nats-py can. A Python consumer keeps up with one publisher on this machine, so
timing the flood would measure the publisher; instead the consumer's event loop is held while the
publisher runs (the server buffers the messages, well under its 64 MiB per-client limit), then
released, and the time to handle all N is measured: the consumer's own capacity.

- raw: 4 ``nc.subscribe(subject, queue=...)`` callbacks that only count, on one connection;
- jstui: the real app, headless at 160x45, with a 4-member core pool started by ``--workers``
  and the Workers pane drawing its picture (4 Hz) while the messages drain.

Runs alternate (raw, jstui, raw, jstui, ...) so machine noise hits both; prints one line with the
median rates and their ratio (jstui / raw).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jstui.app import JstuiApp  # noqa: E402
from jstui.config import Settings  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402

PUBLISHER = """
import asyncio, sys, nats
async def main():
    url, subject, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    nc = await nats.connect(url)
    print("ready", flush=True)
    sys.stdin.readline()
    payload = b"x" * 16
    for i in range(count):
        await nc.publish(subject, payload)
    await nc.flush(timeout=60)
    await nc.close()
asyncio.run(main())
"""

MEMBERS = 4


class Publisher:
    def __init__(self, url: str, subject: str, count: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, url, subject, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "ready", line

    def flood(self) -> float:
        """Let it publish everything while this process's event loop is held (blocking on
        purpose: nothing is read until it is done); return when the drain starts."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        self.process.wait(120)
        return time.perf_counter()


async def until(predicate: object, timeout: float = 120.0) -> float:
    """Poll every 2 ms; the time the predicate became true."""
    deadline = time.perf_counter() + timeout
    while not predicate():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark did not finish")
        await asyncio.sleep(0.002)
    return time.perf_counter()


class Drain:
    """Wall-clock and CPU time (this process) of one drain."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def start(self, wall: float) -> None:
        self.wall = wall
        self.cpu = time.process_time()

    def stop(self, wall: float) -> None:
        self.wall = wall - self.wall
        self.cpu = time.process_time() - self.cpu


async def run_raw(url: str, subject: str, count: int) -> Drain:
    nc = await nats.connect(url)
    received = [0]

    async def handle(msg: object) -> None:
        received[0] += 1

    for _ in range(MEMBERS):
        await nc.subscribe(subject, queue="raw", cb=handle)
    await nc.flush()
    publisher = await asyncio.to_thread(Publisher, url, subject, count)
    drain = Drain()
    drain.start(publisher.flood())
    drain.stop(await until(lambda: received[0] >= count))
    await nc.close()
    return drain


async def run_jstui(url: str, subject: str, count: int) -> tuple[Drain, int]:
    settings = Settings(servers=(url,), workers=(f"{subject},queue=bench,count={MEMBERS}",))
    app = JstuiApp(settings)
    async with app.run_test(size=(160, 45)) as pilot:
        pane = app.dashboard.pane(4)
        await until(lambda: getattr(pane, "pool", None) is not None, timeout=20)
        pool = pane.pool  # type: ignore[attr-defined]
        await pilot.press("4")
        await pilot.pause()
        publisher = await asyncio.to_thread(Publisher, url, subject, count)
        drain = Drain()
        drain.start(publisher.flood())
        drain.stop(await until(lambda: pool.totals().handled + pool.totals().dropped >= count))
        dropped = pool.totals().dropped
        await pilot.pause(0.3)  # one more picture with the final figures
        shown = "w4" in "".join(strip.text for strip in app.screen._compositor.render_strips())
        assert shown, "the picture was not drawn"
    return drain, dropped


async def main() -> None:
    # Holding the loop on purpose can make the app's status poll (rtt) time out; nats-py then
    # logs a traceback from its read loop. Irrelevant to the figures: keep stdout to one line.
    logging.getLogger("nats").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raw: list[Drain] = []
    pool: list[Drain] = []
    drops = 0
    n = args.messages
    with EmbeddedServer() as server:
        for run in range(args.runs):
            raw.append(await run_raw(server.url, f"bench.raw.{run}", n))
            drain, dropped = await run_jstui(server.url, f"bench.jstui.{run}", n)
            pool.append(drain)
            drops += dropped
    raw_rate = statistics.median(n / d.wall for d in raw)
    pool_rate = statistics.median(n / d.wall for d in pool)
    raw_cpu = statistics.median(d.cpu / n * 1e6 for d in raw)
    pool_cpu = statistics.median(d.cpu / n * 1e6 for d in pool)
    print(
        f"workers: raw nats-py {MEMBERS} queue subs {raw_rate:,.0f} msg/s | jstui core pool of "
        f"{MEMBERS}, picture drawn {pool_rate:,.0f} msg/s | ratio {pool_rate / raw_rate:.2f} | "
        f"CPU {raw_cpu:.1f} vs {pool_cpu:.1f} us/msg, ratio {raw_cpu / pool_cpu:.2f} "
        f"(medians of {args.runs} runs x {n:,} msgs of 16 B drained; jstui drops {drops})"
    )


if __name__ == "__main__":
    asyncio.run(main())
