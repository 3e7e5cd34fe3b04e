"""Streams: unit parsing, the form model, and stream operations against a real nats-server."""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, StreamConfig

from jstui.format.units import (
    count_field,
    duration_field,
    parse_count,
    parse_duration,
    parse_size,
    size_field,
)
from jstui.nats.embedded import EmbeddedServer
from jstui.nats.errors import (
    ERR_NO_MESSAGE_FOUND,
    ERR_REPLICAS_NOT_SUPPORTED,
    ERR_STREAM_INVALID_CONFIG,
    ERR_STREAM_NAME_IN_USE,
    ERR_STREAM_NOT_FOUND,
    ERR_SUBJECTS_OVERLAP,
    JstuiError,
    ReadOnlyError,
    ServerAPIError,
    SpecErrors,
    ValidationError,
)
from jstui.nats.session import Session
from jstui.nats.streams.service import MAX_CALLS_PER_MESSAGE, StreamService
from jstui.nats.streams.spec import StreamSpec

MiB = 1024 * 1024

# -- units -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("9s", 9.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("90", 90.0),
        ("0.5", 0.5),
        (" 10m ", 600.0),
        ("1m30s", 90.0),
        ("1500us", 0.0015),
        ("3ns", 3e-9),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "  ", "unlimited", "none", "None", "0", "0s", "0h0m"])
def test_parse_duration_no_limit(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5s", "negative"),
        ("-1", "negative"),
        ("abc", "not a duration"),
        ("5x", "not a duration"),
        ("5M", "not a duration"),  # no months, and "M" is not minutes
        ("s", "not a duration"),
        ("1h-30m", "not a duration"),
        ("1e3", "not a duration"),
        ("300y", "not a duration"),
        ("400000w", "292 years"),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, ""),
        (9.0, "9s"),
        (5400, "1h30m"),
        (0.25, "250ms"),
        (172800, "2d"),
        (604800 + 3600, "1w1h"),
        (120, "2m"),
        (1.5, "1s500ms"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert duration_field(seconds) == text


def test_duration_round_trips_to_the_nanosecond() -> None:
    rng = random.Random(7)
    samples = [rng.randrange(1, 10**17) for _ in range(2000)] + [10**8, 9 * 10**9, 1]
    for ns in samples:
        seconds = ns / 1e9  # what nats-py hands over for a server's nanoseconds
        assert parse_duration(duration_field(seconds)) == seconds, ns


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512", 512),
        ("512B", 512),
        ("10MiB", 10 * MiB),
        ("10 MiB", 10 * MiB),
        ("10MB", 10 * MiB),  # natscli: every unit is a power of 1024
        ("10mb", 10 * MiB),
        ("10M", 10 * MiB),
        ("1.5GiB", 1536 * MiB),
        ("2KB", 2048),
        ("1T", 1024**4),
        ("1_000", 1000),
        ("1,000,000", 1_000_000),
        ("0", 0),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "unlimited", "Unlimited", "none"])
def test_parse_size_no_limit(text: str) -> None:
    assert parse_size(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "negative"),
        ("-10MiB", "negative"),
        ("ten", "not a size"),
        ("10XB", "not a size"),
        ("10 M B", "not a size"),
        ("1,00", "not a size"),
        ("1.5B", "whole number of bytes"),
        ("9000000TiB", "at most"),
    ],
)
def test_parse_size_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, ""),
        (-1, ""),
        (0, "0B"),
        (512, "512B"),
        (1024, "1KiB"),
        (10 * MiB, "10MiB"),
        (1536 * MiB, "1.5GiB"),
        (1_000_000, "1000000B"),
        (1024**4 * 3, "3TiB"),
    ],
)
def test_format_size(size: int | None, text: str) -> None:
    assert size_field(size) == text


def test_size_round_trips() -> None:
    rng = random.Random(11)
    samples = [rng.randrange(0, 2**62) for _ in range(2000)]
    samples += [1023, 1024, 1025, 1536, 10 * MiB, 2**63 - 1, 1024**4 + 512]
    for n in samples:
        assert parse_size(size_field(n)) == n, n


