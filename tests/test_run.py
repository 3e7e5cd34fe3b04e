"""`jstui` as a user starts it: a real terminal, the embedded server, and a clean stop."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and pty")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def start_in_pty(
    tmp_path: Path, args: list[str], *, rows: int = 45, columns: int = 160, own_temp: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    """`python -m jstui ARGS` in a new pty of its own (as a user's terminal), with no NATS_*
    settings and a config folder in `tmp_path`; `own_temp` puts its temporary files there too.
    Returns the process and the pty's master end (the caller closes it)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    if own_temp:
        env["TMPDIR"] = str(tmp_path)
    for name in ("NATS_URL", "NATS_CONTEXT", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "jstui", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    return process, master


@pytest.mark.parametrize("stop", ["ctrl+q", "SIGTERM"])
def test_runs_on_the_embedded_server_and_leaves_nothing_behind(tmp_path: Path, stop: str) -> None:
    store = tmp_path / "store"
    process, master = start_in_pty(tmp_path, ["--store", str(store)], rows=40, columns=140)
    try:
        screen = _read_until(master, b"connected", timeout=30)
        assert b"connected" in screen, screen[-2000:]
        assert b"(embedded)" in screen
        servers = [pid for pid in _children(process.pid) if _alive(pid)]
        assert len(servers) == 1, servers
        assert store.is_dir() and any(store.iterdir())
        if stop == "ctrl+q":
            os.write(master, b"\x11")
        else:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            _read_until(master, b"\x00", timeout=0.2)  # keep the pty drained
        assert process.returncode == 0
        assert not _alive(servers[0]), "the embedded nats-server outlived jstui"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


FLOOD = """
import asyncio, sys, time
import nats

async def main() -> None:
    nc = await nats.connect(sys.argv[1])
    payload = b"x" * 16
    deadline = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        for _ in range(1000):
            await nc.publish("flood.x", payload)
        await nc.flush()

asyncio.run(main())
"""


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_ends_a_flooded_jstui_whose_terminal_is_gone(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """The terminal stops reading (closed, or a stuck emulator) while a feed is flooded: Textual's
    writer blocks on the full pty, and the UI can no longer finish on its own. jstui must still
    end within 2 s of the signal, leaving no server and no temporary store."""
    from jstui.nats.embedded import TEMP_STORE_PREFIX, free_port

    port = free_port()
    process, master = start_in_pty(
        tmp_path, ["--port", str(port), "--feed", "flood.>"], own_temp=True
    )
    flood = None
    try:
        screen = _read_until(master, b"connected", timeout=30)
        assert b"connected" in screen, screen[-2000:]
        servers = [pid for pid in _children(process.pid) if _alive(pid)]
        assert len(servers) == 1, servers
        flood = subprocess.Popen([sys.executable, "-c", FLOOD, f"nats://127.0.0.1:{port}", "20"])
        time.sleep(3)  # the flood runs and the pty fills up: nobody reads the terminal any more
        sent = time.monotonic()
        process.send_signal(signum)
        deadline = sent + 10
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        took = time.monotonic() - sent
        assert process.poll() is not None, "jstui did not end after the signal"
        print(f"ended {took:.2f} s after the signal")
        assert took < 3.0, f"jstui took {took:.1f} s to end (promised: 2 s)"
        time.sleep(0.2)
        assert not _alive(servers[0]), "the embedded nats-server outlived jstui"
        assert not list(tmp_path.glob(TEMP_STORE_PREFIX + "*")), "the temporary store was left"
    finally:
        if flood is not None:
            flood.kill()
            flood.wait()
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


HOSTILE_PUBLISHER = """
import asyncio, sys
import nats

async def main() -> None:
    nc = await nats.connect(sys.argv[1])
    payload = bytes.fromhex(sys.argv[2])
    await nc.publish("h.x", payload, headers={"X-Esc": payload.decode()})
    await nc.flush()
    await nc.close()

asyncio.run(main())
"""


def test_publish_again_of_a_hostile_message_writes_no_escape_to_the_terminal(
    tmp_path: Path,
) -> None:
    """A message whose payload and header carry OSC 52 (clipboard write) and OSC 0 (window title)
    around a unique marker: shown in a feed, opened, and offered for publishing again (r), nothing
    of it reaches the terminal as an escape sequence."""
    import base64
    import uuid

    from jstui.nats.embedded import free_port

    marker = f"MARK{uuid.uuid4().hex[:12]}".encode()
    clipboard = b"\x1b]52;c;" + base64.b64encode(marker)
    title = b"\x1b]0;" + marker
    payload = b"P" + clipboard + b"\x07" + title + b"\x07\x1b[2JQ"
    port = free_port()
    process, master = start_in_pty(tmp_path, ["--port", str(port), "--feed", "h.>"], own_temp=True)
    written = b""
    try:
        written += _read_until(master, b"connected", timeout=30)
        assert b"connected" in written, written[-2000:]
        written += _read_until(master, b"\x00", timeout=2)  # the feed subscribes
        subprocess.run(
            [sys.executable, "-c", HOSTILE_PUBLISHER, f"nats://127.0.0.1:{port}", payload.hex()],
            check=True,
            timeout=30,
        )
        written += _read_until(master, b"\x00", timeout=2)
        for key, wait in [(b"2", 1.0), (b"\r", 2.0), (b"r", 3.0)]:
            os.write(master, key)
            written += _read_until(master, b"\x00", timeout=wait)
        assert b"Publish" in written  # the publish form is open
        # the marker may be shown (as text, its escapes made visible), never inside an escape
        inside_escape = re.compile(rb"\x1b\][0-9]*;[^\x07\x1b]*" + marker)
        assert not inside_escape.search(written), "the payload's OSC 0 reached the terminal"
        osc52 = re.compile(rb"\x1b\]52;[^\x07\x1b]*" + re.escape(base64.b64encode(marker)))
        assert not osc52.search(written), "an OSC 52 carrying the payload reached the terminal"
        assert clipboard not in written and title not in written
        assert b"\x1b[2JQ" not in written
        os.write(master, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            _read_until(master, b"\x00", timeout=0.2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
