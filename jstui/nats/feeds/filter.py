"""Which messages a feed view shows: `FeedFilter`, a subject pattern and/or a payload regex.

Built (and validated) by the filter dialog through `FeedFilter.create`; `Feed.take_new` and
`Feed.matching` call `matches` on each new message, within a scan budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jstui.nats.errors import SpecErrors
from jstui.nats.feeds.message import FeedMessage
from jstui.nats.names import subject_matches, subject_problem

__all__ = ["FILTER_PAYLOAD_BYTES", "NO_FILTER", "FeedFilter"]

FILTER_PAYLOAD_BYTES = 64 * 1024
"""The payload regex looks at the first 64 KiB of each payload."""


@dataclass(frozen=True)
class FeedFilter:
    """Which messages a view shows: a NATS subject pattern and/or a regex on the payload text."""

    subject: str = ""
    payload: str = ""
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, subject: str = "", payload: str = "") -> FeedFilter:
        """Validate; raise `SpecErrors` keyed `subject` / `payload`."""
        errors: dict[str, str] = {}
        subject = subject.strip()
        if subject and (problem := subject_problem(subject)):
            errors["subject"] = problem
        regex = None
        if payload:
            try:
                regex = re.compile(payload)
            except re.error as error:
                errors["payload"] = f"invalid regular expression: {error}"
        if errors:
            raise SpecErrors(errors)
        return cls(subject=subject, payload=payload, _regex=regex)

    @property
    def active(self) -> bool:
        return bool(self.subject or self.payload)

    def matches(self, message: FeedMessage) -> bool:
        if self.subject and not subject_matches(self.subject, message.subject):
            return False
        if self._regex is not None:
            text = message.data[:FILTER_PAYLOAD_BYTES].decode("utf-8", "replace")
            if self._regex.search(text) is None:
                return False
        return True

    def describe(self) -> str:
        parts = []
        if self.subject:
            parts.append(f"subject {self.subject}")
        if self.payload:
            parts.append(f"payload /{self.payload}/")
        return ", ".join(parts)


NO_FILTER = FeedFilter()