def test_parse_count() -> None:
    assert parse_count("1000") == 1000
    assert parse_count("1_000") == 1000
    assert parse_count("1,000") == 1000
    assert parse_count(" 7 ") == 7
    assert parse_count("0") == 0
    assert parse_count("") is None
    assert parse_count("unlimited") is None
    for bad, message in [("-1", "negative"), ("1k", "whole number"), ("1.5", "whole number")]:
        with pytest.raises(ValueError, match=message):
            parse_count(bad)
    assert count_field(None) == count_field(-1) == ""
    assert parse_count(count_field(123456)) == 123456


# -- the form model --------------------------------------------------------------------------------


def tutorial_spec(name: str = "example_stream", subjects: str = "my.subject.*") -> StreamSpec:
    return StreamSpec(
        name=name,
        subjects=subjects,
        retention="limits",
        storage="file",
        max_age="9s",
        max_msgs="1000",
        max_bytes="10MiB",
    )


def test_tutorial_stream_to_config() -> None:
    config = tutorial_spec().to_config()
    assert config.name == "example_stream"
    assert config.subjects == ["my.subject.*"]
    assert config.max_age == 9.0
    assert config.max_msgs == 1000
    assert config.max_bytes == 10485760
    assert config.max_msg_size == -1
    assert config.max_msgs_per_subject == -1
    wire = config.as_dict()
    assert wire["max_age"] == 9_000_000_000
    assert wire["retention"] == "limits" and wire["storage"] == "file"
    spaced = StreamSpec(name="s", subjects="a", max_bytes="10 MiB").to_config()
    assert spaced.max_bytes == 10485760


def test_unlimited_limits() -> None:
    wire = StreamSpec(name="s", subjects="a", max_msgs="0").to_config().as_dict()
    assert wire["max_msgs"] == wire["max_bytes"] == wire["max_msg_size"] == -1
    assert wire["max_msgs_per_subject"] == -1
    assert wire["max_age"] == 0


@pytest.mark.parametrize("text", ["0.3s", "1.1s", "0.29s", "123.456789s", "2h0.7s", "1ns"])
def test_durations_reach_the_server_exactly(text: str) -> None:
    """nats-py truncates `seconds * 1e9`; to_config compensates so the server gets what is typed."""
    expected = round(parse_duration(text) * 1e9)  # type: ignore[operator]
    spec = StreamSpec(name="s", subjects="a", max_age="1w", duplicate_window=text)
    if expected < 100_000_000:
        assert "duplicate_window" in spec.validate()
        return
    assert spec.to_config().as_dict()["duplicate_window"] == expected


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"name": ""}, "name", "needs a name"),
        ({"name": "my stream"}, "name", "space"),
        ({"name": "a.b"}, "name", '"."'),
        ({"name": "a*"}, "name", '"*"'),
        ({"name": "a>"}, "name", '">"'),
        ({"name": "a/b"}, "name", '"/"'),
        ({"name": "a\\b"}, "name", '"\\"'),
        ({"name": "a\x1b[31m"}, "name", "control"),
        ({"name": "n" * 256}, "name", "255"),
        ({"description": "d" * 4097}, "description", "4096"),
        ({"subjects": ""}, "subjects", "at least one subject"),
        ({"subjects": " , "}, "subjects", "at least one subject"),
        ({"subjects": "a..b"}, "subjects", "empty token"),
        ({"subjects": ".a"}, "subjects", "empty token"),
        ({"subjects": "a."}, "subjects", "empty token"),
        ({"subjects": "a.>.b"}, "subjects", "'>' must be the last token"),
        ({"subjects": "a, a"}, "subjects", "listed twice"),
        ({"subjects": "a.*, a.b"}, "subjects", "overlaps"),
        ({"subjects": ">"}, "subjects", "every subject"),
        ({"subjects": "$JS.API.STREAM.>"}, "subjects", "JetStream API"),
        ({"subjects": "$SYS.>"}, "subjects", "system"),
        ({"retention": "forever"}, "retention", "limits, interest or workqueue"),
        ({"storage": "tape"}, "storage", "file or memory"),
        ({"discard": "newest"}, "discard", "old or new"),
        ({"replicas": "0"}, "replicas", "1 to 5"),
        ({"replicas": "6"}, "replicas", "1 to 5"),
        ({"replicas": "two"}, "replicas", "1 to 5"),
        ({"replicas": "-1"}, "replicas", "1 to 5"),
        ({"max_age": "-1s"}, "max_age", "negative"),
        ({"max_age": "soon"}, "max_age", "not a duration"),
        ({"max_age": "50ms"}, "max_age", "100ms"),
        ({"duplicate_window": "10ms"}, "duplicate_window", "100ms"),
        ({"max_age": "9s", "duplicate_window": "1m"}, "duplicate_window", "max age (9s)"),
        ({"max_msgs": "-5"}, "max_msgs", "negative"),
        ({"max_msgs": "lots"}, "max_msgs", "whole number"),
        ({"max_msgs_per_subject": "1.5"}, "max_msgs_per_subject", "whole number"),
        ({"max_bytes": "-1"}, "max_bytes", "negative"),
        ({"max_bytes": "10 parsecs"}, "max_bytes", "not a size"),
        ({"max_msg_size": "big"}, "max_msg_size", "not a size"),
    ],
)
def test_validate_reports_the_field(changes: dict[str, str], field: str, fragment: str) -> None:
    spec = StreamSpec(name="ok", subjects="ok.>")
    for key, value in changes.items():
        setattr(spec, key, value)
    errors = spec.validate()
    assert field in errors, errors
    assert fragment in errors[field]
    assert set(errors) == {field}


