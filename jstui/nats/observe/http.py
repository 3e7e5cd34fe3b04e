"""nats-server's HTTP monitoring endpoint, read with httpx.

`MonitorClient` is one server's endpoint (`http://host:8222`, or https with credentials in the
URL, which httpx sends as basic auth): `/varz`, `/connz` (paged), `/jsz`, `/routez`,
`/gatewayz`, `/leafz`, `/healthz`. Each GET is logged for `--log` with its latency and size, the
URL always shown with its user info masked. An answer above `PARSE_IN_THREAD` bytes is decoded
in a worker thread, so that 1,000 connections with subscription detail (~700 KB) never stall the
event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jstui.format.redact import redact_url
from jstui.nats.errors import JstuiError

__all__ = ["MonitorClient", "MonitorError", "decode_json", "probe_url"]

DEFAULT_TIMEOUT = 2.0
MAX_BODY = 32 * 1024 * 1024
"""Refuse monitoring answers above this size."""
PARSE_IN_THREAD = 64 * 1024
CONNZ_PAGE = 1024
"""nats-server's own default and largest useful page; a walk pages on `total`."""
MAX_CONNECTIONS = 20_000
"""A walk of `/connz` stops here (20 pages); the caller says the list is partial."""

if TYPE_CHECKING:
    import httpx  # imported where a client is made: it is slow to import, and start-up pays

_log = logging.getLogger(__name__)


class MonitorError(JstuiError):
    """The monitoring endpoint could not be read (not reachable, not nats-server, bad answer)."""


def check_base_url(url: str) -> str:
    """`url` with a scheme (http:// is assumed) and no trailing slash; `MonitorError` if bad."""
    full = url if "://" in url else f"http://{url}"
    parts = urlsplit(full)
    if parts.scheme.lower() not in ("http", "https"):
        raise MonitorError(f"monitoring URL must be http:// or https://, not {parts.scheme}://")
    if not parts.hostname:
        raise MonitorError(f"monitoring URL {redact_url(url)!r} has no host")
    return full.rstrip("/")


def probe_url(server_url: str, port: int = 8222) -> str | None:
    """The monitoring URL to try for a NATS server URL: its host on `port` (None without a host).
    User info is dropped: the monitoring port has its own (usually no) auth."""
    host = urlsplit(server_url if "://" in server_url else f"nats://{server_url}").hostname
    if not host:
        return None
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _tls_context(url: str) -> ssl.SSLContext | bool:
    """What verifies TLS for `url`: the system's CAs for https (httpx's default, True). An http
    URL (the embedded server's, the probe's) gets a context with no CA loaded, which costs
    nothing to make (loading the CAs took ~15 ms at start-up) and fails closed: a redirect to
    https cannot be verified, so it is refused rather than trusted."""
    if urlsplit(url).scheme.lower() == "https":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


async def decode_json(body: bytes) -> Any:
    """`json.loads`, in a thread for a large body (the event loop keeps drawing meanwhile)."""
    if len(body) > PARSE_IN_THREAD:
        return await asyncio.to_thread(json.loads, body)
    return json.loads(body)


