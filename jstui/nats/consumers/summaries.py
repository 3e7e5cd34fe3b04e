"""`ConsumerEntry`: one consumer as the Consumers pane shows it, parsed from the raw JSON of
`$JS.API.CONSUMER.INFO` / `CONSUMER.LIST` (nats-py's `ConsumerInfo` drops `paused`,
`pause_remaining`, `push_bound` and the `last_active` times, so the raw JSON is read).

Values only: no I/O. Strings are kept as the server sent them; whoever displays them sanitizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jstui.nats.streams.summaries import parse_time

__all__ = ["ConsumerEntry", "entry_from_raw"]


@dataclass(frozen=True)
class ConsumerEntry:
    """One consumer of one stream: its kind, policies, progress and whole config."""

    stream: str
    name: str
    durable: bool
    push: bool
    description: str
    filter_subjects: tuple[str, ...]
    deliver_policy: str
    ack_policy: str
    deliver_subject: str
    deliver_group: str
    num_pending: int
    num_ack_pending: int
    num_redelivered: int
    num_waiting: int
    ack_floor_stream_seq: int
    ack_floor_consumer_seq: int
    delivered_stream_seq: int
    delivered_consumer_seq: int
    last_delivered: datetime | None
    last_active: datetime | None
    paused: bool
    pause_until: datetime | None
    push_bound: bool
    created: datetime | None
    config: dict[str, Any] = field(default_factory=dict, compare=False)
    """The raw config as the server reported it (for the detail and the edit form)."""
    metadata: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The row key: stream and consumer names cannot hold a "/" ... but they might; a NUL
        separates them instead, which neither can hold."""
        return f"{self.stream}\0{self.name}"

    @property
    def kind(self) -> str:
        """ "pull durable", "push ephemeral", ..."""
        return ("push" if self.push else "pull") + (" durable" if self.durable else " ephemeral")


def entry_from_raw(stream: str, raw: dict[str, Any]) -> ConsumerEntry:
    cfg: dict[str, Any] = raw.get("config") or {}
    delivered = raw.get("delivered") or {}
    ack_floor = raw.get("ack_floor") or {}
    filters = cfg.get("filter_subjects") or (
        [cfg["filter_subject"]] if cfg.get("filter_subject") else []
    )
    last_delivered = parse_time(delivered.get("last_active"))
    moments = [t for t in (last_delivered, parse_time(ack_floor.get("last_active"))) if t]
    paused = bool(raw.get("paused"))
    return ConsumerEntry(
        stream=stream,
        name=str(raw.get("name") or cfg.get("name") or ""),
        durable=bool(cfg.get("durable_name")),
        push=bool(cfg.get("deliver_subject")),
        description=str(cfg.get("description") or ""),
        filter_subjects=tuple(str(s) for s in filters),
        deliver_policy=str(cfg.get("deliver_policy") or ""),
        ack_policy=str(cfg.get("ack_policy") or ""),
        deliver_subject=str(cfg.get("deliver_subject") or ""),
        deliver_group=str(cfg.get("deliver_group") or ""),
        num_pending=int(raw.get("num_pending") or 0),
        num_ack_pending=int(raw.get("num_ack_pending") or 0),
        num_redelivered=int(raw.get("num_redelivered") or 0),
        num_waiting=int(raw.get("num_waiting") or 0),
        ack_floor_stream_seq=int(ack_floor.get("stream_seq") or 0),
        ack_floor_consumer_seq=int(ack_floor.get("consumer_seq") or 0),
        delivered_stream_seq=int(delivered.get("stream_seq") or 0),
        delivered_consumer_seq=int(delivered.get("consumer_seq") or 0),
        last_delivered=last_delivered,
        last_active=max(moments) if moments else None,
        paused=paused,
        pause_until=parse_time(cfg.get("pause_until")) if paused else None,
        push_bound=bool(raw.get("push_bound")),
        created=parse_time(raw.get("created")),
        config=cfg,
        metadata=tuple(sorted((str(k), str(v)) for k, v in (cfg.get("metadata") or {}).items())),
    )
