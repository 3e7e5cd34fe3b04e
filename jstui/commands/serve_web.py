"""The web server of `jstui serve`: textual-serve's `Server`, made safe to leave running.

textual-serve (read at 1.1.3, pinned in pyproject.toml) serves a page whose xterm.js terminal talks
over a WebSocket to one app process per browser. As shipped it has no authentication, no Origin
check, a page title that is the full command line, a font from a CDN, and a shutdown that waits
~24 s for connected browsers. `JstuiServer` overrides the smallest methods to fix that:

- `_make_app`: adds the guard middleware (below) and the route `/ws/{token}`. textual.js appends
  `?width=..` to the WebSocket URL it is given, so the token travels in the path there.
- `handle_index`: the page from `serve_page/app_index.html` (a copy of textual-serve's template
  with a `<title>`, no referrer, and the bundled Roboto Mono in place of the Google Fonts CSS),
  with URLs relative to the address the browser used, so binding 0.0.0.0 needs no public URL.
- `handle_websocket`: records the running sessions, so that `on_shutdown` can end them at once,
  and closes the page's WebSocket when its app process ends (see the method).
- `serve`: announces the address once the port listens; `on_startup` prints nothing (textual-serve
  prints the command line there).

The guard lets `/static/` through (textual-serve's JS, CSS, fonts: public files) and asks every
other request for the token (textual-serve's `/download/{key}` too, which textual.js asks without
it: jstui delivers no files); the WebSocket must also come from the page's own origin (any web
page the user opens may try `ws://127.0.0.1:8000`), and on a loopback address the Host header must
name a loopback host (a DNS-rebinding name is refused before the token is even looked at).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, log, to_int

PAGE_TEMPLATES = Path(__file__).resolve().parent / "serve_page"
SESSION_STOP_SECONDS = 1.0
"""How long the sessions may take to end their app processes when the server stops, before the
processes still running are killed (the promise is 2 s for all of `jstui serve`, the embedded
server's stop included; a session ends in ~0.2 s when its app quits as asked)."""
CLOSE_WAIT_SECONDS = 0.5
"""How long a closing WebSocket waits for the browser's answer (aiohttp's default: 10 s)."""
KILL_WAIT_SECONDS = 0.3
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1), brackets allowed."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tokens_match(given: str, token: str) -> bool:
    """The token check, in constant time (a timing difference must not spell the token out)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())


def same_origin(request: web.Request) -> bool:
    """True when the WebSocket comes from a page of this server: its Origin header names the
    scheme and host:port the request was sent to. Browsers always send Origin on a WebSocket;
    a request without one is refused too."""
    origin = request.headers.get("Origin", "")
    parts = urlsplit(origin)
    scheme = "https" if request.secure else "http"
    return parts.scheme == scheme and parts.netloc.lower() == request.host.lower()


class JstuiServer(Server):
    """textual-serve's `Server` with a token, an Origin check, jstui's page and a quick stop."""

    def __init__(
        self, command: str, *, host: str, port: int, token: str, announce: Callable[[], None]
    ) -> None:
        super().__init__(
            command, host=host, port=port, title="jstui", templates_path=PAGE_TEMPLATES
        )
        self.token = token
        self.announce = announce
        """Called once the port listens: prints the address to open."""
        self.loopback_only = is_loopback(host)
        self.sessions: dict[asyncio.Task[Any], AppService] = {}
        """The WebSocket handlers running, with the app process each drives."""
        self._closing: set[asyncio.Future[bool]] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        app.router.add_get("/ws/{token}", self.handle_websocket, name="websocket-token")
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        if self.loopback_only and not is_loopback(urlsplit(f"//{request.host}").hostname or ""):
            raise web.HTTPForbidden(text=f"jstui serve: unknown host {request.host!r}\n")
        given = request.match_info.get("token") or request.query.get("token", "")
        if not tokens_match(given, self.token):
            raise web.HTTPForbidden(
                text="jstui serve: open the address with the token that jstui serve printed "
                "at start (http://HOST:PORT/?token=...)\n"
            )
        if request.path.startswith("/ws") and not same_origin(request):
            raise web.HTTPForbidden(text="jstui serve: WebSocket from another origin refused\n")
        return await handler(request)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        scheme = "wss" if request.secure else "ws"
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{scheme}://{request.host}/ws/{self.token}",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler (1.1.3), changed in four ways: the session is recorded for
        `on_shutdown`; the WebSocket waits `CLOSE_WAIT_SECONDS`, not 10 s, for the browser to
        answer its close; it closes when the app process ends, also when the app never started
        (textual-serve would leave the page on its loading screen forever); and the session
        ends only once its app process has (`_reap`)."""
        websocket = web.WebSocketResponse(heartbeat=15, timeout=CLOSE_WAIT_SECONDS)

        async def close() -> None:
            await websocket.close()

        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service = AppService(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        session = asyncio.current_task()
        assert session is not None  # aiohttp runs every request in a task
        self.sessions[session] = app_service
        try:
            await websocket.prepare(request)
            await app_service.start(width, height)
            output = app_service._task  # the task forwarding the app's output; ends with it
            if output is not None:
                output.add_done_callback(lambda _: self._close_later(websocket))
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            try:
                await app_service.stop()
                await self._reap(app_service)
            finally:
                del self.sessions[session]
        return websocket

    async def _reap(self, app_service: AppService) -> None:
        """Make sure the session's app process ended: waited for, then killed. textual-serve stops
        reading an app's output when its browser is gone, so an app still starting then blocks on
        the full pipe and never reads the quit it was sent."""
        process = app_service._process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), SESSION_STOP_SECONDS)
        except TimeoutError:
            process.kill()

    def _close_later(self, websocket: web.WebSocketResponse) -> None:
        closing = asyncio.ensure_future(websocket.close())
        self._closing.add(closing)  # a strong reference until it is done
        closing.add_done_callback(self._closing.discard)

    def serve(self, debug: bool = False) -> None:
        """textual-serve's, but `announce` is called once the port listens (a browser opening the
        address at once must find it), SIGHUP ends it as SIGTERM does (the embedded server and
        the sessions are then stopped, not orphaned), and on a loop of its own."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # HUP: its terminal closed
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=lambda _running_on: self.announce(),
        )

    def initialize_logging(self) -> None:
        super().initialize_logging()
        # aiohttp's access log would print the token (in every page and WebSocket address) to
        # the terminal, a line per request.
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: `jstui serve` has printed the address with its token."""

    async def on_shutdown(self, app: web.Application) -> None:
        """End every session now: cancelled, textual-serve's handler closes the WebSocket and
        asks its app process to quit. Without it aiohttp waits for the browsers to go away. An
        app process still running after `SESSION_STOP_SECONDS` is killed."""
        sessions = dict(self.sessions)
        for task in sessions:
            task.cancel()
        if not sessions:
            return
        await asyncio.wait(sessions, timeout=SESSION_STOP_SECONDS)
        running = [
            process
            for app_service in sessions.values()
            if (process := app_service._process) is not None and process.returncode is None
        ]
        for process in running:
            process.kill()
        if running:
            ended = [asyncio.ensure_future(process.wait()) for process in running]
            await asyncio.wait(ended, timeout=KILL_WAIT_SECONDS)
