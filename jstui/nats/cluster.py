"""An embedded 3-node nats-server cluster on loopback, for tests, fault drills and the demo.

`EmbeddedCluster.start()` picks a client, monitoring and route port for every node, writes each
node's config with `jstui.nats.embedded.write_server_config` (routes to all peers, the same system
account and random system password, JetStream in a store folder of its own) into one private
temporary folder, launches the nodes as `ClusterNode`s (children bound to jstui's life like the
embedded server), then polls each node's `/healthz` and `/jsz` over HTTP until all are healthy and
a meta leader is elected. A node can be stopped, SIGKILLed and restarted on its own ports and store;
`stop()` ends every node and removes the temporary folders.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from jstui.nats.embedded import (
    TEMP_CONFIG_PREFIX,
    TEMP_STORE_PREFIX,
    ClusterRoutes,
    EmbeddedServerError,
    ServerProcess,
    find_nats_server,
    free_port,
    make_private_folder,
    prepare_store,
    remove_stale_stores,
    write_server_config,
)

_POLL_TIMEOUT = 1.0
"""Seconds for one monitoring request to a node; a dead node refuses at once on loopback."""


def _monitor_json(url: str) -> dict[str, object] | None:
    """The JSON body of a monitoring endpoint, or None when the node does not answer 200."""
    try:
        with urllib.request.urlopen(url, timeout=_POLL_TIMEOUT) as response:
            body = json.loads(response.read())
    except (OSError, ValueError):  # refused, timed out, an HTTP error status, or not JSON
        return None
    return body if isinstance(body, dict) else None


@dataclass
class ClusterNode(ServerProcess):
    """One node of an `EmbeddedCluster`: its ports, store and config file, and its process."""

    name: str
    host: str
    port: int
    monitor_port: int
    route_port: int
    store_dir: Path
    config_file: Path
    binary: Path
    _system_password: str = field(default="", repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def healthy(self) -> bool:
        """`/healthz` answers OK (JetStream included: a node still catching up is not healthy)."""
        return _monitor_json(f"{self.monitor_url}/healthz") == {"status": "ok"}

    def meta_leader(self) -> str | None:
        """The meta leader this node's `/jsz` names, None when it names none or does not answer."""
        jsz = _monitor_json(f"{self.monitor_url}/jsz")
        meta = jsz.get("meta_cluster") if jsz else None
        leader = meta.get("leader") if isinstance(meta, dict) else None
        return leader if isinstance(leader, str) and leader else None

    def launch(self, ready_timeout: float) -> str:
        """Start the process; "" once it accepts clients, else why not (see `ServerProcess`)."""
        return self._launch(
            self.binary,
            self.config_file,
            (self.host, self.port),
            ready_timeout,
            secret=self._system_password,
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after `timeout`); the store is kept."""
        self._terminate(timeout)

    def restart(self, ready_timeout: float = 10.0) -> None:
        """Start again on the same ports, store and config after `stop()` or `kill()`.

        Returns once the node accepts clients; it may still be catching up (see `healthy()`).
        """
        error = self.launch(ready_timeout)
        if error:
            raise EmbeddedServerError(f"cluster node {self.name} did not restart: {error}")


@dataclass
class EmbeddedCluster:
    """`size` nodes named n1, n2, … on loopback, routed to each other, JetStream on every node.

    Each node's store is a sub-folder (named after it) of `base_dir`, or of a temporary folder
    removed on `stop()` when `base_dir` is None. Clients with no credentials use the global
    account; the system account's user `sys` has one random password for all nodes.
    """

    size: int = 3
    base_dir: Path | None = None
    name: str = "jstui-cluster"
    host: str = "127.0.0.1"
    binary: Path | None = None
    _nodes: tuple[ClusterNode, ...] = field(default=(), init=False)
    _system_password: str = field(default="", init=False, repr=False)
    _temp_dir: Path | None = field(default=None, init=False, repr=False)
    _config_dir: Path | None = field(default=None, init=False, repr=False)

    @property
    def nodes(self) -> tuple[ClusterNode, ...]:
        return self._nodes

    @property
    def urls(self) -> list[str]:
        """Every node's client URL."""
        return [node.url for node in self._nodes]

    @property
    def url(self) -> str:
        """All client URLs joined with commas, as jstui's --server takes them."""
        return ",".join(self.urls)

    @property
    def monitor_urls(self) -> list[str]:
        return [node.monitor_url for node in self._nodes]

    @property
    def system_urls(self) -> list[str]:
        """Every node's URL with the system user's credentials in it. Secret: never show them.

        Each node has the same `system_user` and `system_password` (random at each `start()`).
        """
        return [node.system_url for node in self._nodes]

    @property
    def system_url(self) -> str:
        """`system_urls` joined with commas. Secret: never show or log it."""
        return ",".join(self.system_urls)

    def node_named(self, name: str) -> ClusterNode:
        """The node called `name` (n1, n2, …); KeyError if there is none."""
        for node in self._nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def meta_leader(self) -> str | None:
        """The meta leader's name as the first running node that knows one says, else None."""
        for node in self._nodes:
            leader = node.meta_leader() if node.running else None
            if leader:
                return leader
        return None

    def start(self, ready_timeout: float = 20.0) -> EmbeddedCluster:
        """Start every node; return once all are healthy and a meta leader is elected.

        A launch failure (another process took a port picked a moment before) is retried twice
        with new ports; a cluster that does not become ready in `ready_timeout` seconds is not.
        """
        binary = self.binary or find_nats_server()
        base = self.base_dir
        if base is None:
            remove_stale_stores()
            self._temp_dir = make_private_folder(TEMP_STORE_PREFIX)
            base = self._temp_dir
        self._config_dir = config_dir = make_private_folder(TEMP_CONFIG_PREFIX)
        self._system_password = secrets.token_urlsafe(24)
        deadline = time.monotonic() + ready_timeout
        error = ""
        try:
            for _attempt in range(3):
                self._nodes = self._plan(binary, base, config_dir)
                error = self._launch_all(ready_timeout)
                if not error:
                    break
                self._stop_nodes()
            else:
                raise EmbeddedServerError(f"embedded cluster did not start: {error}")
            self._wait_ready(deadline, ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _plan(self, binary: Path, base: Path, config_dir: Path) -> tuple[ClusterNode, ...]:
        """Pick distinct free ports, make the store folders and write every node's config."""
        ports: set[int] = set()
        while len(ports) < 3 * self.size:
            ports.add(free_port(self.host))
        chosen = sorted(ports)
        route_ports = chosen[2 * self.size :]
        nodes = []
        for index in range(self.size):
            name = f"n{index + 1}"
            node = ClusterNode(
                name=name,
                host=self.host,
                port=chosen[index],
                monitor_port=chosen[self.size + index],
                route_port=route_ports[index],
                store_dir=prepare_store(base / name),
                config_file=config_dir / f"{name}.conf",
                binary=binary,
                _system_password=self._system_password,
            )
            peers = tuple(port for port in route_ports if port != node.route_port)
            write_server_config(
                node.config_file,
                host=node.host,
                port=node.port,
                monitor_port=node.monitor_port,
                server_name=node.name,
                store_dir=node.store_dir,
                system_password=self._system_password,
                routes=ClusterRoutes(self.name, node.route_port, peers),
            )
            nodes.append(node)
        return tuple(nodes)

    def _launch_all(self, ready_timeout: float) -> str:
        for node in self._nodes:
            error = node.launch(ready_timeout)
            if error:
                return f"{node.name}: {error}"
        return ""

    def _wait_ready(self, deadline: float, ready_timeout: float) -> None:
        while time.monotonic() < deadline:
            if all(node.healthy() for node in self._nodes) and self.meta_leader():
                return
            time.sleep(0.05)
        unhealthy = [node.name for node in self._nodes if not node.healthy()]
        why = f"not healthy: {', '.join(unhealthy)}" if unhealthy else "no meta leader"
        raise EmbeddedServerError(f"embedded cluster not ready after {ready_timeout:.0f} s ({why})")

    def _stop_nodes(self) -> None:
        for node in self._nodes:
            node.stop()

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL) and remove the config and temporary stores."""
        self._stop_nodes()
        for folder in (self._config_dir, self._temp_dir):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        self._nodes = ()  # their configs are gone: a node cannot restart after this
        self._config_dir = self._temp_dir = None

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
