"""`jstui serve` without a browser: its safety (token, Origin, Host, title), how options reach the
app processes (the environment, not the command line), a jstui that cannot start, and the command
line's checks. The page itself in a real browser: test_serve_browser.py."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from jstui.commands.serve import exposure_warning, page_address, parse_listen, serve
from jstui.commands.serve_session import SESSION_ENV
from jstui.commands.serve_web import is_loopback
from tests.serve.helpers import Served, serving

ANSI = re.compile(r"\x1b\[[0-9;?<>=$]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serving() as running:
        yield running


async def status_of(url: str, **headers: str) -> int:
    async with aiohttp.ClientSession() as client, client.get(url, headers=headers) as response:
        return response.status


async def websocket_status(served: Served, path: str, origin: str | None) -> int:
    """The HTTP status of a WebSocket handshake to `path` (101 when accepted)."""
    headers = {} if origin is None else {"Origin": origin}
    async with aiohttp.ClientSession() as client:
        try:
            async with client.ws_connect(f"{served.base}{path}", headers=headers) as websocket:
                await websocket.close()
                return 101
        except aiohttp.WSServerHandshakeError as error:
            return error.status


async def screen_text(served: Served, needle: str, timeout: float = 20.0) -> str:
    """The app's terminal output through a WebSocket as the page opens it, escape sequences
    removed, read until `needle` shows (or the app ends)."""
    text = ""
    path = f"/ws/{served.token}?width=100&height=30"
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(f"{served.base}{path}", headers={"Origin": served.base}) as websocket,
    ):
        while needle not in text:
            message = await websocket.receive(timeout=timeout)
            if message.type is not aiohttp.WSMsgType.BINARY:
                break
            text += ANSI.sub("", message.data.decode(errors="replace"))
    return text


async def test_the_page_needs_the_token(served: Served) -> None:
    assert await status_of(served.address) == 200
    assert await status_of(f"{served.base}/") == 403
    assert await status_of(f"{served.base}/?token=wrong") == 403
    assert await status_of(f"{served.base}/?token={served.token[:-1]}") == 403
    assert await status_of(f"{served.base}/static/css/xterm.css") == 200  # public files


async def test_a_websocket_needs_the_token_and_the_page_origin(served: Served) -> None:
    token = served.token
    assert await websocket_status(served, f"/ws/{token}", served.base) == 101
    assert await websocket_status(served, "/ws", served.base) == 403
    assert await websocket_status(served, "/ws/wrong", served.base) == 403
    assert await websocket_status(served, f"/ws/{token}", "http://evil.example") == 403
    port = served.base.rsplit(":", 1)[1]
    assert await websocket_status(served, f"/ws/{token}", f"http://localhost:{port}") == 403
    assert await websocket_status(served, f"/ws/{token}", None) == 403


async def test_a_name_that_is_not_loopback_is_refused(served: Served) -> None:
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1."""
    port = served.base.rsplit(":", 1)[1]
    assert await status_of(served.address, Host=f"evil.example:{port}") == 403


async def test_the_page_has_jstui_as_title_and_asks_nothing_from_outside(served: Served) -> None:
    async with aiohttp.ClientSession() as client, client.get(served.address) as response:
        page = await response.text()
    assert "<title>jstui</title>" in page
    assert "serve_session" not in page and sys.executable not in page  # textual-serve's title
    addresses = re.findall(r"""(?:src|href)=["']([^"']+)""", page) + re.findall(
        r"""url\(["']?([^"')]+)""", page
    )
    assert addresses and all(address.startswith("/static/") for address in addresses)
    assert "fonts.googleapis" not in page


async def test_every_browser_gets_a_jstui_on_the_one_embedded_server(served: Served) -> None:
    """Two browsers at once: two app processes, both connected to the server serve started."""
    first, second = await asyncio.gather(
        screen_text(served, "connected"), screen_text(served, "connected")
    )
    server_url = re.search(r"nats://127\.0\.0\.1:\d+", served.read_output())
    assert server_url is not None
    for text in (first, second):
        assert "connected" in text
        assert server_url.group(0) in text  # the status line shows the server it connected to


