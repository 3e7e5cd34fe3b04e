"""What a responder is asked to be: `ResponderSpec`, its `Behaviour`, and ``--responder`` parsing.

The responder form (`ResponderSpec.from_form`) and ``--responder`` (`parse_responder_option`)
both end in a checked `ResponderSpec`; `ResponderManager.start()` (running.py) starts its
members, and each member asks the spec's `Behaviour` how long to wait (`delay()`) and what to
answer (`reply()`). Plain data: no I/O here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from jstui.format.units import parse_duration
from jstui.nats.errors import SpecErrors, ValidationError
from jstui.nats.names import (
    consumer_name_problem,
    queue_group_problem,
    stream_name_problem,
    subject_problem,
)
from jstui.nats.requests.headers import (
    RESPONDER_HEADER,
    SERVICE_ERROR_CODE_HEADER,
    SERVICE_ERROR_HEADER,
)

__all__ = [
    "DEFAULT_MAX_AGE",
    "Behaviour",
    "BehaviourKind",
    "ResponderMode",
    "ResponderSpec",
    "parse_responder_option",
]

DEFAULT_MAX_AGE = 60.0
MAX_COUNT = 64
MAX_DELAY_MS = 60_000


class ResponderMode(StrEnum):
    CORE = "core"
    STORED = "stored"


class BehaviourKind(StrEnum):
    ECHO = "echo"
    UPPER = "upper"
    DELAY = "delay"
    RANDOM = "random"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True)
class Behaviour:
    """What a responder does with a request; `low_ms`/`high_ms` are the delay (equal for DELAY)."""

    kind: BehaviourKind = BehaviourKind.ECHO
    low_ms: int = 0
    high_ms: int = 0

    @classmethod
    def parse(cls, text: str) -> Behaviour:
        """``echo``, ``upper``, ``delay=MS``, ``random=MIN-MAX``, ``fail`` or ``error``."""
        raw = text.strip().lower()
        name, _, argument = raw.partition("=")
        name = {"uppercase": "upper", "upper-case": "upper"}.get(name, name)
        try:
            kind = BehaviourKind(name)
        except ValueError:
            raise ValidationError(
                "behaviour", "echo, upper, delay=MS, random=MIN-MAX, fail or error"
            ) from None
        if kind is BehaviourKind.DELAY:
            ms = _milliseconds(argument, "delay=MS, e.g. delay=200")
            return cls(kind, ms, ms)
        if kind is BehaviourKind.RANDOM:
            low_text, dash, high_text = argument.partition("-")
            if not dash:
                raise ValidationError("behaviour", "random=MIN-MAX in ms, e.g. random=50-500")
            low = _milliseconds(low_text, "random=MIN-MAX in ms")
            high = _milliseconds(high_text, "random=MIN-MAX in ms")
            if high < low:
                raise ValidationError("behaviour", "random=MIN-MAX: MAX is below MIN")
            return cls(kind, low, high)
        if argument:
            raise ValidationError("behaviour", f"{kind.value} takes no value")
        return cls(kind)

    def __str__(self) -> str:
        if self.kind is BehaviourKind.DELAY:
            return f"delay={self.low_ms}"
        if self.kind is BehaviourKind.RANDOM:
            return f"random={self.low_ms}-{self.high_ms}"
        return self.kind.value

    def delay(self) -> float:
        """Seconds to wait before answering (0 for no delay)."""
        if self.kind is BehaviourKind.RANDOM:
            return random.uniform(self.low_ms, self.high_ms) / 1000
        return self.low_ms / 1000

    def reply(self, name: str, data: bytes) -> tuple[bytes, dict[str, str]] | None:
        """The reply payload and headers for a request, or None for no reply (fail)."""
        headers = {RESPONDER_HEADER: name}
        if self.kind is BehaviourKind.FAIL:
            return None
        if self.kind is BehaviourKind.ERROR:
            headers[SERVICE_ERROR_HEADER] = f"{name}: simulated failure"
            headers[SERVICE_ERROR_CODE_HEADER] = "500"
            return b"", headers
        if self.kind is BehaviourKind.UPPER:
            text = data.decode("utf-8", "replace").upper()
            return f"Response from {name} : {text}".encode(), headers
        return data, headers


def _milliseconds(text: str, hint: str) -> int:
    raw = text.strip().lower().removesuffix("ms")
    if not raw.isdigit():
        raise ValidationError("behaviour", hint)
    value = int(raw)
    if value > MAX_DELAY_MS:
        raise ValidationError("behaviour", f"at most {MAX_DELAY_MS} ms")
    return value


@dataclass(frozen=True)
class ResponderSpec:
    """What to start: validated by `from_form` / `parse_responder_option`."""

    subject: str
    mode: ResponderMode = ResponderMode.CORE
    queue: str | None = None
    count: int = 1
    behaviour: Behaviour = field(default_factory=Behaviour)
    name: str | None = None
    stream: str | None = None
    """Stored mode: the stream; found from the subject when not given."""
    durable: str | None = None
    """Stored mode: the durable consumer (the queue name when there is a queue group)."""
    max_age: float = DEFAULT_MAX_AGE
    """Stored mode: skip requests older than this that carry no Jstui-Timeout header."""

    @classmethod
    def from_form(
        cls,
        *,
        subject: str,
        mode: str = "core",
        queue: str = "",
        count: str = "1",
        behaviour: str = "echo",
        name: str = "",
        stream: str = "",
        durable: str = "",
        max_age: str = "",
    ) -> ResponderSpec:
        """Check every field; raise `SpecErrors` keyed by field with all problems at once."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        subject = subject.strip()
        problem = subject_problem(subject)
        if problem:
            errors["subject"] = problem
        try:
            values["mode"] = ResponderMode(mode.strip().lower() or "core")
        except ValueError:
            errors["mode"] = "core or stored"
        checks: list[tuple[str, Callable[[], Any]]] = [
            ("queue", lambda: _optional_queue(queue, values.get("mode"))),
            ("count", lambda: _count(count)),
            ("behaviour", lambda: Behaviour.parse(behaviour or "echo")),
            ("name", lambda: _optional_name(name, "name")),
            ("stream", lambda: _optional_stream(stream)),
            ("durable", lambda: _optional_name(durable, "durable")),
            ("max_age", lambda: _max_age(max_age)),
        ]
        for key, check in checks:
            try:
                values[key] = check()
            except ValidationError as exc:
                errors[key] = exc.message
        if not errors and values["mode"] is ResponderMode.CORE:
            for key in ("stream", "durable"):
                if values[key]:
                    errors[key] = "only for stored responders"
        if (
            not errors
            and values["queue"]
            and values["durable"]
            and values["durable"] != values["queue"]
        ):
            errors["durable"] = "with a queue group, the durable is the queue name"
        if errors:
            raise SpecErrors(errors)
        return cls(subject=subject, **values)

    def short_form(self) -> str:
        """The ``--responder`` option that starts this spec."""
        parts = [self.subject]
        if self.mode is not ResponderMode.CORE:
            parts.append(f"mode={self.mode.value}")
        if self.queue:
            parts.append(f"queue={self.queue}")
        if self.count != 1:
            parts.append(f"count={self.count}")
        if self.behaviour != Behaviour():
            parts.append(f"behaviour={self.behaviour}")
        for key in ("name", "stream", "durable"):
            value = getattr(self, key)
            if value:
                parts.append(f"{key}={value}")
        if self.max_age != DEFAULT_MAX_AGE:
            parts.append(f"max-age={self.max_age:g}s")
        return ",".join(parts)


