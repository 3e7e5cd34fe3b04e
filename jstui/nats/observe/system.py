"""`$SYS` requests gathered from every server that answers, and the system-account connection.

A `$SYS.REQ.SERVER.PING.<KIND>` request (system user) or `$SYS.REQ.ACCOUNT.PING.CONNZ` (any
user, its own account) is answered once per server: `gather` publishes once with a fresh inbox as
the reply subject and collects until as many servers as expected have answered, or no reply came
for `quiet` seconds after the last one, or `timeout` passed. Replies are
`{"server": {...}, "data": {...}}` (`"statsz"` instead of `"data"` for PING/STATSZ; `"error"`
when refused); `ServerReply` holds either. JSON is decoded off the event loop when large.

`SystemConnection` is jstui's second connection, authenticated as the system user and used only
for these requests; the app's data traffic stays on the shared `Session`. The parameter
spellings of `$SYS` JSON differ from HTTP's (`../shared/nats-notes.md` §14): `subscriptions_detail`,
`filter_subject`, `consumer` (singular), `leader_only`, `account`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.format.redact import redact_url
from jstui.nats import prepare_websocket
from jstui.nats.client_fixes import apply_client_fixes
from jstui.nats.errors import JstuiError
from jstui.nats.observe.http import decode_json
from jstui.nats.observe.model import as_dict, as_int, as_text

__all__ = ["GatherResult", "ServerReply", "SystemConnection", "SystemError", "gather"]

DEFAULT_TIMEOUT = 1.5
DEFAULT_QUIET = 0.15
"""After the last reply, how long to wait for another when the number of servers is unknown:
replies from a loopback cluster arrive within 1-5 ms, outliers 9-13 ms."""
MAX_REPLIES = 1_000
_STATUS_HEADER = "Status"

_log = logging.getLogger(__name__)


class SystemError(JstuiError):
    """A `$SYS` request could not be made (not permitted, no connection)."""


@dataclass(frozen=True)
class ServerReply:
    """One server's answer: who answered, and its data or its error."""

    server: str
    server_id: str
    cluster: str
    version: str
    data: dict[str, Any]
    error: str = ""


@dataclass(frozen=True)
class GatherResult:
    replies: tuple[ServerReply, ...]
    no_responders: bool
    """The server said nobody answers this subject (a 503): the request is not permitted or the
    subject does not exist for this user."""
    seconds: float
    bytes: int

    @property
    def answered(self) -> tuple[ServerReply, ...]:
        """The replies with data (not errors)."""
        return tuple(reply for reply in self.replies if not reply.error)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(reply.error for reply in self.replies if reply.error)


def _reply(body: Any) -> ServerReply | None:
    message = as_dict(body)
    if not message:
        return None
    server = as_dict(message.get("server"))
    error = as_dict(message.get("error"))
    data = message.get("data")
    if data is None:
        data = message.get("statsz")
    if data is None and "server" not in message:
        data = message  # IDZ is flat: {name, host, id}
    return ServerReply(
        server=as_text(server.get("name")) or as_text(server.get("id")),
        server_id=as_text(server.get("id")),
        cluster=as_text(server.get("cluster")),
        version=as_text(server.get("ver")),
        data=as_dict(data),
        error=(
            f"{as_text(error.get('description')) or 'error'} ({as_int(error.get('code'))})"
            if error
            else ""
        ),
    )


async def gather(
    nc: Client,
    subject: str,
    options: dict[str, Any] | None = None,
    *,
    expected: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    quiet: float = DEFAULT_QUIET,
) -> GatherResult:
    """Publish `options` (JSON) to `subject` once and collect the replies of every server.

    Stops at `expected` replies (when > 0), after `quiet` seconds without a new reply, or at
    `timeout`. Nothing is consumed or created: an inbox subscription lives only for the call.
    """
    if not nc.is_connected:
        raise SystemError("not connected")
    bodies: list[bytes] = []
    no_responders = False
    arrived = asyncio.Event()

    async def on_reply(msg: Msg) -> None:
        nonlocal no_responders
        if not msg.data and msg.headers and msg.headers.get(_STATUS_HEADER) == "503":
            no_responders = True
        elif len(bodies) < MAX_REPLIES:
            bodies.append(msg.data)
        arrived.set()

    inbox = nc.new_inbox()
    start = time.perf_counter()
    sub = await nc.subscribe(inbox, cb=on_reply, pending_bytes_limit=64 << 20)
    try:
        await nc.publish(subject, json.dumps(options or {}).encode(), reply=inbox)
        deadline = start + timeout
        while not no_responders and not (expected and len(bodies) >= expected):
            now = time.perf_counter()
            if now >= deadline:
                break
            wait = deadline - now if not bodies else min(quiet, deadline - now)
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), wait)
            except TimeoutError:
                if bodies:
                    break  # quiet since the last reply: every server that will answer has
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    seconds = time.perf_counter() - start
    replies: list[ServerReply] = []
    for body in bodies:
        try:
            parsed = _reply(await decode_json(body))
        except ValueError:
            continue
        if parsed is not None:
            replies.append(parsed)
    size = sum(len(body) for body in bodies)
    _log.debug(
        "gather %s: %d replies, %d bytes in %.1f ms%s",
        subject,
        len(replies),
        size,
        seconds * 1000,
        " (no responders)" if no_responders else "",
    )
    return GatherResult(tuple(replies), no_responders, seconds, size)


class SystemConnection:
    """A connection as the system user, for `$SYS.REQ.SERVER.PING.*` only.

    `connect_options` are the nats-py keyword arguments for its credentials (user/password or a
    creds file, and TLS when the app uses it); the URLs may hold a secret and are shown masked.
    """

    def __init__(self, servers: Sequence[str], connect_options: dict[str, Any]) -> None:
        self.servers = list(servers)
        self._options = connect_options
        self._nc: Client | None = None
        self.error = ""
        """Why the last connect failed (masked); empty when connected or never tried."""

    @property
    def shown_servers(self) -> str:
        return ", ".join(redact_url(url) for url in self.servers)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def nc(self) -> Client:
        if self._nc is None or not self._nc.is_connected:
            raise SystemError("the system-account connection is not up")
        return self._nc

    async def connect(self, timeout: float = 4.0) -> bool:
        """Connect once (nats-py reconnects by itself afterwards); False with `error` set.

        nats-py retries a refused password for minutes on its own, so the attempt is bounded by
        `timeout` and the last error it reported becomes the reason."""
        errors: list[str] = []

        async def note_error(exc: Exception) -> None:
            errors.append(str(exc) or type(exc).__name__)
            _log.debug("system connection: %s", redact_url(errors[-1]))

        prepare_websocket(self.servers)
        try:
            self._nc = await asyncio.wait_for(
                nats.connect(
                    servers=self.servers,
                    name="jstui (system)",
                    connect_timeout=min(2.0, timeout),
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    error_cb=note_error,
                    **self._options,
                ),
                timeout,
            )
        except Exception as exc:  # every failure is a reason shown in the pane
            reason = errors[-1] if errors else (str(exc) or type(exc).__name__)
            if isinstance(exc, TimeoutError) and not errors:
                reason = "timed out"
            elif isinstance(exc, nats.errors.NoServersError) and not errors:
                reason = "no server answered"
            self.error = redact_url(reason)
            _log.info("system connection to %s failed: %s", self.shown_servers, self.error)
            self._nc = None
            return False
        apply_client_fixes(self._nc)
        self.error = ""
        _log.info("system connection to %s up", self.shown_servers)
        return True

    async def close(self) -> None:
        nc, self._nc = self._nc, None
        if nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), 2.0)
