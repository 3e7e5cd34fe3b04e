"""`Observer`: the one place the panes ask what the NATS system looks like.

It picks the best source it has, per question:

1. the **system account** (`SystemConnection`, when credentials were given or the embedded server
   made them): `$SYS.REQ.SERVER.PING.<KIND>` gathered from every server of the cluster;
2. the **monitoring endpoint(s)** (`--monitor URL[,URL...]`, the embedded server's own, or the
   connected server's host on port 8222, probed once at start);
3. the user's **own account** on the app's shared connection: `$SYS.REQ.ACCOUNT.PING.CONNZ`
   (connections and subscriptions of this account only; no server figures).

Each answer says which source gave it, which servers answered and whether it is partial, and
`status` says, for the Server pane, what was found, what was refused and what would give more.
The observer never subscribes to anything but its own reply inboxes, and creates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from jstui.nats.errors import JstuiError
from jstui.nats.observe.http import MonitorClient, MonitorError, probe_url
from jstui.nats.observe.model import (
    Connection,
    ServerSummary,
    as_int,
    as_text,
    connections_from_connz,
    jetstream_from_jsz,
    server_from_varz,
)
from jstui.nats.observe.system import GatherResult, SystemConnection, SystemError, gather
from jstui.nats.session import Session

__all__ = [
    "ConnectionsView",
    "Observer",
    "ObserverStatus",
    "ServerData",
    "ServersView",
    "SourceKind",
]

PROBE_TIMEOUT = 1.0
SYSTEM_RETRY_SECONDS = 30.0
EXPECTED_REFRESH_SECONDS = 30.0
SERVER_KINDS = ("VARZ", "JSZ", "CONNZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "HEALTHZ", "SUBSZ")

_log = logging.getLogger(__name__)


class SourceKind(StrEnum):
    SYSTEM = "system account"
    MONITOR = "monitoring endpoint"
    ACCOUNT = "own account"


@dataclass
class ObserverStatus:
    """What the observer can see, in words for the Server pane (never with a secret)."""

    monitor: str = "not tried"
    monitor_ok: bool = False
    system: str = (
        "no system credentials (--system-user/--system-password, --system-creds or "
        "--system-context)"
    )
    system_ok: bool = False
    account: str = "not asked yet"
    account_ok: bool | None = None

    def hint(self) -> str:
        """What would let jstui see more, or '' when it sees everything it can."""
        if self.system_ok:
            return ""
        wanted = ["system credentials (--system-user/--system-password or --system-creds)"]
        if not self.monitor_ok:
            wanted.append("a monitoring URL (--monitor http://host:8222)")
        return "for the whole server or cluster give " + " or ".join(wanted)


@dataclass(frozen=True)
class ConnectionsView:
    """Connections (with subscription detail) from one source at one moment."""

    connections: tuple[Connection, ...]
    source: SourceKind
    servers: tuple[str, ...]
    """The servers that answered."""
    partial: bool = False
    """Some connections or servers are missing (a page limit, a server that did not answer)."""
    note: str = ""
    seconds: float = 0.0
    """How long the question took."""


@dataclass(frozen=True)
class ServerData:
    """One server's answer to one kind of question (raw JSON, for the pane's own parsing)."""

    server: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ServersView:
    """Every server that answered: `/varz` with its JetStream figures joined."""

    servers: tuple[ServerSummary, ...]
    source: SourceKind
    note: str = ""
    seconds: float = 0.0


@dataclass
class _Expected:
    count: int = 0
    checked: float = field(default=0.0)


def _sys_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """HTTP-style options (as `MonitorClient` takes them) in `$SYS` JSON spelling."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if kind == "CONNZ" and key == "subs":
            out["subscriptions_detail" if value == "detail" else "subscriptions"] = True
        elif kind == "CONNZ" and key == "state":
            out["state"] = {"open": 0, "closed": 1, "all": 2}.get(str(value), 0)
        elif kind == "JSZ" and key == "consumers":
            out["consumer"] = bool(value)
        elif key == "leader-only":
            out["leader_only"] = bool(value)
        elif key == "acc":
            out["account" if kind == "JSZ" else "acc"] = value
        else:
            out[key] = value
    return out


def _http_params(options: dict[str, Any]) -> dict[str, Any]:
    return {
        key: ("true" if value is True else "false" if value is False else value)
        for key, value in options.items()
        if key != "filter_subject"  # HTTP /connz ignores it; filtered locally instead
    }


