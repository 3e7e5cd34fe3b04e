"""The consumer form model: `ConsumerSpec`, field by field as typed, checked, and turned into the
JSON config of `$JS.API.CONSUMER.CREATE`.

The Consumers pane's form fills a `ConsumerSpec` with text ("30s", "1s, 5s, 30s", "team=ops"
lines); `validate` names every bad field before the server is asked, `wire_config` gives what
`ConsumerService` sends, and `from_config` fills the form back from the raw config the server
reports. Units come from `jstui.format.units`, names and subjects from `jstui.nats.names`.

An edit starts from `from_config` and compares with it (`changed_keys`): a field the user left as
it was is neither judged by jstui's rules nor sent again; the service merges only the changed keys
into the config the server has, so keys the form does not know stay byte for byte.

Server facts used here (nats-server 2.15.1, measured by an update with one key changed; see
tests/nats/test_consumer_service.py):
- An update may NOT change: deliver policy (nor its start sequence or time), ack policy, max
  waiting, memory storage, replay policy (err_code 10012 "... can not be updated"); a push
  consumer cannot become pull (10012) nor a pull consumer push (10080 "consumer in push mode can
  not set max waiting"); a name is never renamed.
- An update MAY change: description, filter subjects (one or several), ack wait, max deliver,
  backoff, max ack pending, replicas, inactive threshold, headers only, metadata, and a push
  consumer's deliver subject and deliver group.
- Refused at create: backoff with max deliver not above the number of backoff values (10116),
  deliver by start sequence without a sequence and last-per-subject without a filter (10094),
  overlapping filter subjects (10138), max waiting on a push consumer (10080), a description over
  4096 characters (10107), replicas above 1 on a single server (10074).
- Accepted silently (so checked here): a deliver group on a pull consumer (it means nothing),
  max ack pending below -1 (stored as -1).
- A create with the name of an existing consumer and the same config succeeds; with another config
  it fails with 10148 "consumer already exists".
- An ephemeral consumer created without a name is named by the server, in the reply and the info
  but not in its config; without an inactive threshold it goes after 5 s unused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from jstui.format.text import quote_input
from jstui.format.units import (
    NS_PER_SECOND,
    count_field,
    duration_field,
    duration_ns,
    parse_count,
)
from jstui.nats.errors import SpecErrors
from jstui.nats.names import consumer_name_problem, subject_problem, subjects_collide

__all__ = [
    "ACK_POLICIES",
    "DELIVER_POLICIES",
    "ConsumerSpec",
    "parse_metadata",
    "parse_start_time",
    "wire_config",
]

MAX_DESCRIPTION_LENGTH = 4096
SERVER_METADATA_PREFIX = "_nats."
"""Metadata keys the server writes itself (`_nats.ver`, `_nats.level`...): not for the form."""
MAX_REPLICAS = 5

Mode = Literal["pull", "push"]
DeliverPolicy = Literal[
    "all", "new", "last", "last_per_subject", "by_start_sequence", "by_start_time"
]
AckPolicy = Literal["explicit", "all", "none"]

DELIVER_POLICIES: tuple[str, ...] = (
    "all",
    "new",
    "last",
    "last_per_subject",
    "by_start_sequence",
    "by_start_time",
)
ACK_POLICIES: tuple[str, ...] = ("explicit", "all", "none")

_WIRE_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("name", "durable_name"),
    "durable": ("durable_name",),
    "filter_subjects": ("filter_subject", "filter_subjects"),
    "start_seq": ("opt_start_seq",),
    "start_time": ("opt_start_time",),
    "replicas": ("num_replicas",),
    "mode": ("deliver_subject", "max_waiting"),
}
"""The config keys each spec field writes, when they differ from the field's name."""

_JUDGED_WITH = {"backoff": ("max_deliver",), "max_deliver": ("backoff",)}
"""A field whose rule also reads other fields: a change to them judges it again."""


def _split(text: str) -> list[str]:
    """Items as typed: separated by commas and/or whitespace."""
    return [s for s in re.split(r"[,\s]+", text) if s]


def parse_metadata(text: str) -> dict[str, str]:
    """`key=value` lines into a dict; `ValueError` naming the first bad line."""
    metadata: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"line {number}: write key=value")
        if key in metadata:
            raise ValueError(f"line {number}: {quote_input(key)} is given twice")
        metadata[key] = value.strip()
    return metadata


