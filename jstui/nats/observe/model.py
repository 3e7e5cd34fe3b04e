"""Parsed observations: connections, subscriptions and servers, from any source.

HTTP monitoring answers and `$SYS` replies use the same field names for connections (`/connz`
and `CONNZ`), servers (`/varz` and `VARZ`) and JetStream (`/jsz` and `JSZ`); the functions here
turn either into frozen dataclasses, tolerating missing or mistyped fields (a server of another
version, or a hostile one, must not crash a pane). Every text field is untrusted: the widgets
sanitize it before display. Field names and formats: `../shared/nats-notes.md` §14.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "Connection",
    "JetStreamServer",
    "MetaCluster",
    "QueueMember",
    "Replica",
    "ServerSummary",
    "Subscription",
    "connections_from_connz",
    "jetstream_from_jsz",
    "parse_go_duration",
    "parse_time",
    "queue_members",
    "server_from_varz",
]


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def as_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return 0.0


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as nats-server writes it (nanoseconds, `Z`); None when absent or bad.

    Python 3.11's `fromisoformat` takes at most microseconds, so the fraction is cut to six digits.
    The zero time Go writes for "never" (`0001-01-01T00:00:00Z`) is None too.
    """
    text = as_text(value).strip()
    if not text or text.startswith("0001-01-01"):
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns|d|y)")


def parse_go_duration(value: Any) -> float | None:
    """Seconds in a Go duration string as `/connz` writes it (`"1h2m3.5s"`, `"817µs"`, `"2d3h"`:
    nats-server adds `d` and `y`); None when it is not one."""
    text = as_text(value).strip()
    if not text:
        return None
    total = 0.0
    position = 0
    for match in _GO_PART.finditer(text):
        if match.start() != position:
            return None
        unit = match.group(2)
        scale = {"d": 86400.0, "y": 365 * 86400.0}.get(unit) or _GO_UNITS[unit]
        total += float(match.group(1)) * scale
        position = match.end()
    return total if position == len(text) and position else None


@dataclass(frozen=True)
class Subscription:
    """One subscription of a connection, as the server sees it."""

    subject: str
    queue: str
    """The queue group; empty for a plain subscription."""
    sid: str
    msgs: int
    """Messages the server delivered to it (redeliveries included)."""
    cid: int
    server: str


@dataclass(frozen=True)
class Connection:
    """One client connection on one server (`cid` is unique per server only)."""

    server: str
    cid: int
    name: str
    ip: str
    port: int
    lang: str
    version: str
    account: str
    start: datetime | None
    last_activity: datetime | None
    uptime: str
    idle: str
    rtt: str
    pending_bytes: int
    in_msgs: int
    out_msgs: int
    in_bytes: int
    out_bytes: int
    subscription_count: int
    subscriptions: tuple[Subscription, ...]
    closed: bool = False
    reason: str = ""
    stop: datetime | None = None

    @property
    def key(self) -> str:
        """Unique over a cluster: the server and the connection id."""
        return f"{self.server}/{self.cid}"

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}" if self.ip else ""

    @property
    def client(self) -> str:
        """Client library and version, e.g. ``python3 2.16.0``."""
        return " ".join(part for part in (self.lang, self.version) if part)

    @property
    def label(self) -> str:
        """The connection's name, or its address and client library when it has none."""
        if self.name:
            return self.name
        return " ".join(part for part in (self.address, self.client) if part) or f"cid {self.cid}"


def _subscription(raw: Any, cid: int, server: str) -> Subscription | None:
    entry = as_dict(raw)
    subject = as_text(entry.get("subject"))
    if not subject:
        return None
    return Subscription(
        subject=subject,
        queue=as_text(entry.get("qgroup")),
        sid=as_text(entry.get("sid")),
        msgs=as_int(entry.get("msgs")),
        cid=as_int(entry.get("cid")) or cid,
        server=server,
    )


