"""Object-store operations on the shared connection: `ObjectService`.

Buckets are read from their backing streams (`OBJ_<bucket>`) through `StreamService`, one paged list
as the Streams pane reads it, and created and deleted as streams (`BucketService`,
jstui/nats/buckets.py, shared by both kinds of bucket). An object's meta is read with
get-last-message-by-subject (never consuming). A put goes through nats-py's own `ObjectStore.put`
with a counting reader, so the object it writes is the one every client expects; a get is jstui's
chunk loop (`transfer.download`). Both stream chunk by chunk and fill a `Transfer` as they go; both
end with a digest check (a put compares what it read with the meta the server now holds). Deleting
an object is nats-py's `delete`: a meta marked deleted, its chunks purged.

Every change is refused in read-only mode before anything is sent; every failure leaves as a
`JstuiError`.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import nats.js.errors
from nats.js.api import ObjectMeta
from nats.js.object_store import ObjectStore

from jstui.nats.buckets import BucketService, check_bucket_token
from jstui.nats.errors import (
    ERR_NO_MESSAGE_FOUND,
    JstuiError,
    RequestTimeoutError,
    ServerAPIError,
    ValidationError,
    translate,
)
from jstui.nats.objects.model import (
    OBJ_STREAM_PREFIX,
    ObjectEntry,
    StoreSummary,
    meta_subject,
    object_name_problem,
)
from jstui.nats.objects.transfer import CountingReader, LoopReader, Transfer, download
from jstui.nats.objects.watch import ObjectWatch
from jstui.nats.streams.summaries import StreamSummary

__all__ = ["ObjectService"]

T = TypeVar("T")


class ObjectService(BucketService[StoreSummary]):
    """Buckets and objects; every request is bounded by `timeout` seconds (a transfer by the
    time between two chunks)."""

    STREAM_PREFIX = OBJ_STREAM_PREFIX
    KIND = "object store"

    def _summary(self, stream: StreamSummary) -> StoreSummary:
        return StoreSummary.from_stream(stream)

    # -- buckets -------------------------------------------------------------------------------

    async def count_objects(self, bucket: str) -> int:
        """How many live objects `bucket` holds: its meta messages read once (no chunk is)."""
        check_bucket_token(bucket)
        watch = ObjectWatch(self._session, bucket)
        try:
            await self._translated(watch.start())
            await asyncio.wait_for(watch.caught_up.wait(), self.timeout)
        except TimeoutError:
            raise RequestTimeoutError(f"counting the objects of {bucket!r} took too long") from None
        finally:
            await watch.stop()
        return len(watch.entries)

    # -- objects -------------------------------------------------------------------------------

    async def object(self, bucket: str, name: str) -> ObjectEntry | None:
        """The object's latest meta (None when it never was, or is deleted)."""
        check_bucket_token(bucket)
        subject = meta_subject(bucket, name)
        try:
            resp = await self._translated(
                self._api(f"STREAM.MSG.GET.{OBJ_STREAM_PREFIX}{bucket}", {"last_by_subj": subject})
            )
        except ServerAPIError as error:
            if error.err_code == ERR_NO_MESSAGE_FOUND:
                return None
            raise
        data = base64.b64decode((resp.get("message") or {}).get("data") or "")
        entry = ObjectEntry.from_meta(data, subject)
        return entry if entry is not None and not entry.deleted else None

    async def put_file(
        self, bucket: str, path: Path, name: str, description: str, transfer: Transfer
    ) -> ObjectEntry:
        """Store the file at `path` as object `name` (replacing one of that name), chunk by
        chunk; `transfer` follows it and ends with the digest check. `TransferCancelled` when the
        user cancels (nats-py purges the chunks sent)."""
        self._session.check_writable("put object")
        if problem := object_name_problem(name):
            raise ValidationError("name", problem)
        await self.bucket(bucket)  # a missing bucket is said as such, not as a failed publish
        store = ObjectStore(bucket, OBJ_STREAM_PREFIX + bucket, self._session.js)
        meta = ObjectMeta(name=name, description=description or None)
        try:
            with open(path, "rb") as file:
                reader = CountingReader(file, transfer)
                await self._translated(store.put(name, LoopReader(reader), meta))  # type: ignore[arg-type]  # a reader is what put reads
        except OSError as error:
            problem = f"cannot read {path}: {error.strerror or error}"
            raise ValidationError("path", problem) from None
        stored = await self.object(bucket, name)
        if stored is None:
            raise JstuiError(f"object {name!r} is not in {bucket!r} after the put")
        transfer.finish(reader.sha256.digest(), stored.digest)
        if not transfer.verified:
            raise JstuiError("the stored SHA-256 digest does not match the file's")
        return stored

    async def get_file(
        self, entry: ObjectEntry, target: Path, transfer: Transfer, *, overwrite: bool = False
    ) -> ObjectEntry:
        """Write the object (a link: the object it points at) into `target`, refusing to replace
        a file unless `overwrite`; returns the entry whose bytes were written."""
        if entry.is_link:
            if not entry.link_name:
                raise JstuiError(
                    f"{entry.name!r} links to the whole bucket {entry.link_bucket!r}: open it there"
                )
            target_entry = await self.object(entry.link_bucket, entry.link_name)
            if target_entry is None or target_entry.is_link:
                raise JstuiError(
                    f"{entry.name!r} links to {entry.link_bucket}/{entry.link_name}, "
                    "which is not there"
                )
            entry = target_entry
        if target.exists() and not overwrite:
            raise ValidationError("path", f"{target} exists (confirm to replace it)")
        if target.is_dir():
            raise ValidationError("path", f"{target} is a directory")
        transfer.total = entry.size
        await self._translated(download(self._session, entry, target, transfer))
        return entry

    async def delete_object(self, bucket: str, name: str) -> None:
        """Mark the object deleted and purge its chunks (nats-py's `delete`)."""
        self._session.check_writable("delete object")
        check_bucket_token(bucket)
        store = ObjectStore(bucket, OBJ_STREAM_PREFIX + bucket, self._session.js)
        try:
            await self._translated(store.delete(name))
        except ServerAPIError as error:
            if error.err_code == ERR_NO_MESSAGE_FOUND:
                raise JstuiError(f"object {name!r} is no longer in {bucket!r}") from None
            raise

    async def _translated(self, work: Awaitable[T]) -> T:
        try:
            return await work
        except JstuiError:
            raise
        except nats.js.errors.ObjectNotFoundError:
            raise JstuiError("the object is no longer there") from None
        except Exception as error:
            raise translate(error) from error
