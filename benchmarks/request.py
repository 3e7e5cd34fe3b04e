"""Request console: the Send key to the reply on screen, against a bare `nc.request` loop.

One run, one embedded nats-server, one echo responder (plain nats-py, in a process of its own)
on ``bench.echo.*``; every key sample and Send path sample has a subject of its own
(``bench.echo.00042``), so that its reply is told apart on screen from the ones before. Three
paths are timed:

- **bare** (the reference): a plain asyncio program in a process of its own, connected once,
  `await nc.request(subject, payload)`, one in flight, timed around the call with
  `time.perf_counter()`; it runs a batch of samples whenever the benchmark asks for one;
- **send**: the pane's real Send path in the real app, headless at 160x45, every pane as at start
  (`RequestsPane.send_request`, what the form's Send button calls), timed until its task ends:
  the reply is in the pane's record and drawn, or, requests coming back to back as here, its
  redraw is queued as a burst's are (`SOON_SECONDS`, and once a second for the history's rows
  while they come by the dozen): the issue's "pane's real Send path" row;
- **console**: `RequestConsole.send`, the service alone, on the app's loop.

They take turns in blocks of ``--block`` samples (A B C, then B C A, then C A B, ...: each path
comes first about as often), all while the app round runs: measured on this machine, a bare
client's p50 moved between 232 and 316 us from one batch of 50 to the next a second later, so
a reference measured in rounds of its own, seconds away from the app's samples, decided the
ratio more than the Send path did. Each path runs its block back to back, as the reference
does, after one untimed request (`block_of`): alternating the Send path and the console sample
by sample made each run its code cold (a plain connection on the app's loop ran 1.10-1.15x bare
when its samples alternated with the Send path's, 1.00-1.09x in blocks). A redraw the app queued
(at most one every SOON_SECONDS) may run while the reference's block is timed and slow it, in
jstui's favour: a few of its 200 samples at most, too few to move its median.

Before those blocks, each app round times the key: the Request form is opened with ``n`` and
filled with the sample's subject and a payload while nothing is timed; then ctrl+s is sent the
way a terminal sends it, and the time runs until the screen update whose terminal output (built
as a terminal driver builds it, escape sequences and all) shows the request's history row as
replied (``bench.echo.00042 ... replied``). The CPU time jstui's process spent from the key to
that update is printed too: on a shared machine it tells how much work the path is when the
wall-clock figures are mostly waiting for a core. After the key samples, each path makes
WARMUP untimed requests first (without them, the first 40 requests of a round ran 25-40 % slower
than the rest, the machine coming back from the pause after the key samples), and so did the
reference when it started.

Prints one line: p50 and p99 of each path and the send/bare ratios; exits 1 when the send/bare
p50 ratio misses the issue's target (<= 1.3). The key-to-screen figure is what a user waits for
after ctrl+s in the form (the form closing and the whole screen's next frame included); a bare
`nc.request` is no honest reference for it, so it is printed without a target.

    /work/main/.venv/bin/python benchmarks/request.py [--samples N] [--rounds R] [--block B]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import DataTable, Input, TextArea  # noqa: E402

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


async def serve_bare(url: str) -> None:
    """The reference process: WARMUP requests, then a batch per line on stdin (its size): one
    untimed request (`block_of`), the batch's timed ones, and their seconds as one JSON line."""
    nc = await nats.connect(url)
    for sample in range(WARMUP):
        await nc.request(subject(sample), PAYLOAD, timeout=TIMEOUT)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()

    async def timed(sample: int) -> float:
        start = time.perf_counter()
        await nc.request(subject(sample), PAYLOAD, timeout=TIMEOUT)
        return time.perf_counter() - start

    while line := await loop.run_in_executor(None, sys.stdin.readline):
        print(json.dumps(await block_of(timed, 0, int(line))), flush=True)
    await nc.drain()


async def block_of(path: Callable[[int], Awaitable[float]], first: int, size: int) -> list[float]:
    """`size` samples of `path` in a row, after one untimed: the first request after a pause
    (the other paths' turns) ran about twice as long as the rest, for every path (measured on
    the reference: 545 us, then 307, then 261-275), which would make the block's size decide
    the medians."""
    await path(first - 1)
    return [await path(first + n) for n in range(size)]


