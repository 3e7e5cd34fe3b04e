"""The one NATS connection jstui shares between all its panes.

`Session` owns the nats-py client, its JetStream context and manager, and publishes the connection's
state to listeners (the app turns each change into a coalescing Textual message). It must be created
and connected inside the running event loop that the UI uses: nats-py binds its tasks to that loop.

The real server URLs (which may carry a password or token) go only to nats-py: the status it
publishes, the errors it raises and what it logs (`jstui.nats.session`: connects, state changes,
errors; `jstui.nats.calllog`: API calls) show them through `jstui.format.redact`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import nats
import nats.errors
from nats.aio.client import Client

if TYPE_CHECKING:  # nats-py's JetStream package loads on first use (see jstui.nats)
    from nats.js.client import JetStreamContext
    from nats.js.manager import JetStreamManager

from jstui.format.redact import redact_url
from jstui.nats import prepare_websocket
from jstui.nats.account import JetStreamUsage, jetstream_answers, usage_of
from jstui.nats.calllog import log_server_calls
from jstui.nats.client_fixes import apply_client_fixes, fail_refused_async_publishes
from jstui.nats.connect_errors import describe_connect_error, is_auth_error
from jstui.nats.errors import ConnectError, NotConnectedError, ReadOnlyError

CONNECT_TIMEOUT = 4.5
"""Seconds before a first connect gives up; the user must see a reason within 5 s."""
PING_INTERVAL = 5
MAX_OUTSTANDING_PINGS = 3
"""A connection that answers no PING for about 20 s is stale, and nats-py reconnects. Under an
unpaced flood a PONG was seen to take 2-4 s, so a busy connection is never taken for a dead one;
nats-py's default (two minutes, twice) left a dead connection looking alive for four minutes."""
READ_LOOP_CHECK_SECONDS = 1.0

_log = logging.getLogger(__name__)

RTT_PINGS = 3
"""Round trips per RTT reading (`Session.rtt`); the status line shows the shortest."""


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"
    FAILED = "failed"


@dataclass(frozen=True)
class Clocks:
    """Where jstui reads the time: `wall` (seconds since the epoch, for times of day and ages) and
    `monotonic` (for rates and round-trip times). The session carries the app's one `Clocks` and
    everything that shows a time reads it from there, so a test can stop time for a picture that
    does not move (tests/snapshots)."""

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class ConnectionStatus:
    """A snapshot of the connection, as the status line shows it."""

    state: ConnectionState = ConnectionState.CONNECTING
    url: str = ""
    server_name: str = ""
    server_version: str = ""
    server_id: str = ""
    cluster: str = ""
    servers_known: int = 0
    """Servers the client can fail over to (the URLs given and those the cluster announced)."""
    jetstream: bool = False
    error: str = ""
    since: float = 0.0
    """Wall-clock time the state began (0: not known)."""
    outage: Outage | None = None
    """The last time the connection was lost: still going while reconnecting."""


@dataclass(frozen=True)
class Outage:
    """A lost connection: when it was lost, when it came back (0 while it has not), and why,
    once jstui knows (the embedded server died; the server closed it as a slow consumer)."""

    lost: float
    back: float = 0.0
    cause: str = ""

    @property
    def seconds(self) -> float:
        return self.back - self.lost if self.back else 0.0


def _is_power_of_ten(count: int) -> bool:
    return count > 0 and str(count).rstrip("0") == "1"


StatusListener = Callable[[ConnectionStatus], None]


class ConnectionUser(Protocol):
    """What holds subscriptions or consumers on the connection (feeds, pools, responders,
    watches): `Session.switch_to` moves it to the new connection."""

    async def leave_connection(self) -> None:
        """On the old connection, still the session's: unsubscribe, delete what jstui made."""

    async def join_connection(self) -> None:
        """On the new connection: subscribe again; raise (a `JstuiError` with a one-line reason)
        when that cannot be done there (a stream that does not exist): the user is then
        stopped and the reason returned to the caller of `switch_to`."""


