"""The pool dialog: what a worker pool listens to, how many members, and how they behave.

Everything is checked before anything starts: a malformed subject, a count outside 1-64, a
negative delay or a failure rate outside 0-100 % each get a message next to the field; then the
pool is started, and a JetStream pool on a subject no stream captures says so under the subject.
The dialog dismisses with the running `WorkerPool`, or None when cancelled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jstui.dialogs.worker_form import WorkerField, WorkerForm, parse_whole_number, parsed
from jstui.format.units import duration_field, parse_duration
from jstui.nats.errors import SpecErrors
from jstui.nats.workers.pool import WorkerPool
from jstui.nats.workers.spec import (
    DEFAULT_ACK_WAIT,
    DEFAULT_BATCH,
    DEFAULT_COUNT,
    DEFAULT_MAX_ACK_PENDING,
    DEFAULT_QUEUE,
    MAX_MEMBERS,
    FailureKind,
    MemberSettings,
    PoolMode,
    PoolSpec,
    parse_delay,
    parse_failure_rate,
)

MODE_CHOICES = (
    ("core queue group", PoolMode.CORE.value),
    ("JetStream deliver group (push)", PoolMode.GROUP.value),
    ("JetStream pull", PoolMode.PULL.value),
)
FAIL_CHOICES = (
    ("nak (redelivered at once)", FailureKind.NAK.value),
    ("no ack (redelivered after ack wait)", FailureKind.NO_ACK.value),
)

POOL_FIELDS = (
    WorkerField("subject", "Subject", "e.g. orders.* or my.subject.*"),
    WorkerField("mode", "Mode", choices=MODE_CHOICES),
    WorkerField("queue", "Queue group", f"default {DEFAULT_QUEUE}"),
    WorkerField("count", "Members", f"1 to {MAX_MEMBERS}", parse=parse_whole_number),
    WorkerField(
        "delay", "Processing time", "ms per task: 0, 50, or a range 10-100", parse=parse_delay
    ),
    WorkerField("fail_pct", "Failure rate %", "0 to 100", parse=parse_failure_rate),
    WorkerField("fail_kind", "A failure is a", choices=FAIL_CHOICES),
    WorkerField("durable", "Durable name", "empty: the queue name, deleted when the pool stops"),
    WorkerField("stream", "Stream", "empty: the stream that captures the subject"),
    WorkerField("ack_wait", "Ack wait", "e.g. 2s or 30s", parse=parse_duration),
    WorkerField("max_ack_pending", "Max ack pending", "e.g. 1000", parse=parse_whole_number),
    WorkerField("batch", "Fetch batch", "messages per fetch, e.g. 10", parse=parse_whole_number),
)
JETSTREAM_ONLY = ("durable", "stream", "ack_wait", "max_ack_pending")
PULL_ONLY = ("batch",)

Starter = Callable[[PoolSpec], Awaitable[WorkerPool]]


def spec_from_values(values: dict[str, str]) -> PoolSpec:
    """The `PoolSpec` the form describes; raises `SpecErrors` for every field at fault."""
    errors: dict[str, str] = {}
    mode = PoolMode(values.get("mode") or PoolMode.CORE.value)
    count = parsed(parse_whole_number, values.get("count", ""), errors, "count", 0)
    delay = parsed(parse_delay, values.get("delay", ""), errors, "delay", parse_delay(""))
    fail_pct = parsed(parse_failure_rate, values.get("fail_pct", ""), errors, "fail_pct", 0.0)
    ack_wait = DEFAULT_ACK_WAIT
    max_ack_pending = DEFAULT_MAX_ACK_PENDING
    batch = DEFAULT_BATCH
    if mode.jetstream:
        text = values.get("ack_wait", "").strip()
        try:
            seconds = parse_duration(text) if text else DEFAULT_ACK_WAIT
        except ValueError as exc:
            errors["ack_wait"] = str(exc)
        else:
            if seconds is None:
                errors["ack_wait"] = "a duration like 2s, 30s or 1m"
            else:
                ack_wait = seconds
        max_ack_pending = parsed(
            parse_whole_number, values.get("max_ack_pending", ""), errors, "max_ack_pending", 0
        )
    if mode is PoolMode.PULL:
        batch = parsed(parse_whole_number, values.get("batch", ""), errors, "batch", 0)
    spec = PoolSpec(
        subject=values.get("subject", "").strip(),
        mode=mode,
        queue=values.get("queue", "").strip() or DEFAULT_QUEUE,
        count=count,
        durable=values.get("durable", "").strip() if mode.jetstream else "",
        stream=values.get("stream", "").strip() if mode.jetstream else "",
        ack_wait=ack_wait,
        max_ack_pending=max_ack_pending,
        batch=batch,
        member=MemberSettings(
            delay=delay,
            fail_pct=fail_pct,
            fail_kind=FailureKind(values.get("fail_kind") or FailureKind.NAK.value),
        ),
    )
    for key, message in spec.validate().items():
        errors.setdefault(key, message)
    if errors:
        raise SpecErrors(errors)
    return spec


def default_values(subject: str = "") -> dict[str, str]:
    return {
        "subject": subject,
        "mode": PoolMode.CORE.value,
        "queue": DEFAULT_QUEUE,
        "count": str(DEFAULT_COUNT),
        "delay": "0",
        "fail_pct": "0",
        "fail_kind": FailureKind.NAK.value,
        "durable": "",
        "stream": "",
        "ack_wait": duration_field(DEFAULT_ACK_WAIT),
        "max_ack_pending": str(DEFAULT_MAX_ACK_PENDING),
        "batch": str(DEFAULT_BATCH),
    }


class WorkerPoolScreen(WorkerForm[WorkerPool]):
    """Start a worker pool: `start(spec)` does the work; its errors keep the dialog open."""

    FORM_CLASS = "worker-pool-form"
    SUBMIT_LABEL = "Start pool"
    READ_ONLY_NOTICE = (
        "worker pools are refused (they take messages from queue groups and create consumers)."
    )

    def __init__(self, start: Starter, values: dict[str, str] | None = None) -> None:
        super().__init__("New worker pool", POOL_FIELDS, values or default_values())
        self._start = start

    def update_visibility(self) -> None:
        mode = PoolMode(self.values().get("mode") or PoolMode.CORE.value)
        for key in JETSTREAM_ONLY:
            self.set_row_visible(key, mode.jetstream)
        for key in PULL_ONLY:
            self.set_row_visible(key, mode is PoolMode.PULL)

    async def submit(self, values: dict[str, str]) -> WorkerPool:
        return await self._start(spec_from_values(values))
