"""Key-value operations on the shared connection: `KvService`.

Buckets are read from their backing streams (`KV_<bucket>`) through `StreamService`, one paged list
as the Streams pane reads it, and created and deleted as streams (`BucketService`,
jstui/nats/buckets.py, shared by both kinds of bucket). Keys are written by publishing to
`$KV.<bucket>.<key>` and reading the JetStream acknowledgement, with the headers every KV client
uses: `KV-Operation: DEL` / `PURGE` (a purge also rolls the key's history up) and
`Nats-Expected-Last-Subject-Sequence` for an update. An update whose revision is no longer the key's
latest is refused by the server and nothing is written; `KvConflictError` then says which revision
the caller read and which one is there now.

Reads never consume: `get` is get-last-message-by-subject, `history` and `purge_deletes` read
through a short-lived ordered consumer (`watch.collect`) that is deleted afterwards. Every change
is refused in read-only mode before anything is sent; every failure leaves as a `JstuiError`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable
from typing import TypeVar

import nats.errors

from jstui.nats.buckets import BucketService, check_bucket_token, checked_reply
from jstui.nats.errors import (
    ERR_NO_MESSAGE_FOUND,
    JstuiError,
    ServerAPIError,
    ValidationError,
    translate,
)
from jstui.nats.kv.model import (
    KV_STREAM_PREFIX,
    BucketSummary,
    KeyEntry,
    key_pattern_problem,
    key_problem,
    operation_of,
)
from jstui.nats.kv.watch import collect
from jstui.nats.streams.summaries import StreamSummary, parse_header_block, parse_time

__all__ = ["KvConflictError", "KvService"]

T = TypeVar("T")

ERR_WRONG_LAST_SEQUENCE = (10071, 10164)
"""The server's "wrong last sequence" refusals of an expected-revision publish."""


class KvConflictError(JstuiError):
    """An update found the key changed since it was read: nothing was written."""

    def __init__(self, key: str, expected: int, current: int | None) -> None:
        since = "by someone else since you opened it"
        if not expected:
            what = f"made {since}: it is at revision {current} now"
        elif current:
            what = f"changed {since}: revision {expected} is now {current}"
        else:
            what = f"changed {since}: revision {expected} is gone"
        super().__init__(f"{what}; nothing was overwritten")
        self.key = key
        self.expected = expected
        self.current = current


class KvService(BucketService[BucketSummary]):
    """Buckets and keys; every request is bounded by `timeout` seconds."""

    STREAM_PREFIX = KV_STREAM_PREFIX
    KIND = "bucket"

    def _summary(self, stream: StreamSummary) -> BucketSummary:
        return BucketSummary.from_stream(stream)

    # -- plumbing ------------------------------------------------------------------------------

    async def _publish(self, bucket: str, key: str, value: bytes, headers: dict[str, str]) -> int:
        """Store one message on the key's subject; returns its revision (stream sequence)."""
        check_bucket_token(bucket)
        if problem := key_problem(key):
            raise ValidationError("key", problem)
        try:
            msg = await self._session.nc.request(
                f"$KV.{bucket}.{key}", value, timeout=self.timeout, headers=headers or None
            )
        except nats.errors.NoRespondersError:
            raise JstuiError(f"bucket {bucket!r} does not exist (nobody stores its keys)") from None
        return int(checked_reply(json.loads(msg.data)).get("seq") or 0)

    # -- keys ----------------------------------------------------------------------------------

    async def get(self, bucket: str, key: str) -> KeyEntry | None:
        """The key's latest entry (a delete marker too), or None when it never was or was purged
        away; read with get-message, never consuming."""
        check_bucket_token(bucket)
        if problem := key_problem(key):
            raise ValidationError("key", problem)
        try:
            subject = f"$KV.{bucket}.{key}"
            resp = await self._api(
                f"STREAM.MSG.GET.{KV_STREAM_PREFIX}{bucket}", {"last_by_subj": subject}
            )
        except ServerAPIError as error:
            if error.err_code == ERR_NO_MESSAGE_FOUND:
                return None
            raise
        except JstuiError:
            raise
        except Exception as error:
            raise translate(error) from error
        raw = resp.get("message") or {}
        hdrs = raw.get("hdrs")
        time = parse_time(raw.get("time"))
        return KeyEntry(
            key=key,
            value=base64.b64decode(raw.get("data") or ""),
            revision=int(raw.get("seq") or 0),
            operation=operation_of(parse_header_block(base64.b64decode(hdrs)) if hdrs else None),
            created=time.timestamp() if time else 0.0,
        )

    async def put(self, bucket: str, key: str, value: bytes) -> int:
        """Store `value` whatever the key holds; returns the new revision."""
        self._session.check_writable("put key")
        return await self._translated(self._publish(bucket, key, value, {}))

    async def update(self, bucket: str, key: str, value: bytes, *, last: int) -> int:
        """Store `value` only if the key's latest revision is still `last` (0: the key must not
        exist, or be deleted at the revision read). `KvConflictError` when it changed."""
        self._session.check_writable("put key")
        headers = {"Nats-Expected-Last-Subject-Sequence": str(last)}
        try:
            return await self._translated(self._publish(bucket, key, value, headers))
        except ServerAPIError as error:
            if error.err_code not in ERR_WRONG_LAST_SEQUENCE:
                raise
        current = await self.get(bucket, key)
        raise KvConflictError(key, last, current.revision if current else None)

    async def delete(self, bucket: str, key: str) -> int:
        """Mark the key deleted (its history stays until purged); returns the marker's revision."""
        self._session.check_writable("delete key")
        return await self._translated(self._publish(bucket, key, b"", {"KV-Operation": "DEL"}))

    async def purge(self, bucket: str, key: str) -> int:
        """Delete the key and every earlier revision (one marker stays, rolled up)."""
        self._session.check_writable("purge key")
        headers = {"KV-Operation": "PURGE", "Nats-Rollup": "sub"}
        return await self._translated(self._publish(bucket, key, b"", headers))

    async def history(self, bucket: str, key: str) -> list[KeyEntry]:
        """Every revision the bucket keeps of `key`, oldest first."""
        check_bucket_token(bucket)
        if problem := key_problem(key):
            raise ValidationError("key", problem)
        return await self._translated(collect(self._session, bucket, key, history=True))

    async def delete_markers(self, bucket: str) -> list[KeyEntry]:
        """The keys whose latest entry is a delete or purge marker."""
        check_bucket_token(bucket)
        latest = await self._translated(collect(self._session, bucket, ">", history=False))
        return [entry for entry in latest if entry.deleted]

    async def purge_deletes(self, bucket: str, markers: list[KeyEntry] | None = None) -> int:
        """Remove deleted keys entirely, markers included; returns how many keys went. `markers`
        are those the user confirmed (default: every one there is now)."""
        self._session.check_writable("purge deleted keys")
        if markers is None:
            markers = await self.delete_markers(bucket)
        for entry in markers:
            await self.streams.purge(KV_STREAM_PREFIX + bucket, subject=f"$KV.{bucket}.{entry.key}")
        return len(markers)

    async def _translated(self, work: Awaitable[T]) -> T:
        try:
            return await work
        except JstuiError:
            raise
        except Exception as error:
            raise translate(error) from error


def check_pattern(pattern: str) -> str:
    """`pattern` trimmed, or `ValidationError` naming the problem ("" means every key)."""
    pattern = pattern.strip() or ">"
    if problem := key_pattern_problem(pattern):
        raise ValidationError("pattern", problem)
    return pattern
