"""KvService and KeyWatch against a real nats-server, with plain nats-py programs on the other
side: buckets made by either are ordinary buckets to the other."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client
from nats.js.api import KeyValueConfig

from jstui.nats.errors import ReadOnlyError, ServerAPIError, SpecErrors
from jstui.nats.kv.model import BucketSpec, key_pattern_problem, operation_of
from jstui.nats.kv.service import KvConflictError, KvService, check_pattern
from jstui.nats.kv.watch import KeyWatch
from jstui.nats.session import Session
from tests.conftest import eventually


async def _consumer_count(session: Session, bucket: str) -> int:
    info = await session.jsm.stream_info(f"KV_{bucket}")
    return info.state.consumer_count


async def test_bucket_made_by_nats_py_is_listed_with_its_limits(
    session: Session, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    kv = await js.create_key_value(
        KeyValueConfig(bucket=unique, history=5, ttl=3600, max_value_size=1024)
    )
    await kv.put("a", b"1")
    await kv.put("b", b"2")
    service = KvService(session)
    listed = {bucket.name: bucket for bucket in await service.buckets()}
    bucket = listed[unique]
    assert (bucket.history, bucket.ttl, bucket.max_value_size) == (5, 3600.0, 1024)
    assert (bucket.keys, bucket.values, bucket.storage, bucket.replicas) == (2, 2, "file", 1)
    assert all(name.isprintable() for name in listed)


async def test_bucket_made_by_jstui_is_used_by_nats_py(
    session: Session, nc: Client, unique: str
) -> None:
    service = KvService(session)
    spec = BucketSpec(name=unique, history="3", ttl="1h", max_value_size="1KiB", compression="s2")
    bucket = await service.create_bucket(spec)
    assert (bucket.history, bucket.ttl, bucket.max_value_size, bucket.compression) == (
        3,
        3600.0,
        1024,
        "s2",
    )
    revision = await service.put(unique, "config.colour", b'{"blue": true}')
    kv = await nc.jetstream().key_value(unique)
    entry = await kv.get("config.colour")
    assert (entry.value, entry.revision) == (b'{"blue": true}', revision)
    status = await kv.status()
    assert status.history == 3
    with pytest.raises(ServerAPIError, match="already exists"):
        await service.create_bucket(spec)
    await service.delete_bucket(unique)
    assert unique not in {b.name for b in await service.buckets()}


def test_bucket_spec_is_checked_field_by_field() -> None:
    errors = BucketSpec(name="a.b", history="65", ttl="soon", max_bytes="lots").validate()
    assert set(errors) == {"name", "history", "ttl", "max_bytes"}
    assert BucketSpec(name="ok-bucket_1", history="64", ttl="1h30m").validate() == {}
    assert key_pattern_problem("a.*") is None and key_pattern_problem("a.>") is None
    assert key_pattern_problem("a.>.b") and key_pattern_problem("a..b")
    assert check_pattern("  ") == ">"
    assert operation_of({"Nats-Marker-Reason": "MaxAge"}) == "PURGE"


async def test_invalid_spec_sends_nothing(session: Session) -> None:
    with pytest.raises(SpecErrors) as raised:
        await KvService(session).create_bucket(BucketSpec(name="", history="0x"))
    assert set(raised.value.errors) == {"name", "history"}


async def test_update_with_the_revision_read_and_the_conflict_after(
    session: Session, nc: Client, unique: str
) -> None:
    kv = await nc.jetstream().create_key_value(KeyValueConfig(bucket=unique, history=5))
    service = KvService(session)
    read = await kv.put("k", b"one")
    newer = await kv.put("k", b"someone else's")
    with pytest.raises(KvConflictError) as raised:
        await service.update(unique, "k", b"mine", last=read)
    assert (raised.value.expected, raised.value.current) == (read, newer)
    assert f"revision {read} is now {newer}" in str(raised.value)
    assert (await kv.get("k")).value == b"someone else's"
    written = await service.update(unique, "k", b"mine", last=newer)
    assert (await kv.get("k")).revision == written
    with pytest.raises(KvConflictError, match="made by someone else"):
        await service.update(unique, "k", b"new key?", last=0)
    created = await service.update(unique, "fresh", b"new", last=0)
    assert (await kv.get("fresh")).revision == created


async def test_delete_purge_history_and_purge_deletes(
    session: Session, nc: Client, unique: str
) -> None:
    kv = await nc.jetstream().create_key_value(KeyValueConfig(bucket=unique, history=10))
    service = KvService(session)
    for value in (b"1", b"2", b"3"):
        await kv.put("h", value)
    await kv.put("gone", b"x")
    await kv.put("purged", b"y")
    history = await service.history(unique, "h")
    assert [entry.value for entry in history] == [b"1", b"2", b"3"]
    await service.delete(unique, "gone")
    await service.purge(unique, "purged")
    entry = await service.get(unique, "gone")
    assert entry is not None and entry.operation == "DEL"
    assert [e.operation for e in await service.history(unique, "purged")] == ["PURGE"]
    markers = await service.delete_markers(unique)
    assert sorted(m.key for m in markers) == ["gone", "purged"]
    assert await service.purge_deletes(unique, markers) == 2
    assert await _consumer_count(session, unique) == 0  # jstui's reading consumers are gone
    assert await service.get(unique, "gone") is None
    assert sorted(await kv.keys()) == ["h"]  # (nats-py's own reading leaves a consumer behind)


async def test_watch_with_a_pattern_follows_other_programs_and_cleans_up(
    session: Session, nc: Client, unique: str
) -> None:
    kv = await nc.jetstream().create_key_value(KeyValueConfig(bucket=unique))
    await kv.put("a.one", b"1")
    await kv.put("b.one", b"2")
    watch = KeyWatch(session, unique, "a.>")
    await watch.start()
    await asyncio.wait_for(watch.caught_up.wait(), 5)
    assert set(watch.take_changes()) == {"a.one"}
    await kv.put("a.two", b"3")
    await kv.put("b.two", b"4")
    await kv.delete("a.one")
    await eventually(lambda: {"a.one", "a.two"} <= watch.changed, what="live changes")
    changes = watch.take_changes()
    assert changes["a.one"].operation == "DEL" and changes["a.two"].value == b"3"
    assert await _consumer_count(session, unique) == 1
    await watch.stop()
    assert await _consumer_count(session, unique) == 0


async def test_watch_of_an_empty_bucket_is_caught_up_at_once(
    session: Session, nc: Client, unique: str
) -> None:
    await nc.jetstream().create_key_value(KeyValueConfig(bucket=unique))
    watch = KeyWatch(session, unique)
    await watch.start()
    assert watch.caught_up.is_set()
    await watch.stop()


async def test_read_only_refuses_every_change(nats_url: str, unique: str) -> None:
    async with Session([nats_url], read_only=True) as session:
        service = KvService(session)
        for change in (
            service.create_bucket(BucketSpec(name=unique)),
            service.delete_bucket(unique),
            service.put(unique, "k", b"v"),
            service.update(unique, "k", b"v", last=1),
            service.delete(unique, "k"),
            service.purge(unique, "k"),
            service.purge_deletes(unique, []),
        ):
            with pytest.raises(ReadOnlyError):
                await change
        assert not await session.jsm.streams_info() or all(
            s.config.name != f"KV_{unique}" for s in await session.jsm.streams_info()
        )
