"""The embedded server starts on loopback, serves JetStream, and never outlives jstui."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nats
import pytest

from jstui.nats.embedded import (
    TEMP_STORE_PREFIX,
    EmbeddedServer,
    EmbeddedServerError,
    find_nats_server,
    remove_stale_stores,
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_binary_is_found() -> None:
    assert find_nats_server().name == "nats-server"


async def test_starts_with_jetstream_on_loopback(tmp_path: Path) -> None:
    with EmbeddedServer(store_dir=tmp_path) as server:
        assert server.url.startswith("nats://127.0.0.1:")
        nc = await nats.connect(server.url)
        info = await nc.jetstream().account_info()
        assert info.limits is not None
        await nc.close()
        pid = server.pid
    assert pid is not None and not _alive(pid)


def test_temp_store_removed_on_stop() -> None:
    server = EmbeddedServer().start()
    store = server.store_dir
    assert store is not None and store.is_dir()
    server.stop()
    assert not store.exists()


def test_port_in_use_is_a_clear_error(nats_server: EmbeddedServer) -> None:
    with pytest.raises(EmbeddedServerError, match="did not start"):
        EmbeddedServer(port=nats_server.port).start(ready_timeout=3)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_no_orphan_when_parent_is_sigkilled(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from jstui.nats.embedded import EmbeddedServer
        server = EmbeddedServer(store_dir=Path({str(tmp_path)!r})).start()
        print(server.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert _alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="owners are read from /proc")
def test_stale_temp_store_of_a_killed_jstui_is_removed_on_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = textwrap.dedent(
        """
        import time
        from jstui.nats.embedded import EmbeddedServer
        server = EmbeddedServer().start()
        print(server.store_dir, flush=True)
        time.sleep(60)
        """
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    killed = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert killed.stdout is not None
    stale = Path(killed.stdout.readline().strip())
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert stale.is_dir() and stale.name.startswith(TEMP_STORE_PREFIX)
    foreign = tmp_path / f"{TEMP_STORE_PREFIX}not-ours"  # no owner file: never touched
    foreign.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with EmbeddedServer() as live:
        assert not stale.exists() and foreign.is_dir()
        assert live.store_dir is not None and live.store_dir.parent == tmp_path
        assert remove_stale_stores(tmp_path) == []  # a live jstui's own store is kept
        assert live.store_dir.is_dir()
