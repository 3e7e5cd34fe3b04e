"""The demo's story: the tutorial's stream and consumers, its programs, and the presenter's keys.

`DemoStory.start()` connects the publisher, creates (or finds) the stream and the two durable
consumers, then starts every actor (`jstui.nats.demo.actors`). The consumers are made here, once,
with fixed deliver subjects, before any worker subscribes: workers that start together then bind
to the one consumer instead of racing to create it (the deliver-group race that leaves a member
with nothing, see the Workers pane). The presenter's keys call the chaos methods; each says what
it did, and what followed (redeliveries, a recovery, a new leader), through `say`. `stop()` ends
every actor and, on someone else's server, deletes the stream this run asked for (its consumers go
with it): over the publisher's connection, or a short-lived one when a failed start closed that;
and again for a moment when the create's answer was never seen, since a create still on its way
can land after a first delete found nothing. Once stopping, the story creates nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import nats
import nats.js.errors
from nats.aio.client import Client
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.manager import JetStreamManager

from jstui.format.units import counted
from jstui.nats.cluster import EmbeddedCluster
from jstui.nats.demo.actors import (
    ACTOR_PREFIX,
    TRANSIENT_ERRORS,
    Cast,
    Publisher,
    Replier,
    Requester,
    Traffic,
)
from jstui.nats.demo.actors import Worker as DemoWorker
from jstui.nats.demo.names import DemoNames
from jstui.nats.embedded import EmbeddedServer

_log = logging.getLogger(__name__)

MAX_MSGS = 1_000
MAX_BYTES = 10 * 1024 * 1024
MAX_AGE_SECONDS = 3600.0
"""An hour: long enough to watch, short enough to stay a demo."""
ACK_WAIT_SECONDS = 5.0
"""How long a killed worker's messages wait before the server hands them to the others."""
MAX_ACK_PENDING = 16
"""Unacked messages the group may hold at once: the server paces the workers beyond it."""
WORKERS_AT_START = 3
LEADER_WAIT_SECONDS = 60.0
"""The longest the story waits for a new stream leader after killing the old one."""
REDELIVERIES_KEPT = 1_000
REDELIVERY_SUMMARY_SECONDS = 1.0
"""Redeliveries seen within this long are told in one sentence."""
REMOVE_SECONDS = 0.6
"""The longest `stop()` tries to delete the demo's stream on someone else's server: well inside
the demo's stop (`DemoApp`), itself inside the 1.5 s a SIGTERM leaves (`jstui.shutdown`)."""
REMOVE_RETRY_SECONDS = 0.1
CLEANUP_NAME = f"{ACTOR_PREFIX}cleanup"


def stream_config(names: DemoNames, replicas: int) -> StreamConfig:
    """The tutorial's stream: limits retention, file storage, 1,000 messages, 10 MiB, 1 h."""
    return StreamConfig(
        name=names.stream,
        subjects=[names.wildcard],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_msgs=MAX_MSGS,
        max_bytes=MAX_BYTES,
        max_age=MAX_AGE_SECONDS,
        num_replicas=replicas,
    )


def consumer_configs(names: DemoNames) -> list[ConsumerConfig]:
    """The workers' deliver group and the replier's durable, push, with fixed deliver subjects."""
    common: dict[str, Any] = {
        "ack_policy": AckPolicy.EXPLICIT,
        "ack_wait": ACK_WAIT_SECONDS,
        "deliver_policy": DeliverPolicy.NEW,
    }
    return [
        ConsumerConfig(
            durable_name=names.workers,
            deliver_subject=names.workers_deliver_subject,
            deliver_group=names.workers,
            filter_subject=names.wildcard,
            max_ack_pending=MAX_ACK_PENDING,
            **common,
        ),
        ConsumerConfig(
            durable_name=names.replier,
            deliver_subject=names.replier_deliver_subject,
            filter_subject=names.requests_subject,
            **common,
        ),
    ]


