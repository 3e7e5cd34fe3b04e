"""Stream operations on the shared connection: `StreamService`.

list / info / create / update / purge / delete / consumers / browse / subject counts / delete one
message, each a request to the JetStream API (`$JS.API.STREAM.*`, under the session's prefix or
domain) that comes back as a value from `summaries.py` (subject counts: `subjects.py`); forms
arrive as a `StreamSpec` (`spec.py`) and are checked before the server is asked. Every failure
leaves as a `JstuiError`, so a widget needs one `except`.

Browsing never consumes: messages are read with get-message by sequence (or direct get), never
through a consumer, so work-queue and interest streams are left as they were (nats-notes §10).

A create with the name of an existing stream and the same config succeeds silently on the server
(even `did_create` is true), so `create` looks the name up first.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import nats.errors
import nats.js.errors
from nats.js.api import StreamConfig, StreamInfo

from jstui.format.text import sanitize
from jstui.nats.consumers.spec import SERVER_METADATA_PREFIX
from jstui.nats.errors import (
    ERR_NO_MESSAGE_FOUND,
    ERR_STREAM_NAME_IN_USE,
    ERR_STREAM_NOT_FOUND,
    JetStreamUnavailableError,
    JstuiError,
    ServerAPIError,
    SpecErrors,
    ValidationError,
    translate,
)
from jstui.nats.features import unsupported
from jstui.nats.names import fits_api_subject, subject_problem
from jstui.nats.session import Session
from jstui.nats.streams.origins import merge_sources
from jstui.nats.streams.spec import FEATURE_OF, FORM_KEYS, StreamSpec, wire_config
from jstui.nats.streams.subjects import SubjectCounts
from jstui.nats.streams.summaries import (
    DIRECT_GET_HEADERS,
    ConsumerSummary,
    MessagePage,
    StoredMessage,
    StreamSummary,
    consumer_from_raw,
    parse_header_block,
    parse_time,
    summary_from_raw,
)

__all__ = ["DEFAULT_TIMEOUT", "MAX_CALLS_PER_MESSAGE", "StreamService"]

DEFAULT_TIMEOUT = 5.0
"""Seconds any one request to the JetStream API may take."""

MAX_CALLS_PER_MESSAGE = 4
"""`StreamService.page` makes at most this many server calls per message asked for."""


P = ParamSpec("P")
T = TypeVar("T")


def _translating(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Let only `JstuiError`s out, so a widget needs one `except` for every failure."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except JstuiError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    return wrapper


class StreamService:
    """Stream operations on the shared connection; every request is bounded by `timeout` seconds.

    Requests go to the JetStream API directly (`$JS.API.STREAM.*`, or the session's prefix or
    domain) rather than through nats-py's manager, because the manager drops fields the UI shows
    (`first_ts`, `last_ts`, `num_subjects`, the purge count) and rebuilds configs without the keys
    it does not know, which an update would then erase.
    """

    def __init__(self, session: Session, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._session = session
        self.timeout = timeout
        self._allow_direct: dict[str, bool] = {}
        self.unavailable: frozenset[str] = frozenset()
        """The streams the last full list left out because their leader did not answer (none
        elected yet, or its server is down): the server knows they exist, not their state."""

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def api_prefix(self) -> str:
        return self._session.jetstream_api_prefix

    async def _request(
        self, api: str, payload: dict[str, Any] | None = None, *, stream: str | None = None
    ) -> dict[str, Any]:
        """One JetStream API call; an error comes back as nats-py's `APIError` (then translated)."""
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            msg = await self._session.nc.request(
                f"{self.api_prefix}.{api}", data, timeout=self.timeout
            )
        except nats.errors.NoRespondersError:
            raise JetStreamUnavailableError(
                "JetStream is not available (not enabled for this account, or no leader)"
            ) from None
        try:
            resp: dict[str, Any] = json.loads(msg.data)
        except ValueError:
            raise JstuiError("the server sent an unreadable reply") from None
        error = resp.get("error")
        if error:
            if stream is not None and error.get("err_code") == ERR_STREAM_NOT_FOUND:
                raise ServerAPIError(
                    f"stream {stream!r} not found",
                    code=error.get("code"),
                    err_code=ERR_STREAM_NOT_FOUND,
                )
            raise nats.js.errors.APIError.from_error(error)
        return resp

    @staticmethod
    def _check_name(name: str) -> None:
        """Refuse a name that cannot be put into an API subject (a "." would send the request to
        another subject, where it times out).

        Only the subject rules apply here, not the stricter rules for new names: a stream another
        program created with control characters in its name must still be browsable and deletable.
        """
        if not fits_api_subject(name):
            raise ValidationError("name", f"{sanitize(name)!r} is not a valid stream name")

    @staticmethod
    def _check_filter(subject: str | None) -> None:
        if subject is not None and (problem := subject_problem(subject)):
            raise ValidationError("subject", problem)

    def _max_payload(self) -> int | None:
        try:
            return int(self._session.nc.max_payload) or None
        except JstuiError:
            return None

    def unsupported(self, field: str) -> str:
        """Why the connected server cannot take the form's `field` ("" when it can, or when its
        version is unknown): `jstui.nats.features`."""
        feature = FEATURE_OF.get(field)
        if feature is None:
            return ""
        return unsupported(feature, self._session.status.server_version)

    def _remember(self, summary: StreamSummary) -> StreamSummary:
        self._allow_direct[summary.name] = summary.allow_direct
        return summary

    # -- streams -------------------------------------------------------------------------------

    @_translating
    async def list_streams(self) -> list[StreamSummary]:
        """Every stream with its state, sorted by name (the API pages by 256)."""
        summaries: list[StreamSummary] = []
        async for page in self.stream_pages():
            summaries.extend(page)
        return sorted(summaries, key=lambda s: s.name)

    async def stream_pages(self) -> AsyncIterator[list[StreamSummary]]:
        """Every stream with its state, one page of the API (up to 256) at a time.

        Each page is one request, parsed as it comes (~6 ms of the loop for 256 streams here), so
        a caller that handles each page before asking for the next never holds the event loop for
        the whole list. Failures leave as `JstuiError`s. Once the last page is out,
        `unavailable` names the streams left out for want of a leader."""
        offset = 0
        unavailable: set[str] = set()
        while True:
            try:
                resp = await self._request("STREAM.LIST", {"offset": offset})
            except JstuiError:
                raise
            except Exception as exc:
                raise translate(exc) from exc
            # A clustered server lists a stream whose leader does not answer under "missing"
            # (after waiting ~4 s for it), not under "streams": it is not gone. The total
            # counts them: the next page starts after them too.
            missing = [str(name) for name in resp.get("missing") or ()]
            unavailable.update(missing)
            page = [self._remember(summary_from_raw(raw)) for raw in resp.get("streams") or []]
            offset += len(page) + len(missing)
            last = not (page or missing) or offset >= int(resp.get("total") or 0)
            if last:
                self.unavailable = frozenset(unavailable)
            yield page
            if last:
                return

    async def _raw_info(self, name: str) -> dict[str, Any]:
        self._check_name(name)
        return await self._request(f"STREAM.INFO.{name}", stream=name)

    @_translating
    async def info(self, name: str) -> StreamInfo:
        """The stream's info as nats-py models it (config, state, cluster, created)."""
        raw = await self._raw_info(name)
        self._allow_direct[name] = bool((raw.get("config") or {}).get("allow_direct"))
        return StreamInfo.from_response(raw)

    @_translating
    async def summary(self, name: str) -> StreamSummary:
        return self._remember(summary_from_raw(await self._raw_info(name)))

    @_translating
    async def config(self, name: str) -> StreamConfig:
        config = (await self.summary(name)).config
        if config is None:  # never: every summary read from the server carries its config
            raise JstuiError(f"no config for stream {name!r}")
        return config

    @_translating
    async def exists(self, name: str) -> bool:
        try:
            await self._raw_info(name)
        except ServerAPIError as exc:
            if exc.err_code == ERR_STREAM_NOT_FOUND:
                return False
            raise
        return True

    @_translating
    async def bounds(self, name: str) -> tuple[int, int]:
        """(first_seq, last_seq) for paging; an empty stream has first_seq > last_seq or both 0."""
        summary = await self.summary(name)
        return summary.first_seq, summary.last_seq

    @_translating
    async def create(self, spec: StreamSpec) -> StreamSummary:
        """Create a stream; a name already in use is an error even when the config is the same.

        The server answers an identical re-create with success, which would let a form "create"
        over an existing stream, so the name is looked up first.
        """
        errors = spec.validate(max_payload=self._max_payload())
        if errors:
            raise SpecErrors(errors)
        self._session.check_writable("create stream")
        wire = wire_config(spec)
        name = spec.name
        already = ServerAPIError(
            f"stream {name!r} already exists", code=400, err_code=ERR_STREAM_NAME_IN_USE
        )
        if await self.exists(name):
            raise already
        try:
            resp = await self._request(f"STREAM.CREATE.{name}", wire)
        except nats.js.errors.APIError as exc:
            if exc.err_code == ERR_STREAM_NAME_IN_USE:
                raise already from exc
            raise
        return self._remember(summary_from_raw(resp))

    @_translating
    async def update(self, spec: StreamSpec, *, base: StreamSpec | None = None) -> StreamSummary:
        """Apply the form to an existing stream; the server's refusal comes back as
        `ServerAPIError` with its description and err_code.

        `base` is what the form started from (default: the stream as the server has it now). Only
        the fields changed from it are sent; every other key of the current config (the form's
        unchanged fields, keys the form does not show, keys nats-py does not know...) goes back
        byte for byte as the server has it, and with nothing changed nothing is sent. When the
        stream changed elsewhere since `base` was read, in any field the form shows, nothing is
        sent: `JstuiError` names those fields (the user reopens the form).
        """
        self._session.check_writable("edit stream")
        raw = await self._raw_info(spec.name)
        current: dict[str, Any] = raw.get("config") or {}
        now = StreamSpec.from_config(StreamConfig.from_response(copy.deepcopy(current)))
        base = now if base is None else base
        errors = spec.validate(max_payload=self._max_payload(), base=base)
        if errors:
            raise SpecErrors(errors)
        if elsewhere := now.changed_fields(base):
            # Saving would overwrite what another program (or another jstui) set meanwhile.
            raise JstuiError(
                "changed elsewhere since the form opened ("
                + ", ".join(elsewhere)
                + "): close the form and edit again to see the new values"
            )
        changed = [key for key in spec.changed_keys(base) if key in FORM_KEYS]
        if not changed:
            return self._remember(summary_from_raw(raw))
        wanted = wire_config(spec, base=base)
        merged = dict(current)
        for key in changed:
            if key in wanted:
                merged[key] = wanted[key]
            else:
                merged.pop(key, None)
        if "sources" in wanted and "sources" in changed:
            # What the form does not show of a source (its transforms) goes back as it was.
            merged["sources"] = merge_sources(current.get("sources"), wanted["sources"])
        if "metadata" in changed:
            # The server's own keys go back as they are (it would write them again anyway).
            own = {
                key: value
                for key, value in (current.get("metadata") or {}).items()
                if str(key).startswith(SERVER_METADATA_PREFIX)
            }
            merged["metadata"] = {**own, **wanted.get("metadata", {})}
        resp = await self._request(f"STREAM.UPDATE.{spec.name}", merged, stream=spec.name)
        return self._remember(summary_from_raw(resp))

    @_translating
    async def purge(self, name: str, *, subject: str | None = None, keep: int | None = None) -> int:
        """Remove messages (all, or those on `subject`), keeping the newest `keep`; returns how many
        were removed."""
        self._session.check_writable("purge stream")
        self._check_name(name)
        self._check_filter(subject)
        if keep is not None and keep < 0:
            raise ValidationError("keep", "cannot be negative")
        request: dict[str, Any] = {}
        if subject:
            request["filter"] = subject
        if keep:
            request["keep"] = keep
        resp = await self._request(f"STREAM.PURGE.{name}", request, stream=name)
        return int(resp.get("purged") or 0)

    @_translating
    async def count(self, name: str, subject: str | None = None) -> int:
        """Messages stored in the stream, or only on `subject` (wildcards allowed): what a purge
        with that filter would remove."""
        self._check_name(name)
        if not subject:
            raw = await self._raw_info(name)
            return int((raw.get("state") or {}).get("messages") or 0)
        return (await self.subject_counts(name, subject)).messages

    @_translating
    async def subject_counts(
        self, name: str, subject: str | None = None, *, limit: int | None = None
    ) -> SubjectCounts:
        """Messages per stored subject (only those matching `subject`, wildcards allowed), paged
        as the server pages them; with `limit`, stops once that many subjects are held."""
        self._check_name(name)
        self._check_filter(subject)
        counts: dict[str, int] = {}
        total = offset = 0
        while True:
            raw = await self._request(
                f"STREAM.INFO.{name}",
                {"subjects_filter": subject or ">", "offset": offset},
                stream=name,
            )
            page: dict[str, int] = (raw.get("state") or {}).get("subjects") or {}
            total = max(int(raw.get("total") or 0), len(page))
            for key, value in page.items():
                if limit is not None and len(counts) >= limit:
                    return SubjectCounts(counts, total)
                counts[key] = int(value)
            offset += len(page)
            if not page or offset >= total:
                return SubjectCounts(counts, max(total, len(counts)))

    @_translating
    async def delete(self, name: str) -> None:
        """Delete the stream, its messages and its consumers."""
        self._session.check_writable("delete stream")
        self._check_name(name)
        await self._request(f"STREAM.DELETE.{name}", stream=name)
        self._allow_direct.pop(name, None)

    @_translating
    async def delete_message(self, name: str, seq: int, *, erase: bool = False) -> None:
        """Remove the message at `seq`; `erase` also overwrites its bytes in the store with random
        data (the server's secure delete, `no_erase=False`), which takes longer.

        Refused in read-only mode and, before asking the server, on a stream that denies deletes.
        """
        self._session.check_writable("delete message")
        self._check_name(name)
        if seq < 1:
            raise ValidationError("sequence", "must be 1 or more")
        if refusal := summary_from_raw(await self._raw_info(name)).delete_refusal:
            raise JstuiError(f"stream {sanitize(name)!r}: {refusal}")
        await self._request(
            f"STREAM.MSG.DELETE.{name}", {"seq": seq, "no_erase": not erase}, stream=name
        )

    @_translating
    async def consumers(self, name: str) -> list[ConsumerSummary]:
        """The stream's consumers with their progress, sorted by name."""
        self._check_name(name)
        result: list[ConsumerSummary] = []
        offset = 0
        while True:
            resp = await self._request(f"CONSUMER.LIST.{name}", {"offset": offset}, stream=name)
            page = resp.get("consumers") or []
            result.extend(consumer_from_raw(raw) for raw in page)
            offset += len(page)
            if not page or offset >= int(resp.get("total") or 0):
                break
        return sorted(result, key=lambda c: c.name)

    # -- browsing, never consuming ---------------------------------------------------------------

    async def _use_direct(self, name: str, direct: bool | None) -> bool:
        if direct is False:
            return False
        if name not in self._allow_direct:
            await self.summary(name)
        if direct and not self._allow_direct[name]:
            raise ValidationError("direct", f"direct get is not enabled on stream {name!r}")
        return self._allow_direct[name]

    async def _get(
        self, name: str, request: dict[str, Any], direct: bool, *, explicit: bool
    ) -> StoredMessage | None:
        """One get-message call; None when there is no such message."""
        if direct:
            try:
                return await self._direct_get(name, request)
            except nats.errors.NoRespondersError:
                # allow_direct was switched off since we looked; the leader can still answer.
                self._allow_direct[name] = False
                if explicit:
                    raise ValidationError(
                        "direct", f"direct get is not enabled on stream {name!r}"
                    ) from None
        try:
            resp = await self._request(f"STREAM.MSG.GET.{name}", request, stream=name)
        except nats.js.errors.APIError as exc:
            if exc.err_code == ERR_NO_MESSAGE_FOUND:
                return None
            raise
        raw = resp.get("message") or {}
        hdrs = raw.get("hdrs")
        return StoredMessage(
            stream=name,
            seq=int(raw.get("seq") or 0),
            subject=str(raw.get("subject") or ""),
            time=parse_time(raw.get("time")),
            headers=parse_header_block(base64.b64decode(hdrs)) if hdrs else None,
            data=base64.b64decode(raw.get("data") or ""),
        )

    async def _direct_get(self, name: str, request: dict[str, Any]) -> StoredMessage | None:
        """`$JS.API.DIRECT.GET.<stream>`: any replica answers, with the message as the reply."""
        msg = await self._session.nc.request(
            f"{self.api_prefix}.DIRECT.GET.{name}",
            json.dumps(request).encode(),
            timeout=self.timeout,
        )
        # nats-py keys some headers with a str Enum whose hash differs from the plain string.
        headers = {str(getattr(k, "value", k)): v for k, v in (msg.headers or {}).items()}
        status = headers.get("Status")
        if status == "404":
            return None
        if status:
            description = headers.get("Description") or "direct get failed"
            raise ServerAPIError(
                f"direct get: {description.lower()}", code=int(status), err_code=None
            )
        own = {k: v for k, v in headers.items() if k not in DIRECT_GET_HEADERS}
        return StoredMessage(
            stream=name,
            seq=int(headers.get("Nats-Sequence") or 0),
            subject=headers.get("Nats-Subject", ""),
            time=parse_time(headers.get("Nats-Time-Stamp")),
            headers=own or None,
            data=bytes(msg.data),
        )

    @_translating
    async def get_message(
        self, name: str, seq: int, *, direct: bool | None = None
    ) -> StoredMessage:
        """The message at `seq`, read without consuming; direct get when the stream allows it
        (`direct=None`), or as asked. A missing sequence raises `ServerAPIError` (10037)."""
        self._check_name(name)
        if seq < 1:
            raise ValidationError("sequence", "must be 1 or more")
        use_direct = await self._use_direct(name, direct)
        message = await self._get(name, {"seq": seq}, use_direct, explicit=bool(direct))
        if message is None:
            raise ServerAPIError(
                f"no message with sequence {seq} in stream {name!r}",
                code=404,
                err_code=ERR_NO_MESSAGE_FOUND,
            )
        return message

    @_translating
    async def next_message(
        self, name: str, seq: int, *, subject: str | None = None, direct: bool | None = None
    ) -> StoredMessage | None:
        """The first message at or after `seq` (on `subject`, wildcards allowed); None past the end.
        Deleted sequences are skipped by the server in the same call."""
        self._check_name(name)
        self._check_filter(subject)
        use_direct = await self._use_direct(name, direct)
        request = {"seq": max(seq, 1), "next_by_subj": subject or ">"}
        return await self._get(name, request, use_direct, explicit=bool(direct))

    @_translating
    async def page(
        self,
        name: str,
        *,
        start: int | None = None,
        count: int,
        newest_first: bool,
        subject: str | None = None,
        direct: bool | None = None,
    ) -> MessagePage:
        """Up to `count` existing messages from `start` (inclusive; None = the newest when
        `newest_first`, else the oldest), skipping deleted and non-matching sequences.

        Forwards, each call returns the next match. Backwards there is no "previous" call in the
        API, so windows below the cursor are scanned forwards (each call jumps to the next match),
        a window of the still-missing count, doubled after each window with no match. A page makes
        at most `MAX_CALLS_PER_MESSAGE * count` calls; in a long sparse stretch it may so return
        fewer messages, with `next_start` telling where to go on.
        """
        self._check_name(name)
        self._check_filter(subject)
        if count <= 0:
            return MessagePage()
        first, last = await self.bounds(name)
        use_direct = await self._use_direct(name, direct)
        explicit = bool(direct)
        wanted = subject or ">"
        budget = MAX_CALLS_PER_MESSAGE * count
        first = max(first, 1)

        if not newest_first:
            found: list[StoredMessage] = []
            seq = max(start or first, first)
            while len(found) < count and budget > 0:
                budget -= 1
                message = await self._get(
                    name, {"seq": seq, "next_by_subj": wanted}, use_direct, explicit=explicit
                )
                if message is None:
                    return MessagePage(found, None)
                found.append(message)
                seq = message.seq + 1
            return MessagePage(found, seq)

        result: list[StoredMessage] = []
        high = last if start is None else min(start, last)
        window = count
        while len(result) < count and high >= first:
            missing = count - len(result)
            window = max(window, missing)
            # A window of w sequences costs at most w + 1 calls; never start one that cannot finish.
            window = min(window, budget - 1)
            if window < 1:
                break
            low = max(first, high - window + 1)
            newest: deque[StoredMessage] = deque(maxlen=missing)
            seq = low
            while True:
                budget -= 1
                message = await self._get(
                    name, {"seq": seq, "next_by_subj": wanted}, use_direct, explicit=explicit
                )
                if message is None or message.seq > high:
                    break
                newest.append(message)
                seq = message.seq + 1
                if seq > high:
                    break
            result.extend(reversed(newest))
            window = missing if newest else window * 2
            high = low - 1
        return MessagePage(result, high if high >= first else None)