def test_validate_reports_every_field_at_once() -> None:
    spec = StreamSpec(name="a b", subjects="x..y", replicas="9", max_age="-1", max_bytes="?")
    errors = spec.validate()
    assert set(errors) == {"name", "subjects", "replicas", "max_age", "max_bytes"}
    with pytest.raises(SpecErrors) as caught:
        spec.to_config()
    assert caught.value.errors == errors


def test_validate_against_max_payload() -> None:
    spec = StreamSpec(name="s", subjects="a", max_msg_size="2MiB")
    assert spec.validate() == {}
    errors = spec.validate(max_payload=MiB)
    assert errors == {"max_msg_size": "larger than the server's max payload (1MiB)"}
    assert StreamSpec(name="s", subjects="a", max_msg_size="1MiB").validate(max_payload=MiB) == {}


def test_spec_round_trips_through_config() -> None:
    spec = StreamSpec(
        name="orders",
        description="all the orders",
        subjects="orders.>, returns.* refunds",
        retention="workqueue",
        storage="memory",
        replicas="3",
        max_age="1h30m",
        max_msgs="1000",
        max_bytes="1.5GiB",
        max_msg_size="64KiB",
        max_msgs_per_subject="10",
        discard="new",
        duplicate_window="30s",
        allow_direct=True,
    )
    again = StreamSpec.from_config(spec.to_config())
    assert again == StreamSpec(**{**vars(spec), "subjects": "orders.>, returns.*, refunds"})
    assert again.to_config().as_dict() == spec.to_config().as_dict()
    assert StreamSpec.from_config(StreamSpec(name="s", subjects="a").to_config()) == StreamSpec(
        name="s", subjects="a"
    )


def test_config_from_server_round_trips() -> None:
    """A config as nats-py reads it from the server (plain strings, float seconds) survives."""
    raw = {
        "name": "S",
        "subjects": ["a.>"],
        "retention": "interest",
        "storage": "file",
        "num_replicas": 1,
        "max_age": 299_999_999_999,
        "duplicate_window": 120_000_000_000,
        "max_msgs": -1,
        "max_bytes": 10485760,
        "max_msg_size": -1,
        "max_msgs_per_subject": 5,
        "discard": "old",
        "allow_direct": True,
    }
    config = StreamConfig.from_response(dict(raw))
    spec = StreamSpec.from_config(config)
    assert spec.max_age == "4m59s999ms999us999ns"
    assert spec.duplicate_window == "2m"
    wire = spec.to_config().as_dict()
    for key, value in raw.items():
        assert wire[key] == value, key


def test_immutable_changes() -> None:
    current = StreamSpec(name="s", subjects="a")
    assert set(StreamSpec.IMMUTABLE) == {"name", "storage", "mirror", "first_seq"}
    assert current.immutable_changes(current) == {}
    changed = StreamSpec(name="s", subjects="b", storage="memory", retention="interest")
    assert changed.immutable_changes(current) == {"storage": StreamSpec.IMMUTABLE["storage"]}
    to_wq = StreamSpec(name="s", subjects="a", retention="workqueue")
    assert to_wq.immutable_changes(current) == {"retention": StreamSpec.RETENTION_WORKQUEUE_REASON}


# -- against the server ----------------------------------------------------------------------------