def parse_start_time(text: str) -> datetime:
    """A start time: ISO 8601 ("2026-12-03T17:00:00Z", "2026-12-03 17:00"; local time when no
    zone is given), in UTC."""
    raw = text.strip()
    if not raw:
        raise ValueError("a time is needed, e.g. 2026-12-03 17:00")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {quote_input(raw)}; e.g. 2026-12-03 17:00") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """The server's time format, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ns_field(ns: Any) -> str:
    return duration_field(int(ns) / NS_PER_SECOND) if ns else ""


@dataclass
class ConsumerSpec:
    """The consumer form, field by field, as the user typed it.

    Durations, counts and lists are text ("30s", "" = the server's default or unlimited) so that
    the form keeps what was typed and shows an error under the field that is wrong.
    """

    stream: str = ""
    name: str = ""
    durable: bool = True
    mode: Mode = "pull"
    description: str = ""
    deliver_subject: str = ""
    deliver_group: str = ""
    filter_subjects: str = ""
    deliver_policy: DeliverPolicy = "all"
    start_seq: str = ""
    start_time: str = ""
    ack_policy: AckPolicy = "explicit"
    ack_wait: str = "30s"
    max_deliver: str = ""
    backoff: str = ""
    max_ack_pending: str = "1000"
    max_waiting: str = "512"
    replicas: str = ""
    mem_storage: bool = False
    inactive_threshold: str = ""
    headers_only: bool = False
    metadata: str = ""

    IMMUTABLE: ClassVar[dict[str, str]] = {
        "stream": "a consumer cannot move to another stream",
        "name": "a consumer cannot be renamed",
        "durable": "a consumer cannot turn durable or ephemeral",
        "mode": "a consumer cannot change between pull and push",
        "deliver_policy": "the deliver policy cannot be changed after creation",
        "start_seq": "the deliver policy cannot be changed after creation",
        "start_time": "the deliver policy cannot be changed after creation",
        "ack_policy": "the ack policy cannot be changed after creation",
        "max_waiting": "max waiting cannot be changed after creation",
        "mem_storage": "the storage type cannot be changed after creation",
    }
    """Fields the server refuses to change on update, with the reason (nats-server 2.15.1)."""

    def filter_list(self) -> list[str]:
        return _split(self.filter_subjects)

    def changed_fields(self, base: ConsumerSpec) -> list[str]:
        """The fields that differ from `base` (lists compared as lists: spacing is no change)."""
        changed = []
        for key in (f.name for f in fields(self)):
            if key in ("filter_subjects", "backoff"):
                differs = _split(getattr(self, key)) != _split(getattr(base, key))
            elif key == "metadata":
                differs = self._metadata_or_text() != base._metadata_or_text()
            else:
                differs = getattr(self, key) != getattr(base, key)
            if differs:
                changed.append(key)
        return changed

    def _metadata_or_text(self) -> object:
        try:
            return parse_metadata(self.metadata)
        except ValueError:
            return self.metadata

    def changed_keys(self, base: ConsumerSpec) -> list[str]:
        """The config keys an update from `base` to this spec must send."""
        keys: list[str] = []
        for key in self.changed_fields(base):
            keys.extend(_WIRE_KEYS.get(key, (key,)))
        return keys

    def immutable_changes(self, base: ConsumerSpec) -> dict[str, str]:
        """Fields changed from `base` that the server refuses on update, with the reason."""
        return {
            key: self.IMMUTABLE[key] for key in self.changed_fields(base) if key in self.IMMUTABLE
        }

    def validate(self, *, base: ConsumerSpec | None = None) -> dict[str, str]:
        """Every bad field at once, field name -> short message; empty when the form is good.

        With `base` (the consumer as the server has it), fields left as they were are not judged,
        and a changed field the server would refuse is named with the reason."""
        errors = self._problems()
        if base is None:
            return errors
        changed = set(self.changed_fields(base))
        errors = {
            key: message
            for key, message in errors.items()
            if changed.intersection((key, *_JUDGED_WITH.get(key, ())))
        }
        refused = self.immutable_changes(base)
        errors.update({key: f"cannot change: {reason}" for key, reason in refused.items()})
        return errors

    def _problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.stream:
            errors["stream"] = "choose the stream the consumer reads"
        if (self.durable or self.name) and (problem := consumer_name_problem(self.name)):
            errors["name"] = problem
        if len(self.description) > MAX_DESCRIPTION_LENGTH:
            errors["description"] = f"at most {MAX_DESCRIPTION_LENGTH} characters"
        if self.mode not in ("pull", "push"):
            errors["mode"] = "choose pull or push"
        if self.mode == "push":
            if problem := subject_problem(self.deliver_subject, wildcards=False):
                errors["deliver_subject"] = problem
        elif self.deliver_group:
            errors["deliver_group"] = "only a push consumer has a deliver group"
        if self.deliver_group and consumer_name_problem(self.deliver_group):
            errors["deliver_group"] = "no spaces, '.', '*' or '>' in a group name"
        if problem := self._filters_problem():
            errors["filter_subjects"] = problem
        if self.deliver_policy not in DELIVER_POLICIES:
            errors["deliver_policy"] = "choose one of " + ", ".join(DELIVER_POLICIES)
        if self.deliver_policy == "by_start_sequence":
            try:
                if not parse_count(self.start_seq):
                    errors["start_seq"] = "a sequence from 1 is needed for this deliver policy"
            except ValueError as exc:
                errors["start_seq"] = str(exc)
        if self.deliver_policy == "by_start_time":
            try:
                parse_start_time(self.start_time)
            except ValueError as exc:
                errors["start_time"] = str(exc)
        if self.deliver_policy == "last_per_subject" and not self.filter_list():
            errors["filter_subjects"] = "last per subject needs at least one filter subject"
        if self.ack_policy not in ACK_POLICIES:
            errors["ack_policy"] = "choose explicit, all or none"
        for key in ("ack_wait", "inactive_threshold"):
            try:
                duration_ns(getattr(self, key))
            except ValueError as exc:
                errors[key] = str(exc)
        for key in ("max_deliver", "max_ack_pending", "max_waiting"):
            try:
                parse_count(getattr(self, key))
            except ValueError as exc:
                errors[key] = str(exc)
        if self.mode == "push" and self.max_waiting.strip():
            errors["max_waiting"] = "only a pull consumer has waiting pulls (leave empty)"
        try:
            backoff = self.backoff_ns()
        except ValueError as exc:
            errors["backoff"] = str(exc)
            backoff = []
        if backoff and "max_deliver" not in errors:
            max_deliver = parse_count(self.max_deliver)
            if max_deliver is None or max_deliver <= len(backoff):
                errors["backoff"] = (
                    f"max deliver must be above the number of backoff values ({len(backoff)})"
                )
        if backoff and self.ack_policy == "none":
            errors["backoff"] = "a backoff needs acknowledgements (ack policy explicit or all)"
        try:
            self.replica_count()
        except ValueError as exc:
            errors["replicas"] = str(exc)
        try:
            parse_metadata(self.metadata)
        except ValueError as exc:
            errors["metadata"] = str(exc)
        return errors

    def _filters_problem(self) -> str | None:
        subjects = self.filter_list()
        for subject in subjects:
            if problem := subject_problem(subject):
                return problem
        for i, a in enumerate(subjects):
            for b in subjects[i + 1 :]:
                if a == b:
                    return f"{quote_input(a)} is listed twice"
                if subjects_collide(a, b):
                    return f"{quote_input(a)} overlaps {quote_input(b)}"
        return None

    def backoff_ns(self) -> list[int]:
        """The backoff durations in nanoseconds; `ValueError` for a bad or empty one."""
        values = []
        for item in _split(self.backoff):
            ns = duration_ns(item)
            if not ns:
                raise ValueError(f"{quote_input(item)}: each backoff must be above zero")
            values.append(ns)
        return values

    def replica_count(self) -> int:
        text = self.replicas.strip()
        if not text:
            return 0
        if not text.isdigit() or not 0 <= int(text) <= MAX_REPLICAS:
            raise ValueError(f"a whole number from 1 to {MAX_REPLICAS} (empty = the stream's)")
        return int(text)

    def wire_name(self) -> str:
        return self.name.strip()

    @classmethod
    def from_config(
        cls, stream: str, config: dict[str, Any], *, name: str | None = None
    ) -> ConsumerSpec:
        """The form filled from a consumer's raw config (as the server reports it). `name` is
        the info's own: a consumer the server named has none in its config."""
        filters = config.get("filter_subjects") or (
            [config["filter_subject"]] if config.get("filter_subject") else []
        )
        start_time = config.get("opt_start_time") or ""
        push = bool(config.get("deliver_subject"))
        return cls(
            stream=stream,
            name=name or str(config.get("name") or config.get("durable_name") or ""),
            durable=bool(config.get("durable_name")),
            mode="push" if push else "pull",
            description=str(config.get("description") or ""),
            deliver_subject=str(config.get("deliver_subject") or ""),
            deliver_group=str(config.get("deliver_group") or ""),
            filter_subjects=", ".join(str(s) for s in filters),
            deliver_policy=str(config.get("deliver_policy") or "all"),  # type: ignore[arg-type]
            start_seq=str(config.get("opt_start_seq") or ""),
            start_time=str(start_time),
            ack_policy=str(config.get("ack_policy") or "explicit"),  # type: ignore[arg-type]
            ack_wait=_ns_field(config.get("ack_wait")),
            max_deliver=count_field(config.get("max_deliver")),
            backoff=", ".join(_ns_field(ns) for ns in config.get("backoff") or ()),
            max_ack_pending=count_field(config.get("max_ack_pending")),
            max_waiting="" if push else count_field(config.get("max_waiting")),
            replicas=str(config.get("num_replicas") or ""),
            mem_storage=bool(config.get("mem_storage")),
            inactive_threshold=_ns_field(config.get("inactive_threshold")),
            headers_only=bool(config.get("headers_only")),
            metadata="\n".join(
                f"{key}={value}"
                for key, value in sorted((config.get("metadata") or {}).items())
                if not str(key).startswith(SERVER_METADATA_PREFIX)
            ),
        )