async def test_the_options_reach_the_app_through_the_environment(served: Served) -> None:
    """While a browser is connected, its app process's command line holds no address and no
    password (ps shows a command line to everyone), and its environment holds both."""
    path = f"/ws/{served.token}?width=100&height=30"
    earlier = set(served.app_processes())  # sessions of other tests may still be ending
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(f"{served.base}{path}", headers={"Origin": served.base}) as websocket,
    ):
        await websocket.receive(timeout=20)  # the app has started
        (pid,) = set(served.app_processes()) - earlier
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        environment = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    session = json.loads(
        next(v for v in environment if v.startswith(f"{SESSION_ENV}=")).split("=", 1)[1]
    )
    server = session["server"]
    assert server["url"].startswith("nats://127.0.0.1:") and server["system_password"]
    assert server["url"] not in command and server["system_password"] not in command
    assert command.split("\0")[1:3] == ["-m", "jstui.commands.serve_session"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_no_app_process_outlives_serve_stopped_as_pages_close(signum: int) -> None:
    """One page closed while its jstui starts, two once connected, serve stopped at once (SIGTERM,
    or SIGHUP: its terminal closed): their app processes, still quitting, used to be left running
    (blocked on output nobody read); serve ends within 2 s either way."""
    apps: set[int] = set()

    async def close_early(served: Served) -> None:
        path = f"/ws/{served.token}?width=100&height=30"
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(f"{served.base}{path}", headers={"Origin": served.base}),
        ):
            await asyncio.sleep(0.3)
            apps.update(served.app_processes())

    with serving() as served:
        await asyncio.gather(
            close_early(served), screen_text(served, "connected"), screen_text(served, "connected")
        )
        apps.update(served.app_processes())
        stopped_in = served.stop(signum)
    assert len(apps) == 3, apps
    assert stopped_in < 2
    deadline = time.monotonic() + 3
    while any(Path(f"/proc/{pid}").exists() for pid in apps) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not [pid for pid in apps if Path(f"/proc/{pid}").exists()]


async def test_a_jstui_that_cannot_start_says_why_in_the_page(tmp_path: Path) -> None:
    log_file = tmp_path / "jstui.log"
    with serving("--log", str(log_file)) as served:
        log_file.unlink()
        log_file.mkdir()  # the app process's log cannot open now: it fails at start-up
        text = await screen_text(served, "Press q")
    assert "jstui could not start" in text
    assert "jstui.log" in text


def test_listen_takes_host_and_port() -> None:
    assert parse_listen("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_listen("[::1]:0") == ("::1", 0)
    assert parse_listen("0.0.0.0:80") == ("0.0.0.0", 80)
    assert page_address("::1", 9, "t") == "http://[::1]:9/?token=t"
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


@pytest.mark.parametrize("value", ["8000", "host", "host:port", ":8000", "::1:8000", "h:70000"])
def test_a_bad_listen_address_is_a_usage_error(value: str) -> None:
    result = CliRunner().invoke(serve, ["--listen", value])
    assert result.exit_code == 2
    assert "--listen" in result.output
    assert "HOST:PORT" in result.output or "IPv6" in result.output


def test_a_busy_port_is_a_usage_error_before_anything_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(serve, ["--listen", f"127.0.0.1:{port}"])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.output


def test_listening_beyond_this_machine_warns_and_offers_read_only() -> None:
    assert exposure_warning("127.0.0.1", read_only=False) is None
    warning = exposure_warning("0.0.0.0", read_only=False)
    assert warning is not None and "--read-only" in warning and "other machines" in warning
    with serving("--listen", "0.0.0.0:0") as served:  # the later --listen wins
        output = served.read_output()
        stopped_in = served.stop(signal.SIGINT)
    assert "WARNING: listening on 0.0.0.0" in output and "Consider --read-only" in output
    assert stopped_in < 2
