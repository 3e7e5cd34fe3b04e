"""Consumer operations on the shared connection: `ConsumerService`.

list (every stream's consumers, or one stream's) / info / create / update / delete / pause /
resume, each a request to the JetStream API (`$JS.API.CONSUMER.*` under the session's prefix)
that comes back as a `ConsumerEntry` (`summaries.py`); forms arrive as a `ConsumerSpec`
(`spec.py`) and are checked before the server is asked. Every failure leaves as a `JstuiError`.

Listing asks `STREAM.NAMES` (paged by 1024) and then `CONSUMER.LIST` per stream (paged by 256):
one request per page, each parsed as it comes. An update merges only the keys the form changed
into the config the server has now, and first compares that config with the one the form started
from: a change made elsewhere since the form opened is refused, never overwritten.

Pausing (`$JS.API.CONSUMER.PAUSE.<stream>.<consumer>`) exists from nats-server 2.11; on an older
server `pause_unsupported` says so before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import nats.errors
import nats.js.errors

from jstui.format.text import sanitize
from jstui.nats.consumers.spec import ConsumerSpec, rfc3339, wire_config
from jstui.nats.consumers.summaries import ConsumerEntry, entry_from_raw
from jstui.nats.errors import (
    ERR_CONSUMER_NOT_FOUND,
    ERR_STREAM_NOT_FOUND,
    JetStreamUnavailableError,
    JstuiError,
    ServerAPIError,
    SpecErrors,
    ValidationError,
    translate,
)
from jstui.nats.features import FEATURES, server_version, unsupported
from jstui.nats.names import fits_api_subject
from jstui.nats.session import Session

__all__ = ["ERR_CONSUMER_EXISTS", "PAUSE_SINCE", "ConsumerService", "server_version"]

DEFAULT_TIMEOUT = 5.0
"""Seconds any one request to the JetStream API may take."""

ERR_CONSUMER_EXISTS = 10148
"""A create with an existing consumer's name and another config (nats-server 2.15)."""

PAUSE_SINCE = FEATURES["consumer_pause"].since
"""The first nats-server version with `$JS.API.CONSUMER.PAUSE` (`jstui.nats.features`)."""


