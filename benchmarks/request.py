"""Request console: the Send key to the reply on screen, against a bare `nc.request` loop.

One run, one embedded nats-server, one echo responder (plain nats-py, in a process of its own)
on ``bench.echo.*``; every sample has a subject of its own (``bench.echo.00042``), so that its
reply is told apart on screen from the ones before. Rounds alternate (A B A B ...):

- **bare** (the reference): a plain asyncio program, `await nc.request(subject, payload)`, one in
  flight, timed around the call with `time.perf_counter()`;
- **ui**: the real app headless at 160x45, every pane as at start. For each sample the Request
  form is opened with ``n`` and filled with the sample's subject and a payload while nothing is
  timed; then ctrl+s is sent the way a terminal sends it, and the time runs until the screen
  update whose terminal output (built as a terminal driver builds it, escape sequences and all)
  shows the request's history row as replied (``bench.echo.00042 ... replied``).

The CPU time jstui's process spent from the key to that update is printed too: on a shared
machine it tells how much work the path is when the wall-clock figures are mostly waiting for a
core. After its key samples each app round times two more paths, taking turns sample by sample
(each goes first every other sample: measured in two blocks, the first block after the key
samples was 60-80 us slower, whichever path it was), after the same WARMUP untimed requests of
each path as the reference has (measured without them, the first 40 requests of a round ran
25-40 % slower than the rest, the machine coming back from the pause after the key samples;
with half of the 50 samples in that stretch, the median measured the pause, not the path):

- **send**: the pane's real Send path (`RequestsPane.send_request`, what the form's Send button
  calls), timed until its task ends: the reply is in the pane's record and drawn, or, requests
  coming back to back as here, its redraw is queued as a burst's are (`SOON_SECONDS`, and once a
  second for the history's rows while they come by the dozen): the issue's "pane's real Send
  path" row;
- **console**: `RequestConsole.send`, the service alone, on the app's loop.

Prints one line: p50 and p99 of each path and the send/bare ratios; exits 1 when the send/bare
p50 ratio misses the issue's target (<= 1.3). The key-to-screen figure is what a user waits for
after ctrl+s in the form (the form closing and the whole screen's next frame included); a bare
`nc.request` is no honest reference for it, so it is printed without a target.

    /work/main/.venv/bin/python benchmarks/request.py [--samples N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import Input, TextArea  # noqa: E402

from jstui.app import JstuiApp  # noqa: E402
from jstui.config import Settings  # noqa: E402
from jstui.dialogs.request_form import RequestFormScreen  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402
from jstui.nats.requests.spec import RequestSpec  # noqa: E402
from jstui.nats.session import ConnectionState  # noqa: E402
from jstui.widgets.requests import RequestsPane  # noqa: E402

SUBJECTS = "bench.echo.*"
PAYLOAD = b"ping"
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TARGET_RATIO = 1.3
WARMUP = 20
TIMEOUT = 30.0
"""Seconds every request may take: the form's 2 s default timed out now and then on a loaded
machine (the row then said "timed out" and the run stopped as if a reply were not drawn); a
request that fails is no latency sample, so the run stops and says how it ended."""
OUTCOMES = " +(replied|timed out|no responders|error)"
"""The history row's status words that end a request (`RequestStatus`)."""
SETTLE = 0.05
"""Seconds left between two key samples, so one sample's late redraws do not land in the next."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def subject(sample: int) -> str:
    return f"bench.echo.{sample % 100_000:05d}"


async def serve(url: str) -> None:
    """The responder process: echo every request until stdin closes."""
    nc = await nats.connect(url)

    async def answer(msg: nats.aio.msg.Msg) -> None:
        await msg.respond(msg.data)

    await nc.subscribe(SUBJECTS, cb=answer)
    await nc.flush()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await nc.drain()


async def bare(url: str, count: int) -> list[float]:
    nc = await nats.connect(url)
    try:
        for sample in range(WARMUP):
            await nc.request(subject(sample), PAYLOAD, timeout=TIMEOUT)
        samples = []
        for sample in range(count):
            start = time.perf_counter()
            await nc.request(subject(sample), PAYLOAD, timeout=TIMEOUT)
            samples.append(time.perf_counter() - start)
        return samples
    finally:
        await nc.drain()


class ScreenWatch:
    """Renders every screen update to terminal output, as a terminal driver does (the headless
    driver skips that part), and notes when the awaited pattern first appears in its text."""

    def __init__(self, app: JstuiApp) -> None:
        self.awaited: re.Pattern[str] | None = None
        self.outcome = ""
        self.seen_at = 0.0
        self.seen_cpu = 0.0
        self.seen = asyncio.Event()
        original = app._display

        def display(screen: Screen[Any], renderable: Any) -> None:
            original(screen, renderable)
            if isinstance(renderable, CompositorUpdate) and self.awaited is not None:
                output = renderable.render_segments(app.console)
                if found := self.awaited.search(ESCAPES.sub("", output)):
                    self.outcome = found.group(1)
                    self.seen_at = time.perf_counter()
                    self.seen_cpu = time.process_time()
                    self.awaited = None
                    self.seen.set()

        app._display = display  # type: ignore[method-assign]

    def expect_outcome(self, subject: str) -> None:
        """Wait for the history row of the request on `subject` to show how it ended."""
        self.seen.clear()
        self.awaited = re.compile(re.escape(subject) + OUTCOMES)


def visible(app: JstuiApp) -> str:
    """The history's state and what the screen shows of the requests, to say what went wrong."""
    table = app.dashboard.query_one("#requests-history")
    lines = app.screen._compositor.render_full_update().render_segments(app.console)
    shown = [line for line in ESCAPES.sub("", lines).splitlines() if "bench.echo" in line]
    return (
        f"rows {table.row_count} cursor {table.cursor_row} scroll {table.scroll_y}/"
        f"{table.max_scroll_y} screen {app.screen}\n" + "\n".join(shown)
    )


