"""Why a connection attempt failed, in one line a user understands (`describe_connect_error`).

nats-py, asyncio and aiohttp report a failed connect in their own words, which can carry the URL
with its password: every text goes through `jstui.format.redact` first. The `Session` races
these errors against the connect (`is_auth_error` ends the attempt at once).
"""

from __future__ import annotations

import asyncio

import nats.errors

from jstui.format.redact import redact_url

__all__ = ["describe_connect_error", "is_auth_error"]


def describe_connect_error(exc: BaseException) -> str:
    """One line a user understands for an error seen while connecting (URL user info masked:
    nats-py's and aiohttp's own texts can carry the URL)."""
    text = redact_url(str(exc))
    if "Authorization Violation" in text or "authorization violation" in text.lower():
        return "authorization violation: the server refused the credentials"
    if "Authentication Timeout" in text:
        return "authentication timeout: the server expected credentials"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing is listening at that address"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, nats.errors.NoServersError):
        return "no server could be reached"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timed out"
    return text.removeprefix("nats: ").strip("'") or type(exc).__name__


def is_auth_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "authorization violation" in text or "authentication" in text