@pytest.fixture
def streams(session: Session) -> StreamService:
    return StreamService(session, timeout=2)


async def _publish(session: Session, subject: str, count: int, **kwargs: object) -> None:
    for i in range(count):
        await session.js.publish(subject, f"{subject} #{i}".encode(), **kwargs)  # type: ignore[arg-type]


async def test_tutorial_stream_on_the_server(fresh_server: EmbeddedServer) -> None:
    async with Session([fresh_server.url]) as session:
        service = StreamService(session)
        created = await service.create(tutorial_spec())
        assert created.name == "example_stream"
        assert created.subjects == ("my.subject.*",)
        assert (created.retention, created.storage, created.replicas) == ("limits", "file", 1)
        config = await service.config("example_stream")
        assert config.max_age == 9.0
        assert config.max_msgs == 1000
        assert config.max_bytes == 10485760
        assert config.subjects == ["my.subject.*"]
        spec = StreamSpec.from_config(config)
        # The server shortens the default 2 min duplicate window to the max age.
        assert spec == StreamSpec(**{**vars(tutorial_spec()), "duplicate_window": "9s"})


async def test_create_info_list_update_delete(
    session: Session, streams: StreamService, unique: str
) -> None:
    spec = StreamSpec(name=f"{unique}_A", subjects=f"{unique}.a.>", description="first")
    created = await streams.create(spec)
    assert created.messages == 0 and created.description == "first"
    assert created.created is not None

    await _publish(session, f"{unique}.a.x", 3)
    summary = await streams.summary(spec.name)
    assert (summary.messages, summary.first_seq, summary.last_seq) == (3, 1, 3)
    assert summary.num_subjects == 1
    assert summary.first_time is not None and summary.last_time is not None
    assert summary.first_time <= summary.last_time
    info = await streams.info(spec.name)
    assert info.state.messages == 3 and info.config.name == spec.name

    await streams.create(StreamSpec(name=f"{unique}_B", subjects=f"{unique}.b"))
    names = [s.name for s in await streams.list_streams() if s.name.startswith(unique)]
    assert names == [f"{unique}_A", f"{unique}_B"]

    spec.max_msgs = "2"
    spec.description = ""
    updated = await streams.update(spec)
    assert updated.messages == 2  # the new limit applies at once
    config = await streams.config(spec.name)
    assert config.max_msgs == 2
    assert config.description is None

    await streams.delete(f"{unique}_B")
    assert not await streams.exists(f"{unique}_B")
    with pytest.raises(ServerAPIError, match=f"stream '{unique}_B' not found") as caught:
        await streams.summary(f"{unique}_B")
    assert caught.value.err_code == ERR_STREAM_NOT_FOUND
    with pytest.raises(ServerAPIError) as caught:
        await streams.delete(f"{unique}_B")
    assert caught.value.err_code == ERR_STREAM_NOT_FOUND


async def test_create_existing_name_is_an_error(streams: StreamService, unique: str) -> None:
    spec = StreamSpec(name=unique, subjects=f"{unique}.x")
    await streams.create(spec)
    for again in (spec, StreamSpec(name=unique, subjects=f"{unique}.y")):
        with pytest.raises(ServerAPIError, match=f"stream '{unique}' already exists") as caught:
            await streams.create(again)
        assert caught.value.err_code == ERR_STREAM_NAME_IN_USE
    assert (await streams.config(unique)).subjects == [f"{unique}.x"]


async def test_create_refused_by_the_server(streams: StreamService, unique: str) -> None:
    await streams.create(StreamSpec(name=f"{unique}_wide", subjects=f"{unique}.orders.>"))
    with pytest.raises(ServerAPIError, match="subjects overlap with an existing stream") as caught:
        await streams.create(StreamSpec(name=f"{unique}_narrow", subjects=f"{unique}.orders.*"))
    assert caught.value.err_code == ERR_SUBJECTS_OVERLAP

    spec = StreamSpec(name=f"{unique}_r3", subjects=f"{unique}.r3", replicas="3")
    with pytest.raises(ServerAPIError, match="replicas > 1 not supported") as caught:
        await streams.create(spec)
    assert caught.value.err_code == ERR_REPLICAS_NOT_SUPPORTED
    assert not await streams.exists(f"{unique}_r3")


