"""`jstui` killed with SIGKILL leaves no `nats-server` running: neither the embedded server it
started, nor the one it started again after that one died (started from another thread: the
kernel's parent-death signal follows the thread that started the child, so this is checked too).
A temporary store is cleared by the next start (tests/nats/test_embedded.py)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.test_run import _alive, _children, _read_until, start_in_pty

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and pty")


def _servers_of(pid: int) -> list[int]:
    return [child for child in _children(pid) if _alive(child)]


def _wait_for(condition: object, master: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        _read_until(master, b"\x00", timeout=0.1)  # keep the pty drained
    return False


def test_sigkill_of_jstui_leaves_no_server_even_one_it_restarted(tmp_path: Path) -> None:
    store = tmp_path / "store"
    process, master = start_in_pty(tmp_path, ["--store", str(store)], own_temp=True)
    servers: list[int] = []
    try:
        screen = _read_until(master, b"connected", timeout=30)
        assert b"connected" in screen, screen[-2000:]
        first = _servers_of(process.pid)
        assert len(first) == 1, first
        servers.extend(first)
        os.kill(first[0], signal.SIGKILL)  # the embedded server dies: jstui starts another
        assert _wait_for(
            lambda: [pid for pid in _servers_of(process.pid) if pid != first[0]], master, 20
        ), "jstui did not start its server again"
        restarted = [pid for pid in _servers_of(process.pid) if pid != first[0]]
        servers.extend(restarted)
        time.sleep(0.5)  # the restart's thread has returned: the server must still be running
        assert all(_alive(pid) for pid in restarted), "the restarted server died with its thread"
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert _wait_for(lambda: not any(_alive(pid) for pid in servers), master, 5), (
            "a nats-server outlived the SIGKILL of jstui"
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in servers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        os.close(master)
