"""The NATS service layer: asyncio and nats-py only, never Textual.

nats-py's transport module imports aiohttp at its own import whenever aiohttp is installed, for its
WebSocket transport alone (``ws://`` and ``wss://`` servers). `jstui serve` brings aiohttp in
(textual-serve needs it), and every start of jstui then paid for importing it: a sixth of the
start-up. So nats-py is first imported here with aiohttp hidden from it, and
`prepare_websocket(servers)`, called before each connect, hands it aiohttp when a server is a
WebSocket one. Every import of nats-py in jstui passes through this package first.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable


def _import_nats_without_aiohttp() -> None:
    if "nats.aio.transport" in sys.modules or "aiohttp" in sys.modules:
        return  # imported before jstui (a test, `jstui serve`): it has aiohttp already
    sys.modules["aiohttp"] = None  # type: ignore[assignment]  # import says "not installed"
    try:
        import nats.aio.transport  # noqa: F401
    finally:
        del sys.modules["aiohttp"]


def prepare_websocket(servers: Iterable[str]) -> None:
    """Give nats-py its WebSocket transport's aiohttp when one of `servers` needs it (if aiohttp
    is not installed at all, nats-py's own error says so at connect)."""
    if not any(url.lower().startswith(("ws://", "wss://")) for url in servers):
        return
    import nats.aio.transport as transport

    if transport.aiohttp is None:
        try:
            import aiohttp
        except ImportError:
            return
        transport.aiohttp = aiohttp


_import_nats_without_aiohttp()
