"""NATS micro services seen from outside: their instances and per-endpoint statistics.

Every instance of a service built with `nats.micro` (or any other micro library) answers
`$SRV.PING|INFO|STATS`, `$SRV.<VERB>.<name>` and `$SRV.<VERB>.<name>.<id>`
(`../shared/nats-notes.md` §14 "Micro-service discovery"). One `$SRV.STATS` request gathered on
the app connection returns every instance of every service with its endpoints' counts, so
discovery needs one round; watching one service asks `$SRV.STATS.<name>`. The replies are parsed
into frozen dataclasses here, tolerating missing or mistyped fields; every text in them is
untrusted (the widgets sanitize it). Nothing here subscribes to anything but a reply inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client

from jstui.nats.observe.model import as_dict, as_int, as_list, as_text
from jstui.nats.observe.system import gather

__all__ = ["EndpointStats", "ServiceInstance", "instances_from_replies", "service_stats"]

STATS_TIMEOUT = 1.0
"""Seconds to wait for the first instance: with no service at all the server answers at once
(no responders), so this bounds only a slow or overloaded instance."""
STATS_QUIET = 0.1
"""After the last reply, how long to wait for another instance (they answer within 1-2 ms)."""


@dataclass(frozen=True)
class EndpointStats:
    """One endpoint of one instance, as its `$SRV.STATS` reply says."""

    name: str
    subject: str
    queue_group: str
    num_requests: int
    num_errors: int
    last_error: str
    processing_ns: int
    average_ns: int


@dataclass(frozen=True)
class ServiceInstance:
    """One running instance of a micro service."""

    name: str
    id: str
    version: str
    started: str
    endpoints: tuple[EndpointStats, ...]

    @property
    def label(self) -> str:
        """The service name and the tail of the instance id (untrusted: sanitize)."""
        return f"{self.name} …{self.id[-4:]}" if len(self.id) > 4 else f"{self.name} {self.id}"

    def endpoint(self, name: str) -> EndpointStats | None:
        return next((endpoint for endpoint in self.endpoints if endpoint.name == name), None)


def _endpoint(raw: Any) -> EndpointStats | None:
    entry = as_dict(raw)
    name = as_text(entry.get("name"))
    if not name:
        return None
    return EndpointStats(
        name=name,
        subject=as_text(entry.get("subject")),
        queue_group=as_text(entry.get("queue_group")),
        num_requests=as_int(entry.get("num_requests")),
        num_errors=as_int(entry.get("num_errors")),
        last_error=as_text(entry.get("last_error")),
        processing_ns=as_int(entry.get("processing_time")),
        average_ns=as_int(entry.get("average_processing_time")),
    )


def instances_from_replies(replies: list[dict[str, Any]]) -> list[ServiceInstance]:
    """The instances in `$SRV.STATS` replies (one per instance), sorted by name and id; a reply
    without a name or id, or a second reply of the same instance, is left out."""
    seen: dict[tuple[str, str], ServiceInstance] = {}
    for body in replies:
        name, instance_id = as_text(body.get("name")), as_text(body.get("id"))
        if not name or not instance_id or (name, instance_id) in seen:
            continue
        endpoints = tuple(
            endpoint
            for endpoint in (_endpoint(item) for item in as_list(body.get("endpoints")))
            if endpoint is not None
        )
        seen[name, instance_id] = ServiceInstance(
            name=name,
            id=instance_id,
            version=as_text(body.get("version")),
            started=as_text(body.get("started")),
            endpoints=endpoints,
        )
    return sorted(seen.values(), key=lambda instance: (instance.name, instance.id))


async def service_stats(nc: Client, service: str = "") -> tuple[list[ServiceInstance], str]:
    """The instances of `service` (of every service when empty) and their statistics, with a
    note ('' when fine, else what went wrong). Raises `SystemError` when not connected."""
    subject = f"$SRV.STATS.{service}" if service else "$SRV.STATS"
    result = await gather(nc, subject, None, timeout=STATS_TIMEOUT, quiet=STATS_QUIET)
    instances = instances_from_replies([reply.data for reply in result.answered])
    note = "; ".join(dict.fromkeys(result.errors))
    return instances, note
