"""Where a stream lives in a cluster, read from its raw STREAM.INFO / STREAM.LIST entry.

The JetStream API's stream info is answered by the stream's leader, so its `cluster.replicas` are
the leader's view of the followers (current / lagging / offline, lag in operations, last heard
from): the only view that is right, followers report each other as not current. `mirror` and
`sources` carry their own lag and last activity. A standalone server answers `cluster` with a bare
`leader` and no replicas: `placement_from_raw` gives None then (and for a stream with neither
replicas nor mirror nor sources), so the detail shows no placement lines. Text is untrusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jstui.nats.observe.model import Replica, as_dict, as_int, as_list, as_text, replicas_from

__all__ = ["SourceState", "StreamPlacement", "placement_from_raw"]


@dataclass(frozen=True)
class SourceState:
    """A mirror or a source of a stream: how far behind it is and when it last brought data."""

    name: str
    lag: int
    active_ns: int
    """Nanoseconds since it was last active; -1 or 0 when never (the server's spelling)."""
    filter: str
    external: str
    """The external API prefix (another domain or account), or empty."""
    error: str


@dataclass(frozen=True)
class StreamPlacement:
    """The stream's RAFT group (cluster, leader, replicas) and its mirror and sources."""

    cluster: str
    leader: str
    replicas: tuple[Replica, ...]
    mirror: SourceState | None
    sources: tuple[SourceState, ...]

    @property
    def clustered(self) -> bool:
        return bool(self.cluster or self.replicas)


def _source(raw: Any) -> SourceState | None:
    entry = as_dict(raw)
    if not entry:
        return None
    external = as_dict(entry.get("external"))
    error = as_dict(entry.get("error"))
    return SourceState(
        name=as_text(entry.get("name")),
        lag=as_int(entry.get("lag")),
        active_ns=as_int(entry.get("active")),
        filter=as_text(entry.get("filter_subject")),
        external=as_text(external.get("api")),
        error=as_text(error.get("description")),
    )


def placement_from_raw(raw: dict[str, Any]) -> StreamPlacement | None:
    """The placement of one stream info entry; None when there is nothing to say (a standalone
    server, no mirror, no sources)."""
    cluster = as_dict(raw.get("cluster"))
    replicas = replicas_from(cluster.get("replicas"))
    mirror = _source(raw.get("mirror"))
    sources = tuple(
        source for source in (_source(item) for item in as_list(raw.get("sources"))) if source
    )
    name = as_text(cluster.get("name"))
    if not name and not replicas and mirror is None and not sources:
        return None
    return StreamPlacement(
        cluster=name,
        leader=as_text(cluster.get("leader")),
        replicas=replicas,
        mirror=mirror,
        sources=sources,
    )
