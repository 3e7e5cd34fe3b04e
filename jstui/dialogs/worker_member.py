"""Change how one member behaves: processing time and injected failures."""

from __future__ import annotations

from rich.text import Text

from jstui.dialogs.worker_form import WorkerField, WorkerForm, parsed
from jstui.dialogs.worker_pool import FAIL_CHOICES
from jstui.nats.errors import SpecErrors
from jstui.nats.workers.spec import FailureKind, MemberSettings, parse_delay, parse_failure_rate

MEMBER_FIELDS = (
    WorkerField(
        "delay", "Processing time", "ms per task: 0, 50, or a range 10-100", parse=parse_delay
    ),
    WorkerField("fail_pct", "Failure rate %", "0 to 100", parse=parse_failure_rate),
    WorkerField("fail_kind", "A failure is a", choices=FAIL_CHOICES),
)


def settings_from_values(values: dict[str, str]) -> MemberSettings:
    errors: dict[str, str] = {}
    delay = parsed(parse_delay, values.get("delay", ""), errors, "delay", parse_delay(""))
    fail_pct = parsed(parse_failure_rate, values.get("fail_pct", ""), errors, "fail_pct", 0.0)
    if errors:
        raise SpecErrors(errors)
    settings = MemberSettings(
        delay, fail_pct, FailureKind(values.get("fail_kind") or FailureKind.NAK.value)
    )
    problems = settings.validate()
    if problems:
        raise SpecErrors(problems)
    return settings


class WorkerMemberScreen(WorkerForm[MemberSettings]):
    """Dismisses with the new `MemberSettings` (applied by the pane), or None."""

    FORM_CLASS = "worker-member-form"
    SUBMIT_LABEL = "Apply"
    HINT = "Enter or ctrl+s applies at once, Escape cancels."

    def __init__(self, member_name: str, settings: MemberSettings, *, core: bool) -> None:
        values = {
            "delay": str(settings.delay),
            "fail_pct": f"{settings.fail_pct:g}",
            "fail_kind": settings.fail_kind.value,
        }
        fields = MEMBER_FIELDS[:2] if core else MEMBER_FIELDS
        super().__init__(f"Member {member_name}", fields, values)
        self._member_name = member_name
        self._core = core

    def intro(self) -> Text | None:
        if self._core:
            return Text("Core members have no acks: a failure is only counted.", style="italic")
        return None

    async def submit(self, values: dict[str, str]) -> MemberSettings:
        return settings_from_values(values)
