"""Feed ingest: how much of a flood jstui takes in, and whether the UI stays usable meanwhile.

One run, one embedded nats-server. The publisher, the bare subscriber and the echo responder each
run in a process of their own (this same file with --publish / --raw / --respond); jstui runs
headless in this process, the real app with one core feed open (`--feed SUBJECT`).

Phases (each a few seconds):

1. RSS: 10,000 messages, then 990,000 more as fast as the publisher goes (16 B payloads); the
   peak RSS of this process after each (`ru_maxrss`).
2. For 16 B and 1 KiB payloads, ROUNDS times each (--rounds): an unpaced flood of FLOOD seconds
   - received by a bare nats-py subscriber whose callback only counts (the raw ceiling), all
     rounds before the app starts;
   - received and counted by jstui's feed (appended to the ring buffer, or counted as dropped by
     the client past the pending limit).
   Rate = messages / (time of the last - time of the first), each side timed by its own clock.
   The figures are medians over the rounds; the ratio is median jstui / median raw.
3. Paced floods at 20k and 40k msgs/s (16 B), and the unpaced 16 B floods above: every 30 ms a key
   (`[`, a no-op "previous feed") is sent the way a terminal sends it, timed until the screen
   refresh after its action ran; every 50 ms a core request goes out on the app's shared
   connection to the echo responder. p50 / p99 of both.

Prints one line. Run: /work/venv/bin/python benchmarks/feed_ingest.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECT = "bench.feed"
ECHO = "bench.echo"
FLOOD_SECONDS = 3.0
PACED_SECONDS = 4.0
KEY_EVERY = 0.030
REQUEST_EVERY = 0.050
QUIET = 0.6


def log(text: str) -> None:
    """Progress on stderr; the one line of figures goes to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# -- helper processes ----------------------------------------------------------------------------


async def publish(url: str, size: int, rate: float, seconds: float, count: int) -> None:
    """Publish `count` messages (or for `seconds`) at `rate` per second (0 = unpaced)."""
    nc = await nats.connect(url, pending_size=8 * 1024 * 1024)
    payload = b"x" * size
    sent = 0
    start = time.perf_counter()
    batch = 100 if not rate else max(1, int(rate / 200))  # paced: a batch every ~5 ms
    while True:
        elapsed = time.perf_counter() - start
        if (count and sent >= count) or (not count and elapsed >= seconds):
            break
        n = batch if not count else min(batch, count - sent)
        for _ in range(n):
            await nc.publish(SUBJECT, payload)
        sent += n
        if rate:
            ahead = start + sent / rate - time.perf_counter()
            if ahead > 0:
                await asyncio.sleep(ahead)
        else:
            await asyncio.sleep(0)
    await nc.flush()
    print(f"sent {sent} {time.perf_counter() - start:.3f}", flush=True)
    await nc.close()


async def raw_subscriber(url: str) -> None:
    """Count messages in the callback until QUIET seconds pass without any (drops reported)."""
    counts = {"n": 0, "drops": 0, "first": 0.0, "last": 0.0}

    async def on_error(error: Exception) -> None:
        if isinstance(error, nats.errors.SlowConsumerError):
            counts["drops"] += 1

    nc = await nats.connect(url, error_cb=on_error)

    async def cb(msg: Any) -> None:
        now = time.time()
        if not counts["n"]:
            counts["first"] = now
        counts["n"] += 1
        counts["last"] = now

    await nc.subscribe(SUBJECT, cb=cb)
    await nc.flush()
    print("ready", flush=True)
    while not counts["n"]:
        await asyncio.sleep(0.01)
    seen = -1
    while seen != counts["n"] + counts["drops"]:
        seen = counts["n"] + counts["drops"]
        await asyncio.sleep(QUIET)
    print(
        f"received {counts['n']} {counts['drops']} {counts['first']} {counts['last']}", flush=True
    )
    await nc.close()


async def responder(url: str) -> None:
    nc = await nats.connect(url)

    async def echo(msg: Any) -> None:
        await msg.respond(msg.data)

    await nc.subscribe(ECHO, cb=echo)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await nc.close()


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


async def read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = await asyncio.to_thread(proc.stdout.readline)
    return line.strip()


async def run_publisher(url: str, size: int, rate: float, seconds: float, count: int = 0) -> None:
    proc = spawn("--publish", url, str(size), str(rate), str(seconds), str(count))
    await read_line(proc)
    await asyncio.to_thread(proc.wait)