class Observer:
    """The observation sources of one app; `start()` once the session is connected."""

    def __init__(
        self,
        session: Session,
        *,
        monitor_urls: Sequence[str] = (),
        probe_monitor: bool = True,
        system: SystemConnection | None = None,
    ) -> None:
        self.session = session
        self.status = ObserverStatus()
        self._monitor_urls = [url for url in monitor_urls if url]
        self._probe = probe_monitor and not self._monitor_urls
        self._monitors: list[MonitorClient] = []
        self.system = system
        self._system_tried = 0.0
        self._expected = _Expected()
        self._started = False
        self._lock = asyncio.Lock()
        self.account = ""
        """The app connection's account, once known ('' before, or when not told)."""

    # -- sources -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Find the sources: build the monitoring clients (or probe port 8222 once), connect the
        system account. Safe to call again after a reconnect; it does the work once."""
        async with self._lock:
            if self._started:
                return
            self._started = True
            await asyncio.gather(
                self._find_monitors(), self._connect_system(), self._find_account()
            )
            if self.sees_servers and self.status.account_ok is None:
                self.status.account = "not needed: a wider source answers"

    async def _sources_found(self) -> None:
        """Questions wait until `start()` has found the sources. A pane can ask before the app's
        `start()` ran, or while it runs (a lazily built pane polls as soon as it is shown); an
        answer then would come from no source, or the own account, while the system account is
        still connecting. Before a connection there is nothing to find: no waiting then."""
        if self._started or self.session.connected:
            await self.start()

    async def _find_account(self) -> None:
        """The app's account (`$SYS.REQ.USER.INFO`, which any user may ask), for the filters."""
        if not self.session.connected:
            return
        with contextlib.suppress(JstuiError):
            result = await gather(self.session.nc, "$SYS.REQ.USER.INFO", {}, expected=1)
            for reply in result.answered:
                self.account = as_text(reply.data.get("account")) or self.account

    async def _find_monitors(self) -> None:
        urls = list(self._monitor_urls)
        probed = False
        if not urls and self._probe and self.session.connected:
            connected = self.session.nc.connected_url
            guess = probe_url(connected.geturl()) if connected else None
            if guess:
                urls, probed = [guess], True
        clients: list[MonitorClient] = []
        for url in urls:
            try:
                clients.append(MonitorClient(url, timeout=PROBE_TIMEOUT if probed else 2.0))
            except MonitorError as error:
                self.status.monitor = str(error)
        if not clients:
            if not urls:
                self.status.monitor = "none given (--monitor URL)"
            return
        # /varz, not /healthz: it proves the port is nats-server's and names the server
        # (/connz carries only the server's id).
        answers = await asyncio.gather(
            *(client.identify() for client in clients), return_exceptions=True
        )
        found = [
            client
            for client, answer in zip(clients, answers, strict=True)
            if isinstance(answer, dict)
        ]
        failed = [
            str(answer)  # MonitorError: its text names the URL
            for client, answer in zip(clients, answers, strict=True)
            if not isinstance(answer, dict)
        ]
        for client in clients:
            if client not in found:
                await client.aclose()
        self._monitors = found
        self.status.monitor_ok = bool(found)
        shown = ", ".join(client.shown_url for client in found)
        if probed:
            self.status.monitor = (
                f"found at {shown} (probed)"
                if found
                else f"not found on port 8222 of the server's host: {failed[0]}"
            )
        elif found:
            self.status.monitor = shown + (
                f"; not answering: {'; '.join(failed)}" if failed else ""
            )
        else:
            self.status.monitor = "not answering: " + "; ".join(failed)
        if found:
            for client in found:  # probed or not, a monitor answers in normal time from now on
                client.timeout = 2.0

    async def _connect_system(self) -> None:
        if self.system is None:
            return
        self._system_tried = time.monotonic()
        if await self.system.connect():
            self.status.system_ok = True
            self.status.system = f"connected to {self.system.shown_servers} as the system user"
            await self._refresh_expected(force=True)
        else:
            self.status.system_ok = False
            self.status.system = f"refused: {self.system.error}"

    async def _system_ready(self) -> bool:
        """True when the system connection can be used; retried now and then when it failed."""
        if self.system is None:
            return False
        if self.system.connected:
            self.status.system_ok = True
            return True
        if self.system.error and time.monotonic() - self._system_tried > SYSTEM_RETRY_SECONDS:
            await self._connect_system()
            return self.system.connected
        if not self.system.error:
            self.status.system = "system connection reconnecting"
        self.status.system_ok = False
        return False

    async def _refresh_expected(self, *, force: bool = False) -> None:
        """How many servers to expect in a gather: `statsz.active_servers` from a PING."""
        now = time.monotonic()
        if not force and now - self._expected.checked < EXPECTED_REFRESH_SECONDS:
            return
        self._expected.checked = now
        if self.system is None or not self.system.connected:
            return
        with contextlib.suppress(SystemError, JstuiError):
            result = await gather(self.system.nc, "$SYS.REQ.SERVER.PING", {})
            counts = [as_int(reply.data.get("active_servers")) for reply in result.answered]
            self._expected.count = max([len(result.answered), *counts], default=0)

    async def retarget(
        self, *, monitor_urls: Sequence[str] = (), system: SystemConnection | None = None
    ) -> None:
        """The app switched servers: close the old sources and find the new ones at the next
        `start()`. The object stays the same for whoever holds it (a group watch, a pane)."""
        async with self._lock:
            await self.close()
            self.status = ObserverStatus()
            self._monitor_urls = [url for url in monitor_urls if url]
            self._probe = not self._monitor_urls
            self.system = system
            self._system_tried = 0.0
            self._expected = _Expected()
            self._started = False
            self.account = ""

    async def close(self) -> None:
        for client in self._monitors:
            with contextlib.suppress(Exception):
                await client.aclose()
        self._monitors = []
        if self.system is not None:
            await self.system.close()

    @property
    def monitors(self) -> tuple[MonitorClient, ...]:
        return tuple(self._monitors)

    @property
    def sees_servers(self) -> bool:
        """Server-wide questions (varz, jsz, routes) can be answered."""
        return self.status.system_ok or self.status.monitor_ok

    # -- questions ---------------------------------------------------------------------------

    async def server_data(
        self, kind: str, options: dict[str, Any] | None = None
    ) -> tuple[list[ServerData], SourceKind | None, str]:
        """Every server's answer to `kind` (VARZ, JSZ, ROUTEZ, ...; options in HTTP spelling),
        from the system account or else the monitoring endpoint(s). Returns the answers, the
        source, and a note ('' when complete; why nothing, when no source can answer)."""
        kind = kind.upper()
        if kind not in SERVER_KINDS:
            raise ValueError(f"unknown server question {kind}")
        options = options or {}
        await self._sources_found()
        if await self._system_ready():
            assert self.system is not None
            await self._refresh_expected()
            gathered = await gather(
                self.system.nc,
                f"$SYS.REQ.SERVER.PING.{kind}",
                _sys_options(kind, options),
                expected=self._expected.count,
            )
            answers = [ServerData(reply.server, reply.data) for reply in gathered.answered]
            return answers, SourceKind.SYSTEM, self._gather_note(gathered)
        if self._monitors:
            path = f"/{kind.lower()}"
            params = _http_params(options)
            results = await asyncio.gather(
                *(
                    client.connz(
                        closed=options.get("state") == "closed",
                        subscriptions=options.get("subs") == "detail",
                        cid=options.get("cid"),
                    )
                    if kind == "CONNZ"
                    else client.get(path, params)
                    for client in self._monitors
                ),
                return_exceptions=True,
            )
            answers = []
            errors = []
            for client, result in zip(self._monitors, results, strict=True):
                if isinstance(result, dict):
                    name = result.get("server_name") or client.server_name or client.shown_url
                    answers.append(ServerData(str(name), result))
                else:
                    errors.append(str(result))
            return answers, SourceKind.MONITOR, "; ".join(errors)
        return [], None, self.status.hint() or "no source"

    def _gather_note(self, result: GatherResult) -> str:
        missing = self._expected.count - len(result.answered)
        parts = list(dict.fromkeys(result.errors))
        if missing > 0:
            parts.append(f"{missing} of {self._expected.count} servers did not answer")
        return "; ".join(parts)

    async def connections(
        self,
        *,
        filter_subject: str | None = None,
        closed: bool = False,
        subscriptions: bool = True,
        cid: int | None = None,
    ) -> ConnectionsView:
        """Connections with subscription detail, from the best source.

        `filter_subject` keeps the connections with a subscription on that subject (server-side
        with `$SYS`, where it makes the answer for one group tiny; locally for HTTP).
        `subscriptions=False` leaves the subscription lists out (a connections table needs only
        their count: the answer is about half as large); `cid` asks for that connection id only
        (on every server: ids are per server). Raises `JstuiError` with what was tried when no
        source answers.
        """
        await self._sources_found()
        start = time.perf_counter()
        options: dict[str, Any] = {"subs": "detail"} if subscriptions else {}
        if closed:
            options["state"] = "closed"
        if cid is not None:
            options["cid"] = cid
        if filter_subject and self.account:
            # `$SYS` filters by subject only within one account ("filter by subject only valid
            # with account filtering"): the app's own, where its queue groups live.
            options["filter_subject"] = filter_subject
            options["acc"] = self.account
        if self.sees_servers or await self._system_ready():
            answers, source, note = await self.server_data("CONNZ", options)
            if source is not None:
                connections = await _parse_connections(answers)
                if filter_subject:  # HTTP ignores the filter; without the account, $SYS too
                    connections = [
                        conn
                        for conn in connections
                        if any(sub.subject == filter_subject for sub in conn.subscriptions)
                    ]
                partial = bool(note) or any(answer.data.get("partial") for answer in answers)
                return ConnectionsView(
                    tuple(connections),
                    source,
                    tuple(answer.server for answer in answers),
                    partial,
                    note,
                    time.perf_counter() - start,
                )
        return await self._account_connections(options, start)

    async def _account_connections(self, options: dict[str, Any], start: float) -> ConnectionsView:
        options = {key: value for key, value in options.items() if key != "acc"}
        if not self.session.connected:
            raise JstuiError("not connected")
        result = await gather(
            self.session.nc, "$SYS.REQ.ACCOUNT.PING.CONNZ", _sys_options("CONNZ", options)
        )
        if not result.answered:
            reason = "; ".join(result.errors) or (
                "not permitted" if result.no_responders else "no answer"
            )
            self.status.account_ok = False
            self.status.account = f"denied: {reason}"
            hint = self.status.hint()
            raise JstuiError(
                f"this account's connections are not visible ({reason})"
                + (f"; {hint}" if hint else "")
            )
        self.status.account_ok = True
        self.status.account = "this account's connections and subscriptions"
        connections = [
            conn
            for reply in result.answered
            for conn in connections_from_connz(reply.data, reply.server)
        ]
        return ConnectionsView(
            tuple(connections),
            SourceKind.ACCOUNT,
            tuple(reply.server for reply in result.answered),
            bool(result.errors),
            "; ".join(result.errors) or "this account only",
            time.perf_counter() - start,
        )

    async def servers(self) -> ServersView:
        """Every server's `/varz`, with its `/jsz` joined; empty with a note when no source can
        answer (the own-account source has no server figures)."""
        start = time.perf_counter()
        (varz, source, note), (jsz, _, _) = await asyncio.gather(
            self.server_data("VARZ"), self.server_data("JSZ")
        )
        if source is None:
            return ServersView((), SourceKind.ACCOUNT, note)
        jetstream = {answer.server: jetstream_from_jsz(answer.data) for answer in jsz}
        summaries = []
        for answer in varz:
            summary = server_from_varz(answer.data)
            js = jetstream.get(summary.name) or jetstream.get(answer.server)
            if js is not None:
                summary = replace(summary, jetstream=js)
            summaries.append(summary)
        summaries.sort(key=lambda summary: summary.name)
        return ServersView(tuple(summaries), source, note, time.perf_counter() - start)

    def describe(self) -> str:
        """One line: the sources in use, for a pane's note."""
        if self.status.system_ok:
            return f"system account ({self.system.shown_servers if self.system else ''})"
        if self.status.monitor_ok:
            return "monitoring: " + ", ".join(client.shown_url for client in self._monitors)
        return "this account only ($SYS.REQ.ACCOUNT.PING.CONNZ)"


PARSE_IN_THREAD_CONNECTIONS = 200
"""Above this many connections the answers are turned into models in a worker thread: 1,000
take ~16 ms of Python, which the GIL then hands back to the event loop every few ms instead of
holding the loop for all of it."""


async def _parse_connections(answers: Sequence[ServerData]) -> list[Connection]:
    def parse() -> list[Connection]:
        return [
            conn
            for answer in answers
            for conn in connections_from_connz(answer.data, answer.server)
        ]

    count = sum(len(answer.data.get("connections") or ()) for answer in answers)
    return await asyncio.to_thread(parse) if count > PARSE_IN_THREAD_CONNECTIONS else parse()
