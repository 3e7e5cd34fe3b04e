"""`ObjectWatch`: the latest meta of every object of a bucket, kept current.

Why a watch and not the stream's state: a poll of the stream says that something changed, not
what; listing the objects again would mean reading every meta message each time. A watch is
jstui's `OrderedConsumer` (jstui/nats/feeds/ordered.py: gaps detected, the consumer re-created
from the last sequence seen, deleted on `stop`) on the bucket's stream, filtered to the meta
subjects `$O.<bucket>.M.>`, delivering the last meta of each object first and every change
after: an object put, replaced or deleted by any program arrives as one small message. Chunks
are never delivered to it.

Each message is handed over inside nats-py's read loop (`BucketWatch`, jstui/nats/buckets.py,
the consumer and catching up this watch shares with `KeyWatch`, calls `_take`): parsed into an
`ObjectEntry` (a message that is no meta is counted in `malformed` and skipped), stored by meta
subject and `version` bumped; nothing is drawn there. The pane compares `version` on its own
timer. A deleted object keeps a meta message with `deleted: true`: it leaves `entries`.

`caught_up` turns true once every meta stored when the watch started has arrived (the message
the server says nothing is pending after, or an empty start).
"""

from __future__ import annotations

from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from jstui.nats.buckets import BucketWatch
from jstui.nats.objects.model import OBJ_STREAM_PREFIX, ObjectEntry
from jstui.nats.session import Session

__all__ = ["ObjectWatch"]


class ObjectWatch(BucketWatch):
    """Every live object of `bucket` at its latest meta. `await start()`, read `entries` when
    `version` moved, `await stop()` at the end (the consumer is deleted)."""

    def __init__(self, session: Session, bucket: str) -> None:
        self.bucket = bucket
        self.entries: dict[str, ObjectEntry] = {}
        """Live objects by meta subject (deleted ones are dropped)."""
        self.version = 0
        """Bumped by every change to `entries`."""
        self.malformed = 0
        super().__init__(
            session, OBJ_STREAM_PREFIX + bucket, f"$O.{bucket}.M.>", DeliverPolicy.LAST_PER_SUBJECT
        )

    def _take(self, msg: Msg, sequence: int, created: float) -> None:
        entry = ObjectEntry.from_meta(msg.data, msg.subject)
        if entry is None:
            self.malformed += 1
        elif entry.deleted:
            if self.entries.pop(msg.subject, None) is not None:
                self.version += 1
        else:
            self.entries[msg.subject] = entry
            self.version += 1

    def _mark_caught_up(self) -> None:
        super()._mark_caught_up()
        self.version += 1  # "loading" ends: the pane redraws its title