async def test_create_validates_before_asking(streams: StreamService, unique: str) -> None:
    with pytest.raises(SpecErrors) as caught:
        await streams.create(StreamSpec(name=f"{unique} x", subjects="a..b"))
    assert set(caught.value.errors) == {"name", "subjects"}
    big = StreamSpec(name=unique, subjects=f"{unique}.big", max_msg_size="64MiB")
    with pytest.raises(SpecErrors, match="max payload"):
        await streams.create(big)


async def test_update_refusals_leave_the_stream_unchanged(
    streams: StreamService, unique: str
) -> None:
    spec = StreamSpec(name=unique, subjects=f"{unique}.s", max_msgs="10")
    await streams.create(spec)
    before = await streams.config(unique)

    storage = StreamSpec(**{**vars(spec), "storage": "memory", "max_msgs": "20"})
    with pytest.raises(ServerAPIError) as caught:
        await streams.update(storage)
    assert caught.value.err_code == ERR_STREAM_INVALID_CONFIG
    assert caught.value.description == "stream configuration update can not change storage type"

    retention = StreamSpec(**{**vars(spec), "retention": "workqueue"})
    with pytest.raises(ServerAPIError, match="retention policy to/from workqueue") as caught:
        await streams.update(retention)
    assert caught.value.err_code == ERR_STREAM_INVALID_CONFIG

    assert (await streams.config(unique)) == before

    # limits -> interest is allowed, so retention is not immutable as such.
    interest = await streams.update(StreamSpec(**{**vars(spec), "retention": "interest"}))
    assert interest.retention == "interest"

    with pytest.raises(ServerAPIError, match="not found") as caught:
        await streams.update(StreamSpec(name=f"{unique}_none", subjects=f"{unique}.none"))
    assert caught.value.err_code == ERR_STREAM_NOT_FOUND


async def test_update_keeps_settings_the_form_does_not_show(
    session: Session, streams: StreamService, unique: str
) -> None:
    await session.jsm.add_stream(
        StreamConfig(
            name=unique,
            subjects=[f"{unique}.k"],
            allow_rollup_hdrs=True,
            deny_delete=True,
            metadata={"owner": "team-a"},
        )
    )
    spec = StreamSpec.from_config(await streams.config(unique))
    spec.max_age = "1h"
    await streams.update(spec)
    config = await streams.config(unique)
    assert config.max_age == 3600
    assert config.allow_rollup_hdrs is True
    assert config.deny_delete is True
    assert (config.metadata or {}).get("owner") == "team-a"


async def test_purge(session: Session, streams: StreamService, unique: str) -> None:
    await streams.create(StreamSpec(name=unique, subjects=f"{unique}.*"))
    await _publish(session, f"{unique}.a", 4)
    await _publish(session, f"{unique}.b", 3)

    assert await streams.purge(unique, subject=f"{unique}.a", keep=1) == 3
    assert await streams.purge(unique, subject=f"{unique}.b") == 3
    assert (await streams.summary(unique)).messages == 1
    await _publish(session, f"{unique}.b", 5)
    assert await streams.purge(unique, keep=2) == 4
    assert await streams.purge(unique) == 2
    summary = await streams.summary(unique)
    assert summary.messages == 0
    assert summary.first_seq == summary.last_seq + 1  # how the server reports an emptied stream

    with pytest.raises(ValidationError, match="keep"):
        await streams.purge(unique, keep=-1)
    with pytest.raises(ValidationError, match="subject"):
        await streams.purge(unique, subject="a..b")


async def test_read_only_refuses_before_touching_the_server() -> None:
    # Never connected: any request would fail with NotConnectedError, not ReadOnlyError.
    service = StreamService(Session(["nats://127.0.0.1:1"], read_only=True))
    spec = StreamSpec(name="s", subjects="s")
    with pytest.raises(ReadOnlyError, match="create stream"):
        await service.create(spec)
    with pytest.raises(ReadOnlyError, match="edit stream"):
        await service.update(spec)
    with pytest.raises(ReadOnlyError, match="purge stream"):
        await service.purge("s")
    with pytest.raises(ReadOnlyError, match="delete stream"):
        await service.delete("s")


