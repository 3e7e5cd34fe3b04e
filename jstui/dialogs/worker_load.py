"""The load generator's dialog: how many tasks, how fast, to which subject, core or JetStream."""

from __future__ import annotations

from jstui.dialogs.worker_form import (
    WorkerField,
    WorkerForm,
    parse_real_number,
    parse_whole_number,
    parsed,
)
from jstui.nats.errors import SpecErrors
from jstui.nats.workers.load import LoadSpec

VIA_CHOICES = (("core publish", "core"), ("JetStream publish (acked)", "js"))

LOAD_FIELDS = (
    WorkerField("subject", "Subject", "a subject without wildcards"),
    WorkerField("count", "Tasks", "e.g. 1000", parse=parse_whole_number),
    WorkerField("rate", "Rate per second", "0 = as fast as possible", parse=parse_real_number),
    WorkerField("via", "Publish with", choices=VIA_CHOICES),
)


def load_from_values(values: dict[str, str]) -> LoadSpec:
    errors: dict[str, str] = {}
    count = parsed(parse_whole_number, values.get("count", ""), errors, "count", 0)
    rate = parsed(parse_real_number, values.get("rate", ""), errors, "rate", 0.0)
    spec = LoadSpec(
        subject=values.get("subject", "").strip(),
        count=count,
        rate=rate,
        jetstream=values.get("via") == "js",
    )
    for key, message in spec.validate().items():
        errors.setdefault(key, message)
    if errors:
        raise SpecErrors(errors)
    return spec


class WorkerLoadScreen(WorkerForm[LoadSpec]):
    """Dismisses with the `LoadSpec` to run, or None."""

    FORM_CLASS = "worker-load-form"
    SUBMIT_LABEL = "Publish"
    READ_ONLY_NOTICE = "the load generator is refused (it publishes tasks)."
    HINT = "Payloads: 'task 1' ... 'task N'. Enter or ctrl+s starts, Escape cancels."

    def __init__(
        self, subject: str, *, jetstream: bool, count: int = 1000, rate: float = 500
    ) -> None:
        values = {
            "subject": subject,
            "count": str(count),
            "rate": f"{rate:g}",
            "via": "js" if jetstream else "core",
        }
        super().__init__("Generate load", LOAD_FIELDS, values)

    async def submit(self, values: dict[str, str]) -> LoadSpec:
        return load_from_values(values)
