"""Streams beyond the basics, against a real server: subjects with counts (and as a tree), delete
and erase of one message, NDJSON export and import, and the refused `publish_async` fix."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig

from jstui.nats.errors import JstuiError, ReadOnlyError, ServerAPIError
from jstui.nats.session import Session
from jstui.nats.streams.ndjson import NdjsonExport, NdjsonImport, message_line, parse_line
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.subjects import SubjectTree
from jstui.nats.streams.summaries import StoredMessage, summary_from_raw

# -- subjects --------------------------------------------------------------------------------------


async def test_subject_counts_and_tree_equal_the_stream(
    session: Session, nc: Client, unique: str
) -> None:
    name = f"{unique}_subj"
    await nc.jsm().add_stream(StreamConfig(name=name, subjects=[f"{unique}.>"]))
    js = nc.jetstream()
    expected: dict[str, int] = {}
    for i in range(60):
        subject = f"{unique}.{['eu', 'us', 'asia'][i % 3]}.{i % 7}"
        if i % 10 == 0:
            subject = f"{unique}.{['eu', 'us', 'asia'][i % 3]}"  # an inner node with its own
        expected[subject] = expected.get(subject, 0) + 1
        await js.publish(subject, b"x")
    service = StreamService(session)

    listed = await service.subject_counts(name)
    assert dict(listed.counts) == expected
    assert listed.messages == 60 and not listed.cut

    tree = SubjectTree(listed.counts)
    assert tree.root.messages == (await nc.jsm().stream_info(name)).state.messages == 60
    top = tree.root.children[unique]
    eu = top.children["eu"]
    assert eu.messages == sum(v for k, v in expected.items() if k.startswith(f"{unique}.eu"))
    assert eu.own == expected[f"{unique}.eu"]
    assert eu.wildcard == f"{unique}.eu.>"
    assert [n.path for n in tree.walk()][:2] == [unique, f"{unique}.asia"]
    assert top.subjects == len(expected)

    only_eu = await service.subject_counts(name, f"{unique}.eu.*")
    assert set(only_eu.counts) == {k for k in expected if k.startswith(f"{unique}.eu.")}
    cut = await service.subject_counts(name, limit=5)
    assert len(cut.counts) == 5 and cut.total == len(expected) and cut.cut
    assert await service.count(name, f"{unique}.us.>") == sum(
        v for k, v in expected.items() if k.startswith(f"{unique}.us.")
    )


# -- delete by sequence ----------------------------------------------------------------------------


async def test_delete_and_erase_one_message(session: Session, nc: Client, unique: str) -> None:
    name = f"{unique}_del"
    await nc.jsm().add_stream(StreamConfig(name=name, subjects=[f"{unique}.d"]))
    js = nc.jetstream()
    for i in range(4):
        await js.publish(f"{unique}.d", f"secret {i}".encode())
    service = StreamService(session)

    await service.delete_message(name, 2)
    await service.delete_message(name, 3, erase=True)
    info = await nc.jsm().stream_info(name)
    assert info.state.messages == 2
    for seq in (2, 3):
        with pytest.raises(ServerAPIError):
            await service.get_message(name, seq)
    assert (await service.get_message(name, 4)).data == b"secret 3"
    with pytest.raises(ServerAPIError, match="sequence 2 not found"):
        await service.delete_message(name, 2)

    denied = f"{unique}_deny"
    await nc.jsm().add_stream(StreamConfig(name=denied, subjects=[f"{unique}.n"], deny_delete=True))
    await js.publish(f"{unique}.n", b"kept")
    with pytest.raises(JstuiError, match="denies deletes"):
        await service.delete_message(denied, 1)
    sealed = f"{unique}_sealed"
    await nc.jsm().add_stream(StreamConfig(name=sealed, subjects=[f"{unique}.se"]))
    await js.publish(f"{unique}.se", b"kept")
    await nc.jsm().update_stream(StreamConfig(name=sealed, subjects=[f"{unique}.se"], sealed=True))
    with pytest.raises(JstuiError, match="it is sealed: no message can be deleted"):
        await service.delete_message(sealed, 1)
    async with Session([session.servers[0]], read_only=True) as read_only:
        with pytest.raises(ReadOnlyError):
            await StreamService(read_only).delete_message(name, 1)
    assert (await nc.jsm().stream_info(denied)).state.messages == 1
    assert (await nc.jsm().stream_info(name)).state.messages == 2


# -- a refused publish_async fails its future (nats-py 2.16 left it pending) -----------------------


async def test_a_refused_async_publish_fails_with_the_servers_reason(
    session: Session, nc: Client, unique: str
) -> None:
    await nc.jsm().add_stream(StreamConfig(name=f"{unique}_pa", subjects=[f"{unique}.pa"]))
    future = await session.js.publish_async(f"{unique}.pa", b"x", stream="not_this_one")
    with pytest.raises(Exception, match="expected stream does not match"):
        await asyncio.wait_for(future, 3)
    assert session.js.publish_async_pending() == 0


# -- NDJSON ----------------------------------------------------------------------------------------


def test_line_format() -> None:
    line = '{"subject": "a.b", "data": "aGk=", "headers": {"K": "v"}, "text": "ignored"}'
    record = parse_line(line)
    assert (record.subject, record.data, record.headers) == ("a.b", b"hi", {"K": "v"})
    assert parse_line('{"subject": "a", "text": "plain"}').data == b"plain"
    feed_line = '{"subject": "a", "payload": "AAE=", "payload_encoding": "base64", "headers": {}}'
    assert parse_line(feed_line).data == b"\x00\x01", "the Feeds pane's export imports too"
    for bad, reason in [
        ("{nope", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"data": "aGk="}', "subject"),
        ('{"subject": "a.*", "data": ""}', "subject: "),
        ('{"subject": "a", "data": "!!"}', "not base64"),
        ('{"subject": "a", "data": "", "headers": {"K": 1}}', "headers"),
        ('{"subject": "a", "data": "", "headers": {"K": "v\\r\\nX: y"}}', "line break"),
        ('{"subject": "a", "data": "", "headers": {"K": "v\\n"}}', "line break"),
        ('{"subject": "a", "data": "", "headers": {"K y": "v"}}', "printable ASCII"),
        ('{"subject": "a", "data": "", "headers": {"": "v"}}', "name is empty"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_line(bad)


async def test_export_then_import_into_another_stream_gives_the_same_messages(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    source, target = f"{unique}_src", f"{unique}_dst"
    await nc.jsm().add_stream(StreamConfig(name=source, subjects=[f"{unique}.rt.>"]))
    js = nc.jetstream()
    sent: list[tuple[str, bytes, dict[str, str] | None]] = []
    for i in range(12):
        data = bytes(range(256)) if i % 3 == 0 else f"caf\u00e9 {i} \x1b[2J".encode()
        headers = {"X-I": str(i), "X-Evil": "\x1b]0;t\x07"} if i % 2 else None
        subject = f"{unique}.rt.{i % 4}"
        await js.publish(subject, data, headers=headers)
        sent.append((subject, data, headers))
    await nc.jsm().delete_msg(source, 5)  # a gap the export skips
    del sent[4]
    service = StreamService(session)
    path = tmp_path / "out.ndjson"

    export = NdjsonExport(service, source, path, first=2, last=12)
    await export.run()
    assert export.written == 10 and export.done and not export.error
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["seq"] == 2 and first["subject"] == f"{unique}.rt.1"
    assert first["headers"] == {"X-I": "1", "X-Evil": "\x1b]0;t\x07"}
    assert base64.b64decode(first["data"]) == sent[1][1] and first["text"] == "caf\u00e9 1 \x1b[2J"
    assert lines[0].isascii()
    assert "text" not in json.loads(lines[2]), "seq 4 is binary: no text form"
    with pytest.raises(JstuiError, match="already exists"):
        await NdjsonExport(service, source, path, first=1, last=12).run()

    # The target captures the same subjects, so the source goes first.
    await nc.jsm().delete_stream(source)
    await nc.jsm().add_stream(StreamConfig(name=target, subjects=[f"{unique}.rt.>"]))
    run = await NdjsonImport.open(session, service, target, path)
    assert run.total == 10
    await run.run()
    assert (run.acked, run.failed, run.bad_lines, run.problems) == (10, 0, 0, [])
    for seq, (subject, data, headers) in enumerate(sent[1:], start=1):
        stored = await service.get_message(target, seq)
        assert (stored.subject, stored.data, stored.headers) == (subject, data, headers)


async def test_import_reports_bad_lines_by_number_and_publishes_the_rest(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    target = f"{unique}_imp"
    await nc.jsm().add_stream(
        StreamConfig(name=target, subjects=[f"{unique}.ok.*"], max_msg_size=100)
    )
    good = message_line_for(f"{unique}.ok.a", b"one")
    path = tmp_path / "in.ndjson"
    path.write_text(
        good
        + "not json at all\n"
        + "\n"
        + message_line_for(f"{unique}.elsewhere", b"two")
        + message_line_for(f"{unique}.ok.b", b"x" * 200)  # over the stream's max_msg_size
        + json.dumps({"subject": f"{unique}.ok.d", "data": "", "headers": {"K": "a\r\nB: c"}})
        + "\n"
        + message_line_for(f"{unique}.ok.c", b"three").rstrip("\n"),  # no newline at the end
        encoding="utf-8",
    )
    run = await NdjsonImport.open(session, StreamService(session), target, path)
    assert run.total == 7
    await run.run()
    assert run.acked == 2 and run.failed == 1 and run.bad_lines == 3 and run.blank_lines == 1
    assert [line for line, _ in run.problems] == [2, 4, 5, 6]
    reasons = dict(run.problems)
    assert "not JSON" in reasons[2]
    assert "does not capture" in reasons[4]
    assert "message size exceeds maximum" in reasons[5].lower()
    assert reasons[6] == "header 'K': a header value cannot hold a line break"
    assert run.progress == 1.0 and "2 stored" in run.describe()
    assert (await nc.jsm().stream_info(target)).state.messages == 2

    async with Session([session.servers[0]], read_only=True) as read_only:
        with pytest.raises(ReadOnlyError):
            await NdjsonImport.open(read_only, StreamService(read_only), target, path)


def message_line_for(subject: str, data: bytes) -> str:
    return message_line(
        StoredMessage(stream="x", seq=1, subject=subject, time=None, headers=None, data=data)
    )


async def test_an_import_of_refused_lines_leaves_the_event_loop_free(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    target = f"{unique}_free"
    await nc.jsm().add_stream(StreamConfig(name=target, subjects=[f"{unique}.free"]))
    refused = message_line_for(f"{unique}.elsewhere", b"x")
    long_line = '{"subject": "' + "x" * (5 << 20) + '"}\n'  # skipped unread, past `max_line`
    path = tmp_path / "refused.ndjson"
    path.write_text(long_line + refused * 60_000 + "\n" * 20_000 + "{bad\n" * 20_000)
    run = await NdjsonImport.open(session, StreamService(session), target, path)
    gaps: list[float] = []

    async def tick() -> None:  # what a key press or a frame would wait for
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            gaps.append(loop.time() - before)

    ticker = asyncio.create_task(tick())
    try:
        await run.run()
    finally:
        ticker.cancel()
    assert (run.bad_lines, run.blank_lines, run.sent) == (80_001, 20_000, 0)
    held = max(gaps, default=run.elapsed)
    assert len(gaps) > 10 and held < 0.1, f"the loop was held {held:.3f} s"


def test_one_delete_refusal_for_the_service_and_the_browser() -> None:
    def refusal(**config: object) -> str:
        return summary_from_raw({"config": {"name": "s", **config}}).delete_refusal

    assert refusal() == ""
    assert refusal(deny_purge=True) == ""
    assert refusal(sealed=True) == "it is sealed: no message can be deleted"
    assert refusal(sealed=True, deny_delete=True) == refusal(sealed=True)
    assert refusal(deny_delete=True).startswith("it denies deletes (deny_delete)")
