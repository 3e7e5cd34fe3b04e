"""How the servers of a cluster are linked, parsed from `/routez`, `/gatewayz` and `/leafz` (or
their `$SYS` twins), and the meta group's health as its leader sees it.

Data flow: the Server pane asks `Observer.server_data("ROUTEZ" | "GATEWAYZ" | "LEAFZ")` for every
server's raw answer; `links_from_answers` turns them into one `ServerLinks` per server (route
peers counted by distinct `remote_name`, since nats-server keeps a pool of several routes per peer
plus one pinned to the system account), and `meta_view` picks the replica health out of the meta
leader's own `/jsz` (followers report each other as not current, so only the leader's view is
true). Missing or mistyped fields give empty values, never an exception. Every text is untrusted:
the widgets sanitize it. Field names: `../shared/nats-notes.md` §14 "Cluster".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jstui.nats.observe.model import (
    Replica,
    ServerSummary,
    as_dict,
    as_int,
    as_list,
    as_text,
)

__all__ = [
    "Gateway",
    "LeafNode",
    "MetaView",
    "RoutePeer",
    "ServerLinks",
    "gateways_from_gatewayz",
    "leafs_from_leafz",
    "links_from_answers",
    "meta_view",
    "replica_state",
    "routes_from_routez",
]


@dataclass(frozen=True)
class RoutePeer:
    """Another server of the cluster this one has routes to (one or more connections)."""

    name: str
    connections: int
    rtt: str
    pending_bytes: int
    in_msgs: int
    out_msgs: int


@dataclass(frozen=True)
class Gateway:
    """A gateway to another cluster of a supercluster, outbound and/or inbound."""

    name: str
    outbound: bool
    inbound: int
    """How many inbound connections come from that cluster."""
    rtt: str


@dataclass(frozen=True)
class LeafNode:
    """A leaf node connection: a remote server (or hub) linked to this one."""

    name: str
    account: str
    address: str
    rtt: str
    spoke: bool
    subscriptions: int
    in_msgs: int
    out_msgs: int


@dataclass(frozen=True)
class ServerLinks:
    """One server's routes, gateways and leaf nodes."""

    server: str
    routes: tuple[RoutePeer, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    leafs: tuple[LeafNode, ...] = ()


def routes_from_routez(data: Any) -> tuple[RoutePeer, ...]:
    """Route peers of one `/routez` answer, one per distinct remote server, sorted by name."""
    peers: dict[str, list[dict[str, Any]]] = {}
    for raw in as_list(as_dict(data).get("routes")):
        route = as_dict(raw)
        if not route:
            continue
        name = as_text(route.get("remote_name")) or as_text(route.get("remote_id"))
        peers.setdefault(name, []).append(route)
    return tuple(
        RoutePeer(
            name=name,
            connections=len(routes),
            rtt=as_text(routes[0].get("rtt")),
            pending_bytes=sum(as_int(route.get("pending_size")) for route in routes),
            in_msgs=sum(as_int(route.get("in_msgs")) for route in routes),
            out_msgs=sum(as_int(route.get("out_msgs")) for route in routes),
        )
        for name, routes in sorted(peers.items())
    )


def gateways_from_gatewayz(data: Any) -> tuple[Gateway, ...]:
    """Gateways of one `/gatewayz` answer: `outbound_gateways` maps a cluster name to one
    connection, `inbound_gateways` maps it to a list of them."""
    body = as_dict(data)
    outbound = as_dict(body.get("outbound_gateways"))
    inbound = as_dict(body.get("inbound_gateways"))
    out: list[Gateway] = []
    for name in sorted({*outbound, *inbound}):
        remote = as_dict(outbound.get(name))
        incoming = as_list(inbound.get(name))
        connection = as_dict(remote.get("connection")) or as_dict(
            as_dict(incoming[0] if incoming else {}).get("connection")
        )
        out.append(
            Gateway(
                name=as_text(name),
                outbound=bool(remote),
                inbound=len(incoming),
                rtt=as_text(connection.get("rtt")),
            )
        )
    return tuple(out)


def leafs_from_leafz(data: Any) -> tuple[LeafNode, ...]:
    """Leaf node connections of one `/leafz` answer."""
    out: list[LeafNode] = []
    for raw in as_list(as_dict(data).get("leafs")):
        leaf = as_dict(raw)
        if not leaf:
            continue
        ip, port = as_text(leaf.get("ip")), as_int(leaf.get("port"))
        out.append(
            LeafNode(
                name=as_text(leaf.get("name")),
                account=as_text(leaf.get("account")),
                address=f"{ip}:{port}" if ip else "",
                rtt=as_text(leaf.get("rtt")),
                spoke=bool(leaf.get("is_spoke")),
                subscriptions=as_int(leaf.get("subscriptions")),
                in_msgs=as_int(leaf.get("in_msgs")),
                out_msgs=as_int(leaf.get("out_msgs")),
            )
        )
    return tuple(out)


def links_from_answers(
    routez: Iterable[tuple[str, Any]],
    gatewayz: Iterable[tuple[str, Any]] = (),
    leafz: Iterable[tuple[str, Any]] = (),
) -> dict[str, ServerLinks]:
    """One `ServerLinks` per server from `(server, raw answer)` pairs of each kind."""
    routes = {server: routes_from_routez(data) for server, data in routez}
    gateways = {server: gateways_from_gatewayz(data) for server, data in gatewayz}
    leafs = {server: leafs_from_leafz(data) for server, data in leafz}
    return {
        server: ServerLinks(
            server, routes.get(server, ()), gateways.get(server, ()), leafs.get(server, ())
        )
        for server in sorted({*routes, *gateways, *leafs})
    }


def replica_state(replica: Replica) -> str:
    """current, lagging or offline, as the group's leader sees the replica."""
    if replica.offline:
        return "offline"
    return "current" if replica.current else "lagging"


@dataclass(frozen=True)
class MetaView:
    """The JetStream meta group: its leader and the replicas' health in the leader's view."""

    cluster: str
    leader: str
    size: int
    replicas: tuple[Replica, ...]
    from_leader: bool
    """The replica health came from the leader's own answer (False: the leader did not answer,
    and no replica health is shown, since followers' views of each other are wrong)."""


def meta_view(servers: Sequence[ServerSummary]) -> MetaView | None:
    """The meta group from the servers' JetStream figures; None on a standalone server (no meta
    cluster) or without JetStream. Replicas come from the leader's answer only."""
    metas = [
        (server.name, server.jetstream.meta)
        for server in servers
        if server.jetstream is not None and server.jetstream.meta is not None
    ]
    if not metas:
        return None
    # The leader most servers name (during an election they may disagree for a moment).
    votes = Counter(meta.leader for _name, meta in metas if meta.leader)
    leader = votes.most_common(1)[0][0] if votes else ""
    own = next((meta for name, meta in metas if name == leader and meta.leader == leader), None)
    any_meta = own or metas[0][1]
    if not any_meta.leader and not any_meta.replicas and any_meta.size <= 1:
        return None  # a standalone server reports an empty meta group
    return MetaView(
        cluster=any_meta.name,
        leader=leader,
        size=any_meta.size,
        replicas=own.replicas if own is not None else (),
        from_leader=own is not None,
    )
