"""WebSocket servers, and the start-up that does not import aiohttp for them.

nats-py's transport imports aiohttp (its WebSocket transport) at its own import when aiohttp is
installed; `jstui serve` installs it. jstui imports nats-py with aiohttp hidden and hands it over
only for a ``ws://`` server (jstui/nats/__init__.py): these tests check both halves against a
real nats-server with WebSocket on.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jstui.nats.embedded import find_nats_server, free_port


def test_starting_jstui_does_not_import_aiohttp() -> None:
    pytest.importorskip("aiohttp")
    script = (
        "import sys, jstui.cli, jstui.app, jstui.nats.session\n"
        "import nats.aio.transport as transport\n"
        "print('aiohttp' in sys.modules, transport.aiohttp is None)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


@pytest.fixture
def websocket_server(tmp_path: Path) -> Iterator[str]:
    port, ws_port = free_port(), free_port()
    config = tmp_path / "ws.conf"
    config.write_text(
        f'listen: 127.0.0.1:{port}\nwebsocket {{ listen: "127.0.0.1:{ws_port}"\n no_tls: true }}\n'
    )
    process = subprocess.Popen(
        [str(find_nats_server()), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"ws://127.0.0.1:{ws_port}"
    finally:
        process.kill()
        process.wait()


def test_session_connects_to_a_websocket_server(websocket_server: str) -> None:
    """In a fresh interpreter, as jstui runs: nats-py was imported without aiohttp, and the
    session hands it over for the ``ws://`` URL."""
    pytest.importorskip("aiohttp")
    script = """
import asyncio, sys
from jstui.nats.session import ConnectionState, Session

async def main(url):
    session = Session([url])
    await session.connect(timeout=10)
    assert session.status.state is ConnectionState.CONNECTED, session.status
    sub = await session.nc.subscribe("ws.check")
    await session.nc.publish("ws.check", b"over a websocket")
    msg = await sub.next_msg(timeout=5)
    await session.close()
    print(msg.data.decode())

asyncio.run(main(sys.argv[1]))
"""
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, websocket_server],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "over a websocket", out.stderr
