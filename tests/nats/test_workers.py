"""Worker pools against the real server: each mode, member control, failures, figures, scenarios."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import nats
import pytest
from nats.js.api import RetentionPolicy

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.errors import ReadOnlyError, SpecErrors
from jstui.nats.names import consumer_name_problem, queue_group_problem, stream_name_problem
from jstui.nats.session import Session
from jstui.nats.workers.ledger import TaskLedger
from jstui.nats.workers.load import LoadGenerator, LoadSpec, default_task_subject
from jstui.nats.workers.member import MemberState
from jstui.nats.workers.pool import WorkerPool, fairness
from jstui.nats.workers.spec import (
    MAX_MEMBERS,
    Delay,
    FailureKind,
    MemberSettings,
    PoolMode,
    PoolSpec,
    parse_delay,
    parse_failure_rate,
    parse_workers_option,
)

# -- helpers --------------------------------------------------------------------------------------


async def until(predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
    """Wait for a state (never a fixed sleep); generous timeout for a loaded machine."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def until_async(
    check: Callable[[], Awaitable[bool]], timeout: float = 15.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


async def stream_empty(session: Session, name: str) -> bool:
    return (await session.jsm.stream_info(name)).state.messages == 0


async def connected(url: str, read_only: bool = False) -> Session:
    session = Session(servers=[url], read_only=read_only)
    await session.connect()
    return session


@pytest.fixture
async def pools() -> AsyncIterator[list[WorkerPool]]:
    """Pools a test started; stopped at the end whatever happened (their consumers deleted)."""
    started: list[WorkerPool] = []
    yield started
    for pool in started:
        await pool.stop()


async def start(pools: list[WorkerPool], session: Session, spec: PoolSpec) -> WorkerPool:
    pool = WorkerPool(session, spec)
    pools.append(pool)
    return await pool.start()


async def add_stream(session: Session, name: str, subjects: list[str], **config: object) -> None:
    await session.jsm.add_stream(name=name, subjects=subjects, **config)


async def publish_js(session: Session, subject: str, count: int, pool: WorkerPool) -> None:
    gen = LoadGenerator(
        session, LoadSpec(subject, count=count, rate=0, jetstream=True), pool.ledger
    )
    await gen.run()
    assert gen.stored == count, gen.last_error


# -- parsing and validation (no server) -----------------------------------------------------------


def test_short_form_defaults_to_a_core_group_of_three() -> None:
    spec = parse_workers_option("orders.*")
    assert (spec.subject, spec.mode, spec.queue, spec.count) == (
        "orders.*",
        PoolMode.CORE,
        "workers",
        3,
    )


def test_short_form_options() -> None:
    spec = parse_workers_option(
        "my.subject.*, mode=pull, queue=crew, count=5, durable=keep, stream=S, ack-wait=2s,"
        " max-ack-pending=50, batch=4, delay=10-100, fail=5:noack"
    )
    assert spec.mode is PoolMode.PULL
    assert (spec.queue, spec.count, spec.durable, spec.stream) == ("crew", 5, "keep", "S")
    assert (spec.ack_wait, spec.max_ack_pending, spec.batch) == (2.0, 50, 4)
    assert spec.member == MemberSettings(Delay(10, 100), 5.0, FailureKind.NO_ACK)
    assert spec.keep_consumer and spec.consumer_name == "keep"
    assert parse_workers_option("a.b,mode=group").consumer_name == "workers"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("orders..x", "subject"),
        ("orders.*,count=0", "count"),
        (f"orders.*,count={MAX_MEMBERS + 1}", "count"),
        ("orders.*,count=many", "count"),
        ("orders.*,delay=-5", "delay"),
        ("orders.*,fail=101", "fail"),
        ("orders.*,mode=fast", "mode"),
        ("orders.*,colour=red", "colour"),
        ("orders.*,mode=pull,queue=a.b", "queue"),
        ("orders.*,fail=5:maybe", "fail"),
    ],
)
def test_short_form_errors_name_the_option(text: str, field: str) -> None:
    with pytest.raises(SpecErrors) as caught:
        parse_workers_option(text)
    assert field in caught.value.errors


