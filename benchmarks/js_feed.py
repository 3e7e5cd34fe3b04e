"""JetStream feed: draining 200k stored messages, jstui's feed against the fastest bare client.

One embedded nats-server and one stream holding 200,000 messages of 16 B (core publishes and a
flush, then a wait until all are stored). Rounds alternate (bare, jstui, bare, jstui, ...):

- bare: a nats-py program in a process of its own (this file with --bare) doing the same job the
  minimal honest way: an ordered push consumer with jstui's consumer config on a fresh inbox,
  delivered by `jstui.nats.direct.subscribe_direct`, its handler checking each consumer
  sequence from the ack subject, answering flow control and counting;
- jstui: the real app, headless at 160x45 in this process, with the Feeds pane on screen; each
  round opens a JetStream feed on the stream through the pane (`FeedsPane.open_feed`, what the
  subscribe dialog does) and closes it afterwards.

Each side is timed from just before it subscribes to the 200,000th message received (bare: taken
in its handler; jstui: the receive time the feed stamps on its messages). Subscribing means the
same job on both sides: bare makes its inbox and the consumer; jstui's feed starts
(`Feed.started_at`: it looks up the stream, then makes its inbox and the consumer). Building the
tab before that (mounting the view, its first layout, about 0.1-0.3 s of the loop) has no
counterpart in a client without a screen, so it is outside the ratio's window, as the app's
start-up is; everything the UI does while the messages drain (drawing, counters, layouts, other
panes' timers, the garbage collector) is inside it. The figure from the key press's moment (the
tab's opening) to the last message is printed as well (`jstui from open`), with its own ratio.
While jstui drains, a 10 ms ticker on the app's loop records its worst interval (the longest the
UI could not run). CPU per message of each side is printed too (jstui's from the tab's opening):
on a shared machine it is steadier than the wall clock.

Prints one line: the medians, their ratio (jstui rate / bare rate), the worst ticker interval.
Exits 1 when the ratio (subscribe to last message) is below 0.85 (#11).
Run: /work/main/.venv/bin/python benchmarks/js_feed.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from feed_ingest import log, median  # noqa: E402  (the helpers of the feed benchmark)

from jstui.nats.direct import is_direct, subscribe_direct  # noqa: E402
from jstui.nats.feeds.ordered import HEARTBEAT_SECONDS, ordered_config  # noqa: E402

STREAM = "JSBENCH"
SUBJECT = "jsbench.>"
TOTAL = 200_000
PAYLOAD = b"0123456789abcdef"
TARGET = 0.85
TICK = 0.010


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the bare reference (its own process) ---------------------------------------------------------


class BareOrdered:
    """The reference's consumer state and handler: check the consumer sequence, keep the stream
    sequence, count; answer flow control. No reset: none happens in this benchmark."""

    __slots__ = ("answers", "done", "end", "gaps", "last", "n", "nc", "next")

    def __init__(self, nc: nats.NATS) -> None:
        self.nc = nc
        self.n = self.gaps = 0
        self.next = 1
        self.last = ""
        self.end = 0.0
        self.done = asyncio.Event()
        self.answers: set[asyncio.Task[None]] = set()

    def handler(self, msg: Msg) -> None:
        tokens = msg.reply.split(".")
        if len(tokens) == 9 and tokens[1] == "ACK":
            cseq, sseq = tokens[6], tokens[5]
        elif len(tokens) > 10 and tokens[1] == "ACK":
            cseq, sseq = tokens[8], tokens[7]
        else:  # flow control or heartbeat
            headers = msg.headers or {}
            reply = msg.reply or headers.get("Nats-Consumer-Stalled")
            if headers.get("Status") == "100" and reply:
                task = asyncio.get_running_loop().create_task(self.nc.publish(reply, b""))
                self.answers.add(task)
                task.add_done_callback(self.answers.discard)
            return
        if int(cseq) != self.next:
            self.gaps += 1
        self.next += 1
        self.last = sseq
        self.n += 1
        if self.n == TOTAL:
            self.end = time.time()
            self.done.set()


async def bare(url: str) -> None:
    """Drain the stream with a minimal ordered consumer on direct delivery; print the figures."""
    nc = await nats.connect(url, pending_size=8 * 1024 * 1024)
    state = BareOrdered(nc)
    cpu0 = cpu_seconds()
    start = time.time()
    inbox = nc.new_inbox()
    sub = await subscribe_direct(
        nc, inbox, state.handler, pending_msgs_limit=0, pending_bytes_limit=0
    )
    assert is_direct(sub)
    config = ordered_config(SUBJECT, ConsumerConfig(), HEARTBEAT_SECONDS)
    config.deliver_subject = inbox
    info = await nc.jsm().add_consumer(STREAM, config=config)
    await asyncio.wait_for(state.done.wait(), 120)
    cpu = cpu_seconds() - cpu0
    print(json.dumps({"seconds": state.end - start, "cpu": cpu, "gaps": state.gaps}))
    await nc.jsm().delete_consumer(STREAM, info.name)
    await nc.close()


async def bare_round(url: str) -> tuple[float, float]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--bare", url], stdout=subprocess.PIPE, text=True
    )
    out, _ = await asyncio.to_thread(proc.communicate)
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["gaps"] == 0, figures
    return TOTAL / figures["seconds"], figures["cpu"] / TOTAL


# -- set-up and the app --------------------------------------------------------------------------


async def fill(url: str) -> None:
    nc = await nats.connect(url, pending_size=8 * 1024 * 1024)
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=[SUBJECT])
    for _batch in range(0, TOTAL, 10_000):
        for _ in range(10_000):
            await nc.publish("jsbench.a", PAYLOAD)
        await nc.flush()
    while (await js.stream_info(STREAM)).state.messages < TOTAL:
        await asyncio.sleep(0.05)
    await nc.close()


async def app_round(app: Any, pane: Any) -> tuple[float, float, float, float]:
    """One drain through the pane: messages per second from the feed's subscribing and from the
    tab's opening to the last message, CPU seconds per message, the worst ticker interval."""
    from jstui.nats.feeds.spec import FeedSpec

    spec = FeedSpec.create(SUBJECT, "js", stream=STREAM)
    ticks: list[tuple[int, float]] = []  # (messages received at the tick, time since the last)
    running = [True]
    opened: list[Any] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while running[0]:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            ticks.append((opened[0].count if opened else 0, now - last))
            last = now

    ticking = asyncio.create_task(ticker())
    cpu0 = cpu_seconds()
    start = time.time()
    view = await pane.open_feed(spec)
    feed = view.feed
    opened.append(feed)
    deadline = time.monotonic() + 120
    while feed.count < TOTAL:
        if time.monotonic() > deadline or feed.state.value == "failed":
            raise RuntimeError(f"feed stopped at {feed.count}: {feed.state} {feed.error}")
        await asyncio.sleep(0.05)
    cpu = cpu_seconds() - cpu0
    end = next(m.time for m in reversed(feed.buffer) if m.index == TOTAL)
    subscribed = feed.started_at
    running[0] = False
    await ticking
    await pane.close_feed(view)
    # Each open and close of a tab leaves cyclic garbage (about 12k objects) for the collector;
    # collect it outside the timed window so that every round starts from the same state.
    del view, feed, opened[:]
    gc.collect()
    # the worst interval that ended while the feed drained (opening the tab is not draining)
    stall = max(
        (
            gap
            for (before, _), (count, gap) in itertools.pairwise(ticks)
            if count and before < TOTAL
        ),
        default=0.0,
    )
    return TOTAL / (end - subscribed), TOTAL / (end - start), cpu / TOTAL, stall


