"""ObjectService, ObjectWatch and the transfers against a real nats-server, with plain nats-py
programs on the other side: objects put by either are read back by the other, digest checked."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js.api import ObjectMeta, ObjectStoreConfig, StorageType
from nats.js.errors import ObjectNotFoundError

from jstui.nats.errors import JstuiError, ReadOnlyError, ServerAPIError, SpecErrors
from jstui.nats.objects.model import ObjectEntry, StoreSpec, digest_hex, meta_subject
from jstui.nats.objects.service import ObjectService
from jstui.nats.objects.transfer import Transfer, TransferCancelled, part_path
from jstui.nats.objects.watch import ObjectWatch
from jstui.nats.session import Session
from tests.conftest import eventually

HOSTILE = "evil\x1b]52;c;cGF3bmVk\x07\u202e.bin"


async def consumers(nc: Client, bucket: str) -> int:
    return (await nc.jsm().stream_info(f"OBJ_{bucket}")).state.consumer_count


async def test_objects_put_by_nats_py_are_listed_and_downloaded(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    js = nc.jetstream()
    store = await js.create_object_store(
        unique, ObjectStoreConfig(description="from nats-py", ttl=3600, storage=StorageType.FILE)
    )
    data = os.urandom(3 * 1024 * 1024 + 17)  # 25 chunks, the last one short
    await store.put("big.bin", data, ObjectMeta(name="big.bin", description="random"))
    await store.put(HOSTILE, b"hostile")
    await store.put("empty", b"")
    service = ObjectService(session)
    listed = {bucket.name: bucket for bucket in await service.buckets()}
    bucket = listed[unique]
    assert (bucket.description, bucket.ttl, bucket.storage, bucket.sealed) == (
        "from nats-py",
        3600.0,
        "file",
        False,
    )
    assert bucket.bytes > len(data)
    watch = ObjectWatch(session, unique)
    await watch.start()
    try:
        await asyncio.wait_for(watch.caught_up.wait(), 10)
        by_name = {entry.name: entry for entry in watch.entries.values()}
        assert set(by_name) == {"big.bin", HOSTILE, "empty"}
        big = by_name["big.bin"]
        assert (big.size, big.chunks, big.description) == (len(data), 25, "random")
        assert digest_hex(big.digest) == hashlib.sha256(data).hexdigest()
        assert big.modified is not None
        # Live: a put and a delete from the other program arrive by themselves.
        await store.put("later.txt", b"later")
        await store.delete("empty")
        await eventually(
            lambda: {e.name for e in watch.entries.values()} == {"big.bin", HOSTILE, "later.txt"},
            what="put and delete seen",
        )
        assert await consumers(nc, unique) == 1
    finally:
        await watch.stop()
    assert await consumers(nc, unique) == 0

    target = tmp_path / "big.bin"
    transfer = Transfer(total=0)
    got = await service.get_file(big, target, transfer)
    assert target.read_bytes() == data
    assert (got.name, transfer.done, transfer.total, transfer.verified) == (
        "big.bin",
        len(data),
        len(data),
        True,
    )
    assert transfer.digest == hashlib.sha256(data).hexdigest()
    assert not part_path(target).exists()
    assert await consumers(nc, unique) == 0  # the get's consumer went with it
    # An empty object is an empty file.
    empty = tmp_path / "empty"
    await service.get_file(by_name["empty"], empty, Transfer(total=0))
    assert empty.read_bytes() == b""
    # An existing file is not replaced unless the caller says so.
    target.write_bytes(b"mine")
    with pytest.raises(JstuiError, match="exists"):
        await service.get_file(big, target, Transfer(total=0))
    assert target.read_bytes() == b"mine"
    await service.get_file(big, target, Transfer(total=0), overwrite=True)
    assert target.read_bytes() == data


async def test_objects_put_by_jstui_are_read_by_nats_py(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    service = ObjectService(session)
    created = await service.create_bucket(
        StoreSpec(name=unique, description="made by jstui", ttl="1h", max_bytes="64MiB")
    )
    assert (created.ttl, created.max_bytes, created.description) == (
        3600.0,
        64 * 2**20,
        "made by jstui",
    )
    with pytest.raises(ServerAPIError, match="already exists"):
        await service.create_bucket(StoreSpec(name=unique))
    source = tmp_path / "upload.dat"
    data = os.urandom(1024 * 1024 + 5)
    source.write_bytes(data)
    transfer = Transfer(total=len(data))
    entry = await service.put_file(unique, source, "docs/upload.dat", "a test file", transfer)
    assert (entry.size, entry.chunks, entry.description) == (len(data), 9, "a test file")
    assert (transfer.done, transfer.verified) == (len(data), True)
    store = await nc.jetstream().object_store(unique)
    result = await store.get("docs/upload.dat")  # nats-py checks the digest itself
    assert result.data == data
    assert result.info.digest == entry.digest
    status = await store.status()
    assert status.description == "made by jstui"
    # Replacing an object purges the old chunks: the stream holds one object's worth.
    smaller = tmp_path / "smaller"
    smaller.write_bytes(b"x" * 1000)
    await service.put_file(unique, smaller, "docs/upload.dat", "", Transfer(total=1000))
    assert (await store.get("docs/upload.dat")).data == b"x" * 1000
    assert (await service.bucket(unique)).bytes < 4096
    # Delete: nats-py sees it gone; the service says so too.
    await service.delete_object(unique, "docs/upload.dat")
    assert await service.object(unique, "docs/upload.dat") is None
    with pytest.raises(ObjectNotFoundError):
        await store.get_info("docs/upload.dat")
    await service.delete_bucket(unique)
    assert unique not in {bucket.name for bucket in await service.buckets()}


async def test_cancelled_transfers_leave_nothing(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    service = ObjectService(session)
    await service.create_bucket(StoreSpec(name=unique))
    source = tmp_path / "source"
    source.write_bytes(os.urandom(2 * 1024 * 1024))
    cancelled = Transfer(total=source.stat().st_size)
    cancelled.cancel()
    with pytest.raises(TransferCancelled):
        await service.put_file(unique, source, "gone", "", cancelled)
    assert await service.object(unique, "gone") is None
    assert (await service.bucket(unique)).messages == 0  # nats-py purged what it had sent
    entry = await service.put_file(unique, source, "kept", "", Transfer(total=0))
    target = tmp_path / "target"
    halted = Transfer(total=0)
    halted.cancel()
    with pytest.raises(TransferCancelled):
        await service.get_file(entry, target, halted)
    assert not target.exists() and not part_path(target).exists()
    assert await consumers(nc, unique) == 0


async def test_transfers_cancelled_half_way_leave_nothing(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    service = ObjectService(session)
    await service.create_bucket(StoreSpec(name=unique))
    source = tmp_path / "source"
    source.write_bytes(os.urandom(16 * 1024 * 1024))  # long enough to catch half-way
    putting = Transfer(total=source.stat().st_size)
    put = asyncio.create_task(service.put_file(unique, source, "gone", "", putting))
    await eventually(lambda: putting.done > 0 or put.done(), what="the put under way")
    putting.cancel()
    with pytest.raises(TransferCancelled):
        await put
    assert 0 < putting.done < putting.total
    assert (await service.bucket(unique)).messages == 0  # the chunks sent were purged
    entry = await service.put_file(unique, source, "kept", "", Transfer(total=0))
    target = tmp_path / "target"
    getting = Transfer(total=0)
    get = asyncio.create_task(service.get_file(entry, target, getting))
    await eventually(lambda: getting.done > 0 or get.done(), what="the get under way")
    getting.cancel()
    with pytest.raises(TransferCancelled):
        await get
    assert 0 < getting.done < getting.total
    assert not target.exists() and not part_path(target).exists()
    assert await consumers(nc, unique) == 0


async def test_a_wrong_digest_writes_no_file(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    store = await nc.jetstream().create_object_store(unique)
    await store.put("doc", b"the real bytes")
    subject = meta_subject(unique, "doc")
    meta = json.loads((await nc.jsm().get_last_msg(f"OBJ_{unique}", subject)).data)
    meta["digest"] = "SHA-256=" + "A" * 43 + "="
    await nc.jetstream().publish(subject, json.dumps(meta).encode())
    service = ObjectService(session)
    entry = await service.object(unique, "doc")
    assert isinstance(entry, ObjectEntry)
    target = tmp_path / "doc"
    with pytest.raises(JstuiError, match="digest does not match"):
        await service.get_file(entry, target, Transfer(total=0))
    assert not target.exists() and not part_path(target).exists()


async def test_links_are_followed(
    session: Session, nc: Client, unique: str, tmp_path: Path
) -> None:
    store = await nc.jetstream().create_object_store(unique)
    await store.put("target", b"linked bytes")
    link = {
        "name": "alias",
        "bucket": unique,
        "nuid": "",
        "options": {"link": {"bucket": unique, "name": "target"}},
    }
    await nc.jetstream().publish(meta_subject(unique, "alias"), json.dumps(link).encode())
    service = ObjectService(session)
    alias = await service.object(unique, "alias")
    assert alias is not None and alias.is_link and alias.link_name == "target"
    await service.get_file(alias, tmp_path / "out", Transfer(total=0))
    assert (tmp_path / "out").read_bytes() == b"linked bytes"


async def test_read_only_and_bad_specs_are_refused(
    nats_url: str, unique: str, tmp_path: Path
) -> None:
    errors = StoreSpec(name="bad name", ttl="soon", max_bytes="lots", replicas="9").validate()
    assert set(errors) == {"name", "ttl", "max_bytes", "replicas"}
    async with Session([nats_url]) as session:
        with pytest.raises(SpecErrors):
            await ObjectService(session).create_bucket(StoreSpec(name="a.b"))
        await ObjectService(session).create_bucket(StoreSpec(name=unique))
    source = tmp_path / "f"
    source.write_bytes(b"1")
    async with Session([nats_url], read_only=True) as session:
        service = ObjectService(session)
        with pytest.raises(ReadOnlyError):
            await service.create_bucket(StoreSpec(name=unique + "x"))
        with pytest.raises(ReadOnlyError):
            await service.put_file(unique, source, "f", "", Transfer(total=1))
        with pytest.raises(ReadOnlyError):
            await service.delete_object(unique, "f")
        with pytest.raises(ReadOnlyError):
            await service.delete_bucket(unique)
        assert unique in {bucket.name for bucket in await service.buckets()}


class TurnRecordingTransfer(Transfer):
    """A `Transfer` that notes, at each chunk counted, how many event-loop turns had gone by."""

    def __init__(self, total: int, turns: list[int]) -> None:
        super().__init__(total=total)
        self.turns_seen: list[int] = []
        self._turns = turns

    def __setattr__(self, name: str, value: object) -> None:
        if name == "done" and value != getattr(self, "done", 0):
            self.turns_seen.append(self._turns[0])
        super().__setattr__(name, value)


async def test_a_transfer_reads_or_writes_one_chunk_per_loop_turn(
    session: Session, unique: str, tmp_path: Path
) -> None:
    """File I/O runs in the event loop (see transfer.py): each chunk must give the loop back
    before the next, so that a large get never holds the screen for a whole fetched batch."""
    turns = [0]

    async def count_turns() -> None:
        while True:
            await asyncio.sleep(0)
            turns[0] += 1

    service = ObjectService(session)
    await service.create_bucket(StoreSpec(name=unique))
    source = tmp_path / "many-chunks.dat"
    data = os.urandom(20 * 128 * 1024)  # 20 chunks: more than one fetched batch
    source.write_bytes(data)
    counter = asyncio.create_task(count_turns())
    try:
        put = TurnRecordingTransfer(len(data), turns)
        entry = await service.put_file(unique, source, "many", "", put)
        got = TurnRecordingTransfer(len(data), turns)
        await service.get_file(entry, tmp_path / "back.dat", got)
    finally:
        counter.cancel()
    assert (tmp_path / "back.dat").read_bytes() == data
    for transfer in (put, got):
        assert len(transfer.turns_seen) == 20
        steps = [b - a for a, b in zip(transfer.turns_seen, transfer.turns_seen[1:], strict=False)]
        assert min(steps) >= 1, steps
