"""Key-value operations on the shared connection: `KvService`.

Buckets are read from their backing streams (`KV_<bucket>`) through `StreamService`, one paged list
as the Streams pane reads it, and created and deleted as streams. Keys are written by publishing to
`$KV.<bucket>.<key>` and reading the JetStream acknowledgement, with the headers every KV client
uses: `KV-Operation: DEL` / `PURGE` (a purge also rolls the key's history up) and
`Nats-Expected-Last-Subject-Sequence` for an update. An update whose revision is no longer the
key's latest is refused by the server and nothing is written; `KvConflictError` then says which
revision the caller read and which one is there now.

Reads never consume: `get` is get-last-message-by-subject, `history` and `purge_deletes` read
through a short-lived ordered consumer (`watch.collect`) that is deleted afterwards. Every change
is refused in read-only mode before anything is sent; every failure leaves as a `JstuiError`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import nats.errors

from jstui.nats.buckets import (
    check_bucket_token,
    checked_reply,
    create_bucket_stream,
    jetstream_api,
)
from jstui.nats.errors import (
    ERR_NO_MESSAGE_FOUND,
    JstuiError,
    ServerAPIError,
    ValidationError,
    translate,
)
from jstui.nats.kv.model import (
    KV_STREAM_PREFIX,
    BucketSpec,
    BucketSummary,
    KeyEntry,
    bucket_of_stream,
    key_pattern_problem,
    key_problem,
    operation_of,
)
from jstui.nats.kv.watch import collect
from jstui.nats.session import Session
from jstui.nats.streams.service import DEFAULT_TIMEOUT, StreamService
from jstui.nats.streams.summaries import parse_header_block, parse_time

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


class KvService:
    """Buckets and keys; every request is bounded by `timeout` seconds."""

    def __init__(self, session: Session, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._session = session
        self.timeout = timeout
        self.streams = StreamService(session, timeout=timeout)

    # -- plumbing ------------------------------------------------------------------------------

    async def _api(self, api: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JetStream API call; an error reply is raised as `ServerAPIError`."""
        return await jetstream_api(self._session, api, payload, timeout=self.timeout)

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

    # -- buckets -------------------------------------------------------------------------------

    async def buckets(self) -> list[BucketSummary]:
        """Every bucket of the account, sorted by name (one paged list of the streams)."""
        try:
            found = [
                BucketSummary.from_stream(summary)
                async for page in self.streams.stream_pages()
                for summary in page
                if bucket_of_stream(summary.name)
            ]
        except JstuiError:
            raise
        except Exception as error:
            raise translate(error) from error
        return sorted(found, key=lambda bucket: bucket.name)

    async def bucket(self, name: str) -> BucketSummary:
        check_bucket_token(name)
        return BucketSummary.from_stream(await self.streams.summary(KV_STREAM_PREFIX + name))

    async def create_bucket(self, spec: BucketSpec) -> BucketSummary:
        """Create a bucket; a name in use is refused (the server would accept an identical one)."""
        await create_bucket_stream(
            self._session, self.streams, spec, stream_prefix=KV_STREAM_PREFIX, kind="bucket"
        )
        return await self.bucket(spec.name)

    async def delete_bucket(self, name: str) -> None:
        """Delete the bucket with every key and revision (its stream)."""
        self._session.check_writable("delete bucket")
        check_bucket_token(name)
        await self.streams.delete(KV_STREAM_PREFIX + name)

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
