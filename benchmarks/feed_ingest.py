"""Feed ingest and flood protection: how much of a flood jstui takes in, and whether the rest of the
app stays usable while one core feed is flooded (issue #11).

One run, one embedded nats-server. The publishers, the bare subscriber and the echo responder each
run in a process of their own (this same file with --publish / --raw / --respond); jstui runs
headless in this process, the real app with two core feeds open (`--feed SUBJECT,core` and a
quiet one) at 160x45.

Phases:

1. RSS: 10,000 messages, then 990,000 more as fast as the publisher goes (16 B payloads); the
   peak RSS of this process after each (`ru_maxrss`). Flood protection off.
2. Ingest, flood protection OFF (`Feed.flood_protection = False`: with it on, the feed would be
   suspended within a fraction of a second and there would be nothing left to measure). For 16 B
   and 1 KiB payloads, ROUNDS times each (--rounds), alternating A B A B: an unpaced flood of
   INGEST_SECONDS received (A) by a bare subscriber in its own process using the same direct
   delivery as jstui (`subscribe_direct`, its handler only counting: the fastest honest
   reference), on a subject of its own while the app sits idle, then (B) by jstui's feed
   (appended to the ring buffer and drawn). Rate = messages / (time of the last - time of the
   first), each side timed by its own clock; medians over the rounds, ratio = jstui / bare.
3. Paced floods at 20k and 40k msgs/s (16 B), protection on (they must not be suspended).
4. Unpaced 16 B floods of FLOOD_SECONDS with protection ON, ROUNDS times, while a second core feed
   receives a paced 1k msgs/s stream whose payloads carry their send time.

In phases 3 and 4, every 30 ms a key (End, "follow the tail" on the flooded feed's view: it takes
and draws the newest lines) is sent the way a terminal sends it, timed until the screen refresh
after its action ran (one key in flight); and
every 10 ms a core request goes out on the app's shared connection to the echo responder, each in
its own task and timed from when it was due, so a stalled loop counts for every request it held
(at least 200 samples per phase). Phase 4 also reports how far behind the quiet feed fell (arrival
- send time, p99 and max), whether and how soon the flooded feed was suspended, and how long after
the flood ended a request was answered in under RECOVERED_RTT again (the backlog drained).

Prints one line; exits 1 when a target of issue #11 is missed: ingest ratio >= 0.85 at 16 B and
1 KiB, key p99 < 250 ms and request p99 < 500 ms during the unpaced flood, key p99 < 100 ms at 20k
and 40k msgs/s. Run: python benchmarks/feed_ingest.py [--rounds 3] [--only flood] (--only runs
one phase, repeatable: rss, ingest, paced, flood; only its targets then decide the exit code).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import resource
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

import nats
from progress import log

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECT = "bench.feed"
RAW_SUBJECT = "bench.raw"
QUIET_SUBJECT = "bench.quiet"
ECHO = "bench.echo"
INGEST_SECONDS = 2.5
FLOOD_SECONDS = 3.0
PACED_SECONDS = 4.0
QUIET_RATE = 1_000
KEY_EVERY = 0.030
REQUEST_EVERY = 0.010
QUIET = 0.6
RECOVERED_RTT = 0.025
PHASES = frozenset({"rss", "ingest", "paced", "flood"})
TARGETS = {"ratio": 0.85, "key_flood": 0.250, "req_flood": 0.500, "key_paced": 0.100}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def ms(values: list[float], q: float) -> str:
    """The q-th percentile of `values` (seconds) in whole milliseconds."""
    return f"{pct(values, q) * 1000:.0f}"


# -- helper processes ----------------------------------------------------------------------------


async def publish(
    url: str, subject: str, size: int, rate: float, seconds: float, count: int
) -> None:
    """Publish `count` messages (or for `seconds`) at `rate` per second (0 = unpaced). A paced
    publisher of a payload size 0 sends its send time instead (for the quiet feed's lag)."""
    nc = await nats.connect(url, pending_size=8 * 1024 * 1024)
    payload = b"x" * size
    stamped = size == 0
    sent = 0
    start = time.perf_counter()
    batch = 100 if not rate else max(1, int(rate / 200))  # paced: a batch every ~5 ms
    while True:
        elapsed = time.perf_counter() - start
        if (count and sent >= count) or (not count and elapsed >= seconds):
            break
        n = batch if not count else min(batch, count - sent)
        for _ in range(n):
            await nc.publish(subject, b"%.6f" % time.time() if stamped else payload)
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
    """The reference: direct delivery as jstui's core feeds get it, the handler only counting;
    waits until QUIET seconds pass without a message."""
    from jstui.nats.direct import is_direct, subscribe_direct

    counts = {"n": 0, "first": 0.0, "last": 0.0}

    def count(msg: Any) -> None:
        now = time.time()
        if not counts["n"]:
            counts["first"] = now
        counts["n"] += 1
        counts["last"] = now

    nc = await nats.connect(url)
    sub = await subscribe_direct(
        nc, RAW_SUBJECT, count, pending_msgs_limit=0, pending_bytes_limit=0
    )
    assert is_direct(sub)
    await nc.flush()
    print("ready", flush=True)
    while not counts["n"]:
        await asyncio.sleep(0.01)
    seen = -1
    while seen != counts["n"]:
        seen = counts["n"]
        await asyncio.sleep(QUIET)
    print(f"received {counts['n']} 0 {counts['first']} {counts['last']}", flush=True)
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


def start_publisher(
    url: str, size: int, rate: float, seconds: float, count: int = 0, subject: str = SUBJECT
) -> subprocess.Popen[str]:
    return spawn("--publish", url, subject, str(size), str(rate), str(seconds), str(count))


async def run_publisher(
    url: str, size: int, rate: float, seconds: float, count: int = 0, subject: str = SUBJECT
) -> None:
    proc = start_publisher(url, size, rate, seconds, count, subject)
    await read_line(proc)
    await asyncio.to_thread(proc.wait)


async def raw_ceiling(url: str, size: int) -> float:
    sub = spawn("--raw", url)
    assert await read_line(sub) == "ready"
    await run_publisher(url, size, 0, INGEST_SECONDS, subject=RAW_SUBJECT)
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
        original = FeedsPane.action_follow

        def timed_follow(pane: FeedsPane) -> None:
            original(pane)
            sent = probe._sent
            if sent is not None:
                probe._sent = None
                pane.call_after_refresh(lambda: probe.keys.append(time.perf_counter() - sent))

        FeedsPane.action_follow = timed_follow  # type: ignore[method-assign]

    async def keys_loop(self, stop: asyncio.Event) -> None:
        driver = self.app._driver
        while not stop.is_set():
            if self._sent is None:
                self._sent = time.perf_counter()
                driver.send_message(self.events.Key("end", None))
            await asyncio.sleep(KEY_EVERY)

    async def request(self, due: float) -> None:
        with contextlib.suppress(Exception):
            await self.app.session.nc.request(ECHO, b"ping", timeout=10)
            self.requests.append(time.perf_counter() - due)

    async def requests_loop(self, stop: asyncio.Event) -> None:
        """One request every REQUEST_EVERY, each in its own task, timed from when it was due:
        a loop stall delays every request it holds, not just the one in flight."""
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        due = start
        while not stop.is_set():
            tasks.append(asyncio.create_task(self.request(due)))
            due += REQUEST_EVERY
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if time.perf_counter() - due > REQUEST_EVERY:  # stalled: the missed ones are due now
                while due < time.perf_counter() and not stop.is_set():
                    tasks.append(asyncio.create_task(self.request(due)))
                    due += REQUEST_EVERY
        await asyncio.gather(*tasks)

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
    while seen != feed.count:
        seen = feed.count
        await asyncio.sleep(QUIET)


async def app_ingest(url: str, feed: Any, size: int) -> float:
    """Unpaced flood into the app's feed, protection off: messages appended per second."""
    start_count = feed.count
    first_time: list[float] = []

    async def watch_first() -> None:
        while feed.count == start_count:
            await asyncio.sleep(0.002)
        first = next((m.time for m in feed.buffer if m.index == start_count + 1), None)
        first_time.append(first if first is not None else time.time())

    watcher = asyncio.create_task(watch_first())
    await run_publisher(url, size, 0, INGEST_SECONDS)
    await wait_quiet(feed)
    await watcher
    appended = feed.count - start_count
    return appended / max(1e-6, feed.buffer[-1].time - first_time[0])


async def recovery_time(nc: Any, ended: float) -> float:
    """Seconds from the flood's end until a request is answered in under RECOVERED_RTT."""
    while True:
        sent = time.perf_counter()
        with contextlib.suppress(Exception):
            await nc.request(ECHO, b"ping", timeout=10)
        now = time.perf_counter()
        if now - sent < RECOVERED_RTT:
            return max(0.0, sent - ended)
        if now - ended > 30:
            return float("nan")


class FloodRound:
    """One unpaced 16 B flood into the protected feed while the quiet feed gets 1k msgs/s."""

    def __init__(self, url: str, app: Any, feed: Any, quiet: Any) -> None:
        self.url, self.app, self.feed, self.quiet = url, app, feed, quiet
        self.recovery = float("nan")
        self.suspended_after = float("nan")
        """Seconds from the flood's first message to the feed's suspension."""
        self.quiet_lags: list[float] = []

    async def run(self) -> None:
        quiet_from, flood_from = self.quiet.count, self.feed.count
        first: list[float] = []

        async def first_arrival() -> None:
            while self.feed.count == flood_from:
                await asyncio.sleep(0.002)
            first.append(time.time())

        watcher = asyncio.create_task(first_arrival())
        pacer = start_publisher(self.url, 0, QUIET_RATE, FLOOD_SECONDS + 1.0, subject=QUIET_SUBJECT)
        await asyncio.sleep(0.5)  # the quiet stream is flowing before the flood starts
        await run_publisher(self.url, 16, 0, FLOOD_SECONDS)
        ended = time.perf_counter()
        self.recovery = await recovery_time(self.app.session.nc, ended)
        await asyncio.to_thread(pacer.wait)
        suspension = self.feed.suspended
        await watcher
        if suspension is not None:  # from the flood's first message
            self.suspended_after = suspension.since - first[0]
        self.quiet_lags = [
            m.time - float(m.data) for m in self.quiet.buffer if m.index > quiet_from
        ]
        if self.feed.state.value == "suspended":
            await self.feed.resume()
        await wait_quiet(self.feed)


async def bench(rounds: int, phases: frozenset[str] = PHASES) -> tuple[str, bool]:
    from jstui.app import JstuiApp
    from jstui.config import Settings
    from jstui.nats.embedded import EmbeddedServer
    from jstui.nats.session import ConnectionState
    from jstui.widgets.feeds import FeedsPane

    server = EmbeddedServer()
    server.start()
    echo = spawn("--respond", server.url)
    try:
        assert await read_line(echo) == "ready"
        feeds = (f"{SUBJECT},core", f"{QUIET_SUBJECT},core")
        app = JstuiApp(Settings(servers=(server.url,), feeds=feeds))
        async with app.run_test(headless=True, size=(160, 45)) as pilot:
            while app.session.status.state is not ConnectionState.CONNECTED:
                await asyncio.sleep(0.05)
            pane = app.dashboard.query_one(FeedsPane)
            while len(pane.views) < 2 or any(v.feed.state.value != "live" for v in pane.views):
                await asyncio.sleep(0.05)
            await pilot.press("2")
            feed, quiet = (view.feed for view in pane.views)
            probe = Probe(app)
            log("app ready")

            feed.flood_protection = False
            rss_10k = rss_1m = float("nan")
            if "rss" in phases:
                await run_publisher(server.url, 16, 0, 0, count=10_000)
                await wait_quiet(feed)
                rss_10k = peak_rss_mib()
                await run_publisher(server.url, 16, 0, 0, count=990_000)
                await wait_quiet(feed)
                rss_1m = peak_rss_mib()
                log("1M done")

            raw: dict[int, list[float]] = {16: [], 1024: []}
            ingest: dict[int, list[float]] = {16: [], 1024: []}
            for _ in range(rounds if "ingest" in phases else 0):
                for size in (16, 1024):  # A B A B: the reference, then jstui, per size
                    raw[size].append(await raw_ceiling(server.url, size))
                    ingest[size].append(await app_ingest(server.url, feed, size))
                    log(f"{size} B: bare {raw[size][-1]:,.0f}/s jstui {ingest[size][-1]:,.0f}/s")
            feed.flood_protection = True

            paced: dict[int, tuple[list[float], list[float]]] = {}
            for rate in (20_000, 40_000) if "paced" in phases else ():

                async def paced_run(rate: int = rate) -> None:
                    await run_publisher(server.url, 16, rate, PACED_SECONDS)
                    await wait_quiet(feed)

                paced[rate] = await probe.during(paced_run())
                log(f"paced {rate} done, feed {feed.state.value}")
                if feed.state.value == "suspended":
                    await feed.resume()

            keys_flood: list[float] = []
            req_flood: list[float] = []
            floods: list[FloodRound] = []
            for _ in range(rounds if "flood" in phases else 0):
                flood = FloodRound(server.url, app, feed, quiet)
                keys, reqs = await probe.during(flood.run())
                keys_flood += keys
                req_flood += reqs
                floods.append(flood)
                log(
                    f"flood: suspended after {flood.suspended_after:.2f} s, console normal "
                    f"{flood.recovery:.2f} s after its end"
                )
            counts = feed.counts()
            balanced = counts.received == counts.accounted  # docs/architecture.md
    finally:
        if echo.stdin:
            echo.stdin.close()
        echo.wait(timeout=5)
        server.stop()
    return report(
        rounds, raw, ingest, paced, keys_flood, req_flood, floods, rss_10k, rss_1m, balanced
    )


def report(
    rounds: int,
    raw: dict[int, list[float]],
    ingest: dict[int, list[float]],
    paced: dict[int, tuple[list[float], list[float]]],
    keys_flood: list[float],
    req_flood: list[float],
    floods: list[FloodRound],
    rss_10k: float,
    rss_1m: float,
    balanced: bool,
) -> tuple[str, bool]:
    parts = []
    met = balanced
    for size, label in ((16, "16"), (1024, "1k")) if raw[16] else ():
        raw_rate, app_rate = median(raw[size]), median(ingest[size])
        ratio = app_rate / raw_rate
        met &= ratio >= TARGETS["ratio"]
        parts.append(
            f"bare{label}={raw_rate:,.0f}/s jstui{label}={app_rate:,.0f}/s ratio{label}={ratio:.2f}"
        )
    for rate, (keys, reqs) in paced.items():
        met &= pct(keys, 99) < TARGETS["key_paced"]
        parts.append(
            f"key@{rate // 1000}k p50={ms(keys, 50)}ms p99={ms(keys, 99)}ms "
            f"req p50={ms(reqs, 50)}ms p99={ms(reqs, 99)}ms"
        )
    if floods:
        parts.append(flood_report(keys_flood, req_flood, floods))
        met &= pct(keys_flood, 99) < TARGETS["key_flood"]
        met &= pct(req_flood, 99) < TARGETS["req_flood"]
    rss = f"rss10k={rss_10k:.1f}MiB rss1M={rss_1m:.1f}MiB (+{rss_1m - rss_10k:.1f}) "
    parts.append(
        f"{'' if math.isnan(rss_1m) else rss}"
        f"balanced={balanced} medians of {rounds} -> {'met' if met else 'MISSED'}"
    )
    return " | ".join(parts), met


def flood_report(keys_flood: list[float], req_flood: list[float], floods: list[FloodRound]) -> str:
    lags = [lag for flood in floods for lag in flood.quiet_lags]
    return (
        f"flood: key p50={ms(keys_flood, 50)}ms p99={ms(keys_flood, 99)}ms "
        f"req p50={ms(req_flood, 50)}ms p99={ms(req_flood, 99)}ms (n={len(req_flood)}) "
        f"suspended after {median([f.suspended_after for f in floods]):.2f}s "
        f"quiet feed behind p99={ms(lags, 99)}ms max={ms(lags, 100)}ms "
        f"console normal {median([f.recovery for f in floods]):.2f}s after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--publish", nargs=6, metavar=("URL", "SUBJECT", "SIZE", "RATE", "SECS", "COUNT")
    )
    parser.add_argument("--raw", metavar="URL")
    parser.add_argument("--respond", metavar="URL")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per payload size and side (default 3)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(PHASES),
        help="run only this phase (repeatable; default: all); its targets alone decide the exit",
    )
    args = parser.parse_args()
    if args.publish:
        url, subject, size, rate, secs, count = args.publish
        asyncio.run(publish(url, subject, int(size), float(rate), float(secs), int(count)))
    elif args.raw:
        asyncio.run(raw_subscriber(args.raw))
    elif args.respond:
        asyncio.run(responder(args.respond))
    else:
        phases = frozenset(args.only) if args.only else PHASES
        line, met = asyncio.run(bench(max(1, args.rounds), phases))
        print(line, flush=True)
        sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
