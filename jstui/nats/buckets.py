"""What key-value buckets and object stores share in the nats layer: both are streams
(`KV_<bucket>`, `OBJ_<bucket>`) with a convention on top, so they are created, named and watched
by the same rules, kept here once.

- `jetstream_api` sends one JetStream API request and raises an error reply as `ServerAPIError`.
- `BucketService` lists, reads, creates and deletes the buckets of one kind: a create validates
  the form's spec, is refused in read-only mode and for a name in use (the server would accept an
  identical config silently).
- `check_bucket_token` refuses a name that cannot be one subject token before it is sent.
- `reply_fields` reads (stream sequence, time, pending) from a JetStream message's reply
  subject, cheaply: it runs once per delivered key or chunk.
- `BucketWatch` is an ordered consumer (jstui/nats/feeds/ordered.py) on a bucket's stream that
  hands each delivered message to its subclass (`KeyWatch`, `ObjectWatch`) with its sequence and
  time, and sets `caught_up` once everything stored when it started has arrived.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from jstui.nats.bucket_spec import bucket_of
from jstui.nats.errors import (
    ERR_STREAM_NAME_IN_USE,
    JstuiError,
    ServerAPIError,
    SpecErrors,
    ValidationError,
    translate,
)
from jstui.nats.feeds.ordered import OrderedConsumer
from jstui.nats.session import Session
from jstui.nats.streams.service import DEFAULT_TIMEOUT, StreamService
from jstui.nats.streams.summaries import StreamSummary

__all__ = [
    "BucketService",
    "BucketSpecLike",
    "BucketWatch",
    "check_bucket_token",
    "checked_reply",
    "jetstream_api",
    "reply_fields",
]

_ACK_V1_TOKENS = 9
"""`$JS.ACK.stream.consumer.delivered.sseq.cseq.ts.pending`; the v2 form adds domain and account
hash after `ACK`."""


def reply_fields(reply: str) -> tuple[int, float, int] | None:
    """(stream sequence, epoch seconds, pending) from a JetStream message's reply subject
    (`$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`, or the v2 form with
    domain and account hash after `ACK`), as nats-py reads them; None for any other reply."""
    tokens = reply.split(".")
    if len(tokens) == _ACK_V1_TOKENS and tokens[1] == "ACK":
        sseq, ts, pending = tokens[5], tokens[7], tokens[8]
    elif len(tokens) > _ACK_V1_TOKENS + 1 and tokens[1] == "ACK":
        sseq, ts, pending = tokens[7], tokens[9], tokens[10]
    else:
        return None
    return int(sseq), int(ts) / 1e9, int(pending)


def checked_reply(resp: dict[str, Any]) -> dict[str, Any]:
    """`resp` itself, or its error raised as `ServerAPIError`."""
    if error := resp.get("error"):
        raise ServerAPIError(
            str(error.get("description") or "the server refused"),
            code=error.get("code"),
            err_code=error.get("err_code"),
        )
    return resp


async def jetstream_api(
    session: Session, api: str, payload: dict[str, Any] | None, *, timeout: float
) -> dict[str, Any]:
    """One JetStream API call (`api` after the account's API prefix); an error reply is raised
    as `ServerAPIError`."""
    data = json.dumps(payload).encode() if payload is not None else b""
    prefix = session.jetstream_api_prefix
    msg = await session.nc.request(f"{prefix}.{api}", data, timeout=timeout)
    return checked_reply(json.loads(msg.data))


def check_bucket_token(name: str) -> None:
    """A name that cannot be one subject token would send the request elsewhere: refused here.
    Looser than the create forms' name rules on purpose: another program's bucket must stay
    usable."""
    if not name or any(ch in name for ch in ".*> \t\r\n"):
        raise ValidationError("bucket", "not a valid bucket name")


class BucketSpecLike(Protocol):
    """A bucket's create form as typed: `BucketSpec` (KV) or `StoreSpec` (object store)."""

    @property
    def name(self) -> str: ...

    def validate(self) -> dict[str, str]: ...

    def wire_config(self) -> dict[str, Any]: ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...


SummaryT = TypeVar("SummaryT", bound=_Named)


class BucketService(Generic[SummaryT]):
    """The buckets of one kind (`KIND`, backed by `STREAM_PREFIX<name>` streams): listed, read,
    created and deleted as streams. A subclass says how a stream's summary is read as a bucket's
    (`_summary`) and adds what its buckets hold (keys, objects)."""

    STREAM_PREFIX: ClassVar[str] = ""
    KIND: ClassVar[str] = "bucket"
    """As the user reads it: "create <kind>", "<kind> 'x' already exists"."""

    def __init__(self, session: Session, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._session = session
        self.timeout = timeout
        self.streams = StreamService(session, timeout=timeout)

    def _summary(self, stream: StreamSummary) -> SummaryT:
        raise NotImplementedError

    def _is_bucket(self, stream: str) -> bool:
        return bucket_of(stream, self.STREAM_PREFIX) is not None

    async def _api(self, api: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JetStream API call; an error reply is raised as `ServerAPIError`."""
        return await jetstream_api(self._session, api, payload, timeout=self.timeout)

    async def buckets(self) -> list[SummaryT]:
        """Every bucket of the account, sorted by name (one paged list of the streams)."""
        try:
            found = [
                self._summary(summary)
                async for page in self.streams.stream_pages()
                for summary in page
                if self._is_bucket(summary.name)
            ]
        except JstuiError:
            raise
        except Exception as error:
            raise translate(error) from error
        return sorted(found, key=lambda bucket: bucket.name)

    async def bucket(self, name: str) -> SummaryT:
        check_bucket_token(name)
        return self._summary(await self.streams.summary(self.STREAM_PREFIX + name))

    async def create_bucket(self, spec: BucketSpecLike) -> SummaryT:
        """Create the bucket `spec` describes. A bad field raises `SpecErrors` before anything
        else; read-only mode refuses it; a name in use is refused (the server would accept an
        identical config)."""
        if errors := spec.validate():
            raise SpecErrors(errors)
        self._session.check_writable(f"create {self.KIND}")
        stream = self.STREAM_PREFIX + spec.name
        in_use = ServerAPIError(
            f"{self.KIND} {spec.name!r} already exists", code=400, err_code=ERR_STREAM_NAME_IN_USE
        )
        if await self.streams.exists(stream):
            raise in_use
        try:
            await self._api(f"STREAM.CREATE.{stream}", spec.wire_config())
        except ServerAPIError as error:
            raise in_use if error.err_code == ERR_STREAM_NAME_IN_USE else error from None
        except JstuiError:
            raise
        except Exception as error:
            raise translate(error) from error
        return await self.bucket(spec.name)

    async def delete_bucket(self, name: str) -> None:
        """Delete the bucket with everything it holds (its stream)."""
        self._session.check_writable(f"delete {self.KIND}")
        check_bucket_token(name)
        await self.streams.delete(self.STREAM_PREFIX + name)


class BucketWatch:
    """An ordered consumer on `stream` for the messages on `subject`, from `policy` on: each
    one with a JetStream reply goes to `_take(msg, sequence, time)`; `caught_up` is set by the
    message the server says nothing is pending after (or at once on an empty start).

    `await start()`, `await stop()` at the end (the consumer is deleted); safe to stop twice."""

    bucket: str
    """The bucket watched (set by the subclass)."""

    def __init__(self, session: Session, stream: str, subject: str, policy: DeliverPolicy) -> None:
        self.session = session
        self.caught_up = asyncio.Event()
        self.received = 0
        self.stopped = ""
        """Why the watch ended on its own (a switch of server), '' while it runs."""
        self._stream = stream
        self._consumer = OrderedConsumer(
            session,
            stream,
            subject,
            ConsumerConfig(deliver_policy=policy, headers_only=False),
            self._on_message,
        )

    @property
    def consumer(self) -> str:
        """The name of the consumer behind the watch ("" when stopped)."""
        return self._consumer.consumer

    @property
    def error(self) -> str:
        return self.stopped or self._consumer.error

    def _on_message(self, msg: Msg) -> None:
        # Called inside nats-py's read loop: store, count, nothing drawn.
        fields = reply_fields(msg.reply)
        if fields is None:
            return
        sequence, created, pending = fields
        self.received += 1
        self._take(msg, sequence, created)
        if pending == 0:
            self._mark_caught_up()

    def _take(self, msg: Msg, sequence: int, created: float) -> None:
        """Store one delivered message (the subclass's parse)."""
        raise NotImplementedError

    def _mark_caught_up(self) -> None:
        self.caught_up.set()

    async def start(self) -> None:
        """Create the consumer; `caught_up` is set at once when nothing matches yet."""
        await self._consumer.start()
        info = await self.session.jsm.consumer_info(self._stream, self._consumer.consumer)
        if not info.num_pending and not info.delivered.consumer_seq and not self.received:
            self._mark_caught_up()
        self.session.add_user(self)

    async def leave_connection(self) -> None:
        """The session switches servers: delete the watch's consumer on the old one."""
        await self._consumer.stop()

    async def join_connection(self) -> None:
        """What the watch holds is the old server's: it does not follow, it says so (the pane
        shows `error`); opening the bucket again watches it on the new server."""
        self.stopped = "stopped at the switch of server: open the bucket again to watch it there"
        raise JstuiError(self.stopped)

    async def stop(self) -> None:
        """Unsubscribe and delete the consumer; safe to call twice."""
        self.session.remove_user(self)
        await self._consumer.stop()