def test_pool_spec_checks_each_field() -> None:
    bad = PoolSpec(
        subject="a b",
        count=0,
        member=MemberSettings(Delay(-1, -1), fail_pct=120),
    )
    errors = bad.validate()
    assert set(errors) == {"subject", "count", "delay", "fail_pct"}
    assert "whitespace" in errors["subject"]
    assert "1 and 64" in errors["count"]
    assert "negative" in errors["delay"]
    assert "0 and 100" in errors["fail_pct"]
    js = PoolSpec(subject="a.>", mode=PoolMode.PULL, ack_wait=0, max_ack_pending=0, batch=0)
    assert set(js.validate()) == {"ack_wait", "max_ack_pending", "batch"}
    assert PoolSpec(subject="a.*", count=64).validate() == {}


def test_pool_names_follow_the_one_rule_book() -> None:
    """Queue, durable and stream are judged by `jstui.nats.names` (decided by the server): a core
    queue group may hold dots; in JetStream modes the queue is the consumer name."""
    assert PoolSpec(subject="a.*", queue="team.eu").validate() == {}
    core = PoolSpec(subject="a.*", queue="q\x1b").validate()
    assert core == {"queue": queue_group_problem("q\x1b")}
    pull = PoolSpec(subject="a.*", mode=PoolMode.PULL, queue="team.eu", durable="d/1", stream="s.1")
    assert pull.validate() == {
        "queue": consumer_name_problem("team.eu"),
        "durable": consumer_name_problem("d/1"),
        "stream": stream_name_problem("s.1"),
    }


def test_delay_and_failure_rate_parsing() -> None:
    assert parse_delay("") == Delay()
    assert parse_delay("50") == Delay(50, 50)
    assert parse_delay("1.5s") == Delay(1500, 1500)
    assert parse_delay("10-100ms") == Delay(10, 100)
    assert str(parse_delay("10-100")) == "10-100ms"
    for text in ("-5", "fast", "100-10", "10--5"):
        with pytest.raises(ValueError):
            parse_delay(text)
    assert parse_failure_rate("12.5%") == 12.5
    for text in ("-1", "101", "lots"):
        with pytest.raises(ValueError):
            parse_failure_rate(text)
    assert default_task_subject("my.subject.*") == "my.subject.task"
    assert default_task_subject("jobs.>") == "jobs.task"


def test_ledger_counts_each_task_by_stream_sequence() -> None:
    ledger = TaskLedger()
    for seq in (10, 11, 12, 13):
        ledger.published(seq)
    ledger.delivered(10)
    ledger.acked(10)
    ledger.delivered(11)
    ledger.delivered(11, 2)  # redelivered, then acked twice (processed twice)
    ledger.acked(11)
    ledger.acked(11)
    ledger.delivered(12)  # delivered, never acked
    ledger.delivered(5)  # an older task (published before): the window grows to the left
    ledger.acked(5)
    report = ledger.report()
    assert report.seen == 4
    assert report.acked_once == 2
    assert report.acked_twice == 1 and report.twice_seqs == (11,)
    assert report.redelivered == 1 and report.redelivered_seqs == (11,)
    assert report.unacked == 1
    assert report.never_delivered == 1 and report.never_seqs == (13,)
    assert report.published == 4
    assert not report.exactly_once


def test_ledger_memory_is_bounded() -> None:
    ledger = TaskLedger(capacity=1000)
    for seq in range(1, 5001):
        ledger.delivered(seq)
        ledger.acked(seq)
    report = ledger.report()
    assert report.seen == 1000 and report.forgotten == 4000
    assert report.exactly_once


def test_fairness_figures() -> None:
    even = fairness([100, 100, 100])
    assert even.ratio == 1.0 and even.cv == 0.0
    skew = fairness([300, 100])
    assert skew.ratio == 3.0 and skew.cv == pytest.approx(0.5)
    assert fairness([5, 0]).ratio == math.inf
    assert fairness([7]).ratio is None