@dataclass
class Session:
    """The single connection: `await session.connect()` once, `await session.close()` at exit."""

    servers: Sequence[str] = field(repr=False)
    """The real URLs, for nats-py only; `shown_servers` is what may be displayed."""
    connect_options: dict[str, Any] = field(default_factory=dict, repr=False)
    jetstream_options: dict[str, Any] = field(default_factory=dict)
    read_only: bool = False
    name: str = "jstui"
    clocks: Clocks = field(default_factory=Clocks)
    status: ConnectionStatus = field(default_factory=ConnectionStatus)
    slow_consumer_drops: Counter[int] = field(default_factory=Counter)
    """Messages nats-py dropped per subscription id because its pending limit was reached."""
    callback_errors: int = 0
    """Exceptions raised inside subscription callbacks (nats-py reports them to error_cb)."""
    lost_client: tuple[str, int | None] = ("", None)
    """The server name and client id of the connection lost last (to ask the server why)."""
    _next_cause: str = field(default="", repr=False)
    _nc: Client | None = field(default=None, repr=False)
    _js: JetStreamContext | None = field(default=None, repr=False)
    _jsm: JetStreamManager | None = field(default=None, repr=False)
    _listeners: list[StatusListener] = field(default_factory=list, repr=False)
    _users: list[ConnectionUser] = field(default_factory=list, repr=False)
    _closing: bool = field(default=False, repr=False)
    _connect_errors: list[BaseException] = field(default_factory=list, repr=False)
    _connect_decided: asyncio.Event | None = field(default=None, repr=False)
    _watchdog: asyncio.Task[None] | None = field(default=None, repr=False)
    _generation: int = field(default=0, repr=False)
    """Bumped for each new client: callbacks of an older one (switched away from) are ignored."""
    _refusals_needed: int = field(default=2, repr=False)

    @property
    def shown_servers(self) -> str:
        """The server list as it may be shown or logged: user info masked."""
        return redact_url(", ".join(self.servers))

    @property
    def jetstream_api_prefix(self) -> str:
        """The JetStream API subject prefix: `$JS.API`, `$JS.<domain>.API`, or a custom prefix."""
        prefix = self.jetstream_options.get("prefix")
        if prefix:
            return str(prefix).rstrip(".")
        domain = self.jetstream_options.get("domain")
        return f"$JS.{domain}.API" if domain else "$JS.API"

    # -- state ---------------------------------------------------------------------------------

    def add_listener(self, listener: StatusListener) -> None:
        """Call `listener(status)` on every change of the connection state (on the loop thread)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _set_status(self, **changes: Any) -> None:
        previous, self.status = self.status, replace(self.status, **changes)
        status = self.status
        if (previous.state, previous.error) != (status.state, status.error):
            name, version = status.server_name, status.server_version
            server = f" ({name} v{version})" if name else ""
            error = f": {status.error}" if status.error else ""
            _log.info("%s %s%s%s", status.state, status.url, server, error)
        for listener in list(self._listeners):
            listener(self.status)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def nc(self) -> Client:
        if self._nc is None or self._nc.is_closed:
            raise NotConnectedError("not connected to a NATS server")
        return self._nc

    # The JetStream context and manager are made on first use, not at connect: making them
    # loads nats-py's JetStream package, which the frame saying "connected" does not wait for.

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            self._js = self._connected_client().jetstream(**self.jetstream_options)
            fail_refused_async_publishes(self._js)
        return self._js

    @property
    def jsm(self) -> JetStreamManager:
        if self._jsm is None:
            self._jsm = self._connected_client().jsm(prefix=self.jetstream_api_prefix)
        return self._jsm

    def _connected_client(self) -> Client:
        if self._nc is None:
            raise NotConnectedError("not connected to a NATS server")
        return self._nc

    def check_writable(self, action: str) -> None:
        """Raise `ReadOnlyError` for any change while jstui runs with --read-only.

        Every user-initiated change is checked here before anything is sent; a request, which
        is a change only on some subjects, in `RequestConsole.check_allowed`. The list of them,
        each with its test, is in tests/nats/test_read_only.py.
        """
        if self.read_only:
            raise ReadOnlyError(action)

    def dropped(self, sid: int) -> int:
        """How many messages nats-py dropped for this subscription (slow consumer)."""
        return self.slow_consumer_drops.get(sid, 0)

    # -- callbacks from nats-py: O(1), never raise -----------------------------------------------

    async def _on_error(self, exc: Exception, *, current: bool = True) -> None:
        if self._connect_decided is not None and not current:  # a connect under way
            self._connect_errors.append(exc)
            if is_auth_error(exc) or self._all_refused():
                self._connect_decided.set()
            return
        if not current:
            return  # an old connection being closed after a switch
        if isinstance(exc, nats.errors.SlowConsumerError):
            self.slow_consumer_drops[exc.sid] += 1
            return
        if not isinstance(exc, OSError | nats.errors.Error | asyncio.TimeoutError):
            self.callback_errors += 1
            if _is_power_of_ten(self.callback_errors):  # never once per message of a flood
                _log.info("subscription callback error #%d", self.callback_errors, exc_info=exc)
            return
        _log.debug("client error: %s", describe_connect_error(exc))
        if self.status.state is not ConnectionState.CONNECTING:
            self._set_status(error=describe_connect_error(exc))

    async def _on_disconnected(self) -> None:
        if not self._closing and self.status.state is ConnectionState.CONNECTED:
            self._lose_connection()

    def _lose_connection(self, **changes: Any) -> None:
        """The connection is gone: reconnecting from now, an outage begins."""
        now = self.clocks.wall()
        nc = self._nc
        self.lost_client = (self.status.server_name, nc.client_id if nc else None)
        self._set_status(
            state=ConnectionState.RECONNECTING,
            since=now,
            outage=Outage(lost=now, cause=self._next_cause),
            **changes,
        )
        self._next_cause = ""

    async def _on_reconnected(self) -> None:
        now = self.clocks.wall()
        outage = self.status.outage
        if outage is not None and not outage.back:
            outage = replace(outage, back=now)
        self._set_status(
            state=ConnectionState.CONNECTED,
            error="",
            since=now,
            outage=outage,
            **self._server_fields(),
        )

    def explain_outage(self, cause: str) -> None:
        """Say why the connection is lost (shown with the outage, and kept once it is back).
        Said while the client still thinks it is connected, it waits for the outage to come."""
        outage = self.status.outage
        if self.status.state is ConnectionState.RECONNECTING and outage is not None:
            self._set_status(outage=replace(outage, cause=cause))
        elif self.status.state is ConnectionState.CONNECTED:
            self._next_cause = cause

    def explain_last_outage(self, cause: str) -> None:
        """Say why the last outage happened, learnt after it ended (the server's reason)."""
        outage = self.status.outage
        if outage is not None:
            self._set_status(outage=replace(outage, cause=cause))

    async def _on_closed(self) -> None:
        if self.status.state is not ConnectionState.FAILED:
            self._set_status(state=ConnectionState.CLOSED)

    def _server_fields(self) -> dict[str, Any]:
        nc = self._nc
        if nc is None:
            return {}
        info: dict[str, Any] = getattr(nc, "_server_info", {}) or {}
        url = nc.connected_url
        return {
            "url": redact_url(url.geturl()) if url else "",
            "server_name": str(info.get("server_name", "")),
            "server_version": str(info.get("version", "")),
            "server_id": str(info.get("server_id", "")),
            "cluster": str(info.get("cluster", "")),
            "servers_known": len(nc.servers),
        }

    async def _on_discovered_server(self) -> None:
        self._set_status(**self._server_fields())  # a server joined: one more to fail over to

    # -- life cycle ------------------------------------------------------------------------------

    def _deciding_error(self) -> BaseException | None:
        """The error that explains the failed connect: a refusal of the credentials wins over
        the connection reset that often follows it (the server closes right after saying why)."""
        errors = self._connect_errors
        refusals = [error for error in errors if is_auth_error(error)]
        return refusals[-1] if refusals else (errors[-1] if errors else None)

    def _all_refused(self) -> bool:
        """Every server refused the connection twice: nothing listens there, no use waiting."""
        refused = sum(isinstance(e, ConnectionRefusedError) for e in self._connect_errors)
        return refused >= self._refusals_needed

    async def connect(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Connect, or raise `ConnectError` with a one-line reason within `timeout` seconds."""
        _log.info("connecting to %s", self.shown_servers)
        self._set_status(
            state=ConnectionState.CONNECTING,
            url=self.shown_servers,
            error="",
            since=self.clocks.wall(),
        )
        try:
            nc = await self._open(self.servers, self.connect_options, timeout)
        except ConnectError as exc:
            self._set_status(state=ConnectionState.FAILED, error=str(exc))
            raise
        await self._adopt(nc)

    async def _open(
        self, servers: Sequence[str], connect_options: dict[str, Any], timeout: float
    ) -> Client:
        """A new client connected to `servers`, or `ConnectError` within `timeout` seconds.

        nats-py on its own keeps retrying a closed port or a refused password for about two
        minutes, so the errors it reports are raced against the connect: an authorization failure
        ends the attempt at once, a refused port after a second try of every server (about 1 s),
        anything else when the timeout runs out. The client's callbacks change the status only
        while it is the session's client (`_generation`): an old one being closed says nothing.
        """
        shown = redact_url(", ".join(servers))
        self._connect_errors = []
        self._connect_decided = decided = asyncio.Event()
        self._refusals_needed = 2 * max(1, len(servers))
        generation = self._generation + 1

        def current(callback: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
            async def only_if_current() -> None:
                if generation == self._generation:
                    await callback()

            return only_if_current

        async def on_error(exc: Exception) -> None:
            await self._on_error(exc, current=generation == self._generation)

        options: dict[str, Any] = {
            "name": self.name,
            "connect_timeout": 2,
            "reconnect_time_wait": 1,
            "max_reconnect_attempts": -1,  # -1 is "forever"; 0 would also mean forever
            "ping_interval": PING_INTERVAL,
            "max_outstanding_pings": MAX_OUTSTANDING_PINGS,
            "error_cb": on_error,
            "disconnected_cb": current(self._on_disconnected),
            "reconnected_cb": current(self._on_reconnected),
            "closed_cb": current(self._on_closed),
            "discovered_server_cb": current(self._on_discovered_server),
            **connect_options,
        }
        prepare_websocket(servers)
        connect_task = asyncio.ensure_future(nats.connect(servers=list(servers), **options))
        decided_task = asyncio.ensure_future(decided.wait())
        await asyncio.wait(
            {connect_task, decided_task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        decided_task.cancel()
        self._connect_decided = None
        last_error = self._deciding_error()
        if not connect_task.done():
            connect_task.cancel()
            with contextlib.suppress(BaseException):
                await connect_task
            reason = describe_connect_error(last_error) if last_error else "timed out"
            raise ConnectError(f"cannot connect to {shown}: {reason}")
        try:
            nc = connect_task.result()
        except Exception as exc:
            reason = describe_connect_error(last_error or exc)
            raise ConnectError(f"cannot connect to {shown}: {reason}") from exc
        self._generation = generation
        return nc

    async def _adopt(self, nc: Client) -> None:
        """Make `nc` the session's connection: its fixes, JetStream contexts, the read-loop
        watchdog, and a status that names its server."""
        self._nc = nc
        apply_client_fixes(nc)
        log_server_calls(nc)
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog = asyncio.ensure_future(self._watch_read_loop())
        self._js = self._jsm = None  # (made from this client on first use)
        jetstream = await jetstream_answers(nc, self.jetstream_api_prefix)
        self._set_status(
            state=ConnectionState.CONNECTED,
            since=self.clocks.wall(),
            jetstream=jetstream,
            error="" if jetstream else "JetStream is not enabled for this account or server",
            **self._server_fields(),
        )

    async def _watch_read_loop(self) -> None:
        """Never show a connection as connected when its client has stopped reading.

        nats-py's read loop ends on any unexpected exception after only logging it, while the
        client still says "connected": every pane would freeze with a fresh-looking status. This
        waits on the read task itself (no wake-ups while all is well); if it ended while the
        client still says connected, the connection is handed to nats-py's own reconnect, and
        the status says why. While there is no connection it looks once a second.
        """
        while not self._closing:
            nc = self._nc
            reading = nc._reading_task if nc is not None and nc.is_connected else None
            if reading is None or reading.done():
                await asyncio.sleep(READ_LOOP_CHECK_SECONDS)
            else:
                await asyncio.wait([reading])  # never cancels it; returns when it ends
            if self._closing or nc is None or nc is not self._nc or not nc.is_connected:
                continue  # closing, a new client, or nats-py's reconnect: all as they should be
            reading = nc._reading_task
            if reading is not None and reading.done():
                self._lose_connection(
                    error="the client stopped reading from the server; reconnecting"
                )
                await nc._process_op_err(nats.errors.StaleConnectionError())

    async def reconnect_now(self) -> bool:
        """Drop the connection and let nats-py connect again at once (to the next server of the
        pool first). False when there is no live connection to drop: it is already trying."""
        nc = self._nc
        if nc is None or not nc.is_connected or self._closing:
            return False
        self.explain_outage("reconnect asked for from jstui")
        await nc._process_op_err(nats.errors.StaleConnectionError())
        return True

    # -- switching to another server -------------------------------------------------------------

    def add_user(self, user: ConnectionUser) -> None:
        """`user` holds subscriptions or consumers on the connection: `switch_to` moves it."""
        if user not in self._users:
            self._users.append(user)

    def remove_user(self, user: ConnectionUser) -> None:
        with contextlib.suppress(ValueError):
            self._users.remove(user)

    async def switch_to(
        self,
        servers: Sequence[str],
        connect_options: dict[str, Any] | None = None,
        jetstream_options: dict[str, Any] | None = None,
        timeout: float = CONNECT_TIMEOUT,
    ) -> dict[ConnectionUser, str]:
        """Connect to other servers and move every user there; returns the users that could not
        follow, with why (they are stopped). The new connection is made first: when it fails
        (`ConnectError`) nothing has changed. Then each user leaves the old connection (its
        subscriptions and the consumers jstui made there go), the session takes the new one and
        closes the old, and each user joins the new one."""
        if self._closing:
            raise NotConnectedError("the session is closed")
        options = self.connect_options if connect_options is None else connect_options
        nc = await self._open(servers, options, timeout)  # the generation moves to it now
        for user in list(self._users):
            with contextlib.suppress(Exception):  # the old server may be gone: nothing to undo
                await user.leave_connection()
        old = self._nc
        self.servers, self.connect_options = list(servers), options
        if jetstream_options is not None:
            self.jetstream_options = jetstream_options
        _log.info("switched to %s", self.shown_servers)
        self.lost_client = ("", None)
        self.status = replace(self.status, outage=None, url=self.shown_servers, cluster="")
        await self._adopt(nc)
        if old is not None and not old.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.close(), 2)
        stopped: dict[ConnectionUser, str] = {}
        for user in list(self._users):
            try:
                await user.join_connection()
            except Exception as error:  # whatever it was, the others still follow
                self.remove_user(user)
                stopped[user] = describe_connect_error(error)
        return stopped

    async def rtt(self) -> float | None:
        """Round-trip time to the server in seconds, or None when no PING was answered.

        The shortest of `RTT_PINGS` round trips, back to back: each is timed on the app's loop,
        so a frame being drawn (tens of ms) or a burst of messages being read when the PONG
        arrives adds its length to that one. A stall rarely spans all of them, and what it adds
        is the loop's delay, not the connection's.
        """
        if not self.connected:
            return None
        clock = self.clocks.monotonic
        shortest: float | None = None
        for _ in range(RTT_PINGS):
            start = clock()
            try:
                await self.nc.rtt(timeout=2)
            except (nats.errors.Error, TimeoutError, NotConnectedError):
                break  # (one timeout is 2 s: no more tries) the shortest so far, if any
            took = clock() - start
            shortest = took if shortest is None else min(shortest, took)
        return shortest

    async def jetstream_usage(self) -> JetStreamUsage | None:
        """The account's JetStream usage, or None when JetStream is off or unreachable."""
        if not self.connected or not self.status.jetstream:
            return None
        import nats.js.errors  # (the package the manager comes from, loaded on first use)

        try:
            info = await asyncio.wait_for(self.jsm.account_info(), 2)
        except (nats.js.errors.APIError, nats.errors.Error, TimeoutError, NotConnectedError):
            return None
        return usage_of(info)

    async def close(self, timeout: float = 3.0) -> None:
        """Drain (let in-flight work finish) within `timeout`, then close for good."""
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        nc, self._nc = self._nc, None
        self._js = self._jsm = None
        if nc is None or nc.is_closed:
            return
        try:
            await asyncio.wait_for(nc.drain(), timeout)
        except (nats.errors.Error, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            if not nc.is_closed:
                with contextlib.suppress(Exception):
                    await nc.close()
        self._set_status(state=ConnectionState.CLOSED)

    async def __aenter__(self) -> Session:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