async def test_read_only_session_leaves_streams_alone(
    nats_url: str, streams: StreamService, unique: str
) -> None:
    spec = StreamSpec(name=unique, subjects=f"{unique}.ro")
    await streams.create(spec)
    async with Session([nats_url], read_only=True) as viewer:
        service = StreamService(viewer)
        assert (await service.summary(unique)).name == unique  # reading is fine
        with pytest.raises(ReadOnlyError):
            await service.update(StreamSpec(**{**vars(spec), "max_msgs": "1"}))
        with pytest.raises(ReadOnlyError):
            await service.delete(unique)
    assert (await streams.config(unique)).max_msgs == -1


async def test_bad_names_never_reach_the_server(streams: StreamService) -> None:
    for bad in ["a.b", "a b", ""]:
        with pytest.raises(ValidationError, match="name"):
            await streams.summary(bad)
        with pytest.raises(ValidationError):
            await streams.get_message(bad, 1)


async def test_consumers(session: Session, streams: StreamService, unique: str) -> None:
    await streams.create(StreamSpec(name=unique, subjects=f"{unique}.*"))
    await _publish(session, f"{unique}.a", 3)
    await session.jsm.add_consumer(
        unique,
        ConsumerConfig(durable_name="pull", filter_subject=f"{unique}.a", description="puller"),
    )
    await session.jsm.add_consumer(
        unique, ConsumerConfig(name="pusher", deliver_subject=f"_INBOX.{unique}")
    )
    consumers = await streams.consumers(unique)
    assert [c.name for c in consumers] == ["pull", "pusher"]
    pull, push = consumers
    assert pull.durable and not pull.push
    assert pull.description == "puller"
    assert pull.filter_subjects == (f"{unique}.a",)
    assert pull.num_pending == 3
    assert (pull.deliver_policy, pull.ack_policy) == ("all", "explicit")
    assert push.push and not push.durable
    assert pull.created is not None
    assert (await streams.summary(unique)).consumer_count == 2


# -- browsing --------------------------------------------------------------------------------------


async def _browse_stream(session: Session, streams: StreamService, name: str, subj: str) -> None:
    """Stream with seqs 1..10 on subj.a (odd) / subj.b (even), seq 4 and 5 deleted."""
    await streams.create(StreamSpec(name=name, subjects=f"{subj}.*"))
    for seq in range(1, 11):
        sub = "a" if seq % 2 else "b"
        await session.js.publish(f"{subj}.{sub}", f"m{seq}".encode())
    await session.jsm.delete_msg(name, 4)
    await session.jsm.delete_msg(name, 5)


async def test_page_both_ways_skipping_deleted(
    session: Session, streams: StreamService, unique: str
) -> None:
    await _browse_stream(session, streams, unique, unique)

    newest = await streams.page(unique, count=4, newest_first=True)
    assert [m.seq for m in newest] == [10, 9, 8, 7]
    assert newest.next_start == 6
    older = await streams.page(unique, start=newest.next_start, count=4, newest_first=True)
    assert [m.seq for m in older] == [6, 3, 2, 1]
    assert older.next_start is None

    oldest = await streams.page(unique, count=4, newest_first=False)
    assert [m.seq for m in oldest] == [1, 2, 3, 6]
    rest = await streams.page(unique, start=oldest.next_start, count=10, newest_first=False)
    assert [m.seq for m in rest] == [7, 8, 9, 10]
    assert rest.next_start is None

    odd = await streams.page(unique, count=10, newest_first=True, subject=f"{unique}.a")
    assert [m.seq for m in odd] == [9, 7, 3, 1]
    even = await streams.page(unique, start=8, count=2, newest_first=False, subject=f"{unique}.b")
    assert [m.seq for m in even] == [8, 10]

    first = oldest[0]
    assert (first.stream, first.subject, first.data) == (unique, f"{unique}.a", b"m1")
    assert first.time is not None and first.headers is None
    assert await streams.page(unique, start=3, count=0, newest_first=True) == []


async def test_get_and_next_message(session: Session, streams: StreamService, unique: str) -> None:
    await _browse_stream(session, streams, unique, unique)
    await session.js.publish(f"{unique}.a", b"", headers={"X-Trace": "t-1", "Nats-Msg-Id": "id1"})

    message = await streams.get_message(unique, 2)
    assert (message.seq, message.subject, message.data) == (2, f"{unique}.b", b"m2")
    with pytest.raises(
        ServerAPIError, match=f"no message with sequence 4 in stream '{unique}'"
    ) as c:
        await streams.get_message(unique, 4)
    assert c.value.err_code == ERR_NO_MESSAGE_FOUND
    with pytest.raises(ServerAPIError, match="no message with sequence 99"):
        await streams.get_message(unique, 99)

    assert (await streams.next_message(unique, 4)).seq == 6  # type: ignore[union-attr]
    filtered = await streams.next_message(unique, 4, subject=f"{unique}.a")
    assert filtered is not None and filtered.seq == 7
    assert await streams.next_message(unique, 12) is None

    with_headers = await streams.get_message(unique, 11)
    assert with_headers.data == b""
    assert with_headers.headers == {"X-Trace": "t-1", "Nats-Msg-Id": "id1"}


