"""The account's JetStream, as the session sees it: whether it answers at all (asked at connect),
and its usage against its limits (the status line's figures)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nats.errors
from nats.aio.client import Client

if TYPE_CHECKING:  # nats-py's JetStream package loads on first use (see jstui.nats)
    from nats.js.api import AccountInfo

__all__ = ["JETSTREAM_PROBE_TIMEOUT", "JetStreamUsage", "jetstream_answers", "usage_of"]

JETSTREAM_PROBE_TIMEOUT = 5.0
"""Seconds the account info request at connect may take (nats-py's JetStream API default)."""


@dataclass(frozen=True)
class JetStreamUsage:
    """The account's JetStream usage against its limits (-1 = unlimited)."""

    streams: int = 0
    consumers: int = 0
    memory: int = 0
    storage: int = 0
    max_streams: int = -1
    max_consumers: int = -1
    max_memory: int = -1
    max_storage: int = -1
    domain: str = ""


def usage_of(info: AccountInfo) -> JetStreamUsage:
    """The usage an account info answer tells."""
    limits = info.limits
    return JetStreamUsage(
        streams=info.streams,
        consumers=info.consumers,
        memory=info.memory,
        storage=info.storage,
        max_streams=limits.max_streams,
        max_consumers=limits.max_consumers,
        max_memory=limits.max_memory,
        max_storage=limits.max_storage,
        domain=info.domain or "",
    )


async def jetstream_answers(nc: Client, api_prefix: str) -> bool:
    """JetStream answers for this account on `nc`: the account info request `jsm.account_info`
    makes, sent raw so that a connect does not wait for nats-py's JetStream package. A client
    closed meanwhile says False, as the manager's request did."""
    try:
        reply = await nc.request(f"{api_prefix}.INFO", b"", timeout=JETSTREAM_PROBE_TIMEOUT)
        answer = json.loads(reply.data)
    except (nats.errors.Error, TimeoutError, ValueError):  # no responders: JetStream is off
        return False
    return isinstance(answer, dict) and "error" not in answer
