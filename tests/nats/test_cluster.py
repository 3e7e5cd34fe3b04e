"""The embedded 3-node cluster: a meta leader, R3 streams, the system user, a follower's return."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from jstui.nats import cluster as cluster_module
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.embedded import EmbeddedServerError, free_port
from tests.nats.test_embedded import gather, process_alive


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_three_nodes_up_with_one_meta_leader(cluster: EmbeddedCluster) -> None:
    assert [node.name for node in cluster.nodes] == ["n1", "n2", "n3"]
    assert all(node.running and node.healthy() for node in cluster.nodes)
    assert cluster.url == ",".join(cluster.urls) and len(set(cluster.urls)) == 3
    assert len(set(cluster.monitor_urls)) == 3
    leader = cluster.meta_leader()
    assert leader in ("n1", "n2", "n3")
    assert {node.meta_leader() for node in cluster.nodes} == {leader}  # they all agree
    assert cluster.node_named("n2") is cluster.nodes[1]
    with pytest.raises(KeyError):
        cluster.node_named("n9")


async def test_r3_stream_made_through_node_1_reads_through_node_3(
    cluster: EmbeddedCluster, unique: str
) -> None:
    first = await nats.connect(cluster.nodes[0].url)
    js = first.jetstream()
    await js.add_stream(StreamConfig(name=unique, subjects=[f"{unique}.>"], num_replicas=3))
    await js.publish(f"{unique}.a", b"replicated")
    await first.close()
    third = await nats.connect(cluster.nodes[2].url)
    info = await third.jetstream().stream_info(unique)
    message = await third.jetstream().get_msg(unique, 1)
    await third.jetstream().delete_stream(unique)
    await third.close()
    assert info.cluster is not None and len(info.cluster.replicas or []) == 2
    assert message.data == b"replicated"


async def test_system_user_gathers_varz_from_every_node(cluster: EmbeddedCluster) -> None:
    password = cluster.nodes[0].system_password
    assert all(node.system_password == password for node in cluster.nodes)
    assert cluster.system_url.count(f"sys:{password}@") == 3
    nc = await nats.connect(cluster.system_urls[0])
    replies = await gather(nc, "$SYS.REQ.SERVER.PING.VARZ", expected=3)
    await nc.close()
    assert sorted(reply["server"]["name"] for reply in replies) == ["n1", "n2", "n3"]
    assert {reply["data"]["cluster"]["name"] for reply in replies} == {"jstui-cluster"}


def test_password_is_not_in_repr(cluster: EmbeddedCluster) -> None:
    shown = repr(cluster) + str(cluster) + "".join(repr(node) for node in cluster.nodes)
    password = cluster.nodes[0].system_password
    assert password and password not in shown


def test_killed_follower_restarts_healthy(fresh_cluster: EmbeddedCluster) -> None:
    leader = fresh_cluster.meta_leader()
    follower = next(node for node in fresh_cluster.nodes if node.name != leader)
    old_pid = follower.pid
    follower.kill()
    assert follower.pid is None and not follower.running
    assert old_pid is not None and not process_alive(old_pid)
    assert not follower.healthy()
    follower.restart()
    assert follower.running and follower.pid != old_pid
    wait_until(follower.healthy, 20, f"{follower.name} healthy after its restart")
    assert follower.meta_leader() == leader


def test_stop_leaves_no_process_and_no_temp_folder() -> None:
    cluster = EmbeddedCluster().start()
    pids = [node.pid for node in cluster.nodes]
    stores = [node.store_dir for node in cluster.nodes]
    configs = [node.config_file for node in cluster.nodes]
    cluster.stop()
    assert all(pid is not None and not process_alive(pid) for pid in pids)
    assert not any(path.exists() for path in [*stores, *configs])
    assert cluster.nodes == ()


def test_a_node_that_cannot_start_is_a_clear_error_and_stops_the_others(tmp_path: Path) -> None:
    failing = tmp_path / "nats-server"
    failing.write_text("#!/bin/sh\necho 'nats-server: bind: address already in use' >&2\nexit 1\n")
    failing.chmod(0o755)
    cluster = EmbeddedCluster(base_dir=tmp_path / "stores", binary=failing)
    with pytest.raises(EmbeddedServerError, match="n1: nats-server: bind: address already in use"):
        cluster.start(ready_timeout=3)
    assert cluster.nodes == ()


def test_a_port_taken_between_pick_and_launch_is_retried_with_new_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        handed_out = iter([taken])  # the first pick is a port another process holds

        def racing_free_port(host: str = "127.0.0.1") -> int:
            return next(handed_out, None) or free_port(host)

        monkeypatch.setattr(cluster_module, "free_port", racing_free_port)
        with EmbeddedCluster(base_dir=tmp_path) as started:
            ports = {port for node in started.nodes for port in node_ports(node)}
            assert taken not in ports and started.meta_leader()


def node_ports(node: cluster_module.ClusterNode) -> tuple[int, int, int]:
    return node.port, node.monitor_port, node.route_port
