"""Reading nats-server's HTTP monitoring endpoint, to find queue-group members outside jstui.

`/connz?subs=detail` lists every client connection with its subscriptions; a subscription there
carries its subject, queue group and how many messages the server delivered to it. The members of
a core queue group subscribe to the group's subject; the members of a JetStream deliver group
subscribe to the consumer's deliver subject with the deliver group as queue. Either way a
(subject, queue) pair finds them, on any connection, whatever program runs them.

No HTTP library: one minimal HTTP/1.1 GET over `asyncio.open_connection` (plain or TLS), with
`Connection: close`, reading either a Content-Length body or a chunked one. Nothing here imports
Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from jstui.format.redact import redact_url
from jstui.nats.errors import JstuiError

__all__ = ["ExternalMember", "MonitorClient", "MonitorError", "http_get_json"]

DEFAULT_TIMEOUT = 2.0
MAX_BODY = 32 * 1024 * 1024
"""Refuse monitoring answers above this size (a server with very many connections)."""
CONNZ_LIMIT = 1024

_log = logging.getLogger(__name__)


def _ms(start: float) -> str:
    return f"{(time.perf_counter() - start) * 1000:.1f} ms"


class MonitorError(JstuiError):
    """The monitoring endpoint could not be read (not reachable, not nats-server, bad answer)."""


@dataclass(frozen=True)
class ExternalMember:
    """One subscription in a queue group, as the server sees it."""

    cid: int
    sid: str
    name: str
    """The client's connection name (may be empty); untrusted: sanitize before display."""
    ip: str
    port: int
    lang: str
    version: str
    delivered: int
    """Messages the server delivered to this subscription."""

    @property
    def key(self) -> str:
        return f"{self.cid}/{self.sid}"

    @property
    def label(self) -> str:
        return f"c{self.cid}/s{self.sid}"


def _parse_base(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise MonitorError(f"monitoring URL must be http:// or https://, not {scheme}://")
    host = parts.hostname
    if not host:
        raise MonitorError(f"monitoring URL {url!r} has no host")
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, host, port, parts.path.rstrip("/")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readline()
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise MonitorError("bad chunked answer from the monitoring endpoint") from None
        if size == 0:
            # trailers, up to the empty line (or the end of the stream)
            while (await reader.readline()).strip():
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise MonitorError("the monitoring answer is too large")
        body += await reader.readexactly(size)
        await reader.readexactly(2)  # CRLF after each chunk


async def _get(url: str, path: str, params: dict[str, Any]) -> bytes:
    scheme, host, port, prefix = _parse_base(url)
    context = ssl.create_default_context() if scheme == "https" else None
    reader, writer = await asyncio.open_connection(
        host, port, ssl=context, server_hostname=host if context else None
    )
    try:
        target = f"{prefix}{path}"
        if params:
            target += "?" + urlencode(params)
        host_header = host if ":" not in host else f"[{host}]"
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {host_header}:{port}\r\n"
            "Accept: application/json\r\nUser-Agent: jstui\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode("ascii"))
        await writer.drain()
        status_line = await reader.readline()
        fields = status_line.decode("latin-1").split(None, 2)
        if len(fields) < 2 or not fields[0].startswith("HTTP/"):
            raise MonitorError("not an HTTP server (is this the monitoring port?)")
        status = int(fields[1]) if fields[1].isdigit() else 0
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if length > MAX_BODY:
                raise MonitorError("the monitoring answer is too large")
            body = await reader.readexactly(length)
        else:
            body = await reader.read(MAX_BODY)
        if status != 200:
            raise MonitorError(f"monitoring endpoint answered HTTP {status} for {path}")
        return body
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def http_get_json(
    url: str, path: str, params: dict[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """GET `url` + `path` and decode the JSON object; raises `MonitorError` with a short reason
    (the URL in it with its user info masked). Each request is logged for `--log`."""
    shown = redact_url(url)
    start = time.perf_counter()
    try:
        body = await asyncio.wait_for(_get(url, path, params or {}), timeout)
    except Exception as exc:
        _log.debug("GET %s%s failed after %s: %s", shown, path, _ms(start), exc)
        if isinstance(exc, MonitorError):
            raise
        if isinstance(exc, TimeoutError):
            raise MonitorError(f"monitoring endpoint {shown} did not answer in time") from None
        if isinstance(exc, ConnectionRefusedError):
            raise MonitorError(f"monitoring endpoint {shown} refused the connection") from None
        if isinstance(exc, OSError | asyncio.IncompleteReadError | ValueError):
            raise MonitorError(f"monitoring endpoint {shown}: {exc}") from None
        raise
    _log.debug("GET %s%s ok in %s (%d bytes)", shown, path, _ms(start), len(body))
    try:
        data = json.loads(body)
    except ValueError:
        raise MonitorError("the monitoring endpoint did not answer with JSON") from None
    if not isinstance(data, dict):
        raise MonitorError("the monitoring endpoint did not answer with a JSON object")
    return data


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def queue_members_from_connz(
    data: dict[str, Any], subject: str, queue: str, *, exclude_cid: int | None = None
) -> list[ExternalMember]:
    """The subscriptions in `data` (a /connz?subs=detail answer) on `subject` in group `queue`."""
    members: list[ExternalMember] = []
    for conn in data.get("connections") or []:
        if not isinstance(conn, dict):
            continue
        cid = _int(conn.get("cid"))
        if exclude_cid is not None and cid == exclude_cid:
            continue
        for sub in conn.get("subscriptions_list_detail") or []:
            if not isinstance(sub, dict):
                continue
            if sub.get("subject") != subject or sub.get("qgroup") != queue:
                continue
            members.append(
                ExternalMember(
                    cid=cid,
                    sid=str(sub.get("sid", "")),
                    name=str(conn.get("name") or ""),
                    ip=str(conn.get("ip") or ""),
                    port=_int(conn.get("port")),
                    lang=str(conn.get("lang") or ""),
                    version=str(conn.get("version") or ""),
                    delivered=_int(sub.get("msgs")),
                )
            )
    members.sort(key=lambda m: (m.cid, _int(m.sid)))
    return members


class MonitorClient:
    """The monitoring endpoint of one server (e.g. ``http://127.0.0.1:8222``)."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        _parse_base(url)  # fail early on a malformed URL
        self.url = url
        self.timeout = timeout

    async def connz(self) -> dict[str, Any]:
        """Client connections with their subscriptions in detail (first 1024 connections)."""
        return await http_get_json(
            self.url, "/connz", {"subs": "detail", "limit": CONNZ_LIMIT}, self.timeout
        )

    async def queue_members(
        self, subject: str, queue: str, *, exclude_cid: int | None = None
    ) -> list[ExternalMember]:
        """Every subscription on `subject` in queue group `queue`, except those of `exclude_cid`
        (jstui's own connection)."""
        return queue_members_from_connz(await self.connz(), subject, queue, exclude_cid=exclude_cid)

    async def healthy(self) -> bool:
        try:
            data = await http_get_json(self.url, "/healthz", None, self.timeout)
        except MonitorError:
            return False
        return data.get("status") == "ok"