class DemoStory:
    """The demo's programs on one server (or cluster), and what the presenter can do to them.

    `embedded` is jstui's own server (the one "kill the server" kills), `cluster` the demo's
    cluster (the one "kill the stream leader" acts on); neither on someone else's server.
    """

    def __init__(
        self,
        servers: list[str],
        names: DemoNames,
        say: Callable[[str], None],
        *,
        connect_options: dict[str, Any] | None = None,
        embedded: EmbeddedServer | None = None,
        cluster: EmbeddedCluster | None = None,
    ) -> None:
        self.names = names
        self.embedded = embedded
        self.cluster = cluster
        self.say = say
        self.run_id = f"jstui-demo-{secrets.token_hex(4)}"
        """Starts every message id, so a second demo on a kept store is not taken for retries."""
        self.cast = Cast(servers, dict(connect_options or {}), names, say, self._redelivered)
        self.traffic = Traffic()
        self.publisher = Publisher(self.cast, self.traffic, self.run_id)
        self.requester = Requester(self.cast, self.traffic, self.run_id)
        self.replier = Replier(self.cast)
        self.workers: list[DemoWorker] = []
        self.killed_workers = 0
        self.redelivered: deque[int] = deque(maxlen=REDELIVERIES_KEPT)
        """Stream sequences seen delivered again, the latest ones, in the order seen."""
        self.recovery_seconds: float | None = None
        """Kill of the server (or the stream leader) to the next acknowledged publish."""
        self.leader_seconds: float | None = None
        """Kill of the stream leader to a new leader known."""
        self.started = False
        self.stream_asked = False
        """This run sent the request creating its stream (its outcome maybe still unknown)."""
        self._stream_answered = False
        """The server answered that request (or the stream was there already)."""
        self._stopping = False
        self._pending_redeliveries: list[tuple[str, int]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._worker_numbers = 0
        self._electing = False
        """A stream leader was killed and its successor (or the killed node's restart) is not
        known yet: another kill now would leave the stream without a quorum."""

    # -- life ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create what the story needs, then bring every program to life. A start that fails
        (or is cancelled) half-way closes what it opened, so that it can be tried again; what it
        created on the server is remembered for `stop()`."""
        if self._stopping:
            raise RuntimeError("the demo is stopping")
        try:
            await self._start()
        except BaseException:
            # a stop under way deletes the stream over the publisher's connection: it closes it
            await self._close_actors(but_the_publisher=self._stopping)
            self.workers.clear()
            self._worker_numbers = 0
            raise

    async def _start(self) -> None:
        await self.publisher.connect()
        await self._create_objects()
        await asyncio.gather(
            self.requester.connect(),
            self.replier.connect(),
            *(self._new_worker().connect() for _ in range(WORKERS_AT_START)),
        )
        await self.replier.start()
        for worker in self.workers:
            await worker.start()
        await self.requester.start()
        await self.publisher.start()
        self.started = True

    async def _create_objects(self) -> None:
        assert self.publisher.nc is not None
        jsm = self.publisher.nc.jsm()
        replicas = 3 if self.cluster is not None else 1
        try:
            await jsm.stream_info(self.names.stream)
        except nats.js.errors.NotFoundError:
            await self._create_stream(jsm, replicas)
        else:
            self._stream_answered = True
        for config in consumer_configs(self.names):
            assert config.durable_name is not None
            try:
                await jsm.consumer_info(self.names.stream, config.durable_name)
            except nats.js.errors.NotFoundError:
                await jsm.add_consumer(self.names.stream, config)

    @property
    def stopping(self) -> bool:
        """`stop()` was called: the story creates nothing more."""
        return self._stopping

    async def _create_stream(self, jsm: JetStreamManager, replicas: int) -> None:
        if self._stopping:  # a quit came while the start was on its way: create nothing now
            raise RuntimeError("the demo is stopping")
        self.stream_asked = True  # before sending: the server may act on it whatever follows
        try:
            await jsm.add_stream(stream_config(self.names, replicas))
        except nats.js.errors.APIError:
            self._stream_answered = True
            raise
        self._stream_answered = True

    def stop_soon(self) -> asyncio.Task[None]:
        """`stop()` in a task of its own, the story marked stopping at once (no tick later)."""
        self._stopping = True
        return asyncio.ensure_future(self.stop())

    async def stop(self) -> None:
        """End every program; on someone else's server, delete what this run created."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        await self._close_actors(but_the_publisher=True)
        if self.names.private and self.stream_asked:
            await self._remove_objects()
        await self.publisher.close()

    async def _close_actors(self, *, but_the_publisher: bool = False) -> None:
        actors = [self.requester, self.replier, *self.workers]
        if not but_the_publisher:  # (its connection removes the stream first)
            actors.append(self.publisher)
        await asyncio.gather(*(actor.close() for actor in actors))

    async def _remove_objects(self) -> None:
        """Delete the stream within REMOVE_SECONDS; told in the log, never raised (jstui is
        closing anyway)."""
        deadline = time.monotonic() + REMOVE_SECONDS
        own: Client | None = None
        try:
            nc = self.publisher.nc
            if nc is None or nc.is_closed or not nc.is_connected:
                nc = own = await self._cleanup_connection(deadline)
            jsm = JetStreamManager(nc, timeout=max(0.1, deadline - time.monotonic()))
            while True:
                try:
                    await jsm.delete_stream(self.names.stream)
                    return
                except nats.js.errors.NotFoundError:
                    if self._stream_answered or time.monotonic() + REMOVE_RETRY_SECONDS > deadline:
                        return
                await asyncio.sleep(REMOVE_RETRY_SECONDS)  # the create may be on its way still
        except TRANSIENT_ERRORS as error:
            _log.warning("the demo stream %s was not deleted: %s", self.names.stream, error)
        finally:
            if own is not None:
                with contextlib.suppress(Exception):
                    await own.close()

    async def _cleanup_connection(self, deadline: float) -> Client:
        """A connection of its own for the cleanup, given up by the deadline."""
        cast = self.cast
        return await nats.connect(
            servers=cast.servers,
            name=CLEANUP_NAME,
            connect_timeout=max(0.1, deadline - time.monotonic()),
            allow_reconnect=False,
            max_reconnect_attempts=0,
            **cast.connect_options,
        )

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_worker(self) -> DemoWorker:
        self._worker_numbers += 1
        worker = DemoWorker(self._worker_numbers, self.cast)
        self.workers.append(worker)
        return worker

    # -- the presenter's keys -----------------------------------------------------------------

    def toggle_pause(self) -> None:
        running = self.traffic.running
        if running.is_set():
            running.clear()
            self.say("Traffic paused: nothing is published; the stream keeps what it has.")
        else:
            running.set()
            self.say(f"Traffic resumed: {self.rate_text()}.")

    def change_rate(self, by: int) -> None:
        if self.traffic.step(by):
            self.say(f"Publishing {self.rate_text()}.")
        else:
            self.say(f"Already at the {'top' if by > 0 else 'bottom'}: {self.rate_text()}.")

    def rate_text(self) -> str:
        rate = self.traffic.rate
        return f"{rate:g} message{'s' if rate != 1 else ''} a second"

    async def add_worker(self) -> DemoWorker:
        worker = self._new_worker()
        await worker.connect()
        await worker.start()
        self.say(f"{worker.name} joined the deliver group {self.names.workers}.")
        return worker

    async def kill_worker(self) -> DemoWorker | None:
        """Close the connection of the worker holding the most unacked messages, without acking:
        the server hands what it held to the others once the ack wait is over."""
        if not self.workers:
            self.say("No worker left to kill: add one first.")
            return None
        victim = max(self.workers, key=lambda worker: worker.held)
        held = victim.held
        self.workers.remove(victim)
        await victim.close()
        self.killed_workers += 1
        if held:
            self.say(
                f"{victim.name} killed holding {counted(held, 'unacked message')}: the "
                f"server redelivers {'them' if held != 1 else 'it'} to the others after the ack "
                f"wait ({ACK_WAIT_SECONDS:g} s)."
            )
        else:
            self.say(f"{victim.name} killed; it held no unacked message.")
        return victim

    def request_now(self) -> None:
        self.requester.request_now()

    def kill_server(self) -> bool:
        """SIGKILL jstui's own server (jstui restarts it on the same store); False when the
        story runs on a server that is not jstui's to kill."""
        if self.embedded is None:
            return False
        pid = self.embedded.pid
        if pid is None or not self.embedded.running:
            self.say("The server is down already: jstui is bringing it back.")
            return False
        try:
            os.kill(pid, signal.SIGKILL)  # not `kill()`: jstui must see a death, and restart it
        except ProcessLookupError:  # it died a moment ago
            return False
        self.say("nats-server killed (SIGKILL). Watch it come back on the same store.")
        self._spawn(self._time_recovery(time.monotonic(), "the server's kill"))
        return True

    async def _time_recovery(self, since: float, what: str) -> None:
        while self.publisher.last_acked_send_time < since:  # a message sent after the kill
            await asyncio.sleep(0.1)
        self.recovery_seconds = self.publisher.last_ack_time - since
        self.say(
            f"Publishing again {self.recovery_seconds:.1f} s after {what}; every acknowledged "
            "message is still in the stream."
        )

    async def kill_stream_leader(self) -> str | None:
        """SIGKILL the node leading the stream, tell the new leader once elected, then restart
        the killed node as a follower. The killed node's name, or None when there is none."""
        if self.cluster is None or self.publisher.nc is None:
            return None
        if self._electing:
            self.say("A new leader is still being elected: wait for it first.")
            return None
        jsm = JetStreamManager(self.publisher.nc, timeout=2.0)
        try:
            info = await jsm.stream_info(self.names.stream)
        except TRANSIENT_ERRORS as error:
            self.say(f"The stream's leader is not known right now ({error or 'no answer'}).")
            return None
        leader = info.cluster.leader if info.cluster else None
        if not leader:
            self.say("The stream has no leader right now: try again in a moment.")
            return None
        node = self.cluster.node_named(leader)
        killed_at = time.monotonic()
        await asyncio.to_thread(node.kill)
        self.say(f"Stream leader {leader} killed (SIGKILL): the other replicas elect a new one.")
        self._electing = True
        self._spawn(self._follow_election(leader, killed_at))
        return leader

    async def _follow_election(self, killed: str, since: float) -> None:
        try:
            await self._await_new_leader(killed, since)
        finally:
            self._electing = False

    async def _await_new_leader(self, killed: str, since: float) -> None:
        assert self.cluster is not None and self.publisher.nc is not None
        # short answers: while the stream has no leader, its info times out (nats-notes §9)
        jsm = JetStreamManager(self.publisher.nc, timeout=1.0)
        recovered = asyncio.ensure_future(self._time_recovery(since, "the leader's kill"))
        self._tasks.add(recovered)
        recovered.add_done_callback(self._tasks.discard)
        deadline = since + LEADER_WAIT_SECONDS
        new_leader = None
        while time.monotonic() < deadline:
            with contextlib.suppress(*TRANSIENT_ERRORS):
                info = await jsm.stream_info(self.names.stream)
                new_leader = info.cluster.leader if info.cluster else None
                if new_leader and new_leader != killed:
                    break
            await asyncio.sleep(0.2)
        if new_leader and new_leader != killed:
            self.leader_seconds = time.monotonic() - since
            seconds = self.leader_seconds
            self.say(f"New stream leader: {new_leader}, {seconds:.1f} s after the kill.")
        else:
            self.say(f"No new stream leader after {LEADER_WAIT_SECONDS:.0f} s.")
        try:
            await asyncio.to_thread(self.cluster.node_named(killed).restart)
        except Exception as error:  # told, not raised: the demo goes on with two nodes
            self.say(f"{killed} did not restart: {error}")
            return
        self.say(f"{killed} restarted: it catches up as a follower.")

    # -- what happened ------------------------------------------------------------------------

    def _redelivered(self, worker: str, seq: int, count: int) -> None:
        self.redelivered.append(seq)
        if not self._pending_redeliveries:
            asyncio.get_running_loop().call_later(
                REDELIVERY_SUMMARY_SECONDS, self._tell_redeliveries
            )
        self._pending_redeliveries.append((worker, seq))

    def _tell_redeliveries(self) -> None:
        told, self._pending_redeliveries = self._pending_redeliveries, []
        by_worker: dict[str, list[int]] = {}
        for worker, seq in told:
            by_worker.setdefault(worker, []).append(seq)
        parts = [
            f"{', '.join(f'#{seq}' for seq in seqs)} to {worker}"
            for worker, seqs in by_worker.items()
        ]
        self.say(f"Redelivered: {'; '.join(parts)}.")

    def worker_names(self) -> list[str]:
        return [worker.name for worker in self.workers]


__all__ = ["DemoStory", "consumer_configs", "stream_config"]
