"""A real `jstui serve` for the tests: started as a user starts it (`python -m jstui serve`), on a
free port (`--listen 127.0.0.1:0`), its address read from what it prints. Its output is kept, to
show with a failure, and it is stopped with SIGTERM (then SIGKILL) at the end."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(rb"http://\S+/\?token=\S+")


@dataclass
class Served:
    """A running `jstui serve`: its process, the address it printed, its output so far."""

    process: subprocess.Popen[bytes]
    address: str
    output: bytearray = field(default_factory=bytearray)

    @property
    def base(self) -> str:
        """`http://host:port` (no token)."""
        parts = urlsplit(self.address)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def token(self) -> str:
        return urlsplit(self.address).query.removeprefix("token=")

    def read_output(self) -> str:
        """Everything printed so far (read without blocking)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(fd, 65536):
                self.output += chunk
        return self.output.decode(errors="replace")

    def app_processes(self) -> list[int]:
        """The pids of the app processes (one per browser), children of serve."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
                if parent == self.process.pid and b"serve_session" in command:
                    found.append(int(entry.name))
        return found

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> float:
        """Send `signum`; the seconds serve took to end (SIGKILL after `timeout`)."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.monotonic() - started


def start_serve(*options: str, timeout: float = 30.0) -> Served:
    """`jstui serve --listen 127.0.0.1:0 OPTIONS`, once it printed its address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "jstui", "serve", "--listen", "127.0.0.1:0", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = bytearray()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not (found := ADDRESS.search(output)):
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError(f"jstui serve printed no address:\n{output.decode()}")
            if selector.select(0.1):
                output += os.read(process.stdout.fileno(), 65536)
    return Served(process, found.group(0).decode(), output)


@contextlib.contextmanager
def serving(*options: str) -> Iterator[Served]:
    """A `jstui serve` for the block; stopped after it, its output shown if the block failed."""
    served = start_serve(*options)
    try:
        yield served
    except BaseException:
        print(served.read_output())
        raise
    finally:
        served.stop()