class ConsumerService:
    """Consumer operations on the shared connection; every request is bounded by `timeout`."""

    def __init__(self, session: Session, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._session = session
        self.timeout = timeout

    # -- plumbing ------------------------------------------------------------------------------

    async def _call(self, api: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JetStream API call; a refusal leaves as `ServerAPIError`, anything else as the
        matching `JstuiError`."""
        data = json.dumps(payload).encode() if payload is not None else b""
        subject = f"{self._session.jetstream_api_prefix}.{api}"
        try:
            msg = await self._session.nc.request(subject, data, timeout=self.timeout)
            resp: dict[str, Any] = json.loads(msg.data)
        except nats.errors.NoRespondersError:
            raise JetStreamUnavailableError(
                "JetStream is not available (not enabled for this account, or no leader)"
            ) from None
        except ValueError:
            raise JstuiError("the server sent an unreadable reply") from None
        except JstuiError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
        error = resp.get("error")
        if error:
            try:  # nats-py's from_error raises the matching subclass itself
                raise nats.js.errors.APIError.from_error(error)
            except nats.js.errors.APIError as exc:
                raise translate(exc) from None
        return resp

    @staticmethod
    def _check_names(stream: str, name: str | None = None) -> None:
        """Refuse names that cannot be one token of an API subject (the request would go to
        another subject and time out); looser than the rules for new names on purpose."""
        if not fits_api_subject(stream):
            raise ValidationError("stream", f"{sanitize(stream)!r} is not a valid stream name")
        if name is not None and not fits_api_subject(name):
            raise ValidationError("name", f"{sanitize(name)!r} is not a valid consumer name")

    # -- listing -------------------------------------------------------------------------------

    async def stream_names(self) -> list[str]:
        """Every stream's name, sorted."""
        names: list[str] = []
        while True:
            resp = await self._call("STREAM.NAMES", {"offset": len(names)})
            page = [str(name) for name in resp.get("streams") or []]
            names.extend(page)
            if not page or len(names) >= int(resp.get("total") or 0):
                return sorted(names)

    async def stream_consumers(self, stream: str) -> list[ConsumerEntry]:
        """The stream's consumers with their state; [] when the stream went meanwhile."""
        self._check_names(stream)
        entries: list[ConsumerEntry] = []
        while True:
            try:
                resp = await self._call(f"CONSUMER.LIST.{stream}", {"offset": len(entries)})
            except ServerAPIError as exc:
                if exc.err_code == ERR_STREAM_NOT_FOUND:
                    return []
                raise
            page = [entry_from_raw(stream, raw) for raw in resp.get("consumers") or []]
            entries.extend(page)
            if not page or len(entries) >= int(resp.get("total") or 0):
                return entries

    async def consumer_pages(self, stream: str | None = None) -> AsyncIterator[list[ConsumerEntry]]:
        """Every consumer (of `stream` only, when given), one stream at a time: a caller that
        handles each before asking for the next never holds the loop for the whole list."""
        streams = [stream] if stream else await self.stream_names()
        for name in streams:
            if fits_api_subject(name):
                yield await self.stream_consumers(name)

    async def list_all(self, stream: str | None = None) -> list[ConsumerEntry]:
        """Every consumer (of `stream` only, when given), by stream then name."""
        entries: list[ConsumerEntry] = []
        async for page in self.consumer_pages(stream):
            entries.extend(page)
        return sorted(entries, key=lambda e: (e.stream, e.name))

    async def _raw_info(self, stream: str, name: str) -> dict[str, Any]:
        self._check_names(stream, name)
        return await self._call(f"CONSUMER.INFO.{stream}.{name}")

    async def info(self, stream: str, name: str) -> ConsumerEntry:
        return entry_from_raw(stream, await self._raw_info(stream, name))

    async def exists(self, stream: str, name: str) -> bool:
        try:
            await self._raw_info(stream, name)
        except ServerAPIError as exc:
            if exc.err_code == ERR_CONSUMER_NOT_FOUND:
                return False
            raise
        return True

    # -- changes -------------------------------------------------------------------------------

    async def create(self, spec: ConsumerSpec) -> ConsumerEntry:
        """Create a consumer; a name already in use is an error even when the config is the same
        (the server answers an identical re-create with success)."""
        errors = spec.validate()
        if errors:
            raise SpecErrors(errors)
        self._session.check_writable("create consumer")
        self._check_names(spec.stream)
        config = wire_config(spec)
        name = spec.wire_name()
        if name and await self.exists(spec.stream, name):
            raise SpecErrors({"name": f"a consumer named {sanitize(name)!r} already exists"})
        api = f"CONSUMER.CREATE.{spec.stream}" + (f".{name}" if name else "")
        request = {"stream_name": spec.stream, "config": config, "action": "create"}
        return entry_from_raw(spec.stream, await self._call(api, request))

    async def update(self, spec: ConsumerSpec, *, base: ConsumerSpec) -> ConsumerEntry:
        """Apply the form to an existing consumer, sending only the fields changed from `base`
        (what the form started from); every other key goes back as the server has it.

        When the consumer changed elsewhere since the form read it, in any field the form shows,
        nothing is sent: `JstuiError` names those fields (the user reopens the form)."""
        self._session.check_writable("edit consumer")
        errors = spec.validate(base=base)
        if errors:
            raise SpecErrors(errors)
        raw = await self._raw_info(base.stream, base.name)
        current: dict[str, Any] = raw.get("config") or {}
        now = ConsumerSpec.from_config(base.stream, current, name=str(raw.get("name") or ""))
        elsewhere = now.changed_fields(base)
        if elsewhere:
            raise JstuiError(
                "changed elsewhere since the form opened ("
                + ", ".join(elsewhere)
                + "): close the form and edit again to see the new values"
            )
        changed = spec.changed_keys(base)
        if not changed:
            return entry_from_raw(base.stream, raw)
        wanted = wire_config(spec, base=base)
        merged = dict(current)
        for key in changed:
            if key in wanted:
                merged[key] = wanted[key]
            else:
                merged.pop(key, None)
        request = {"stream_name": base.stream, "config": merged, "action": "update"}
        resp = await self._call(f"CONSUMER.CREATE.{base.stream}.{base.name}", request)
        return entry_from_raw(base.stream, resp)

    async def delete(self, stream: str, name: str) -> None:
        self._session.check_writable("delete consumer")
        self._check_names(stream, name)
        await self._call(f"CONSUMER.DELETE.{stream}.{name}")

    def pause_unsupported(self) -> str:
        """Why pausing cannot work on the connected server ("" when it can, or when the
        version is unknown and the server will say)."""
        return unsupported("consumer_pause", self._session.status.server_version)

    async def pause(self, stream: str, name: str, until: datetime) -> ConsumerEntry:
        """Pause the consumer until `until` (no deliveries before then)."""
        self._session.check_writable("pause consumer")
        await self._pause_request(stream, name, {"pause_until": rfc3339(until)})
        return await self.info(stream, name)

    async def resume(self, stream: str, name: str) -> ConsumerEntry:
        """Resume a paused consumer now."""
        self._session.check_writable("resume consumer")
        await self._pause_request(stream, name, {})
        return await self.info(stream, name)

    async def _pause_request(self, stream: str, name: str, payload: dict[str, Any]) -> None:
        if reason := self.pause_unsupported():
            raise JstuiError(reason)
        self._check_names(stream, name)
        await self._call(f"CONSUMER.PAUSE.{stream}.{name}", payload)