async def raw_ceiling(url: str, size: int) -> float:
    sub = spawn("--raw", url)
    assert await read_line(sub) == "ready"
    await run_publisher(url, size, 0, FLOOD_SECONDS)
    fields = (await read_line(sub)).split()
    await asyncio.to_thread(sub.wait)
    n, first, last = int(fields[1]), float(fields[3]), float(fields[4])
    return n / max(1e-6, last - first)


# -- the app ---------------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Probe:
    """Key presses and requests sent from inside the app's loop while a phase runs."""

    def __init__(self, app: Any) -> None:
        from textual import events

        from jstui.widgets.feeds import FeedsPane

        self.app = app
        self.events = events
        self.keys: list[float] = []
        self.requests: list[float] = []
        self._sent: float | None = None
        probe = self
        original = FeedsPane.action_switch

        def timed_switch(pane: FeedsPane, delta: int) -> None:
            original(pane, delta)
            sent = probe._sent
            if sent is not None:
                probe._sent = None
                pane.call_after_refresh(lambda: probe.keys.append(time.perf_counter() - sent))

        FeedsPane.action_switch = timed_switch  # type: ignore[method-assign]

    async def keys_loop(self, stop: asyncio.Event) -> None:
        driver = self.app._driver
        while not stop.is_set():
            if self._sent is None:
                self._sent = time.perf_counter()
                driver.send_message(self.events.Key("left_square_bracket", "["))
            await asyncio.sleep(KEY_EVERY)

    async def requests_loop(self, stop: asyncio.Event) -> None:
        nc = self.app.session.nc
        while not stop.is_set():
            start = time.perf_counter()
            with contextlib.suppress(Exception):
                await nc.request(ECHO, b"ping", timeout=5)
                self.requests.append(time.perf_counter() - start)
            await asyncio.sleep(REQUEST_EVERY)

    async def during(self, work: Any) -> tuple[list[float], list[float]]:
        self.keys, self.requests = [], []
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(self.keys_loop(stop)),
            asyncio.create_task(self.requests_loop(stop)),
        ]
        try:
            await work
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        return self.keys, self.requests


async def wait_quiet(feed: Any) -> None:
    seen = -1
    while seen != feed.count + feed.slow_drops:
        seen = feed.count + feed.slow_drops
        await asyncio.sleep(QUIET)


LAST_DROP = [0.0]


def time_drops() -> None:
    """Wrap the session's error callback to note when the last slow-consumer drop happened (so a
    flood's window ends at the last message received, appended or dropped)."""
    import nats.errors

    from jstui.nats.session import Session

    original = Session._on_error

    async def on_error(self: Session, exc: Exception) -> None:
        if isinstance(exc, nats.errors.SlowConsumerError):
            LAST_DROP[0] = time.time()
        await original(self, exc)

    Session._on_error = on_error  # type: ignore[method-assign]


async def app_flood(url: str, feed: Any, size: int, probe: Probe | None) -> tuple[float, Any]:
    """Unpaced flood into the app's feed: messages received and counted per second, i.e.
    appended to the ring buffer or counted as dropped past the client's pending limit."""
    start_count, start_drops = feed.count, feed.slow_drops
    first_time: list[float] = []

    async def watch_first() -> None:
        while feed.count == start_count:
            await asyncio.sleep(0.002)
        first = next((m.time for m in feed.buffer if m.index == start_count + 1), None)
        first_time.append(first if first is not None else time.time())

    watcher = asyncio.create_task(watch_first())

    async def flood() -> None:
        await run_publisher(url, size, 0, FLOOD_SECONDS)
        await wait_quiet(feed)

    probed = await probe.during(flood()) if probe else (await flood(), None)
    await watcher
    appended, dropped = feed.count - start_count, feed.slow_drops - start_drops
    last = max(feed.buffer[-1].time, LAST_DROP[0] if dropped else 0.0)
    log(f"flood {size} B: {appended:,} appended, {dropped:,} dropped (slow)")
    return (appended + dropped) / max(1e-6, last - first_time[0]), probed


