"""Shared fixtures: a real nats-server with JetStream on loopback, per session or per test.

The suite runs on two pytest-xdist workers (pyproject's addopts). Each worker has its own session
server; tests that share something fixed across processes run in one worker through an
`xdist_group` given here, so they never meet: the snapshot tests (port 14229, which shows in
the pictures)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from jstui.nats.client_fixes import order_flush_pings
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.session import Session
from tests import stuck_widgets

stuck_widgets.install()  # a pilot's timeout names the widgets it waited for

SERIAL_GROUPS = {"snapshots": Path(__file__).parent / "snapshots"}
"""xdist group name -> the folder whose tests must all run in one worker, one after another."""


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for group, folder in SERIAL_GROUPS.items():
            if item.path.is_relative_to(folder):
                item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """One server for the whole run; tests must use names of their own (see `unique`)."""
    store: Path = tmp_path_factory.mktemp("js-store")
    server = EmbeddedServer(store_dir=store, server_name="jstui-test")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A server of the test's own, for tests that kill or restart it."""
    server = EmbeddedServer(store_dir=tmp_path / "store", server_name="jstui-fresh")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    """One 3-node cluster for the whole run, for tests that neither stop nor kill a node."""
    with EmbeddedCluster(base_dir=tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    """A 3-node cluster of the test's own, for tests that stop, kill or restart nodes.

    Kill followers, not the meta leader: a new meta leader takes up to ~40 s on a busy machine.
    """
    with EmbeddedCluster(base_dir=tmp_path / "cluster") as running:
        yield running


@pytest.fixture
def nats_url(nats_server: EmbeddedServer) -> str:
    return nats_server.url


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    """A plain nats-py client, the kind of external program jstui must interoperate with."""
    client = await nats.connect(nats_url)
    # nats-py 2.16's flush() can return before the server has what was queued just before it
    # (see order_flush_pings): tests subscribe, flush, then act from another connection.
    order_flush_pings(client)
    yield client
    await client.drain()


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    """A name prefix unique to this test, valid as a stream name and a subject token."""
    import hashlib

    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    return f"t{digest}"


@pytest.fixture
async def session(nats_url: str) -> AsyncIterator[Session]:
    """jstui's shared connection to the session server, closed after the test."""
    async with Session([nats_url]) as connected:
        yield connected


async def eventually(
    predicate: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Wait until `predicate()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)