async def open_form(pilot: Any, app: JstuiApp) -> RequestFormScreen:
    await pilot.press("n")
    deadline = time.monotonic() + 30
    while not (isinstance(app.screen, RequestFormScreen) and app.screen.is_mounted):
        if time.monotonic() > deadline:
            raise SystemExit("the request form did not open")
        await asyncio.sleep(0.005)
    return app.screen


async def app_round(
    url: str, count: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    app = JstuiApp(Settings(servers=(url,)))
    watch = ScreenWatch(app)
    async with app.run_test(size=(160, 45)) as pilot:
        while app.session.status.state is not ConnectionState.CONNECTED:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        pane = app.dashboard.query_one(RequestsPane)
        pane.focus_pane()
        driver = app._driver
        assert driver is not None and pane.console is not None
        ui: list[float] = []
        ui_cpu: list[float] = []
        for sample in range(-WARMUP, count):
            form = await open_form(pilot, app)
            form.query_one("#request-subject", Input).value = subject(sample)
            form.query_one("#request-payload", TextArea).text = PAYLOAD.decode()
            form.query_one("#request-timeout", Input).value = f"{TIMEOUT:g}s"
            await pilot.pause()  # the form shows what it holds before the key
            watch.expect_outcome(subject(sample))
            start, start_cpu = time.perf_counter(), time.process_time()
            driver.send_message(events.Key("ctrl+s", "\x13"))
            try:
                await asyncio.wait_for(watch.seen.wait(), TIMEOUT + 30)
            except TimeoutError:
                what = visible(app)
                raise SystemExit(f"sample {sample}: the reply never showed\n{what}") from None
            if watch.outcome != "replied":  # a request that failed: no figure, say why
                what = visible(app)
                raise SystemExit(f"sample {sample}: {watch.outcome}, not replied\n{what}")
            if sample >= 0:
                ui.append(watch.seen_at - start)
                ui_cpu.append(watch.seen_cpu - start_cpu)
            await asyncio.sleep(SETTLE)
        sends: list[float] = []
        direct: list[float] = []
        console_spec = RequestSpec(subject(0), payload=PAYLOAD, timeout=TIMEOUT)
        for sample in range(-WARMUP, count):
            # The two paths take turns, sample by sample, each first every other time: after the
            # key samples the app is busier for a while (the forms it closed), and measured in
            # two blocks the block that came first was 60-80 us slower, whichever it was.
            for path in ("send", "console") if sample % 2 == 0 else ("console", "send"):
                start = time.perf_counter()
                if path == "send":
                    # The pane's real Send path: what the form's Send calls, the history row
                    # added and the reply drawn into it; the frame that shows it follows on the
                    # next refresh.
                    spec = RequestSpec(subject(sample), payload=PAYLOAD, timeout=TIMEOUT)
                    await pane.send_request(spec)
                    if sample >= 0:
                        sends.append(time.perf_counter() - start)
                    assert pane._last_record is not None and pane._last_record.replies
                else:
                    record = await pane.console.send(console_spec)
                    if sample >= 0:
                        direct.append(time.perf_counter() - start)
                    assert record.replies, record.status
    return ui, ui_cpu, sends, direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50, help="key samples per round and path")
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
        ui_all: list[float] = []
        cpu_all: list[float] = []
        console_all: list[float] = []
        send_all: list[float] = []
        for _ in range(args.rounds):
            bare_all += asyncio.run(bare(server.url, args.samples))
            ui, ui_cpu, sends, direct = asyncio.run(app_round(server.url, args.samples))
            send_all += sends
            ui_all += ui
            cpu_all += ui_cpu
            console_all += direct
    finally:
        if responder.stdin is not None:
            responder.stdin.close()
        responder.wait(10)
        server.stop()

    def us(values: list[float], q: float) -> float:
        return percentile(values, q) * 1e6

    b50, b99 = us(bare_all, 50), us(bare_all, 99)
    u50, u99 = us(ui_all, 50), us(ui_all, 99)
    c50, c99 = us(console_all, 50), us(console_all, 99)
    s50, s99 = us(send_all, 50), us(send_all, 99)
    cpu50 = us(cpu_all, 50)
    ratio = s50 / b50
    print(
        f"request, {len(ui_all)} samples per path in {args.rounds} alternated rounds: "
        f"bare p50 {b50:.0f}us p99 {b99:.0f}us | "
        f"pane Send path p50 {s50:.0f}us p99 {s99:.0f}us | "
        f"console p50 {c50:.0f}us p99 {c99:.0f}us | "
        f"Send key to reply on screen p50 {u50:.0f}us p99 {u99:.0f}us "
        f"(jstui's CPU p50 {cpu50:.0f}us; no target) | "
        f"send/bare p50 {ratio:.2f} p99 {s99 / b99:.2f} (target p50 <= {TARGET_RATIO})"
    )
    if ratio > TARGET_RATIO:
        sys.exit(1)


if __name__ == "__main__":
    main()
