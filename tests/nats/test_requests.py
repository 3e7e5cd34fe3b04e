"""The request console against a real server: each mode, each failure, history, statistics, saved
requests, and jstui answered by plain nats-py responders (core and stored)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.nats.errors import JstuiError, ReadOnlyError, SpecErrors
from jstui.nats.headers import parse_header_lines
from jstui.nats.requests.console import RequestConsole
from jstui.nats.requests.headers import REPLY_TO_HEADER, TIMEOUT_HEADER
from jstui.nats.requests.record import RequestRecord, RequestStatus
from jstui.nats.requests.saved import SavedRequests
from jstui.nats.requests.spec import RequestMode, RequestSpec
from jstui.nats.responders.running import ResponderManager
from jstui.nats.responders.spec import Behaviour, BehaviourKind, ResponderMode, ResponderSpec
from jstui.nats.session import Session
from tests.interop import running


@pytest.fixture
def console(session: Session) -> RequestConsole:
    return RequestConsole(session)


async def _echo(nc: Client, subject: str, prefix: bytes = b"", queue: str = "") -> None:
    async def handler(msg: Msg) -> None:
        await nc.publish(msg.reply, prefix + msg.data, headers=msg.headers)

    await nc.subscribe(subject, queue=queue, cb=handler)
    await nc.flush()


async def test_request_first_reply_with_headers_latency_and_stats(
    console: RequestConsole, nc: Client, unique: str
) -> None:
    subject = f"{unique}.svc"
    await _echo(nc, subject, b"echo: ")
    spec = RequestSpec(subject, payload=b"hi", headers=(("X-Trace", "42"),))

    record = await console.send(spec)

    assert record.status is RequestStatus.REPLIED
    assert record.status_text == "replied"
    assert [r.data for r in record.replies] == [b"echo: hi"]
    assert record.replies[0].headers == {"X-Trace": "42"}
    assert record.first_latency is not None and record.first_latency > 0
    assert console.history[record.id] is record
    stats = console.stats[subject]
    assert stats.count == 1 and stats.max == record.first_latency


async def test_gather_collects_every_reply_or_stops_at_n(
    console: RequestConsole, nc: Client, unique: str
) -> None:
    subject = f"{unique}.all"
    for name in (b"a", b"b", b"c"):
        await _echo(nc, subject, name + b":")

    everyone = await console.send(RequestSpec(subject, RequestMode.GATHER, b"x", timeout=0.5))
    # A generous timeout: with the limit the gather ends at the second reply, not at the timeout.
    two = await console.send(RequestSpec(subject, RequestMode.GATHER, timeout=30, max_replies=2))

    assert sorted(r.data for r in everyone.replies) == [b"a:x", b"b:x", b"c:x"]
    assert everyone.status_text == "3 replies"
    assert two.reply_count == 2 and two.status_text == "2 replies"
    assert two.last_latency is not None and two.first_latency is not None
    assert two.last_latency >= two.first_latency


async def test_stored_request_answered_by_a_responder_started_after_it(
    console: RequestConsole, session: Session, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.subject.*"])
    subject = f"{unique}.subject.requests"
    spec = RequestSpec(subject, RequestMode.STORED, b"Hello, Consumers!", timeout=30, max_replies=1)

    sending = asyncio.create_task(console.send(spec))

    async def acknowledged() -> RequestRecord:
        while True:
            record = next(iter(console.history.values()), None)
            if record is not None and record.seq is not None:
                return record
            await asyncio.sleep(0.02)

    record = await asyncio.wait_for(acknowledged(), 30)
    assert record.stream == unique and record.seq == 1
    assert not record.replies  # nobody is listening yet

    manager = ResponderManager(session)
    late = ResponderSpec(
        subject, ResponderMode.STORED, name="late", behaviour=Behaviour(BehaviourKind.UPPER)
    )
    (responder,) = await manager.start(late)
    try:
        await asyncio.wait_for(sending, 30)
    finally:
        manager.stop_all()

    assert record.status is RequestStatus.REPLIED
    assert record.replies[0].data == b"Response from late : HELLO, CONSUMERS!"
    assert record.replies[0].responder == "late"
    assert responder.answered == 1


async def test_stored_request_headers_name_the_inbox_and_the_timeout(
    console: RequestConsole, session: Session, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.q"])
    record = await console.send(
        RequestSpec(f"{unique}.q", RequestMode.STORED, b"x", (("K", "v"),), timeout=0.2)
    )
    stored = await session.jsm.get_msg(unique, record.seq)

    assert record.status is RequestStatus.TIMED_OUT
    assert stored.headers is not None
    assert stored.headers[REPLY_TO_HEADER] == record.inbox
    assert stored.headers[TIMEOUT_HEADER] == "0.2"
    assert stored.headers["K"] == "v"


async def test_timeout_no_responders_and_no_stream_are_recorded(
    console: RequestConsole, nc: Client, unique: str
) -> None:
    async def ignore(msg: Msg) -> None:  # listens, never answers
        pass

    await nc.subscribe(f"{unique}.silent", cb=ignore)
    await nc.flush()

    timed_out = await console.send(RequestSpec(f"{unique}.silent", timeout=0.2))
    nobody = await console.send(RequestSpec(f"{unique}.nobody"))
    nobody_gather = await console.send(RequestSpec(f"{unique}.nobody", RequestMode.GATHER))
    no_stream = await console.send(RequestSpec(f"{unique}.nostream", RequestMode.STORED))

    assert timed_out.status is RequestStatus.TIMED_OUT
    assert nobody.status is RequestStatus.NO_RESPONDERS
    assert nobody_gather.status is RequestStatus.NO_RESPONDERS
    assert no_stream.status is RequestStatus.ERROR
    assert "no stream captures" in no_stream.error and f"{unique}.nostream" in no_stream.error
    assert [r.status_text for r in console.history.values()] == [
        "timed out",
        "no responders",
        "no responders",
        "error",
    ]
    assert f"{unique}.silent" not in console.stats  # no reply, no latency


async def test_error_reply_is_marked(console: RequestConsole, nc: Client, unique: str) -> None:
    async def failing(msg: Msg) -> None:
        await nc.publish(
            msg.reply, b"", headers={"Nats-Service-Error": "boom", "Nats-Service-Error-Code": "500"}
        )

    await nc.subscribe(f"{unique}.err", cb=failing)
    await nc.flush()
    record = await console.send(RequestSpec(f"{unique}.err"))
    assert record.status_text == "error reply"
    assert record.replies[0].error == "500 boom"


async def test_read_only_refuses_stored_requests_before_sending(nats_url: str, unique: str) -> None:
    async with Session([nats_url], read_only=True) as session:
        console = RequestConsole(session)
        with pytest.raises(ReadOnlyError):
            await console.send(RequestSpec(f"{unique}.x", RequestMode.STORED))
        assert not console.history
        core = await console.send(RequestSpec(f"{unique}.x"))  # core requests store nothing
        assert core.status is RequestStatus.NO_RESPONDERS


async def test_history_is_bounded(session: Session, unique: str) -> None:
    console = RequestConsole(session, max_history=3)
    records = [await console.send(RequestSpec(f"{unique}.none")) for _ in range(5)]
    assert list(console.history) == [r.id for r in records[-3:]]


async def test_external_core_responder_answers_the_console(
    console: RequestConsole, nats_url: str, unique: str
) -> None:
    subject = f"{unique}.ext"
    async with running("external_responder.py", "--server", nats_url, "--subject", subject):
        record = await console.send(RequestSpec(subject, payload=b"ping", timeout=10))
    assert record.status is RequestStatus.REPLIED
    assert record.replies[0].data == b"external got: ping"


async def test_external_stored_replier_answers_the_console(
    console: RequestConsole, nc: Client, nats_url: str, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.subject.*"])
    subject = f"{unique}.subject.requests"
    args = ["--server", nats_url, "--stream", unique, "--subject", subject]
    async with running("stored_replier.py", *args, "--durable", "ext", "--name", "Carol"):
        record = await console.send(
            RequestSpec(
                subject, RequestMode.STORED, b"Hello, Consumers!", timeout=10, max_replies=1
            )
        )
    assert record.status is RequestStatus.REPLIED, record.error
    assert record.stream == unique
    assert record.replies[0].data == b"Response from Carol : HELLO, CONSUMERS!"
    assert record.replies[0].responder == "Carol"  # read from the tutorial's reply format


# -- the form model --------------------------------------------------------------------------


def test_form_reports_every_bad_field() -> None:
    with pytest.raises(SpecErrors) as caught:
        RequestSpec.from_form(
            subject="a.*", mode="stored", headers="Good: 1\nno colon here", timeout="soon"
        )
    errors = caught.value.errors
    assert "wildcards" in errors["subject"]
    assert errors["headers"] == "line 2: expected 'Key: Value'"
    assert "not a duration" in errors["timeout"]


def test_form_builds_a_spec() -> None:
    spec = RequestSpec.from_form(
        subject=" orders.new ",
        mode="gather",
        payload='{"id": 1}',
        headers="A: 1\n\nB-2:  two words ",
        timeout="500ms",
        max_replies="3",
    )
    assert spec == RequestSpec(
        "orders.new", RequestMode.GATHER, b'{"id": 1}', (("A", "1"), ("B-2", "two words")), 0.5, 3
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (": v", "line 1: the header name is empty"),
        ("Bad Key: v", "line 1: a header name is printable ASCII without spaces"),
        ("A: 1\na: 2", "line 2: a is given twice"),
    ],
)
def test_malformed_header_lines(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_header_lines(text)


def test_stored_mode_keeps_reply_to_for_itself() -> None:
    with pytest.raises(SpecErrors) as caught:
        RequestSpec.from_form(subject="a.b", mode="stored", headers="reply-to: x")
    assert "reply-to" in caught.value.errors["headers"]


# -- saved requests ----------------------------------------------------------------------------


def test_saved_requests_survive_a_restart(tmp_path: Path) -> None:
    text = RequestSpec("a.b", RequestMode.GATHER, "héllo".encode(), (("K", "v"),), 1.5, 2)
    binary = RequestSpec("a.c", RequestMode.STORED, b"\x00\xff\x10", timeout=3)
    store = SavedRequests(tmp_path / "cfg")
    store.save("text one", text)
    store.save("binary", binary)

    again = SavedRequests(tmp_path / "cfg").load()

    assert again == {"text one": text, "binary": binary}
    assert json.loads((tmp_path / "cfg" / "requests.json").read_text())["version"] == 1
    assert SavedRequests(tmp_path / "cfg").delete("binary") is True
    assert list(SavedRequests(tmp_path / "cfg").load()) == ["text one"]


def test_a_damaged_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "requests.json"
    path.write_text("{not json")
    store = SavedRequests(tmp_path)
    with pytest.raises(JstuiError, match="not valid JSON"):
        store.load()
    with pytest.raises(JstuiError):
        store.save("x", RequestSpec("a.b"))
    assert path.read_text() == "{not json"


def test_saved_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(JstuiError, match="name"):
        SavedRequests(tmp_path).save("  ", RequestSpec("a.b"))
