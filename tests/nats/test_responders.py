"""jstui's responders against a real server: behaviours, counters, queue groups, stop, stored
responders and their answer window, the --responder short form, and plain nats-py requesters
(core and the tutorial's stored publisher) answered by jstui."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig

from jstui.nats.embedded import EmbeddedServer
from jstui.nats.errors import JstuiError, ReadOnlyError, SpecErrors, ValidationError
from jstui.nats.names import consumer_name_problem, queue_group_problem
from jstui.nats.requests.console import RequestConsole
from jstui.nats.requests.headers import REPLY_TO_HEADER, RESPONDER_HEADER, TIMEOUT_HEADER
from jstui.nats.requests.record import RequestStatus
from jstui.nats.requests.spec import RequestMode, RequestSpec
from jstui.nats.responders.running import Responder, ResponderManager, ResponderState
from jstui.nats.responders.spec import (
    Behaviour,
    BehaviourKind,
    ResponderMode,
    ResponderSpec,
    parse_responder_option,
)
from jstui.nats.session import Session
from tests.interop import run


@pytest.fixture
async def manager(session: Session) -> AsyncIterator[ResponderManager]:
    manager = ResponderManager(session)
    yield manager
    manager.stop_all()
    await asyncio.sleep(0)


async def _started(manager: ResponderManager, spec: ResponderSpec) -> list[Responder]:
    members = await manager.start(spec)
    for member in members:
        await asyncio.wait_for(member.ready.wait(), 10)
        assert member.state is ResponderState.RUNNING, member.error
    return members


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


# -- behaviours and counters -------------------------------------------------------------------


async def test_echo_and_upper_replies_with_counters(
    manager: ResponderManager, session: Session, unique: str
) -> None:
    (echo,) = await _started(manager, ResponderSpec(f"{unique}.echo", name="e"))
    upper = Behaviour(BehaviourKind.UPPER)
    (shout,) = await _started(manager, ResponderSpec(f"{unique}.up", behaviour=upper, name="bob"))

    a = await session.nc.request(f"{unique}.echo", b"hello", timeout=5)
    b = await session.nc.request(f"{unique}.up", b"Hello, Consumers!", timeout=5)
    await session.nc.request(f"{unique}.echo", b"again", timeout=5)

    assert a.data == b"hello" and a.headers == {RESPONDER_HEADER: "e"}
    assert b.data == b"Response from bob : HELLO, CONSUMERS!"
    assert echo.answered == 2 and shout.answered == 1
    assert echo.mean_handling is not None and echo.mean_handling > 0


async def test_delay_fail_and_error_behaviours(
    manager: ResponderManager, session: Session, unique: str
) -> None:
    console = RequestConsole(session)
    await _started(manager, ResponderSpec(f"{unique}.slow", behaviour=Behaviour.parse("delay=50")))
    (failing,) = await _started(
        manager, ResponderSpec(f"{unique}.fail", behaviour=Behaviour.parse("fail"))
    )
    await _started(manager, ResponderSpec(f"{unique}.err", behaviour=Behaviour.parse("error")))
    await _started(manager, ResponderSpec(f"{unique}.rnd", behaviour=Behaviour.parse("random=1-5")))

    slow = await console.send(RequestSpec(f"{unique}.slow", timeout=10))
    failed = await console.send(RequestSpec(f"{unique}.fail", timeout=0.3))
    error = await console.send(RequestSpec(f"{unique}.err", timeout=10))
    rnd = await console.send(RequestSpec(f"{unique}.rnd", timeout=10))

    assert slow.first_latency is not None and slow.first_latency >= 0.05  # the delay is awaited
    assert failed.status is RequestStatus.TIMED_OUT and failed.reply_count == 0
    assert failing.failed == 1 and failing.answered == 0
    assert error.status_text == "error reply" and error.replies[0].error is not None
    assert "simulated failure" in error.replies[0].error
    assert rnd.status is RequestStatus.REPLIED


async def test_count_without_queue_answers_n_times_with_queue_once(
    manager: ResponderManager, session: Session, unique: str
) -> None:
    console = RequestConsole(session)
    solo = await _started(manager, ResponderSpec(f"{unique}.all", count=3, name="m"))
    shared = await _started(manager, ResponderSpec(f"{unique}.one", queue="q", count=3))

    everyone = await console.send(RequestSpec(f"{unique}.all", RequestMode.GATHER, timeout=0.5))
    for _ in range(6):
        await console.send(RequestSpec(f"{unique}.one", timeout=5))
    one = await console.send(RequestSpec(f"{unique}.one", RequestMode.GATHER, timeout=0.3))

    assert [m.name for m in solo] == ["m-1", "m-2", "m-3"]
    assert sorted(r.responder or "" for r in everyone.replies) == ["m-1", "m-2", "m-3"]
    assert one.reply_count == 1
    assert sum(m.answered for m in shared) == 7


async def test_stop_removes_the_responder(
    manager: ResponderManager, session: Session, unique: str
) -> None:
    (responder,) = await _started(manager, ResponderSpec(f"{unique}.stop"))
    await session.nc.request(f"{unique}.stop", b"", timeout=5)

    manager.stop(responder.id)
    await asyncio.wait_for(_until(lambda: responder.state is ResponderState.STOPPED), 10)

    assert responder.id not in manager.responders
    with pytest.raises(nats.errors.NoRespondersError):
        await session.nc.request(f"{unique}.stop", b"", timeout=5)


async def test_read_only_refuses_responders(nats_url: str, unique: str) -> None:
    async with Session([nats_url], read_only=True) as session:
        with pytest.raises(ReadOnlyError):
            await ResponderManager(session).start(ResponderSpec(f"{unique}.x"))


async def test_bad_subject_fails_the_member_with_a_reason(
    manager: ResponderManager, unique: str
) -> None:
    # A subject the form would refuse, given straight to the service: the member fails, cleanly.
    (member,) = await manager.start(ResponderSpec(f"{unique} bad"))
    await asyncio.wait_for(member.ready.wait(), 10)
    assert member.state is ResponderState.FAILED
    assert "subject" in member.error


# -- stored responders -------------------------------------------------------------------------


async def test_stored_responder_answers_fresh_requests_and_skips_stale_ones(
    manager: ResponderManager, session: Session, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.subject.*"])
    subject = f"{unique}.subject.requests"
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    # Stored before the responder exists: one whose requester gave up long ago (its 50 ms window
    # has passed by the time the responder starts), one still inside its window.
    await js.publish(subject, b"stale", headers={REPLY_TO_HEADER: inbox, TIMEOUT_HEADER: "0.05"})
    await asyncio.sleep(0.3)
    await js.publish(subject, b"fresh", headers={REPLY_TO_HEADER: inbox, TIMEOUT_HEADER: "30"})
    await js.publish(subject, b"no reply-to")

    spec = ResponderSpec(
        subject, ResponderMode.STORED, name="s", behaviour=Behaviour.parse("upper")
    )
    (responder,) = await _started(manager, spec)
    reply = await sub.next_msg(timeout=10)

    assert reply.data == b"Response from s : FRESH"
    await asyncio.wait_for(_until(lambda: responder.skipped == 2), 10)
    assert responder.answered == 1 and responder.skipped == 2
    assert responder.stream == unique
    info = await session.jsm.consumer_info(unique, responder.durable or "")
    assert info.config.filter_subject == subject
    assert info.num_ack_pending == 0  # everything acked, answered or not
    with pytest.raises(nats.errors.TimeoutError):
        await sub.next_msg(timeout=0.2)
    await sub.unsubscribe()


async def test_stored_queue_group_shares_one_durable(
    manager: ResponderManager, session: Session, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.work"])
    spec = ResponderSpec(f"{unique}.work", ResponderMode.STORED, queue="team", count=2)
    members = await _started(manager, spec)
    console = RequestConsole(session)

    records = [
        await console.send(RequestSpec(f"{unique}.work", RequestMode.STORED, timeout=0.5))
        for _ in range(4)
    ]

    assert {m.durable for m in members} == {"team"}
    assert all(r.reply_count == 1 for r in records)  # one member answers each request
    assert sum(m.answered for m in members) == 4


async def test_stored_responder_problems_are_reported(
    manager: ResponderManager, session: Session, nc: Client, unique: str
) -> None:
    with pytest.raises(ValidationError, match="no stream captures"):
        await manager.start(ResponderSpec(f"{unique}.nowhere", ResponderMode.STORED))

    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.a", f"{unique}.b"])
    await js.add_consumer(
        unique, ConsumerConfig(durable_name="taken", filter_subject=f"{unique}.a")
    )
    with pytest.raises(JstuiError, match="filters"):
        await manager.start(ResponderSpec(f"{unique}.b", ResponderMode.STORED, durable="taken"))
    assert not manager.responders


async def test_core_and_stored_responders_share_a_subject_like_the_tutorial(
    manager: ResponderManager, session: Session, nc: Client, unique: str
) -> None:
    """A core responder also sees each stored request on its way into the stream; answering its
    reply subject would spoil the publish acknowledgment, so it leaves it to the durable."""
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.subject.*"])
    subject = f"{unique}.subject.requests"
    upper = Behaviour.parse("upper")
    (core,) = await _started(manager, ResponderSpec(subject, name="core", behaviour=upper))
    (stored,) = await _started(
        manager, ResponderSpec(subject, ResponderMode.STORED, name="dur", behaviour=upper)
    )
    console = RequestConsole(session)

    via_stream = await console.send(
        RequestSpec(subject, RequestMode.STORED, b"a", timeout=10, max_replies=1)
    )
    # A core request to a subject a stream captures is stored too, and the stream acks it:
    # gathered, both answers show, the acknowledgment named as such.
    direct = await console.send(RequestSpec(subject, RequestMode.GATHER, b"b", timeout=0.5))

    assert via_stream.status is RequestStatus.REPLIED, via_stream.error
    assert [r.data for r in via_stream.replies] == [b"Response from dur : A"]
    assert sorted(r.responder or "" for r in direct.replies) == ["core", f"stream {unique}"]
    assert (core.answered, core.skipped, stored.answered) == (1, 1, 1)
    await asyncio.wait_for(_until(lambda: stored.skipped == 1), 10)  # stored, no reply-to


# -- the --responder short form ----------------------------------------------------------------


def test_short_form_round_trip() -> None:
    spec = parse_responder_option(
        "my.subject.requests,mode=stored,queue=g,count=2,behaviour=random=10-20,name=ann,max-age=5s"
    )
    assert spec == ResponderSpec(
        "my.subject.requests",
        ResponderMode.STORED,
        queue="g",
        count=2,
        behaviour=Behaviour(BehaviourKind.RANDOM, 10, 20),
        name="ann",
        max_age=5.0,
    )
    assert parse_responder_option(spec.short_form()) == spec
    assert parse_responder_option("svc.echo") == ResponderSpec("svc.echo")
    assert parse_responder_option("a.b,stored,upper").behaviour.kind is BehaviourKind.UPPER


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.b,colour=red", "unknown option 'colour'"),
        ("a.b,behaviour=shout", "echo, upper"),
        ("a.b,count=0", "count"),
        ("a.b,delay=abc", "unknown option"),
        ("a.b,behaviour=delay=abc", "delay=MS"),
        ("a b", "whitespace"),
        ("a.b,durable=x", "only for stored"),
        ("a.b,mode=stored,queue=q,durable=d", "durable is the queue name"),
        ("a.b,queue=q,queue=r", "given twice"),
    ],
)
def test_short_form_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_responder_option(text)


def test_names_follow_the_one_rule_book() -> None:
    """Queue, name and durable are judged by `jstui.nats.names` (decided by the server), not by a
    pattern of the responders' own: a core queue group may hold dots, a stored one (the durable)
    may not; names are consumer names."""
    assert ResponderSpec.from_form(subject="a.b", queue="team.eu").queue == "team.eu"
    assert ResponderSpec.from_form(subject="a.b", name="équipe:1").name == "équipe:1"
    cases = [
        ({"queue": "q\x1b"}, "queue", queue_group_problem("q\x1b")),
        ({"mode": "stored", "queue": "team.eu"}, "queue", consumer_name_problem("team.eu")),
        ({"name": "a.b"}, "name", consumer_name_problem("a.b")),
        ({"mode": "stored", "durable": "d/1"}, "durable", consumer_name_problem("d/1")),
    ]
    for fields, key, problem in cases:
        with pytest.raises(SpecErrors) as caught:
            ResponderSpec.from_form(subject="a.b", **fields)
        assert caught.value.errors[key] == problem, fields


async def test_core_queue_group_with_a_dot_answers(
    manager: ResponderManager, session: Session, unique: str
) -> None:
    spec = ResponderSpec.from_form(subject=f"{unique}.dot", queue=f"team.{unique}", count="2")
    await _started(manager, spec)
    reply = await session.nc.request(f"{unique}.dot", b"hi", timeout=5)
    assert reply.data == b"hi"


# -- plain nats-py requesters answered by jstui -------------------------------------------------


async def test_external_core_requester_is_answered(
    manager: ResponderManager, nats_url: str, unique: str
) -> None:
    (responder,) = await _started(
        manager, ResponderSpec(f"{unique}.svc", behaviour=Behaviour.parse("upper"), name="jstui")
    )
    code, out, err = await run(
        "core_requester.py", "--server", nats_url, "--subject", f"{unique}.svc", "--payload", "hi"
    )
    assert code == 0, err
    assert out.strip() == "Response from jstui : HI"
    assert responder.answered == 1


async def test_tutorial_stored_requester_is_answered(fresh_server: EmbeddedServer) -> None:
    """The tutorial's exact names, on a server of its own so they collide with nothing."""
    nc = await nats.connect(fresh_server.url)
    await nc.jetstream().add_stream(name="example_stream", subjects=["my.subject.*"])
    await nc.drain()
    async with Session([fresh_server.url]) as session:
        manager = ResponderManager(session)
        spec = parse_responder_option("my.subject.requests,mode=stored,behaviour=upper,name=Alice")
        (responder,) = await _started(manager, spec)
        try:
            code, out, err = await run(
                "stored_requester.py",
                "--server",
                fresh_server.url,
                "--subject",
                "my.subject.requests",
            )
        finally:
            manager.stop_all()
    assert code == 0, err
    assert out.strip() == "Response from Alice : HELLO, CONSUMERS!"
    assert "stored in example_stream" in err
    assert responder.answered == 1


async def test_connection_lost_fails_running_members_with_the_reason(
    manager: ResponderManager, unique: str
) -> None:
    members = await _started(manager, ResponderSpec(f"{unique}.gone", count=2))
    assert all(m.running for m in members)
    manager.connection_lost("connection closed")
    # run() unsubscribes on its way out: then the state it leaves is final
    await asyncio.wait_for(_until(lambda: all(m._sub is None for m in members)), 10)
    assert all(m.state is ResponderState.FAILED for m in members)
    assert all(m.error == "connection closed" for m in members)
    assert len(manager.responders) == 2  # still listed, with the reason
    manager.forget_finished()
    assert len(manager.responders) == 2  # failed ones stay until stopped by hand
