"""Streaming an object in and out, chunk by chunk, with progress: `Transfer`, `CountingReader`
and `download`.

nats-py 2.16's `ObjectStore.put` reads its data with `readinto` into one 128 KiB buffer and
publishes chunk after chunk, each acknowledged before the next is read: it never holds the whole
object. It has no progress hook, so `put` is handed a `CountingReader` around the file, which
counts and hashes every chunk on its way through and raises `TransferCancelled` when the user
cancels; nats-py then purges the chunks it had sent.

File I/O runs on the event loop, on purpose. The trade-off was measured (48 MiB, in tmux): nats-py
calls a reader's `readinto` in its executor thread, and that hop cost most of a put inside the app,
14 MiB/s (13.6) against 65 MiB/s (65.6) reading in the event loop (Textual's threads and the GIL's
5 ms switch interval delay each return); a get with a thread hop per chunk wrote 35.9 against 60.8
MiB/s. One 128 KiB read or write of a local file and its hash take well under 1 ms, so the loop
does them itself, and it is bounded to at most one chunk's read or write per loop turn: a put reads
a chunk only after the previous one's publish was acknowledged (an await on the network), and a get
gives the loop back after every chunk it writes (`asyncio.sleep(0)`), never a whole fetched batch
in a row. The reader is handed over as `LoopReader`, which nats-py reads in the loop (its `buffer`
branch). A slow disk (network file system) would stall the screen for as long as one read or write
takes; that is the price of the rate.

Its `get` is not used: without a writer it accumulates the object in one `bytes` (quadratic
`+=`), a link is followed without the writer at all, a cancelled get leaves its subscription
behind, and missing chunks make it wait for ever. `download` is jstui's own loop instead: an
ephemeral pull consumer (no acks, in memory) on the object's chunk subject `$O.<bucket>.C.<nuid>`,
fetched `FETCH_BATCH` chunks at a time, so at most that many chunks are in memory whatever the
size of the object. Each chunk is written and hashed in the loop, as said above; the file is
written beside the target under a hidden name and moved over it only once its SHA-256 matches
the meta's digest, so a failed, cancelled or corrupt get never leaves a half file where the user
asked for one. The consumer is deleted in every case.

`Transfer` is the progress both halves write (bytes done, in the loop) and the
dialog reads on its timer: fraction, rate, and at the end the digest and whether it matched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from jstui.nats.buckets import reply_fields
from jstui.nats.errors import JstuiError, RequestTimeoutError
from jstui.nats.objects.model import (
    OBJ_STREAM_PREFIX,
    ObjectEntry,
    chunk_subject,
    digest_bytes,
)
from jstui.nats.session import Session

__all__ = [
    "FETCH_BATCH",
    "CountingReader",
    "LoopReader",
    "Transfer",
    "TransferCancelled",
    "download",
]

FETCH_BATCH = 8
"""Chunks asked for at a time: 1 MiB of 128 KiB chunks in memory at most (8 MiB with the largest
chunks a server with the default 1 MiB max payload accepts)."""
STALL_SECONDS = 10.0
"""No chunk for this long: the object is incomplete on the server (or the server is gone)."""
CONSUMER_INACTIVE_SECONDS = 30.0
"""If jstui dies mid-get, the server drops the consumer after this long."""


class TransferCancelled(JstuiError):
    """The user cancelled a put or get; nothing was stored or written."""


@dataclass
class Transfer:
    """The progress of one put or get: written by the transfer, read by the dialog."""

    total: int
    """Bytes expected (the file's size for a put, the object's for a get)."""
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cancelled: bool = False
    """Set by the user: the transfer stops at the next chunk."""
    digest: str = ""
    """The SHA-256 of what went through, hex ("" until the end)."""
    verified: bool | None = None
    """Whether it matched the digest stored in the meta (None until the end)."""

    def cancel(self) -> None:
        self.cancelled = True

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 1.0

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Bytes a second so far."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    def finish(self, sha256: bytes, stored_digest: str) -> None:
        """Record what went through and whether it is what the meta says."""
        self.finished = time.monotonic()
        self.digest = sha256.hex()
        self.verified = digest_bytes(stored_digest) == sha256


class CountingReader:
    """A binary file for nats-py's `put`: `readinto` counts and hashes each chunk read and raises
    `TransferCancelled` once the transfer is cancelled. Hand it over as `LoopReader(reader)`."""

    def __init__(self, file: IO[bytes], transfer: Transfer) -> None:
        self._file = file
        self._transfer = transfer
        self.sha256 = hashlib.sha256()

    def readinto(self, buffer: bytearray) -> int:
        if self._transfer.cancelled:
            raise TransferCancelled("put cancelled: nothing was stored")
        count = self._file.readinto(buffer) or 0  # type: ignore[attr-defined]  # a raw or buffered file
        self.sha256.update(memoryview(buffer)[:count])
        self._transfer.done += count
        return count


class LoopReader:
    """What `put` is given: no `readinto` of its own, so nats-py takes its `buffer` and reads that
    in the event loop instead of its executor thread (see the module docstring)."""

    __slots__ = ("buffer",)

    def __init__(self, reader: CountingReader) -> None:
        self.buffer = reader


def part_path(target: Path) -> Path:
    """Where a get writes until the digest is checked: hidden, beside the target (same disk, so
    the final move is a rename)."""
    return target.with_name(f".{target.name}.jstui-part")


def _write(file: IO[bytes], sha: hashlib._Hash, data: bytes) -> None:
    file.write(data)
    sha.update(data)


async def download(
    session: Session,
    entry: ObjectEntry,
    target: Path,
    transfer: Transfer,
    *,
    batch: int = FETCH_BATCH,
    stall: float = STALL_SECONDS,
) -> None:
    """Write `entry`'s chunks into `target`, checking the SHA-256 at the end (see the module
    docstring). Raises `TransferCancelled`, `RequestTimeoutError` when chunks stop coming,
    `JstuiError` for a digest or size mismatch or a file that cannot be written."""
    stream = OBJ_STREAM_PREFIX + entry.bucket
    part = part_path(target)
    sha = hashlib.sha256()
    consumer = ""
    try:
        with open(part, "wb") as file:
            if entry.size:
                info = await session.jsm.add_consumer(
                    stream,
                    ConsumerConfig(
                        filter_subject=chunk_subject(entry.bucket, entry.nuid),
                        deliver_policy=DeliverPolicy.ALL,
                        ack_policy=AckPolicy.NONE,
                        mem_storage=True,
                        num_replicas=1,
                        inactive_threshold=CONSUMER_INACTIVE_SECONDS,
                    ),
                )
                consumer = info.name or ""
                await _fetch_into(session, stream, consumer, file, sha, transfer, batch, stall)
        transfer.finish(sha.digest(), entry.digest)
        if transfer.done != entry.size:
            raise JstuiError(
                f"the object is {entry.size} bytes but {transfer.done} arrived: nothing was written"
            )
        if not transfer.verified:
            raise JstuiError("the SHA-256 digest does not match the object's: nothing was written")
        os.replace(part, target)
    except OSError as error:
        raise JstuiError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        if consumer:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.jsm.delete_consumer(stream, consumer), 2)


async def _fetch_into(
    session: Session,
    stream: str,
    consumer: str,
    file: IO[bytes],
    sha: hashlib._Hash,
    transfer: Transfer,
    batch: int,
    stall: float,
) -> None:
    """Fetch chunks `batch` at a time until the server says none is pending after one."""
    sub = await session.js.pull_subscribe_bind(consumer=consumer, stream=stream)
    try:
        while True:
            if transfer.cancelled:
                raise TransferCancelled("get cancelled: nothing was written")
            try:
                messages = await sub.fetch(batch, timeout=stall)
            except (TimeoutError, nats.errors.TimeoutError):
                raise RequestTimeoutError(
                    f"no chunk arrived for {stall:g} s after {transfer.done} bytes: the object "
                    "is incomplete on the server, or the server is unreachable"
                ) from None
            for msg in messages:
                _write(file, sha, msg.data)
                transfer.done += len(msg.data)
                fields = reply_fields(msg.reply)
                if fields is not None and fields[2] == 0:
                    return
                # One chunk's write per loop turn (see the module docstring): a fetched batch
                # must not hold the screen and every other task for eight writes in a row.
                await asyncio.sleep(0)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
