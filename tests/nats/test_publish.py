"""Publishing against the real server: core, JetStream acks, duplicates, bulk, errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from jstui.format.editable import editable_headers, escape_bytes
from jstui.nats.errors import NoStreamError, ReadOnlyError, SpecErrors
from jstui.nats.headers import parse_header_lines
from jstui.nats.publish import (
    MSG_ID_HEADER,
    BulkPublish,
    PublishMode,
    PublishSpec,
    publish_once,
    render_template,
)
from jstui.nats.session import Session
from tests.conftest import eventually


async def collect(nc: Client, subject: str) -> list[Msg]:
    got: list[Msg] = []

    async def cb(msg: Msg) -> None:
        got.append(msg)

    await nc.subscribe(subject, cb=cb)
    await nc.flush()
    return got


def test_headers_parsing() -> None:
    assert parse_header_lines("A: 1\n\nTrace-Id:  x y \nEmpty:") == (
        ("A", "1"),
        ("Trace-Id", "x y"),
        ("Empty", ""),
    )
    for text, fragment in [
        ("no colon", "line 1: expected"),
        ("ok: 1\n: v", "line 2: the header name is empty"),
        ("bad key: v", "line 1: a header name"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            parse_header_lines(text)


def test_templates() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert render_template("n={{i}} t={{ time }}", 7, now) == "n=7 t=2024-05-01T12:00:00.123Z"
    assert render_template("plain {{x}}", 1) == "plain {{x}}"


def test_spec_validation_reports_each_field() -> None:
    with pytest.raises(SpecErrors) as info:
        PublishSpec.create(
            "a.*", headers="nocolon", mode="core", msg_id="id", count="0", rate="fast"
        )
    assert set(info.value.errors) == {"subject", "headers", "msg_id", "count", "rate"}
    with pytest.raises(SpecErrors) as info:
        PublishSpec.create("a", payload="x" * 20, max_payload=10)
    assert "max_payload" in info.value.errors["payload"]
    spec = PublishSpec.create("a.b", "p", "K: v", "js", msg_id="m-{{i}}", count="1,000", rate="")
    assert (spec.count, spec.rate, spec.mode) == (1000, None, PublishMode.JETSTREAM)
    payload, headers = spec.message(3)
    assert payload == b"p" and headers == {"K": "v", MSG_ID_HEADER: "m-3"}
    # one fixed id over many messages would store only the first: each gets a suffix
    fixed = PublishSpec.create("a.b", msg_id="same", count=3)
    assert fixed.message(2)[1] == {MSG_ID_HEADER: "same-2"}


async def test_core_publish_reaches_a_subscriber(session: Session, nc: Client, unique: str) -> None:
    got = await collect(nc, f"{unique}.core")
    spec = PublishSpec.create(f"{unique}.core", "hello {{i}}", "X-Test: yes", "core")
    result = await publish_once(session, spec)
    assert not result.jetstream and "core" in result.describe()
    await eventually(lambda: got)
    assert got[0].data == b"hello 1" and got[0].headers == {"X-Test": "yes"}


HOSTILE_PAYLOAD = b"P\x1b]52;c;SElKQUNLRUQ=\x07Q \xff\xfe \x9b2J \xe2\x80\xae \x00 {{i}} \\x1b"
HOSTILE_HEADERS = {
    "X-Esc": "\x1b]52;c;SElKQUNLRUQ=\x07\x1b[2J",
    "X-Bidi": "a\u202eb\x9b\x00\x7f",
    "X-Slash": "C:\\dir\\x1b",
}


@pytest.mark.parametrize("mode", ["core", "js"])
async def test_escaped_payload_and_headers_go_out_byte_for_byte(
    session: Session, nc: Client, unique: str, mode: str
) -> None:
    """What the publish form holds for a hostile message (escaped) is sent exactly as received."""
    if mode == "js":
        await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.>"])
    got = await collect(nc, f"{unique}.x")
    await nc.publish(f"{unique}.x", HOSTILE_PAYLOAD, headers=HOSTILE_HEADERS)
    await eventually(lambda: got)
    original = got[0]
    spec = PublishSpec.create(
        f"{unique}.x",
        escape_bytes(original.data),
        editable_headers((original.headers or {}).items()),
        mode,
        payload_format="escaped",
    )
    assert spec.payload == HOSTILE_PAYLOAD and not spec.template
    await publish_once(session, spec)
    await eventually(lambda: len(got) == 2)
    again = got[1]
    assert again.data == original.data == HOSTILE_PAYLOAD
    assert again.headers == original.headers == HOSTILE_HEADERS


def test_escaped_header_values_and_bad_escapes() -> None:
    assert parse_header_lines("A: \\x1b[2J\\u202e\\\\ b") == (("A", "\x1b[2J\u202e\\ b"),)
    for text, fragment in [
        ("A: \\q", "line 1: \\\\q is not an escape"),
        ("A: x\nB: \\n", "line 2: a header value cannot hold a line break"),
        ("A: \\xff", "line 1: byte 1 is not UTF-8"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            parse_header_lines(text)
    with pytest.raises(SpecErrors) as info:
        PublishSpec.create("a", "\\z", payload_format="escaped")
    assert "is not an escape" in info.value.errors["payload"]


def test_templates_fill_a_bytes_payload_and_leave_other_bytes_alone() -> None:
    spec = PublishSpec(subject="a", payload=b"\xff n={{i}} \x1b")
    assert spec.message(3)[0] == b"\xff n=3 \x1b"
    exact = PublishSpec(subject="a", payload=b"n={{i}}", template=False)
    assert exact.message(3)[0] == b"n={{i}}"
    assert PublishSpec.create("a", "n={{i}}").message(2)[0] == b"n=2"


async def test_jetstream_publish_ack_and_duplicate_detection(
    session: Session, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.>"])
    spec = PublishSpec.create(f"{unique}.a", "one", mode="js", msg_id="order-1")
    first = await publish_once(session, spec)
    assert (first.stream, first.seq, first.duplicate) == (unique, 1, False)
    assert first.describe() == f"stored in stream {unique} as sequence 1"
    again = await publish_once(session, spec)
    assert (again.seq, again.duplicate) == (1, True)
    assert "duplicate" in again.describe()
    other = await publish_once(session, PublishSpec.create(f"{unique}.a", "two", mode="js"))
    assert other.seq == 2
    # auto mode finds the stream and publishes through JetStream
    auto = await publish_once(session, PublishSpec.create(f"{unique}.b", "three"))
    assert auto.jetstream and auto.seq == 3
    stored = await nc.jsm().get_msg(unique, 1)
    assert stored.headers == {MSG_ID_HEADER: "order-1"}


async def test_no_stream_is_a_clear_error(session: Session, unique: str) -> None:
    spec = PublishSpec.create(f"{unique}.nowhere", "x", mode="js")
    with pytest.raises(NoStreamError, match="no stream captures"):
        await publish_once(session, spec)
    # auto mode falls back to a core publish
    result = await publish_once(session, PublishSpec.create(f"{unique}.nowhere", "x"))
    assert not result.jetstream


async def test_bulk_core_with_template(session: Session, nc: Client, unique: str) -> None:
    got = await collect(nc, f"{unique}.bulk")
    bulk = BulkPublish(session, PublishSpec.create(f"{unique}.bulk", "msg {{i}}", count=500))
    await bulk.run()
    assert bulk.done and not bulk.cancelled and bulk.sent == 500 and bulk.progress == 1.0
    await eventually(lambda: len(got) == 500, what="500 messages")
    assert [m.data for m in got] == [f"msg {i}".encode() for i in range(1, 501)]


async def test_bulk_jetstream_keeps_many_in_flight(
    session: Session, nc: Client, unique: str
) -> None:
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.>"])
    spec = PublishSpec.create(f"{unique}.x", "n={{i}}", mode="js", msg_id="b-{{i}}", count=2000)
    bulk = BulkPublish(session, spec, max_in_flight=500)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while not bulk.done:
            peak = max(peak, len(bulk._in_flight))
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    await bulk.run()
    await watcher
    assert (bulk.sent, bulk.acked, bulk.failed, bulk.duplicates) == (2000, 2000, 0, 0)
    assert bulk.last_ack is not None and bulk.last_ack.seq == 2000
    assert peak > 1  # acknowledgements overlapped instead of one round trip each
    assert "2,000 acked" in bulk.describe()
    info = await nc.jetstream().stream_info(unique)
    assert info.state.messages == 2000
    last = await nc.jsm().get_msg(unique, 2000)
    assert last.data == b"n=2000" and last.headers == {MSG_ID_HEADER: "b-2000"}


async def test_bulk_names_where_each_message_is_held_duplicates_included(
    session: Session, nc: Client, unique: str
) -> None:
    """A resend after lost acknowledgements: the ids stored by the first publish come back as
    duplicates, and their sequences are the first publish's. The workers' ledger marks tasks as
    published from these (#11 CI: one task stored, its ack lost, missing from the ledger)."""
    await nc.jetstream().add_stream(name=unique, subjects=[f"{unique}.>"])
    spec = PublishSpec.create(f"{unique}.x", "n={{i}}", mode="js", msg_id="t-{{i}}", count=5)
    for number in (2, 4):  # stored earlier (as sequences 1 and 2); their acknowledgements lost
        earlier = PublishSpec.create(f"{unique}.x", f"n={number}", mode="js", msg_id=f"t-{number}")
        await publish_once(session, earlier)
    held: dict[int, bool] = {}
    bulk = BulkPublish(
        session, spec, on_held=lambda ack: held.update({ack.seq: bool(ack.duplicate)})
    )
    await bulk.run()
    assert (bulk.acked, bulk.duplicates) == (3, 2)
    # 1, 3, 5 stored now as 3, 4, 5; 2 and 4 held at their first publish's 1 and 2
    assert held == {1: True, 2: True, 3: False, 4: False, 5: False}


async def test_bulk_is_paced_and_cancellable(session: Session, nc: Client, unique: str) -> None:
    got = await collect(nc, f"{unique}.paced")
    spec = PublishSpec.create(f"{unique}.paced", "x", mode="core", count=1_000_000, rate=200)
    bulk = BulkPublish(session, spec)
    task = asyncio.create_task(bulk.run())
    await eventually(lambda: bulk.sent >= 20, what="a few sent")
    bulk.cancel()
    await task
    assert bulk.done and bulk.cancelled
    assert 20 <= bulk.sent < 1000
    await eventually(lambda: len(got) == bulk.sent)


async def test_bulk_jetstream_without_stream_stops_with_error(
    session: Session, unique: str
) -> None:
    spec = PublishSpec.create(f"{unique}.none", "x", mode="js", count=50_000)
    bulk = BulkPublish(session, spec)
    await bulk.run()
    assert bulk.done and bulk.acked == 0 and bulk.failed > 0
    assert "no stream captures" in bulk.error
    assert bulk.sent < 50_000


async def test_publish_refused_in_read_only(nats_url: str, unique: str) -> None:
    session = Session(servers=[nats_url], read_only=True)
    await session.connect()
    try:
        with pytest.raises(ReadOnlyError):
            await publish_once(session, PublishSpec.create(f"{unique}.ro", "x"))
        with pytest.raises(ReadOnlyError):
            await BulkPublish(session, PublishSpec.create(f"{unique}.ro", "x", count=5)).run()
    finally:
        await session.close()