class MonitorClient:
    """The monitoring endpoint of one server. Close it with `aclose()` when done."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = check_base_url(url)
        self.shown_url = redact_url(self.url)
        """The URL for display and logs: user info masked."""
        self.timeout = timeout
        self.server_name = ""
        """The server's name, once `identify()` has read it."""
        import httpx

        self._client: httpx.AsyncClient = httpx.AsyncClient(
            base_url=self.url,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "jstui"},
            follow_redirects=True,
            verify=_tls_context(self.url),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET `path` and decode its JSON; `MonitorError` with a short reason on any failure."""
        start = time.perf_counter()
        try:
            body = await self._fetch(path, params or {})
        except MonitorError as error:
            _log.debug("GET %s%s failed after %s: %s", self.shown_url, path, _ms(start), error)
            raise
        try:
            data = await decode_json(body)
        except ValueError:
            raise MonitorError(
                f"{self.shown_url}{path} did not answer with JSON (is this the monitoring port?)"
            ) from None
        _log.debug("GET %s%s ok in %s (%d bytes)", self.shown_url, path, _ms(start), len(body))
        if not isinstance(data, dict):
            raise MonitorError(f"{self.shown_url}{path} did not answer with a JSON object")
        return data

    async def _fetch(self, path: str, params: dict[str, Any]) -> bytes:
        import httpx  # loaded by __init__ already

        try:
            async with self._client.stream("GET", path, params=params) as response:
                if response.status_code != 200:
                    raise MonitorError(
                        f"monitoring endpoint {self.shown_url} answered HTTP "
                        f"{response.status_code} for {path}"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise MonitorError(f"{self.shown_url}{path}: the answer is too large")
                return bytes(body)
        except httpx.TimeoutException:
            raise MonitorError(
                f"monitoring endpoint {self.shown_url} did not answer in {self.timeout:g} s"
            ) from None
        except httpx.ConnectError as error:
            reason = "refused the connection" if _refused(error) else f"unreachable ({error})"
            raise MonitorError(f"monitoring endpoint {self.shown_url} {reason}") from None
        except httpx.HTTPError as error:
            raise MonitorError(
                f"monitoring endpoint {self.shown_url}: {redact_url(str(error)) or 'HTTP error'}"
            ) from None

    async def varz(self) -> dict[str, Any]:
        return await self.get("/varz")

    async def identify(self) -> dict[str, Any]:
        """Read `/varz` and remember the server's name; `MonitorError` when it is not a
        nats-server monitoring port."""
        varz = await self.varz()
        name = varz.get("server_name") or varz.get("server_id")
        if not isinstance(name, str) or not name:
            raise MonitorError(f"{self.shown_url} is not a nats-server monitoring endpoint")
        self.server_name = name
        return varz

    async def jsz(self, *, consumers: bool = False, config: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if consumers:
            params["consumers"] = "true"
        if config:
            params["config"] = "true"
        return await self.get("/jsz", params)

    async def routez(self) -> dict[str, Any]:
        return await self.get("/routez")

    async def gatewayz(self) -> dict[str, Any]:
        return await self.get("/gatewayz")

    async def leafz(self) -> dict[str, Any]:
        return await self.get("/leafz")

    async def healthz(self) -> dict[str, Any]:
        return await self.get("/healthz")

    async def healthy(self) -> bool:
        try:
            data = await self.healthz()
        except MonitorError:
            return False
        return data.get("status") == "ok"

    async def connz(
        self, *, closed: bool = False, subscriptions: bool = True, cid: int | None = None
    ) -> dict[str, Any]:
        """Every connection (with subscription detail unless `subscriptions` is False; only
        connection `cid` when given), paged on `total` (at most `MAX_CONNECTIONS`); the pages are
        joined into one answer whose `partial` says whether some were left out."""
        params: dict[str, Any] = {"limit": CONNZ_PAGE, "offset": 0}
        if subscriptions:
            params["subs"] = "detail"
        if closed:
            params["state"] = "closed"
        if cid is not None:
            params["cid"] = cid
        first: dict[str, Any] = await self.get("/connz", params)
        connections = list(first.get("connections") or [])
        total = int(first.get("total") or len(connections))
        while len(connections) < min(total, MAX_CONNECTIONS):
            params["offset"] = len(connections)
            page = await self.get("/connz", params)
            more = page.get("connections") or []
            if not more:
                break  # connections closed since the first page: the total shrank
            connections += more
        first["connections"] = connections
        first["partial"] = total > len(connections)
        return first


def _refused(error: BaseException) -> bool:
    """A connection refused somewhere in the chain (anyio wraps it in 'All connection attempts
    failed')."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _ms(start: float) -> str:
    return f"{(time.perf_counter() - start) * 1000:.1f} ms"
