"""Request-reply round trip: a bare nats-py `nc.request` loop against jstui's console path.

One run, one embedded nats-server, one echo responder (plain nats-py, in a process of its own).
Rounds alternate between

- **bare**: a plain asyncio program (no Textual): `await nc.request(subject, payload)`;
- **app**: `await app.session.nc.request(...)` inside the running headless app (all panes
  mounted): what the Textual loop and the other panes cost, with no console bookkeeping;
- **console**: the same requests through `RequestConsole.send` inside the running headless app
  (the Request/Reply pane mounted, its 2 Hz timer redrawing history and statistics, every other
  pane running), on the app's shared connection: a history record, the reply kept, the per-subject
  latency statistics updated;
- **ui**: the same through the pane's own send path (`RequestsPane.send_request`, a Textual worker
  per request, as the form's Send button does), timed until the record is finished.

Latency is measured the same way for all three: `time.perf_counter()` around one request, one in
flight at a time. Prints one line: p50 and p99 of each path and their ratios.

    /work/venv/bin/python benchmarks/request.py [--requests N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
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
from jstui.nats.requests.spec import RequestSpec  # noqa: E402
from jstui.nats.session import ConnectionState  # noqa: E402
from jstui.widgets.requests import RequestsPane  # noqa: E402

SUBJECT = "bench.echo"
PAYLOAD = b"x" * 16
WARMUP = 200


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def serve(url: str) -> None:
    """The responder process: echo every request until stdin closes."""
    nc = await nats.connect(url)

    async def echo(msg: nats.aio.msg.Msg) -> None:
        await msg.respond(msg.data)

    await nc.subscribe(SUBJECT, cb=echo)
    await nc.flush()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await nc.drain()


async def bare(url: str, count: int) -> list[float]:
    nc = await nats.connect(url)
    try:
        for _ in range(WARMUP):
            await nc.request(SUBJECT, PAYLOAD, timeout=5)
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            await nc.request(SUBJECT, PAYLOAD, timeout=5)
            samples.append(time.perf_counter() - start)
        return samples
    finally:
        await nc.drain()


async def console(url: str, count: int) -> tuple[list[float], list[float], list[float]]:
    app = JstuiApp(Settings(servers=(url,)))
    spec = RequestSpec(SUBJECT, payload=PAYLOAD, timeout=5)
    async with app.run_test(size=(160, 45)) as pilot:
        while app.session.status.state is not ConnectionState.CONNECTED:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        pane = app.dashboard.query_one(RequestsPane)
        assert pane.console is not None
        for _ in range(WARMUP):
            await pane.console.send(spec)
        shared = []
        for _ in range(count):
            start = time.perf_counter()
            await app.session.nc.request(SUBJECT, PAYLOAD, timeout=5)
            shared.append(time.perf_counter() - start)
        direct = []
        for _ in range(count):
            start = time.perf_counter()
            record = await pane.console.send(spec)
            direct.append(time.perf_counter() - start)
            assert record.replies, record.status
        ui = []
        for _ in range(count):
            before = pane.console.history
            last = next(reversed(before)) if before else 0
            start = time.perf_counter()
            pane.send_request(spec)
            while True:
                newest = pane.console.history.get(last + 1)
                if newest is not None and newest.finished:
                    break
                await asyncio.sleep(0)
            ui.append(time.perf_counter() - start)
        # The history is bounded: the app kept at most its limit whatever was sent.
        assert len(pane.console.history) <= pane.console.max_history
    return shared, direct, ui


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round and path")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return

    server = EmbeddedServer()
    server.start()
    responder = subprocess.Popen(
        [sys.executable, __file__, "--serve", server.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert responder.stdout is not None
        if responder.stdout.readline().strip() != "ready":
            raise SystemExit("the responder did not start")
        bare_all: list[float] = []
        app_all: list[float] = []
        console_all: list[float] = []
        ui_all: list[float] = []
        for _ in range(args.rounds):
            bare_all += asyncio.run(bare(server.url, args.requests))
            shared, direct, ui = asyncio.run(console(server.url, args.requests))
            app_all += shared
            console_all += direct
            ui_all += ui
    finally:
        if responder.stdin is not None:
            responder.stdin.close()
        responder.wait(10)
        server.stop()

    figures = {
        name: (percentile(v, 50) * 1e6, percentile(v, 99) * 1e6)
        for name, v in (
            ("bare", bare_all),
            ("app", app_all),
            ("console", console_all),
            ("ui", ui_all),
        )
    }
    b50, b99 = figures["bare"]
    a50, a99 = figures["app"]
    c50, c99 = figures["console"]
    u50, u99 = figures["ui"]
    print(
        f"request round trip, {len(bare_all)} per path: "
        f"bare p50 {b50:.0f}us p99 {b99:.0f}us | "
        f"app p50 {a50:.0f}us p99 {a99:.0f}us | "
        f"console p50 {c50:.0f}us p99 {c99:.0f}us | "
        f"ui p50 {u50:.0f}us p99 {u99:.0f}us | "
        f"console/bare p50 {c50 / b50:.2f} p99 {c99 / b99:.2f} | "
        f"console/app p50 {c50 / a50:.2f} | "
        f"ui/bare p50 {u50 / b50:.2f} p99 {u99 / b99:.2f}"
    )


if __name__ == "__main__":
    main()
