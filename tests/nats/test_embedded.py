"""The embedded server starts on loopback, serves JetStream, and never outlives jstui."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
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
from nats.aio.client import Client

from jstui.nats.embedded import (
    TEMP_STORE_PREFIX,
    EmbeddedServer,
    EmbeddedServerError,
    find_nats_server,
    free_port,
    remove_stale_stores,
)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


async def gather(nc: Client, subject: str, expected: int, timeout: float = 3.0) -> list[dict]:
    """Publish a `$SYS` request and collect the JSON replies until `expected` came or time is up."""
    inbox = nc.new_inbox()
    replies: list[dict] = []
    enough = asyncio.Event()

    async def collect(msg: object) -> None:
        replies.append(json.loads(msg.data))  # type: ignore[attr-defined]
        if len(replies) >= expected:
            enough.set()

    subscription = await nc.subscribe(inbox, cb=collect)
    await nc.flush()
    await nc.publish(subject, b"", reply=inbox)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(enough.wait(), timeout)
    await subscription.unsubscribe()
    return replies


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
    assert pid is not None and not process_alive(pid)


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
    assert process_alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while process_alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(child_pid)


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
    stale_configs = list(tmp_path.glob("jstui-config-*"))  # it holds the system password
    assert len(stale_configs) == 1
    foreign = tmp_path / f"{TEMP_STORE_PREFIX}not-ours"  # no owner file: never touched
    foreign.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with EmbeddedServer() as live:
        assert not stale.exists() and foreign.is_dir()
        assert not any(config.exists() for config in stale_configs)
        assert live.store_dir is not None and live.store_dir.parent == tmp_path
        assert remove_stale_stores(tmp_path) == []  # a live jstui's own store is kept
        assert live.store_dir.is_dir()


async def test_system_user_gathers_server_varz(tmp_path: Path) -> None:
    with EmbeddedServer(store_dir=tmp_path, server_name="jstui-sys") as server:
        assert server.system_user == "sys"
        assert server.system_url.startswith(f"nats://sys:{server.system_password}@127.0.0.1:")
        nc = await nats.connect(server.system_url)
        replies = await gather(nc, "$SYS.REQ.SERVER.PING.VARZ", expected=1)
        await nc.close()
    assert [reply["data"]["server_name"] for reply in replies] == ["jstui-sys"]


async def test_anonymous_client_lands_in_global_account_and_sees_an_older_store(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    port = free_port()
    plain = subprocess.Popen(  # the server jstui ran before it had a config: flags only
        [find_nats_server(), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:  # the plain server accepts clients a few ms after its start
            try:
                nc = await nats.connect(f"nats://127.0.0.1:{port}", allow_reconnect=False)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        await nc.jetstream().add_stream(name="OLDER", subjects=["older.>"])
        await nc.jetstream().publish("older.one", b"kept")
        await nc.close()
    finally:
        plain.terminate()
        plain.wait(5)
    assert (store / "jetstream" / "$G" / "streams" / "OLDER").is_dir()
    with EmbeddedServer(store_dir=store) as server:
        nc = await nats.connect(server.url)  # no credentials
        user = json.loads((await nc.request("$SYS.REQ.USER.INFO", b"", timeout=2)).data)
        own = await gather(nc, "$SYS.REQ.ACCOUNT.PING.CONNZ", expected=1)
        stream = await nc.jetstream().stream_info("OLDER")
        await nc.close()
    assert user["data"]["account"] == "$G"
    assert [reply["data"]["num_connections"] for reply in own] == [1]  # its own account's only
    assert stream.state.messages == 1


async def test_store_path_with_spaces_quotes_and_dollars_works(tmp_path: Path) -> None:
    store = tmp_path / 'my "store" $HOME \\ {x} #1 é'
    with EmbeddedServer(store_dir=store) as server:
        nc = await nats.connect(server.url)
        await nc.jetstream().add_stream(name="ODD", subjects=["odd"])
        await nc.close()
    assert (store / "jetstream" / "$G" / "streams" / "ODD").is_dir()


def test_system_password_is_secret_and_new_at_each_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    log_file = tmp_path / "server.log"
    server = EmbeddedServer(store_dir=tmp_path / "store", log_file=log_file).start()
    password = server.system_password
    assert len(password) >= 24
    config_dirs = list(Path(tempfile.gettempdir()).glob("jstui-config-*"))
    config = next(folder for folder in config_dirs if password in _read(folder))
    assert (config / "nats-server.conf").stat().st_mode & 0o777 == 0o600
    assert config.stat().st_mode & 0o777 == 0o700
    assert not list((tmp_path / "store").rglob("*.conf"))  # never in the user's store
    shown = [repr(server), str(server), caplog.text, log_file.read_text(errors="replace")]
    assert not any(password in text for text in shown)
    server.kill()
    server.restart()
    assert server.system_password == password  # restart() reuses the config
    server.stop()
    assert not config.exists()
    server.start()
    assert server.system_password not in ("", password)
    server.stop()


def _read(folder: Path) -> str:
    config = folder / "nats-server.conf"
    return config.read_text() if config.exists() else ""


def test_start_failure_text_hides_the_password(tmp_path: Path) -> None:
    quoting = tmp_path / "nats-server"  # a server that quotes its config's password and fails
    quoting.write_text('#!/bin/sh\ngrep password "$2" >&2\nexit 1\n')
    quoting.chmod(0o755)
    server = EmbeddedServer(store_dir=tmp_path / "store", binary=quoting)
    with pytest.raises(EmbeddedServerError) as failure:
        server.start(ready_timeout=3)
    assert "password" in str(failure.value)
    assert server.system_password not in str(failure.value)