def _checked(text: str, field_name: str, problem_of: Callable[[str], str | None]) -> str | None:
    """`text` trimmed, None when empty; a `ValidationError` for `field_name` when `problem_of`
    (a rule of `jstui.nats.names`) finds a problem."""
    text = text.strip()
    if not text:
        return None
    if problem := problem_of(text):
        raise ValidationError(field_name, problem)
    return text


def _optional_name(text: str, field_name: str) -> str | None:
    """A responder name or durable: a consumer name (the name is part of the default durable)."""
    return _checked(text, field_name, consumer_name_problem)


def _optional_queue(text: str, mode: ResponderMode | None) -> str | None:
    """A stored responder's queue group is also its durable name: a consumer name."""
    rule = consumer_name_problem if mode is ResponderMode.STORED else queue_group_problem
    return _checked(text, "queue", rule)


def _optional_stream(text: str) -> str | None:
    return _checked(text, "stream", stream_name_problem)


def _count(text: str) -> int:
    raw = text.strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise ValidationError("count", f"a whole number from 1 to {MAX_COUNT}")
    return int(raw)


def _max_age(text: str) -> float:
    if not text.strip():
        return DEFAULT_MAX_AGE
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ValidationError("max_age", str(exc)) from exc
    if seconds is None:
        raise ValidationError("max_age", "must be more than 0")
    return seconds


_OPTION_FIELDS = {
    "mode": "mode",
    "queue": "queue",
    "q": "queue",
    "count": "count",
    "n": "count",
    "behaviour": "behaviour",
    "behavior": "behaviour",
    "b": "behaviour",
    "name": "name",
    "stream": "stream",
    "durable": "durable",
    "max-age": "max_age",
    "max_age": "max_age",
    "maxage": "max_age",
}
_BARE_FLAGS = {"core": ("mode", "core"), "stored": ("mode", "stored")}


def parse_responder_option(text: str) -> ResponderSpec:
    """Parse ``SUBJECT[,option...]`` (the ``--responder`` short form) into a spec.

    Options: ``mode=core|stored`` (or bare ``core`` / ``stored``), ``queue=NAME``, ``count=N``,
    ``behaviour=echo|upper|delay=MS|random=MIN-MAX|fail|error`` (or bare ``upper``, ``fail``...),
    ``name=NAME``, ``stream=NAME``, ``durable=NAME``, ``max-age=DURATION``. Raises
    `ValidationError` with a message that names the option at fault.
    """
    subject, *options = [part.strip() for part in text.split(",")]
    fields: dict[str, str] = {"subject": subject}
    for option in options:
        if not option:
            continue
        key, eq, value = option.partition("=")
        key = key.strip().lower()
        if not eq:
            if key in _BARE_FLAGS:
                target, value = _BARE_FLAGS[key]
            else:
                try:
                    Behaviour.parse(key)
                except ValidationError:
                    raise ValidationError(
                        "responder", f"unknown option {option!r} in {text!r}"
                    ) from None
                target, value = "behaviour", key
        else:
            target = _OPTION_FIELDS.get(key, "")
            if not target:
                known = "mode, queue, count, behaviour, name, stream, durable, max-age"
                raise ValidationError("responder", f"unknown option {key!r} ({known})")
        if target in fields:
            raise ValidationError("responder", f"{target} is given twice in {text!r}")
        fields[target] = value
    try:
        return ResponderSpec.from_form(**fields)
    except SpecErrors as exc:
        detail = "; ".join(f"{key}: {message}" for key, message in exc.errors.items())
        raise ValidationError("responder", f"{text!r}: {detail}") from None