class Helper:
    """A process of this script's own (`--serve`, `--bare`) on `url`: started, ready once it
    says so, and ended by `close` whatever state it is in."""

    def __init__(self, option: str, url: str, *, name: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, option, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise SystemExit(f"{name} did not start")

    def close(self) -> None:
        """Close its stdin (its cue to end) and wait; kill it if it does not end: a failed run
        must not leave it behind."""
        with contextlib.suppress(OSError):  # (a broken pipe: it has ended already)
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class BareClient(Helper):
    """The reference process, started once for the whole run; `batch` runs on a thread of the
    app round's executor, so the app idles as it would while the reference works."""

    def __init__(self, url: str) -> None:
        super().__init__("--bare", url, name="the reference client")

    def _batch(self, count: int) -> list[float]:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(f"{count}\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise SystemExit(f"the reference client ended (exit status {self.process.poll()})")
        samples: list[float] = json.loads(line)
        return samples

    async def batch(self, count: int) -> list[float]:
        return await asyncio.get_running_loop().run_in_executor(None, self._batch, count)


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
    table = app.dashboard.query_one("#requests-history", DataTable)
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


PATHS = ("bare", "send", "console")


class Samples:
    """Each path's samples of a run, and how many blocks have been taken (the order rotates)."""

    def __init__(self) -> None:
        self.of: dict[str, list[float]] = {path: [] for path in PATHS}
        self.blocks = 0

    def order(self) -> tuple[str, ...]:
        turn = self.blocks % len(PATHS)
        self.blocks += 1
        return PATHS[turn:] + PATHS[:turn]


async def app_round(
    url: str, count: int, block: int, reference: BareClient, samples: Samples
) -> tuple[list[float], list[float]]:
    """Key samples, then `count` samples of each path in blocks of `block` taking turns; the
    key's times and CPU times are returned, the paths' added to `samples`."""
    app = JstuiApp(Settings(servers=(url,)))
    watch = ScreenWatch(app)
    async with app.run_test(size=(160, 45)) as pilot:
        while app.session.status.state is not ConnectionState.CONNECTED:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        pane = app.dashboard.query_one(RequestsPane)
        pane.focus_pane()
        driver = app._driver
        console = pane.console
        assert driver is not None and console is not None
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

        console_spec = RequestSpec(subject(0), payload=PAYLOAD, timeout=TIMEOUT)

        async def send(sample: int) -> float:
            # The pane's real Send path: what the form's Send calls (with the spec the form
            # builds), the history row added and the reply drawn into it; the frame that shows
            # it follows on the next refresh.
            start = time.perf_counter()
            spec = RequestSpec(subject(sample), payload=PAYLOAD, timeout=TIMEOUT)
            record = await pane.send_request(spec)
            elapsed = time.perf_counter() - start
            assert pane._last_record is record and record.replies, record.status
            return elapsed

        async def direct(sample: int) -> float:
            start = time.perf_counter()
            record = await console.send(console_spec)
            elapsed = time.perf_counter() - start
            assert record.replies, record.status
            return elapsed

        timed = {"send": send, "console": direct}
        for timed_path in timed.values():  # (the reference warmed up as it started)
            for sample in range(-WARMUP, 0):
                await timed_path(sample)
        done = 0
        while done < count:
            size = min(block, count - done)
            for name in samples.order():
                if name == "bare":
                    samples.of[name] += await reference.batch(size)
                else:
                    samples.of[name] += await block_of(timed[name], done, size)
            done += size
    return ui, ui_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50, help="samples per round and path")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--block", type=int, default=10, help="samples a path takes in a row")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--bare", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.block < 1 or args.samples < 1 or args.rounds < 1:
        parser.error("--samples, --rounds and --block take a number of 1 or more")
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if args.bare:
        asyncio.run(serve_bare(args.bare))
        return

    server = EmbeddedServer()
    server.start()
    responder: Helper | None = None
    reference: BareClient | None = None
    samples = Samples()
    ui_all: list[float] = []
    cpu_all: list[float] = []
    try:
        responder = Helper("--serve", server.url, name="the responder")
        reference = BareClient(server.url)
        for _ in range(args.rounds):
            ui, ui_cpu = asyncio.run(
                app_round(server.url, args.samples, args.block, reference, samples)
            )
            ui_all += ui
            cpu_all += ui_cpu
    finally:
        for helper in (reference, responder):
            if helper is not None:
                helper.close()
        server.stop()

    def us(values: list[float], q: float) -> float:
        return percentile(values, q) * 1e6

    b50, b99 = us(samples.of["bare"], 50), us(samples.of["bare"], 99)
    s50, s99 = us(samples.of["send"], 50), us(samples.of["send"], 99)
    c50, c99 = us(samples.of["console"], 50), us(samples.of["console"], 99)
    u50, u99 = us(ui_all, 50), us(ui_all, 99)
    cpu50 = us(cpu_all, 50)
    ratio = s50 / b50
    print(
        f"request, {len(ui_all)} samples per path in {args.rounds} rounds, paths alternated in "
        f"blocks of {args.block}: bare p50 {b50:.0f}us p99 {b99:.0f}us | "
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