def connections_from_connz(data: Any, server: str = "") -> list[Connection]:
    """The connections of one `/connz` answer (or the `data` of one `CONNZ` reply).

    `server` names the server that answered (the `server_id` field is used when not given).
    """
    body = as_dict(data)
    server = server or as_text(body.get("server_name")) or as_text(body.get("server_id"))
    out: list[Connection] = []
    for raw in as_list(body.get("connections")):
        conn = as_dict(raw)
        if not conn:
            continue
        cid = as_int(conn.get("cid"))
        subs = tuple(
            sub
            for sub in (
                _subscription(item, cid, server)
                for item in as_list(conn.get("subscriptions_list_detail"))
            )
            if sub is not None
        )
        if not subs:
            # Without `subs=detail`, `subscriptions_list` holds the bare subjects.
            subs = tuple(
                Subscription(subject, "", "", 0, cid, server)
                for subject in as_list(conn.get("subscriptions_list"))
                if isinstance(subject, str) and subject
            )
        out.append(
            Connection(
                server=server,
                cid=cid,
                name=as_text(conn.get("name")),
                ip=as_text(conn.get("ip")),
                port=as_int(conn.get("port")),
                lang=as_text(conn.get("lang")),
                version=as_text(conn.get("version")),
                account=as_text(conn.get("account")),
                start=parse_time(conn.get("start")),
                last_activity=parse_time(conn.get("last_activity")),
                uptime=as_text(conn.get("uptime")),
                idle=as_text(conn.get("idle")),
                rtt=as_text(conn.get("rtt")),
                pending_bytes=as_int(conn.get("pending_bytes")),
                in_msgs=as_int(conn.get("in_msgs")),
                out_msgs=as_int(conn.get("out_msgs")),
                in_bytes=as_int(conn.get("in_bytes")),
                out_bytes=as_int(conn.get("out_bytes")),
                subscription_count=as_int(conn.get("subscriptions")) or len(subs),
                subscriptions=subs,
                closed="stop" in conn or "reason" in conn,
                reason=as_text(conn.get("reason")),
                stop=parse_time(conn.get("stop")),
            )
        )
    return out


@dataclass(frozen=True)
class Replica:
    """A peer of a RAFT group (the meta group, a stream or a consumer), as its leader sees it."""

    name: str
    current: bool
    active_ns: int
    """Nanoseconds since it was last heard from."""
    lag: int
    offline: bool


def replicas_from(raw: Any) -> tuple[Replica, ...]:
    return tuple(
        Replica(
            name=as_text(entry.get("name")),
            current=bool(entry.get("current")),
            active_ns=as_int(entry.get("active")),
            lag=as_int(entry.get("lag")),
            offline=bool(entry.get("offline")),
        )
        for entry in (as_dict(item) for item in as_list(raw))
        if entry
    )


@dataclass(frozen=True)
class MetaCluster:
    """JetStream's meta group: who leads the cluster-wide JetStream state."""

    name: str
    leader: str
    size: int
    replicas: tuple[Replica, ...]


@dataclass(frozen=True)
class JetStreamServer:
    """JetStream on one server (`/jsz` or `JSZ`)."""

    streams: int
    consumers: int
    messages: int
    bytes: int
    memory: int
    storage: int
    api_total: int
    api_errors: int
    meta: MetaCluster | None


def jetstream_from_jsz(data: Any) -> JetStreamServer | None:
    """One server's JetStream figures; None when JetStream is off there."""
    body = as_dict(data)
    if not body or body.get("disabled") is True:
        return None
    api = as_dict(body.get("api"))
    meta_raw = as_dict(body.get("meta_cluster"))
    meta = (
        MetaCluster(
            name=as_text(meta_raw.get("name")),
            leader=as_text(meta_raw.get("leader")),
            size=as_int(meta_raw.get("cluster_size")),
            replicas=replicas_from(meta_raw.get("replicas")),
        )
        if meta_raw
        else None
    )
    return JetStreamServer(
        streams=as_int(body.get("streams")),
        consumers=as_int(body.get("consumers")),
        messages=as_int(body.get("messages")),
        bytes=as_int(body.get("bytes")),
        memory=as_int(body.get("memory")),
        storage=as_int(body.get("storage")),
        api_total=as_int(api.get("total")),
        api_errors=as_int(api.get("errors")),
        meta=meta,
    )


