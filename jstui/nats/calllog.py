"""The log of jstui's own server calls (`--log`): JetStream API and system requests.

Every JetStream API call jstui makes ends in the client's `request`: nats-py's `JetStreamManager`
and `JetStreamContext` (stream and consumer info, create, update, delete, account info) as well
as jstui's direct API requests (`jstui.nats.streams.service`, feeds). So `log_server_calls`
replaces `request` on the client *instance* (as `client_fixes` does) with one that, for subjects
under `$JS.` and `$SYS.`, logs the subject, the outcome (ok, the API error, a status header, no
responders, a timeout) and the latency, at DEBUG on the `jstui.nats.calls` logger. Other subjects
(the user's own requests, the request benchmarks' path) go straight through.

Bodies are payloads: they go to the `jstui.nats.payloads` logger, which `jstui.logfile` leaves off
unless `--log-payloads` is given. The wrapper is installed only when the calls logger is enabled,
so without `--log` the client is untouched; and it never logs per message of a feed, because
feeds do not make requests.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg

CALLS = logging.getLogger("jstui.nats.calls")
PAYLOADS = logging.getLogger("jstui.nats.payloads")
# Off even when the rest of `jstui` logs at DEBUG: bodies are written only when asked for.
PAYLOADS.setLevel(logging.CRITICAL + 1)

LOGGED_PREFIXES = ("$JS.", "$SYS.")
PAYLOAD_LOG_LIMIT = 2048
"""Bytes of a request or reply body written to the log with --log-payloads; the rest is cut."""


def log_server_calls(nc: Client) -> None:
    """Log `$JS.`/`$SYS.` requests made through `nc` (only when the calls logger is enabled)."""
    if not CALLS.isEnabledFor(logging.DEBUG):
        return
    plain_request = nc.request

    async def request(subject: str, payload: bytes = b"", *args: Any, **kwargs: Any) -> Msg:
        if not subject.startswith(LOGGED_PREFIXES):
            return await plain_request(subject, payload, *args, **kwargs)
        start = time.perf_counter()
        try:
            reply = await plain_request(subject, payload, *args, **kwargs)
        except Exception as exc:
            elapsed = time.perf_counter() - start
            CALLS.debug("%s failed after %s: %s", subject, _ms(elapsed), _error_text(exc))
            _log_bodies(subject, payload, None)
            raise
        elapsed = time.perf_counter() - start
        CALLS.debug(
            "%s %s in %s (%d bytes out, %d back)",
            subject,
            describe_reply(reply),
            _ms(elapsed),
            len(payload),
            len(reply.data),
        )
        _log_bodies(subject, payload, reply.data)
        return reply

    nc.request = request  # type: ignore[method-assign]  # an instance patch, as in client_fixes


def describe_reply(reply: Msg) -> str:
    """The outcome of an API request: "ok", the status header, or the API error in the body."""
    headers = reply.headers or {}
    status = headers.get("Status")
    if status:
        description = headers.get("Description", "")
        return f"status {status} {description}".rstrip()
    data = reply.data
    if data[:1] == b"{" and b'"error"' in data:
        try:
            error = json.loads(data).get("error")
        except (ValueError, AttributeError):
            return "ok (reply is not JSON)"
        if isinstance(error, dict):
            code = error.get("err_code", error.get("code", "?"))
            return f"error {code}: {error.get('description', '')}"
    return "ok"


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _log_bodies(subject: str, payload: bytes, reply: bytes | None) -> None:
    if not PAYLOADS.isEnabledFor(logging.DEBUG):
        return
    PAYLOADS.debug("%s request body %r", subject, payload[:PAYLOAD_LOG_LIMIT])
    if reply is not None:
        PAYLOADS.debug("%s reply body %r", subject, reply[:PAYLOAD_LOG_LIMIT])