async def test_direct_get(session: Session, streams: StreamService, unique: str) -> None:
    await streams.create(StreamSpec(name=unique, subjects=f"{unique}.d", allow_direct=True))
    await session.js.publish(f"{unique}.d", b"payload", headers={"X-A": "1"})
    await session.js.publish(f"{unique}.d", b"second")

    direct = await streams.get_message(unique, 1, direct=True)
    leader = await streams.get_message(unique, 1, direct=False)
    assert direct == leader
    assert direct.headers == {"X-A": "1"}  # the server's Nats-Stream, Nats-Sequence... removed
    assert direct.time is not None
    auto = await streams.page(unique, count=5, newest_first=True)
    assert [m.data for m in auto] == [b"second", b"payload"]
    with pytest.raises(ServerAPIError, match="no message with sequence 7"):
        await streams.get_message(unique, 7, direct=True)
    assert await streams.next_message(unique, 3, direct=True) is None

    other = f"{unique}_nd"
    await streams.create(StreamSpec(name=other, subjects=f"{unique}.nd"))
    await session.js.publish(f"{unique}.nd", b"x")
    started = time.monotonic()
    with pytest.raises(ValidationError, match="direct get is not enabled"):
        await streams.get_message(other, 1, direct=True)
    assert time.monotonic() - started < 1
    assert (await streams.get_message(other, 1)).data == b"x"


