"""The load generator of the Workers pane: N numbered tasks published onto a pool's subject.

A `LoadSpec` (subject, count, rate, core or JetStream) becomes a `PublishSpec` run by
`BulkPublish` (publish.py), which paces the publishes and counts them; for JetStream each stored
task's publish acknowledgment marks its stream sequence as published in the pool's `TaskLedger`
(ledger.py), so the exactly-once check knows which tasks must arrive. The pane reads the
progress figures on its timer.
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
        self._bulk = BulkPublish(session, publish, on_stored=self._stored)

    @property
    def published(self) -> int:
        return self._bulk.sent

    @property
    def stored(self) -> int:
        """JetStream: tasks the server acknowledged storing."""
        return self._bulk.acked

    @property
    def errors(self) -> int:
        return self._bulk.failed

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
        except asyncio.CancelledError:
            self.state = LoadState.CANCELLED
            self._bulk.abandon()
            raise
        if self.last_error and (not self.spec.jetstream or self.stored == 0):
            self.state = LoadState.FAILED
            raise JstuiError(self.last_error)
        self.state = LoadState.DONE

    def _stored(self, ack: api.PubAck) -> None:
        if self.ledger is not None:
            self.ledger.published(ack.seq)

    def cancel_pending(self) -> None:
        """Stop publishing and waiting for acknowledgements (the pool is going away)."""
        self._bulk.abandon()