# -- core queue group -----------------------------------------------------------------------------


async def test_ten_thousand_tasks_to_a_core_group_of_four(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    pool = await start(pools, session, PoolSpec(subject=f"{unique}.jobs.*", count=4))
    gen = LoadGenerator(session, LoadSpec(f"{unique}.jobs.x", count=10_000, rate=0))
    await gen.run()
    await until(lambda: pool.totals().handled == 10_000, what="10,000 handled")
    counts = [m.handled for m in pool.members]
    assert sum(counts) == 10_000
    assert all(c > 0 for c in counts)  # the spread: every member took a share
    figures = pool.fairness()
    assert figures.members == 4 and figures.total == 10_000
    assert figures.ratio is not None and 1.0 <= figures.ratio < 2.0
    assert figures.cv is not None and figures.cv < 0.2
    pool.tick()
    assert pool.totals().acked == 10_000 and pool.totals().in_flight == 0


async def test_core_members_added_removed_paused_and_killed(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    subject = f"{unique}.core"
    pool = await start(pools, session, PoolSpec(subject=subject, count=2))
    nc = session.nc

    async def send(n: int) -> None:
        for i in range(n):
            await nc.publish(subject, b"task %d" % i)
        await nc.flush()

    third = await pool.add_member()
    assert third.name == "w3" and len(pool.members) == 3
    await send(300)
    await until(lambda: pool.totals().handled == 300)
    assert third.handled > 0

    first = pool.members[0]
    await first.pause()
    await until(lambda: first.state is MemberState.PAUSED, what="paused")
    before = first.handled
    await send(200)
    await until(lambda: pool.totals().handled == 500)
    assert first.handled == before  # a paused member takes nothing
    await first.resume()
    assert first.state is MemberState.RUNNING
    await send(300)
    await until(lambda: pool.totals().handled == 800)
    assert first.handled > before

    await pool.remove_member(third)
    assert third not in pool.members and third.state is MemberState.STOPPED
    assert pool.totals().handled == 800  # a removed member's work still counts

    # a slow member holding a backlog is killed: core has no acks, what it held is lost
    slow = pool.members[1]
    slow.set_settings(MemberSettings(delay=Delay(100, 100)))
    await send(40)
    await until(lambda: slow.in_flight >= 5, what="backlog")
    held = await slow.kill()
    assert held >= 5 and slow.state is MemberState.KILLED
    await until(lambda: slow.abandoned >= held - 1, what="abandoned counted")
    # the survivor may still be working through its share of the 40: wait for it to be idle
    await until(lambda: first.in_flight == 0, what="the survivor idle")
    survivor = first.handled
    await send(100)
    await until(lambda: first.handled == survivor + 100, what="the survivor takes everything")
    await slow.resume()  # a killed member can be started again
    assert slow.state is MemberState.RUNNING


async def test_core_failure_injection(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    subject = f"{unique}.flaky"
    settings = MemberSettings(fail_pct=30)
    pool = await start(pools, session, PoolSpec(subject=subject, count=2, member=settings))
    for member in pool.members:
        member.seed(7)
    gen = LoadGenerator(session, LoadSpec(subject, count=1000, rate=0))
    await gen.run()
    await until(lambda: pool.totals().handled == 1000)
    totals = pool.totals()
    assert totals.acked + totals.naked == 1000
    assert 200 < totals.naked < 400


# -- JetStream deliver group ----------------------------------------------------------------------


async def test_tutorial_flow_deliver_group_of_two(fresh_server: EmbeddedServer) -> None:
    """Stream example_stream on my.subject.*, a deliver-group pool `workers` of two, five messages
    published by a plain nats-py client: each handled by exactly one member, five in all."""
    session = await connected(fresh_server.url)
    nc = await nats.connect(fresh_server.url)
    pool = WorkerPool(session, PoolSpec(subject="my.subject.*", mode=PoolMode.GROUP, count=2))
    try:
        js = nc.jetstream()
        await js.add_stream(name="example_stream", subjects=["my.subject.*"])
        await pool.start()
        assert pool.stream == "example_stream" and pool.consumer_name == "workers"
        for i in range(1, 6):
            await js.publish("my.subject.test", f"Message {i}".encode())
        await until(lambda: pool.totals().acked == 5, what="five acks")
        assert sum(m.handled for m in pool.members) == 5
        report = pool.ledger.report()
        assert report.seen == 5 and report.acked_once == 5 and report.redelivered == 0
        assert report.exactly_once

        async def all_acked_says_the_server() -> bool:
            info = await pool.refresh_consumer()
            return info is not None and info.num_ack_pending == 0

        await until_async(all_acked_says_the_server, what="consumer info: no ack pending")
        assert pool.consumer is not None and pool.consumer.delivered_stream_seq == 5
    finally:
        await pool.stop()
        await nc.drain()
        await session.close()


async def test_deliver_group_nak_and_no_ack_are_redelivered(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    await add_stream(session, unique, [f"{unique}.>"])
    spec = PoolSpec(subject=f"{unique}.>", mode=PoolMode.GROUP, count=2, ack_wait=1.0)
    pool = await start(pools, session, spec)
    flaky, steady = pool.members
    flaky.set_settings(MemberSettings(fail_pct=50, fail_kind=FailureKind.NAK))
    flaky.seed(1)
    await publish_js(session, f"{unique}.t", 200, pool)
    await until(lambda: pool.ledger.report().acked_once == 200, what="all acked")
    report = pool.ledger.report()
    assert report.exactly_once and report.redelivered > 0
    assert flaky.naked > 0 and steady.naked == 0
    assert pool.totals().redelivered >= flaky.naked  # each nak came back once more at least

    flaky.set_settings(MemberSettings(fail_pct=100, fail_kind=FailureKind.NO_ACK))
    await steady.pause()
    await until(lambda: steady.state is MemberState.PAUSED)
    await publish_js(session, f"{unique}.t", 5, pool)
    await until(lambda: flaky.no_acked >= 5, what="no-acks")
    # never answered: the server redelivers after the ack wait, to whoever is there
    await steady.resume()
    flaky.set_settings(MemberSettings())
    await until(lambda: pool.ledger.report().acked_once == 205, what="redelivered after ack wait")
    assert pool.ledger.report().exactly_once


async def test_stop_removes_the_consumer_it_created_but_keeps_a_chosen_durable(
    session: Session, unique: str
) -> None:
    await add_stream(session, unique, [f"{unique}.>"])
    created = WorkerPool(session, PoolSpec(subject=f"{unique}.>", mode=PoolMode.GROUP, queue="q1"))
    await created.start()
    kept = WorkerPool(
        session, PoolSpec(subject=f"{unique}.>", mode=PoolMode.PULL, queue="q2", durable="keepme")
    )
    await kept.start()
    names = {c.name for c in await session.jsm.consumers_info(unique)}
    assert names == {"q1", "keepme"}
    await created.stop()
    await kept.stop()
    names = {c.name for c in await session.jsm.consumers_info(unique)}
    assert names == {"keepme"}
    # binding to an existing consumer: not ours, so never deleted
    again = WorkerPool(
        session, PoolSpec(subject=f"{unique}.>", mode=PoolMode.PULL, queue="x", durable="keepme")
    )
    await again.start()
    assert not again.created_consumer
    await again.stop()
    assert {c.name for c in await session.jsm.consumers_info(unique)} == {"keepme"}


async def test_jetstream_pool_needs_a_stream(session: Session, unique: str) -> None:
    pool = WorkerPool(session, PoolSpec(subject=f"{unique}.nothing.>", mode=PoolMode.PULL))
    with pytest.raises(SpecErrors) as caught:
        await pool.start()
    assert "no stream captures" in caught.value.errors["subject"]
    assert pool.members == []


async def test_read_only_refuses_pools_and_load(nats_url: str, unique: str) -> None:
    session = await connected(nats_url, read_only=True)
    try:
        with pytest.raises(ReadOnlyError):
            await WorkerPool(session, PoolSpec(subject=f"{unique}.x")).start()
        with pytest.raises(ReadOnlyError):
            await LoadGenerator(session, LoadSpec(f"{unique}.x", count=1)).run()
    finally:
        await session.close()


# -- JetStream pull -------------------------------------------------------------------------------


async def test_work_queue_pull_pool_acks_each_task_once_and_empties_the_stream(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    await add_stream(session, unique, [f"{unique}.>"], retention=RetentionPolicy.WORK_QUEUE)
    spec = PoolSpec(subject=f"{unique}.>", mode=PoolMode.PULL, count=3, ack_wait=2)
    pool = await start(pools, session, spec)
    await publish_js(session, f"{unique}.task", 600, pool)
    await until(lambda: pool.ledger.report().acked_once == 600, what="600 acked")
    report = pool.ledger.report()
    assert report.exactly_once and report.published == 600 and report.redelivered == 0
    assert all(m.handled > 0 for m in pool.members)
    await until_async(lambda: stream_empty(session, unique), what="work queue emptied")


async def test_killed_pull_member_tasks_are_redelivered_and_acked_once(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    await add_stream(session, unique, [f"{unique}.>"], retention=RetentionPolicy.WORK_QUEUE)
    spec = PoolSpec(subject=f"{unique}.>", mode=PoolMode.PULL, count=3, ack_wait=2, batch=5)
    pool = await start(pools, session, spec)
    victim = pool.members[0]
    victim.set_settings(MemberSettings(delay=Delay(300, 300)))  # holds its batch for a while
    await publish_js(session, f"{unique}.task", 300, pool)
    # A fetch that was already waiting when the tasks arrived may come back with a single task,
    # and the fast members empty the queue long before the victim's next fetch: one held task is
    # what can be counted on.
    await until(lambda: victim.in_flight >= 1, what="victim holding unacked tasks")
    held = await victim.kill()
    assert held >= 1 and victim.state is MemberState.KILLED
    assert victim.abandoned == held
    await until(lambda: pool.ledger.report().acked_once == 300, what="all acked", timeout=20)
    report = pool.ledger.report()
    assert report.exactly_once
    assert report.redelivered >= held  # the victim's tasks came back to the others
    others = [m for m in pool.members if m is not victim]
    assert sum(m.redelivered for m in others) >= held
    await until_async(lambda: stream_empty(session, unique), what="work queue emptied")


async def test_pull_member_pause_resume_and_remove(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    await add_stream(session, unique, [f"{unique}.>"])
    spec = PoolSpec(subject=f"{unique}.>", mode=PoolMode.PULL, count=2, ack_wait=2, batch=5)
    pool = await start(pools, session, spec)
    first, second = pool.members
    await first.pause()
    await until(lambda: first.state is MemberState.PAUSED, what="parked")
    await publish_js(session, f"{unique}.t", 50, pool)
    await until(lambda: pool.totals().acked == 50)
    assert first.handled == 0 and second.handled == 50
    await first.resume()
    await second.pause()
    await until(lambda: second.state is MemberState.PAUSED)
    await publish_js(session, f"{unique}.t", 20, pool)
    await until(lambda: first.handled == 20)
    await pool.remove_member(second)
    assert pool.members == [first]
    assert pool.totals().acked == 70 and pool.ledger.report().exactly_once


# -- slow member: the spread differs by mode ------------------------------------------------------


async def slow_member_experiment(
    session: Session, pools: list[WorkerPool], unique: str, mode: PoolMode
) -> tuple[int, int, list[int]]:
    """Three members, w1 takes 50 ms per task; 120 tasks. Returns (slow delivered, slow handled,
    fast members' handled) once everything is handled."""
    subject = f"{unique}.slow.>"
    if mode.jetstream:
        await add_stream(session, unique, [subject])
    spec = PoolSpec(subject=subject, mode=mode, count=3, batch=2, ack_wait=30)
    pool = await start(pools, session, spec)
    slow = pool.members[0]
    slow.set_settings(MemberSettings(delay=Delay(50, 50)))
    gen = LoadGenerator(
        session, LoadSpec(f"{unique}.slow.t", count=120, rate=0, jetstream=mode.jetstream)
    )
    await gen.run()
    # delivered to the slow member = what it handled plus its backlog
    await until(lambda: pool.totals().handled + pool.totals().in_flight == 120, what="delivered")
    slow_delivered = slow.handled + slow.in_flight
    await until(lambda: pool.totals().handled == 120, what="all handled", timeout=30)
    return slow_delivered, slow.handled, [m.handled for m in pool.members[1:]]


async def test_slow_member_gets_a_smaller_share_in_a_pull_pool(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    _, slow, fast = await slow_member_experiment(session, pools, unique, PoolMode.PULL)
    # it only asks for more when done: the fast members take almost everything
    assert slow * 3 < min(fast), (slow, fast)


@pytest.mark.parametrize("mode", [PoolMode.CORE, PoolMode.GROUP])
async def test_slow_member_gets_an_equal_share_pushed_to_it(
    session: Session, pools: list[WorkerPool], unique: str, mode: PoolMode
) -> None:
    delivered, handled, fast = await slow_member_experiment(session, pools, unique, mode)
    # the server pushes to members at random whatever their speed: the slow one gets about a
    # third (50 +- noise) and works through a backlog
    assert delivered > 20, (delivered, fast)
    assert handled == delivered


async def test_load_generator_paces_and_reports_missing_stream(
    session: Session, unique: str
) -> None:
    gen = LoadGenerator(session, LoadSpec(f"{unique}.none", count=20, rate=0, jetstream=True))
    with pytest.raises(Exception, match="no stream captures"):
        await gen.run()
    assert gen.stored == 0 and gen.errors > 0
    assert LoadSpec("a.*", count=0, rate=-1).validate().keys() == {"subject", "count", "rate"}
    paced = LoadGenerator(session, LoadSpec(f"{unique}.paced", count=30, rate=200))
    await paced.run()
    assert paced.published == 30 and paced.elapsed > 0.1  # 30 at 200/s is spread, not a burst


async def test_resume_or_kill_while_a_member_is_still_finishing(
    session: Session, pools: list[WorkerPool], unique: str
) -> None:
    slow = MemberSettings(delay=Delay(100, 100))
    subject = f"{unique}.busy"
    pool = await start(pools, session, PoolSpec(subject=subject, count=1, member=slow))
    member = pool.members[0]
    for _ in range(6):
        await session.nc.publish(subject, b"x")
    await until(lambda: member.in_flight >= 3, what="backlog")
    await member.pause()
    assert member.state is MemberState.PAUSING  # finishing its backlog first
    await member.resume()  # changed its mind: running again once the backlog is done
    await until(lambda: member.state is MemberState.RUNNING and member.handled == 6)

    for _ in range(6):
        await session.nc.publish(subject, b"x")
    await until(lambda: member.in_flight >= 3, what="backlog again")
    await member.pause()
    await member.kill()  # killed while pausing: the rest is dropped at once
    await until(lambda: member.handled + member.abandoned == 12, what="drain ended", timeout=5)
    assert member.state is MemberState.KILLED

    await add_stream(session, unique, [f"{unique}.js.>"])
    spec = PoolSpec(subject=f"{unique}.js.>", mode=PoolMode.PULL, count=1, batch=5, member=slow)
    pull = await start(pools, session, spec)
    worker = pull.members[0]
    await publish_js(session, f"{unique}.js.t", 10, pull)
    await until(lambda: worker.in_flight >= 3, what="batch in hand")
    leaving = asyncio.ensure_future(pull.remove_member(worker))
    await until(lambda: worker.state is MemberState.STOPPING)
    await worker.kill()  # killed while leaving gracefully: the removal ends too
    await asyncio.wait_for(leaving, 5)
    assert pull.members == [] and worker.abandoned > 0