async def bench(rounds: int) -> tuple[str, bool]:
    from jstui.app import JstuiApp
    from jstui.config import Settings
    from jstui.nats.embedded import EmbeddedServer
    from jstui.nats.session import ConnectionState
    from jstui.widgets.feeds import FeedsPane

    server = EmbeddedServer()
    server.start()
    try:
        await fill(server.url)
        log(f"{TOTAL:,} messages stored")
        bare_rates: list[float] = []
        bare_cpu: list[float] = []
        app_rates: list[float] = []
        open_rates: list[float] = []
        app_cpu: list[float] = []
        stalls: list[float] = []
        app = JstuiApp(Settings(servers=(server.url,)))
        async with app.run_test(headless=True, size=(160, 45)) as pilot:
            while app.session.status.state is not ConnectionState.CONNECTED:
                await asyncio.sleep(0.05)
            await pilot.press("2")
            pane = app.dashboard.query_one(FeedsPane)
            for _ in range(rounds):
                rate, cpu = await bare_round(server.url)
                bare_rates.append(rate)
                bare_cpu.append(cpu)
                log(f"bare: {rate:,.0f} msgs/s, {cpu * 1e6:.2f} us CPU a message")
                rate, from_open, cpu, stall = await app_round(app, pane)
                app_rates.append(rate)
                open_rates.append(from_open)
                app_cpu.append(cpu)
                stalls.append(stall)
                log(
                    f"jstui: {rate:,.0f} msgs/s ({from_open:,.0f} from the tab's opening), "
                    f"{cpu * 1e6:.2f} us CPU, worst tick {stall:.3f}s"
                )
    finally:
        server.stop()
    ratio = median(app_rates) / median(bare_rates)
    open_ratio = median(open_rates) / median(bare_rates)
    line = (
        f"js feed, {TOTAL:,} stored msgs of 16 B: bare={median(bare_rates):,.0f}/s "
        f"jstui={median(app_rates):,.0f}/s ratio={ratio:.2f} (target >= {TARGET}) "
        f"jstui from open={median(open_rates):,.0f}/s ratio={open_ratio:.2f} "
        f"cpu/msg bare={median(bare_cpu) * 1e6:.2f}us jstui={median(app_cpu) * 1e6:.2f}us "
        f"ui worst 10ms-tick={median(stalls) * 1000:.0f}ms (max {max(stalls) * 1000:.0f}ms) "
        f"(medians of {rounds} alternated rounds; load {os.getloadavg()[0]:.1f})"
    )
    return line, ratio >= TARGET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side (default 3)")
    args = parser.parse_args()
    if args.bare:
        asyncio.run(bare(args.bare))
        return
    line, met = asyncio.run(bench(max(1, args.rounds)))
    print(line, flush=True)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