@dataclass(frozen=True)
class ServerSummary:
    """One server's `/varz` (or `VARZ` reply), with its JetStream figures when known."""

    name: str
    server_id: str
    version: str
    cluster: str
    host: str
    port: int
    start: datetime | None
    now: datetime | None
    uptime: str
    cpu: float
    """Percent of one core."""
    mem: int
    """Resident bytes."""
    cores: int
    connections: int
    total_connections: int
    subscriptions: int
    slow_consumers: int
    in_msgs: int
    out_msgs: int
    in_bytes: int
    out_bytes: int
    routes: int
    remotes: int
    leafnodes: int
    gateways: tuple[str, ...]
    jetstream: JetStreamServer | None = None


def server_from_varz(data: Any) -> ServerSummary:
    body = as_dict(data)
    cluster = as_dict(body.get("cluster"))
    gateway = as_dict(body.get("gateway"))
    gateways = tuple(
        as_text(as_dict(item).get("name"))
        for item in as_list(gateway.get("gateways"))
        if as_dict(item).get("name")
    )
    return ServerSummary(
        name=as_text(body.get("server_name")) or as_text(body.get("server_id")),
        server_id=as_text(body.get("server_id")),
        version=as_text(body.get("version")),
        cluster=as_text(cluster.get("name")),
        host=as_text(body.get("host")),
        port=as_int(body.get("port")),
        start=parse_time(body.get("start")),
        now=parse_time(body.get("now")),
        uptime=as_text(body.get("uptime")),
        cpu=as_float(body.get("cpu")),
        mem=as_int(body.get("mem")),
        cores=as_int(body.get("cores")),
        connections=as_int(body.get("connections")),
        total_connections=as_int(body.get("total_connections")),
        subscriptions=as_int(body.get("subscriptions")),
        slow_consumers=as_int(body.get("slow_consumers")),
        in_msgs=as_int(body.get("in_msgs")),
        out_msgs=as_int(body.get("out_msgs")),
        in_bytes=as_int(body.get("in_bytes")),
        out_bytes=as_int(body.get("out_bytes")),
        routes=as_int(body.get("routes")),
        remotes=as_int(body.get("remotes")),
        leafnodes=as_int(body.get("leafnodes")),
        gateways=gateways,
    )


@dataclass(frozen=True)
class QueueMember:
    """One subscription in a queue group with the connection that holds it."""

    connection: Connection
    subscription: Subscription

    @property
    def key(self) -> str:
        """Unique over a cluster: server, connection id and subscription id."""
        return f"{self.connection.key}/{self.subscription.sid}"

    @property
    def cid(self) -> int:
        return self.connection.cid

    @property
    def name(self) -> str:
        """The connection's name (may be empty); untrusted: sanitize before display."""
        return self.connection.name

    @property
    def label(self) -> str:
        return self.connection.label

    @property
    def delivered(self) -> int:
        """Messages the server delivered to this subscription since its connection connected."""
        return self.subscription.msgs


def queue_members(
    connections: Iterable[Connection],
    subject: str,
    queue: str,
    *,
    exclude: Callable[[Connection], bool] = lambda _conn: False,
) -> list[QueueMember]:
    """The subscriptions on `subject` in group `queue`, except on connections `exclude` rejects
    (jstui's own), ordered by server, connection and subscription id."""
    members = [
        QueueMember(conn, sub)
        for conn in connections
        if not exclude(conn)
        for sub in conn.subscriptions
        if sub.subject == subject and sub.queue == queue
    ]
    members.sort(key=lambda m: (m.connection.server, m.cid, as_int(m.subscription.sid)))
    return members
