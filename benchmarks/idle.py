"""Idle cost: jstui's CPU and terminal output while nothing happens, against a minimal Textual app.

    /work/main/.venv/bin/python benchmarks/idle.py [--seconds S] [--rounds R] [--settle S]

Each round spawns a process in a pty of its own (160x45, TERM=xterm-256color), as a user's terminal
would, and alternates: the reference (a Textual app showing one `Static`), then jstui, then the
reference again... (A B A B). jstui runs as a user starts it:
`python -m jstui --port P --feed 'my.subject.*,js'` on its embedded server; once it shows
"connected", a plain nats-py client creates the tutorial's `example_stream` (`my.subject.*`), so
the Streams pane has one stream and the feed one JetStream consumer, and no message is sent.

After start-up has settled (`--settle` seconds after the feed went live), each process is measured
for S seconds (default 60):

- CPU: utime + stime of the process itself from /proc/PID/stat (children excluded, so jstui's
  embedded nats-server is not counted), in % of one core;
- out: bytes the process wrote to its terminal per second (everything read from the pty master).

Prints one line of medians over the rounds; exits 1 when jstui uses 1 % of a core or more (the
target of issue #11; the minimal app uses about 0.2 %).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_CPU_PERCENT = 1.0
ROWS, COLUMNS = 45, 160

MINIMAL_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Static

class Minimal(App):
    def compose(self) -> ComposeResult:
        yield Static("connected")

Minimal().run()
"""


@dataclass
class Terminal:
    """A process in a pty of its own; a thread reads everything it writes and counts it."""

    process: subprocess.Popen[bytes]
    master: int
    received: int = 0
    seen: bytearray = field(default_factory=bytearray)
    _reader: threading.Thread | None = None

    @classmethod
    def spawn(cls, argv: list[str], env: dict[str, str]) -> Terminal:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        terminal = cls(process, master)
        terminal._reader = threading.Thread(target=terminal._read, daemon=True)
        terminal._reader.start()
        return terminal

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                if self.process.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.received += len(chunk)
            if len(self.seen) < 4_000_000:  # enough to find start-up markers
                self.seen += chunk

    def wait_for(self, needle: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.seen:
            if time.monotonic() > deadline or self.process.poll() is not None:
                tail = bytes(self.seen[-1500:])
                raise SystemExit(f"never saw {needle!r} (exit {self.process.poll()}): {tail!r}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """utime + stime of the process itself (fields 14 and 15 of /proc/PID/stat)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def measure(self, seconds: float) -> tuple[float, float]:
        """CPU in % of a core and bytes written per second, over `seconds`."""
        cpu, written, start = self.cpu_seconds(), self.received, time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        return (
            (self.cpu_seconds() - cpu) / elapsed * 100,
            (self.received - written) / elapsed,
        )

    def stop(self) -> None:
        with_quit = self.process.poll() is None
        if with_quit:
            os.write(self.master, b"\x11")  # ctrl+q, as a user leaves
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        os.close(self.master)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def create_tutorial_stream(url: str) -> None:
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(url)
    await nc.jsm().add_stream(StreamConfig(name="example_stream", subjects=["my.subject.*"]))
    await nc.close()


def environment(home: str) -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "XDG_CONFIG_HOME": home}
    for name in ("NATS_URL", "NATS_CONTEXT", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN"):
        env.pop(name, None)
    return env


def run_reference(seconds: float, settle: float, env: dict[str, str]) -> tuple[float, float]:
    terminal = Terminal.spawn([sys.executable, "-c", MINIMAL_APP], env)
    try:
        terminal.wait_for(b"connected", timeout=60)
        time.sleep(settle)
        return terminal.measure(seconds)
    finally:
        terminal.stop()


def run_jstui(seconds: float, settle: float, env: dict[str, str]) -> tuple[float, float]:
    port = free_port()
    argv = [sys.executable, "-m", "jstui", "--port", str(port), "--feed", "my.subject.*,js"]
    terminal = Terminal.spawn(argv, env)
    try:
        terminal.wait_for(b"connected", timeout=60)
        asyncio.run(create_tutorial_stream(f"nats://127.0.0.1:{port}"))
        terminal.wait_for(b"example_stream", timeout=60)
        time.sleep(settle)
        return terminal.measure(seconds)
    finally:
        terminal.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured per round")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of each (alternated)")
    parser.add_argument("--settle", type=float, default=5.0, help="wait after start-up")
    args = parser.parse_args()
    os.chdir(ROOT)  # `python -m jstui` imports this checkout's jstui
    reference: list[tuple[float, float]] = []
    jstui: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="jstui-idle-") as home:
        env = environment(home)
        for _ in range(args.rounds):
            reference.append(run_reference(args.seconds, args.settle, env))
            jstui.append(run_jstui(args.seconds, args.settle, env))
    ref_cpu = statistics.median(cpu for cpu, _ in reference)
    ref_out = statistics.median(out for _, out in reference)
    js_cpu = statistics.median(cpu for cpu, _ in jstui)
    js_out = statistics.median(out for _, out in jstui)
    load = os.getloadavg()[0]
    met = js_cpu < TARGET_CPU_PERCENT
    print(
        f"idle over {args.seconds:g} s x {args.rounds} (load {load:.1f}): "
        f"minimal app cpu {ref_cpu:.2f} % out {ref_out:.0f} B/s | "
        f"jstui cpu {js_cpu:.2f} % out {js_out:.0f} B/s | "
        f"target jstui cpu < {TARGET_CPU_PERCENT:g} %: {'ok' if met else 'MISSED'}",
        flush=True,
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