async def bench(rounds: int) -> str:
    from jstui.app import JstuiApp
    from jstui.config import Settings
    from jstui.nats.embedded import EmbeddedServer
    from jstui.nats.session import ConnectionState
    from jstui.widgets.feeds import FeedsPane

    time_drops()
    server = EmbeddedServer()
    server.start()
    echo = spawn("--respond", server.url)
    try:
        assert await read_line(echo) == "ready"
        raw: dict[int, list[float]] = {16: [], 1024: []}
        for _ in range(rounds):
            for size in (16, 1024):
                raw[size].append(await raw_ceiling(server.url, size))
                log(f"raw {size} B: {raw[size][-1]:,.0f}/s")
        app = JstuiApp(Settings(servers=(server.url,), feeds=(SUBJECT,)))
        async with app.run_test(headless=True, size=(160, 45)) as pilot:
            while app.session.status.state is not ConnectionState.CONNECTED:
                await asyncio.sleep(0.05)
            pane = app.dashboard.query_one(FeedsPane)
            while not pane.views or pane.views[0].feed.state.value != "live":
                await asyncio.sleep(0.05)
            await pilot.press("2")
            feed = pane.views[0].feed
            probe = Probe(app)
            log("app ready done")

            # RSS: 10k, then 1M in all
            await run_publisher(server.url, 16, 0, 0, count=10_000)
            await wait_quiet(feed)
            rss_10k = peak_rss_mib()
            log("10k done")
            t0 = time.perf_counter()
            await run_publisher(server.url, 16, 0, 0, count=990_000)
            await wait_quiet(feed)
            million_secs = time.perf_counter() - t0 - QUIET
            rss_1m = peak_rss_mib()
            total_1m = feed.count + feed.slow_drops
            log("1M done")

            ingest: dict[int, list[float]] = {16: [], 1024: []}
            keys_flood: list[float] = []
            req_flood: list[float] = []
            for _ in range(rounds):
                rate, (keys, reqs) = await app_flood(server.url, feed, 16, probe)
                ingest[16].append(rate)
                keys_flood += keys
                req_flood += reqs
                rate, _ = await app_flood(server.url, feed, 1024, None)
                ingest[1024].append(rate)
                log(f"jstui: {ingest[16][-1]:,.0f}/s (16 B), {ingest[1024][-1]:,.0f}/s (1 KiB)")

            paced: dict[int, tuple[list[float], list[float]]] = {}
            for rate in (20_000, 40_000):

                async def paced_run(rate: int = rate) -> None:
                    await run_publisher(server.url, 16, rate, PACED_SECONDS)
                    await wait_quiet(feed)

                paced[rate] = await probe.during(paced_run())
                log("paced done")
            counts = feed.counts()
            balanced = counts.received == counts.accounted  # docs/architecture.md
    finally:
        if echo.stdin:
            echo.stdin.close()
        echo.wait(timeout=5)
        server.stop()

    def ms(values: list[float], q: float) -> str:
        return f"{pct(values, q) * 1000:.0f}"

    parts = []
    for size, label in ((16, "16"), (1024, "1k")):
        raw_rate, app_rate = median(raw[size]), median(ingest[size])
        parts.append(
            f"raw{label}={raw_rate:,.0f}/s jstui{label}={app_rate:,.0f}/s "
            f"ratio{label}={app_rate / raw_rate:.2f} (medians of {rounds})"
        )
    for label, (keys, reqs) in (
        ("20k", paced[20_000]),
        ("40k", paced[40_000]),
        ("flood", (keys_flood, req_flood)),
    ):
        parts.append(
            f"key@{label} p50={ms(keys, 50)}ms p99={ms(keys, 99)}ms "
            f"req@{label} p50={ms(reqs, 50)}ms p99={ms(reqs, 99)}ms"
        )
    parts.append(
        f"rss10k={rss_10k:.1f}MiB rss1M={rss_1m:.1f}MiB (+{rss_1m - rss_10k:.1f}) "
        f"1M_in={million_secs:.1f}s total={total_1m:,} balanced={balanced}"
    )
    return " | ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publish", nargs=5, metavar=("URL", "SIZE", "RATE", "SECS", "COUNT"))
    parser.add_argument("--raw", metavar="URL")
    parser.add_argument("--respond", metavar="URL")
    parser.add_argument(
        "--rounds", type=int, default=3, help="floods per payload size and side (default 3)"
    )
    args = parser.parse_args()
    if args.publish:
        url, size, rate, secs, count = args.publish
        asyncio.run(publish(url, int(size), float(rate), float(secs), int(count)))
    elif args.raw:
        asyncio.run(raw_subscriber(args.raw))
    elif args.respond:
        asyncio.run(responder(args.respond))
    else:
        print(asyncio.run(bench(max(1, args.rounds))), flush=True)


if __name__ == "__main__":
    main()
