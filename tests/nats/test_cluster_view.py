"""Cluster links, the meta group and stream placement, parsed from what servers answer: shapes
measured on nats-server 2.15.1 (see ../shared/nats-notes.md §14), then real servers: the
session's standalone one, and the 3-node `cluster`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.observe.cluster_view import (
    gateways_from_gatewayz,
    leafs_from_leafz,
    links_from_answers,
    meta_view,
    replica_state,
    routes_from_routez,
)
from jstui.nats.observe.model import ServerSummary, jetstream_from_jsz, server_from_varz
from jstui.nats.observe.observer import Observer
from jstui.nats.observe.system import SystemConnection
from jstui.nats.session import Session
from jstui.nats.streams.placement import placement_from_raw
from jstui.nats.streams.service import StreamService


def _route(remote: str, rid: int, **extra: Any) -> dict[str, Any]:
    return {"rid": rid, "remote_name": remote, "rtt": "1ms", "in_msgs": 2, "out_msgs": 3, **extra}


def test_route_peers_are_counted_by_remote_name_not_by_connection() -> None:
    # A pool of 3 routes plus one pinned to the system account per peer: 8 routes, 2 peers.
    routez = {
        "num_routes": 8,
        "routes": [_route("n2", i) for i in range(4)] + [_route("n3", 10 + i) for i in range(4)],
    }
    peers = routes_from_routez(routez)
    assert [(peer.name, peer.connections) for peer in peers] == [("n2", 4), ("n3", 4)]
    assert peers[0].in_msgs == 8 and peers[0].out_msgs == 12
    assert routes_from_routez({"routes": None}) == () == routes_from_routez("garbage")


def test_gateways_join_outbound_and_inbound_and_leafs_are_listed() -> None:
    gatewayz = {
        "outbound_gateways": {"east": {"configured": True, "connection": {"rtt": "2ms"}}},
        "inbound_gateways": {"east": [{"connection": {}}], "west": [{}, {}]},
    }
    east, west = gateways_from_gatewayz(gatewayz)
    assert (east.name, east.outbound, east.inbound, east.rtt) == ("east", True, 1, "2ms")
    assert (west.name, west.outbound, west.inbound) == ("west", False, 2)
    [leaf] = leafs_from_leafz(
        {"leafs": [{"name": "edge", "account": "APP", "ip": "10.0.0.2", "port": 7422}, "bad"]}
    )
    assert (leaf.name, leaf.account, leaf.address) == ("edge", "APP", "10.0.0.2:7422")
    links = links_from_answers([("n1", {"routes": [_route("n2", 1)]})], [("n1", gatewayz)])
    assert [peer.name for peer in links["n1"].routes] == ["n2"]
    assert len(links["n1"].gateways) == 2 and links["n1"].leafs == ()


def _server(name: str, leader: str, replicas: list[dict[str, Any]]) -> ServerSummary:
    summary = server_from_varz({"server_name": name, "server_id": name.upper()})
    jsz = {
        "streams": 1,
        "meta_cluster": {
            "name": "c1",
            "leader": leader,
            "cluster_size": 3,
            "replicas": replicas,
        },
    }
    return replace(summary, jetstream=jetstream_from_jsz(jsz))


def test_meta_replicas_come_from_the_leader_only() -> None:
    # A follower (n1) sees the other follower as not current; the leader (n2) sees both current.
    follower = _server(
        "n1", "n2", [{"name": "n2", "current": True}, {"name": "n3", "current": False}]
    )
    leader = _server(
        "n2",
        "n2",
        [{"name": "n1", "current": True}, {"name": "n3", "current": True, "active": 5}],
    )
    meta = meta_view([follower, leader])
    assert meta is not None and meta.from_leader and meta.leader == "n2"
    assert [(r.name, replica_state(r)) for r in meta.replicas] == [
        ("n1", "current"),
        ("n3", "current"),
    ]
    # Without the leader's answer no replica health is guessed from a follower's view.
    alone = meta_view([follower])
    assert alone is not None and not alone.from_leader and alone.replicas == ()
    offline = _server("n2", "n2", [{"name": "n3", "current": False, "offline": True}])
    assert meta_view([offline]).replicas[0].offline  # type: ignore[union-attr]
    assert meta_view([server_from_varz({"server_name": "solo"})]) is None


def test_placement_is_none_on_a_standalone_server_and_parsed_in_a_cluster() -> None:
    assert placement_from_raw({"cluster": {"leader": "jstui-embedded"}}) is None
    raw = {
        "cluster": {
            "name": "c1",
            "leader": "n1",
            "replicas": [
                {"name": "n2", "current": True, "active": 1_000_000},
                {"name": "n3", "current": False, "active": 9_000_000_000, "lag": 42},
            ],
        },
        "mirror": {"name": "ORIGIN", "lag": 3, "active": 2_000_000_000},
        "sources": [{"name": "A", "filter_subject": "a.>", "external": {"api": "$JS.hub.API"}}],
    }
    placement = placement_from_raw(raw)
    assert placement is not None and placement.clustered and placement.leader == "n1"
    assert [(r.name, replica_state(r), r.lag) for r in placement.replicas] == [
        ("n2", "current", 0),
        ("n3", "lagging", 42),
    ]
    assert placement.mirror is not None and placement.mirror.lag == 3
    [source] = placement.sources
    assert (source.name, source.filter, source.external) == ("A", "a.>", "$JS.hub.API")
    only_sources = placement_from_raw({"cluster": {"leader": "x"}, "sources": [{"name": "B"}]})
    assert only_sources is not None and not only_sources.clustered


async def test_a_standalone_server_has_no_links_and_no_meta_group(
    session: Session, nats_server: EmbeddedServer
) -> None:
    system = SystemConnection(
        [nats_server.url],
        {"user": nats_server.system_user, "password": nats_server.system_password},
    )
    observer = Observer(session, system=system, probe_monitor=False)
    await observer.start()
    try:
        answers, _source, _note = await observer.server_data("ROUTEZ")
        links = links_from_answers([(answer.server, answer.data) for answer in answers])
        assert list(links) == ["jstui-test"] and links["jstui-test"].routes == ()
        assert meta_view((await observer.servers()).servers) is None
    finally:
        await observer.close()


async def test_a_cluster_shows_routes_a_meta_leader_and_r3_placement(
    cluster: EmbeddedCluster, unique: str
) -> None:
    nodes = cluster.nodes
    async with Session(list(cluster.urls)) as session:
        system = SystemConnection(
            list(cluster.urls),
            {"user": nodes[0].system_user, "password": nodes[0].system_password},
        )
        observer = Observer(session, system=system, probe_monitor=False)
        await observer.start()
        try:
            answers, _source, _note = await observer.server_data("ROUTEZ")
            links = links_from_answers([(answer.server, answer.data) for answer in answers])
            assert sorted(links) == sorted(node.name for node in nodes)
            for name, item in links.items():
                assert sorted(peer.name for peer in item.routes) == sorted(
                    node.name for node in nodes if node.name != name
                )
            meta = meta_view((await observer.servers()).servers)
            assert meta is not None and meta.from_leader
            assert meta.leader == cluster.meta_leader()
            assert len(meta.replicas) == 2

            service = StreamService(session)
            js = session.nc.jetstream()
            await js.add_stream(name=unique, subjects=[f"{unique}.>"], num_replicas=3)
            try:
                for _ in range(50):  # the replicas catch up within a moment of creation
                    [summary] = [s for s in await service.list_streams() if s.name == unique]
                    placement = summary.placement
                    if placement and all(r.current for r in placement.replicas):
                        break
                    await asyncio.sleep(0.1)
                assert placement is not None and placement.leader
                assert len(placement.replicas) == 2
                assert placement.leader not in {r.name for r in placement.replicas}
            finally:
                await js.delete_stream(unique)
        finally:
            await observer.close()
