"""The load generator of the Workers pane: N numbered tasks published onto a pool's subject.

A `LoadSpec` (subject, count, rate, core or JetStream) becomes a `PublishSpec` run by
`BulkPublish` (publish.py), which paces the publishes and counts them; for JetStream each task's
publish acknowledgment marks its stream sequence as published in the pool's `TaskLedger`
(ledger.py), so the exactly-once check knows which tasks must arrive. Tasks whose publish got no
acknowledgement (a server restart, a stream leader election) are sent again with the same message
ids, up to `RESENDS` times (the stream's duplicate window stores each once; a "duplicate"
acknowledgement names the sequence the lost first publish was stored at, and marks it too); any
still not acknowledged after that are counted in `unconfirmed`, never reported as published and
done. The pane reads the progress figures on its timer.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from enum import StrEnum

from nats.js import api

from jstui.nats.errors import JstuiError, SpecErrors
from jstui.nats.names import subject_problem
from jstui.nats.publish import BulkPublish, PublishMode, PublishSpec
from jstui.nats.session import Session
from jstui.nats.workers.ledger import TaskLedger

__all__ = ["LoadGenerator", "LoadSpec", "LoadState", "default_task_subject"]

MAX_TASKS = 10_000_000
RESENDS = 3
"""Rounds of sending again the JetStream tasks that got no acknowledgement."""


def default_task_subject(subject: str) -> str:
    """A concrete subject for tasks on a pool's (possibly wildcard) subject: ``*``/``>`` -> task."""
    return ".".join("task" if token in ("*", ">") else token for token in subject.split("."))


@dataclass(frozen=True)
class LoadSpec:
    """N tasks at a rate (0 = as fast as the client goes), core or JetStream publish."""

    subject: str
    count: int = 1000
    rate: float = 1000.0
    jetstream: bool = False

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        problem = subject_problem(self.subject, wildcards=False)
        if problem:
            errors["subject"] = problem
        if not 1 <= self.count <= MAX_TASKS:
            errors["count"] = f"between 1 and {MAX_TASKS:,} tasks"
        if not math.isfinite(self.rate) or self.rate < 0:
            errors["rate"] = "tasks per second, 0 for as fast as possible"
        return errors


class LoadState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class LoadGenerator:
    """Publishes ``task 1`` ... ``task N`` with `BulkPublish`; JetStream acks mark the ledger.

    Each task carries a message id, so a task retried after an unknown outcome is stored once.
    """

    def __init__(self, session: Session, spec: LoadSpec, ledger: TaskLedger | None = None) -> None:
        self.session = session
        self.spec = spec
        self.ledger = ledger
        self.state = LoadState.IDLE
        publish = PublishSpec(
            subject=spec.subject,
            payload=b"task {{i}}",
            mode=PublishMode.JETSTREAM if spec.jetstream else PublishMode.CORE,
            msg_id=f"jstui-{time.time_ns():x}-{{{{i}}}}" if spec.jetstream else "",
            count=spec.count,
            rate=spec.rate or None,
        )
        self._first = self._bulk = BulkPublish(session, publish, on_held=self._held)
        self._earlier_stored = 0
        """Tasks acknowledged by the rounds before the one running (`_bulk`)."""
        self.resent = 0
        """Tasks sent again because their first publish got no acknowledgement."""

    @property
    def published(self) -> int:
        return self._first.sent

    @property
    def stored(self) -> int:
        """JetStream: tasks the server acknowledged storing (or already held: a resend)."""
        return self._earlier_stored + self._bulk.acked + self._bulk.duplicates

    @property
    def errors(self) -> int:
        return self._bulk.failed

    @property
    def unconfirmed(self) -> int:
        """JetStream: tasks sent whose storing is not known (no acknowledgement, or refused)."""
        if not self.spec.jetstream:
            return 0
        return self.published - self.stored

    @property
    def last_error(self) -> str:
        return self._bulk.error

    @property
    def progress(self) -> float:
        return self.published / self.spec.count if self.spec.count else 1.0

    @property
    def elapsed(self) -> float:
        return self._bulk.elapsed

    @property
    def rate(self) -> float:
        elapsed = self.elapsed
        return self.published / elapsed if elapsed > 0 else 0.0

    async def run(self) -> None:
        """Publish every task at the spec's rate; raises when the load could not be delivered
        (core: any error; JetStream: no task stored)."""
        problems = self.spec.validate()
        if problems:
            raise SpecErrors(problems)
        self.session.check_writable("publishing tasks")
        self.state = LoadState.RUNNING
        try:
            await self._bulk.run()
            for _ in range(RESENDS if self.spec.jetstream else 0):
                if not self._bulk.unacknowledged:
                    break
                self._earlier_stored += self._bulk.acked + self._bulk.duplicates
                self._bulk = self._bulk.resend()
                self.resent += self._bulk.total
                await self._bulk.run()
        except asyncio.CancelledError:
            self.state = LoadState.CANCELLED
            self._bulk.abandon()
            raise
        if self.last_error and (not self.spec.jetstream or self.stored == 0):
            self.state = LoadState.FAILED
            raise JstuiError(self.last_error)
        self.state = LoadState.DONE

    def _held(self, ack: api.PubAck) -> None:
        # A duplicate's sequence is the task's first, stored publish (its ack lost in an outage).
        if self.ledger is not None:
            self.ledger.published(ack.seq)

    def cancel_pending(self) -> None:
        """Stop publishing and waiting for acknowledgements (the pool is going away)."""
        self._bulk.abandon()