def wire_config(spec: ConsumerSpec, *, base: ConsumerSpec | None = None) -> dict[str, Any]:
    """The JSON config for `$JS.API.CONSUMER.CREATE`; raises `SpecErrors` listing every bad field
    (only the changed ones with `base`, see `ConsumerSpec.validate`).

    Keys whose field is empty are left out, so the server applies its defaults (ack wait 30 s,
    replicas of the stream); an unlimited max deliver or max ack pending is -1."""
    errors = spec.validate(base=base)
    if errors:
        raise SpecErrors(errors)
    wire: dict[str, Any] = {
        "deliver_policy": spec.deliver_policy,
        "ack_policy": spec.ack_policy,
        "replay_policy": "instant",
    }
    name = spec.wire_name()
    if name:
        wire["name"] = name
        if spec.durable:
            wire["durable_name"] = name
    if spec.description:
        wire["description"] = spec.description
    if spec.mode == "push":
        wire["deliver_subject"] = spec.deliver_subject.strip()
        if spec.deliver_group:
            wire["deliver_group"] = spec.deliver_group
    else:
        waiting = parse_count(spec.max_waiting)
        if waiting is not None:
            wire["max_waiting"] = waiting
    filters = spec.filter_list()
    if len(filters) == 1:
        wire["filter_subject"] = filters[0]
    elif filters:
        wire["filter_subjects"] = filters
    if spec.deliver_policy == "by_start_sequence":
        wire["opt_start_seq"] = parse_count(spec.start_seq)
    if spec.deliver_policy == "by_start_time":
        wire["opt_start_time"] = rfc3339(parse_start_time(spec.start_time))
    for key in ("ack_wait", "inactive_threshold"):
        ns = duration_ns(getattr(spec, key))
        if ns:
            wire[key] = ns
    for key in ("max_deliver", "max_ack_pending"):
        count = parse_count(getattr(spec, key))
        wire[key] = -1 if count is None else count
    if backoff := spec.backoff_ns():
        wire["backoff"] = backoff
    if replicas := spec.replica_count():
        wire["num_replicas"] = replicas
    if spec.mem_storage:
        wire["mem_storage"] = True
    if spec.headers_only:
        wire["headers_only"] = True
    if metadata := parse_metadata(spec.metadata):
        wire["metadata"] = metadata
    return wire