async def test_backwards_page_in_a_sparse_stream_is_bounded(
    session: Session, streams: StreamService, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await streams.create(StreamSpec(name=unique, subjects=f"{unique}.*"))
    await session.js.publish(f"{unique}.rare", b"rare")
    await asyncio.gather(*(session.js.publish(f"{unique}.common", b"c") for _ in range(300)))

    calls = 0
    real_get = streams._get

    async def counting_get(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return await real_get(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(streams, "_get", counting_get)
    pages = 0
    start: int | None = None
    found = []
    while True:
        calls = 0
        page = await streams.page(
            unique, start=start, count=1, newest_first=True, subject=f"{unique}.rare"
        )
        pages += 1
        assert calls <= MAX_CALLS_PER_MESSAGE * 1
        found.extend(page)
        if found or page.next_start is None:
            break
        start = page.next_start
    assert [m.seq for m in found] == [1]
    assert pages > 1  # the budget ran out before seq 1, and next_start carried on


async def test_browsing_leaves_work_queue_and_interest_streams_unchanged(
    session: Session, streams: StreamService, unique: str
) -> None:
    wq = f"{unique}_wq"
    await streams.create(StreamSpec(name=wq, subjects=f"{unique}.wq", retention="workqueue"))
    await _publish(session, f"{unique}.wq", 5)

    interest = f"{unique}_int"
    await streams.create(StreamSpec(name=interest, subjects=f"{unique}.int", retention="interest"))
    await session.jsm.add_consumer(interest, ConsumerConfig(durable_name="keeper"))
    await _publish(session, f"{unique}.int", 5)

    for name in (wq, interest):
        assert (await streams.summary(name)).messages == 5
        for newest_first in (True, False):
            page = await streams.page(name, count=10, newest_first=newest_first)
            assert len(page) == 5
        await streams.get_message(name, 3)
        await streams.next_message(name, 1)
        summary = await streams.summary(name)
        assert (summary.messages, summary.first_seq, summary.last_seq) == (5, 1, 5), name
    keeper = (await streams.consumers(interest))[0]
    assert (keeper.num_pending, keeper.num_ack_pending, keeper.delivered_stream_seq) == (5, 0, 0)


async def test_only_jstui_errors_escape(nats_url: str) -> None:
    session = Session([nats_url])
    service = StreamService(session)
    with pytest.raises(JstuiError, match="not connected"):
        await service.list_streams()
    async with session:
        with pytest.raises(ServerAPIError) as caught:
            await service.info("no_such_stream_anywhere")
        assert caught.value.err_code == ERR_STREAM_NOT_FOUND


async def test_count_matches_what_a_filtered_purge_removes(nats_url: str, unique: str) -> None:
    async with Session([nats_url]) as session:
        service = StreamService(session)
        await service.create(StreamSpec(name=unique, subjects=f"{unique}.>"))
        js = session.js
        for i in range(7):
            await js.publish(f"{unique}.a.{i % 2}", b"x")
        await js.publish(f"{unique}.b", b"y")
        assert await service.count(unique) == 8
        assert await service.count(unique, f"{unique}.a.*") == 7
        assert await service.count(unique, f"{unique}.a.1") == 3
        assert await service.purge(unique, subject=f"{unique}.a.*") == 7
        assert await service.count(unique) == 1


async def test_existing_stream_with_control_characters_can_be_deleted(
    nats_url: str, nc: Client, unique: str
) -> None:
    """Another program may create names jstui would refuse; jstui must still manage them."""
    name = f"{unique}\x1b[31m"
    await nc.jetstream().add_stream(name=name, subjects=[f"{unique}.ctl"])
    async with Session([nats_url]) as session:
        service = StreamService(session)
        assert await service.count(name) == 0
        await service.delete(name)
        assert not await service.exists(name)


# -- saving what the server has --------------------------------------------------------------------

HOSTILE_DESCRIPTION = "ESC \x1b]52;c;SElKQUNLRUQ=\x07 BEL \x07 RLO \u202e end \x9b31m"


async def raw_stream_config(nc: Client, name: str) -> str:
    """The stream's config exactly as the server reports it (`$JS.API.STREAM.INFO.<name>`)."""
    reply = await nc.request(f"$JS.API.STREAM.INFO.{name}", b"", timeout=5)
    info = json.loads(reply.data)
    assert "error" not in info, info
    return json.dumps(info["config"], sort_keys=True, ensure_ascii=False)


async def create_hostile_stream(nc: Client, name: str, subjects: list[str], **extra: int) -> str:
    """Create, as another program could, a stream whose description and subjects hold ESC, BEL
    and a BiDi override; returns its config as the server reports it."""
    config = {
        "name": name,
        "description": HOSTILE_DESCRIPTION,
        "subjects": subjects,
        "storage": "memory",
        **extra,
    }
    reply = await nc.request(f"$JS.API.STREAM.CREATE.{name}", json.dumps(config).encode())
    assert "error" not in json.loads(reply.data)
    return await raw_stream_config(nc, name)


async def test_saving_an_unchanged_hostile_stream_changes_nothing(
    nats_url: str, nc: Client, unique: str
) -> None:
    """Defect 3 of #10: the form's values are the real ones, and unchanged fields are not sent."""
    name = f"{unique}_na\u202eme"
    subjects = [f"{unique}.a\x1bb", f"{unique}.ok.*"]
    # max bytes not a round number of any unit
    before = await create_hostile_stream(nc, name, subjects, max_bytes=10_000_001)
    async with Session([nats_url]) as session:
        streams = StreamService(session)
        current = StreamSpec.from_config(await streams.config(name))
        assert current.description == HOSTILE_DESCRIPTION  # the real value, not its display
        # Unchanged, as the form sends it (with the spec it started from) and without a base.
        await streams.update(StreamSpec(**vars(current)), base=current)
        await streams.update(StreamSpec(**vars(current)))
        assert await raw_stream_config(nc, name) == before

        # A change sends that field only: the hostile description and subjects stay byte for byte.
        await streams.update(StreamSpec(**{**vars(current), "max_msgs": "7"}), base=current)
        after = json.loads(await raw_stream_config(nc, name))
        assert after["max_msgs"] == 7
        assert after == {**json.loads(before), "max_msgs": 7}

        # A change that breaks an unchanged field's rule is still caught (window 2m > age 1m).
        with pytest.raises(SpecErrors, match="max age"):
            await streams.update(StreamSpec(**{**vars(current), "max_age": "1m"}), base=current)

        # A new value is still judged by jstui's rules.
        with pytest.raises(SpecErrors, match="control characters"):
            await streams.update(
                StreamSpec(**{**vars(current), "subjects": f"{unique}.x\x1b"}), base=current
            )
        await streams.delete(name)
