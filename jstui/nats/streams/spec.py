"""The stream form model: `StreamSpec`, field by field as typed, checked, and turned into a config.

The Streams pane's form fills a `StreamSpec` with text ("9s", "10MiB", "orders.*, orders.>");
`validate` names every bad field before the server is asked, `to_config` / `wire_config` give what
`StreamService` sends, and `from_config` fills the form back from what the server reports. Units
come from `jstui.format.units`, names and subjects from `jstui.nats.names`.

An edit starts from `from_config` (the real values, never their display text) and compares with it
(`changed_keys`): a field the user left as it was is neither judged by jstui's rules (the server
already took it, control characters and all) nor sent again, so the server keeps it byte for byte.

Server facts used here (nats-server 2.15.1, measured; see tests/nats/test_streams.py):
- `max_msgs`, `max_bytes`, `max_msg_size`, `max_msgs_per_subject` of 0 or below are stored as -1
  (unlimited); `max_age` 0 is unlimited; `duplicate_window` 0 becomes 2 min (or max_age if smaller).
- `max_age` and `duplicate_window`, when set, must be >= 100 ms; the window may not exceed max_age.
- Duplicate or overlapping subjects within one stream, `>` alone, and subjects overlapping
  `$JS.API.>` or `$SYS.>` are refused (10052); descriptions are limited to 4096 characters.
- An update may not change the storage type, nor the retention to or from `workqueue`
  (limits <-> interest is allowed).

Mirrors, sources and the rest of the configuration (nats-server 2.15.1, measured; see
tests/nats/test_stream_config.py):
- A mirror has no subjects of its own (10034), no sources (10031) and no first sequence (10143);
  it may have a subject transform and a republish. A stream with sources needs no subjects.
- A mirror's configuration (stream, filter, start, API) cannot be changed after creation, and a
  stream cannot become a mirror (10055). Sources can be added, removed and changed at any time.
- Sealed cannot be set at creation, and a sealed stream cannot be unsealed; deny delete and deny
  purge can be switched on by an update but never off again. Allow roll-up needs purge: it is
  refused together with deny purge.
- A first sequence applies at creation: an update is accepted and stored but does not move the
  stream's sequence, so the form offers it on a new stream only.
- Compression (none / s2), a subject transform, a republish and metadata change freely. The
  server adds its own metadata keys (`_nats.*`) on every create and update; the form leaves them
  out, an update sends them back as they are.
- Which server version each of these needs is in `jstui.nats.features` (`FEATURE_OF` here).

The one-line texts of a mirror, a source, a transform and a republish are in `origins.py`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from jstui.format.text import quote_input
from jstui.format.units import (
    NS_PER_SECOND,
    count_field,
    duration_field,
    duration_ns,
    exact_ns,
    parse_count,
    parse_duration,
    parse_size,
    size_field,
)
from jstui.nats.consumers.spec import SERVER_METADATA_PREFIX, parse_metadata
from jstui.nats.errors import SpecErrors
from jstui.nats.names import stream_name_problem, subject_problem, subjects_collide
from jstui.nats.streams.origins import (
    metadata_text,
    origin_text,
    parse_origin,
    parse_origins,
    parse_transform,
    sources_text,
    transform_text,
)

__all__ = ["FEATURE_OF", "FORM_KEYS", "MIN_WINDOW_SECONDS", "StreamSpec", "wire_config"]

MIN_WINDOW_SECONDS = 0.1
"""The server refuses a max age or duplicate window below 100 ms."""

MAX_DESCRIPTION_LENGTH = 4096
MAX_REPLICAS = 5


def _split_subjects(text: str) -> list[str]:
    """Subjects as typed: separated by commas and/or whitespace, like natscli's SplitString."""
    return [s for s in re.split(r"[,\s]+", text) if s]


def _enum_value(value: Any) -> str:
    """The string of an enum or of the plain string nats-py leaves in configs it read."""
    return str(getattr(value, "value", value) or "")


def _seconds_for_ns(ns: int) -> float:
    """Seconds that nats-py (`int(seconds * 1e9)`, which truncates) turns back into exactly `ns`."""
    seconds = ns / NS_PER_SECOND
    while int(seconds * NS_PER_SECOND) < ns:
        seconds = math.nextafter(seconds, math.inf)
    return seconds


Retention = Literal["limits", "interest", "workqueue"]
Storage = Literal["file", "memory"]
Discard = Literal["old", "new"]
Compression = Literal["none", "s2"]

FORM_KEYS = (
    "name",
    "description",
    "subjects",
    "retention",
    "storage",
    "num_replicas",
    "max_age",
    "max_msgs",
    "max_bytes",
    "max_msg_size",
    "max_msgs_per_subject",
    "discard",
    "duplicate_window",
    "allow_direct",
    "mirror",
    "sources",
    "subject_transform",
    "republish",
    "compression",
    "first_seq",
    "sealed",
    "deny_delete",
    "deny_purge",
    "allow_rollup_hdrs",
    "metadata",
)
"""The StreamConfig keys the form owns; an update leaves every other key as the server has it."""

_WIRE_KEYS = {
    "replicas": "num_replicas",
    "allow_rollup": "allow_rollup_hdrs",
    "republish_headers_only": "republish",
}
"""The `StreamSpec` fields whose config key has another name (the others share theirs)."""

_JUDGED_WITH = {
    "duplicate_window": ("max_age",),
    "subjects": ("mirror", "sources"),
    "sources": ("mirror", "name"),
    "first_seq": ("mirror",),
    "allow_rollup": ("deny_purge",),
    "republish": ("republish_headers_only",),
}
"""A field whose rule also reads other fields: a change to them judges it again."""

FEATURE_OF = {
    "subject_transform": "subject_transform",
    "compression": "compression",
    "first_seq": "first_seq",
    "metadata": "metadata",
}
"""The form fields that need a newer server than the oldest supported, by feature
(`jstui.nats.features.FEATURES`)."""


@dataclass
class StreamSpec:
    """The stream form, field by field, as the user typed it.

    Limits are text ("9s", "10MiB", "1000"; "" = unlimited) so that the form can keep what was typed
    and show an error under the field that is wrong.
    """

    name: str = ""
    description: str = ""
    subjects: str = ""
    retention: Retention = "limits"
    storage: Storage = "file"
    replicas: str = "1"
    max_age: str = ""
    max_msgs: str = ""
    max_bytes: str = ""
    max_msg_size: str = ""
    max_msgs_per_subject: str = ""
    discard: Discard = "old"
    duplicate_window: str = ""
    allow_direct: bool = False
    mirror: str = ""
    """One line: `NAME [filter=SUBJECT] [start=SEQ|TIME] [api=PREFIX]` (`origins.py`)."""
    sources: str = ""
    """One such line per source."""
    subject_transform: str = ""
    """`SRC -> DEST`: the subject a message is stored under."""
    republish: str = ""
    """`SRC -> DEST`: stored messages published again to DEST."""
    republish_headers_only: bool = False
    compression: Compression = "none"
    first_seq: str = ""
    sealed: bool = False
    deny_delete: bool = False
    deny_purge: bool = False
    allow_rollup: bool = False
    metadata: str = ""
    """`key=value` lines, without the server's own `_nats.*` keys."""

    IMMUTABLE: ClassVar[dict[str, str]] = {
        "name": "a stream cannot be renamed",
        "storage": "the storage type cannot be changed after creation",
        "mirror": "a mirror cannot be changed after creation, nor a stream made a mirror",
        "first_seq": "a first sequence applies at creation (the server keeps a new one unused)",
    }
    """Fields the server refuses to change on update, whatever the values (nats-server 2.15)."""

    ONE_WAY: ClassVar[dict[str, str]] = {
        "sealed": "a sealed stream can never be unsealed",
        "deny_delete": "once on, the server never allows deletes again",
        "deny_purge": "once on, the server never allows purges again",
    }
    """Switches an update may turn on but never off: on, their field is locked; turning one on
    is confirmed first."""

    RETENTION_WORKQUEUE_REASON: ClassVar[str] = (
        "retention cannot be changed to or from workqueue after creation"
    )
    """The server allows limits <-> interest but refuses any change to or from workqueue."""

    def subject_list(self) -> list[str]:
        return _split_subjects(self.subjects)

    def changed_fields(self, base: StreamSpec) -> list[str]:
        """The fields that differ from `base` (subjects as a list and metadata as a mapping:
        spacing and order are no change)."""
        changed = []
        for key in (f.name for f in fields(self)):
            if key == "subjects":
                differs = self.subject_list() != base.subject_list()
            elif key == "metadata":
                differs = _metadata_or_text(self.metadata) != _metadata_or_text(base.metadata)
            else:
                differs = getattr(self, key) != getattr(base, key)
            if differs:
                changed.append(key)
        return changed

    def changed_keys(self, base: StreamSpec) -> list[str]:
        """The config keys an update from `base` to this spec must send (see `FORM_KEYS`)."""
        return [_WIRE_KEYS.get(key, key) for key in self.changed_fields(base)]

    def validate(
        self, max_payload: int | None = None, *, base: StreamSpec | None = None
    ) -> dict[str, str]:
        """Every bad field at once, field name -> short message; empty when the form is good.

        `max_payload` is the server's (`nc.max_payload`); a larger max message size is accepted by
        the server but no such message could ever be published, so it is refused here. With
        `base` (the stream as the server has it), fields left as they were are not judged: the
        server took them already, and an update does not send them again.
        """
        errors = self._problems(max_payload)
        if base is None and self.sealed:
            errors["sealed"] = "a stream is sealed by an edit, after creation"
        if base is not None:
            changed = set(self.changed_fields(base))
            errors = {
                key: message
                for key, message in errors.items()
                if changed.intersection((key, *_JUDGED_WITH.get(key, ())))
            }
        return errors

    def _problems(self, max_payload: int | None) -> dict[str, str]:
        errors: dict[str, str] = {}
        if problem := stream_name_problem(self.name):
            errors["name"] = problem
        if len(self.description) > MAX_DESCRIPTION_LENGTH:
            errors["description"] = f"at most {MAX_DESCRIPTION_LENGTH} characters"
        if problem := self._subjects_problem():
            errors["subjects"] = problem
        if self.retention not in ("limits", "interest", "workqueue"):
            errors["retention"] = "choose limits, interest or workqueue"
        if self.storage not in ("file", "memory"):
            errors["storage"] = "choose file or memory"
        if self.discard not in ("old", "new"):
            errors["discard"] = "choose old or new"
        if self.compression not in ("none", "s2"):
            errors["compression"] = "choose none or s2"
        errors.update(self._origin_problems())
        try:
            self._replicas()
        except ValueError as exc:
            errors["replicas"] = str(exc)

        durations: dict[str, float | None] = {}
        for name in ("max_age", "duplicate_window"):
            try:
                value = durations[name] = parse_duration(getattr(self, name))
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            if value is not None and value < MIN_WINDOW_SECONDS:
                errors[name] = "must be at least 100ms (or empty for none)"
        max_age, window = durations.get("max_age"), durations.get("duplicate_window")
        if "duplicate_window" not in errors and max_age and window and window > max_age:
            errors["duplicate_window"] = (
                f"may not be longer than max age ({duration_field(max_age)})"
            )

        for name in ("max_msgs", "max_msgs_per_subject"):
            try:
                parse_count(getattr(self, name))
            except ValueError as exc:
                errors[name] = str(exc)
        for name in ("max_bytes", "max_msg_size"):
            try:
                parse_size(getattr(self, name))
            except ValueError as exc:
                errors[name] = str(exc)
        if "max_msg_size" not in errors and max_payload is not None and max_payload > 0:
            size = parse_size(self.max_msg_size)
            if size is not None and size > max_payload:
                errors["max_msg_size"] = (
                    f"larger than the server's max payload ({size_field(max_payload)})"
                )
        return errors

    def _origin_problems(self) -> dict[str, str]:
        """Mirror, sources, transforms, first sequence, roll-up and metadata."""
        errors: dict[str, str] = {}
        checks = (
            ("mirror", lambda: parse_origin(self.mirror) if self.mirror.strip() else None),
            ("sources", lambda: parse_origins(self.sources, own_name=self.name)),
            ("subject_transform", lambda: parse_transform(self.subject_transform)),
            ("republish", lambda: parse_transform(self.republish)),
            ("first_seq", lambda: parse_count(self.first_seq)),
            ("metadata", lambda: _own_metadata(self.metadata)),
        )
        for key, check in checks:
            try:
                check()
            except ValueError as exc:
                errors[key] = str(exc)
        if self.mirror.strip():
            if self.sources.strip() and "sources" not in errors:
                errors["sources"] = "a mirror cannot also have sources (leave this empty)"
            if self.first_seq.strip() and "first_seq" not in errors:
                errors["first_seq"] = "a mirror takes the sequences of the stream it mirrors"
        if self.republish_headers_only and not self.republish.strip():
            errors["republish"] = "headers only needs a republish (SRC -> DEST)"
        if self.allow_rollup and self.deny_purge:
            errors["allow_rollup"] = "roll-ups purge: the server refuses them with deny purge"
        return errors

    def _subjects_problem(self) -> str | None:
        subjects = self.subject_list()
        if self.mirror.strip():
            if subjects:
                return "a mirror has no subjects of its own (it stores the mirrored ones)"
            return None
        if not subjects:
            if self.sources.strip():
                return None
            return "at least one subject is needed (or a mirror, or sources)"
        for subject in subjects:
            if problem := subject_problem(subject):
                return problem
            if subject == ">":
                return "'>' alone would capture every subject, the JetStream API's too"
            if subjects_collide(subject, "$JS.API.>"):
                return f"{quote_input(subject)} overlaps the JetStream API ($JS.API.>)"
            if subjects_collide(subject, "$SYS.>"):
                return f"{quote_input(subject)} overlaps the system subjects ($SYS.>)"
        for i, a in enumerate(subjects):
            for b in subjects[i + 1 :]:
                if a == b:
                    return f"{quote_input(a)} is listed twice"
                if subjects_collide(a, b):
                    return f"{quote_input(a)} overlaps {quote_input(b)}"
        return None

    def _replicas(self) -> int:
        text = self.replicas.strip() or "1"
        if not text.isdigit() or not 1 <= int(text) <= MAX_REPLICAS:
            raise ValueError(f"a whole number from 1 to {MAX_REPLICAS}")
        return int(text)

    def to_config(self, *, base: StreamSpec | None = None) -> StreamConfig:
        """The `StreamConfig` to send; raises `SpecErrors` listing every bad field (only the
        changed ones with `base`, see `validate`).

        Unlimited is -1 for the counts and sizes and 0 for max age; a duplicate window left empty
        is sent as 0, which the server turns into its default (2 min, or max age if shorter).
        """
        errors = self.validate(base=base)
        if errors:
            raise SpecErrors(errors)

        def limit(value: int | None) -> int:
            return value if value else -1

        def seconds(value: float | None) -> float:
            return _seconds_for_ns(exact_ns(value)) if value else 0

        return StreamConfig(
            name=self.name,
            description=self.description or None,
            subjects=self.subject_list() or None,
            retention=RetentionPolicy(self.retention),
            storage=StorageType(self.storage),
            num_replicas=self._replicas(),
            max_age=seconds(parse_duration(self.max_age)),
            max_msgs=limit(parse_count(self.max_msgs)),
            max_bytes=limit(parse_size(self.max_bytes)),
            max_msg_size=limit(parse_size(self.max_msg_size)),
            max_msgs_per_subject=limit(parse_count(self.max_msgs_per_subject)),
            discard=DiscardPolicy(self.discard),
            duplicate_window=seconds(parse_duration(self.duplicate_window)),
            allow_direct=self.allow_direct,
        )

    def extra_wire(self, *, base: StreamSpec | None = None) -> dict[str, Any]:
        """The keys `to_config` does not model, as the API spells them (an empty field is left
        out: the server's default, and nothing an older server would not know). With `base`,
        only the fields changed from it are read: the others are not sent, and a value another
        program wrote that jstui would not accept (an empty metadata key) is never judged."""
        wanted = set(self.changed_fields(base)) if base is not None else None

        def read(key: str) -> bool:
            return wanted is None or key in wanted

        wire: dict[str, Any] = {
            "sealed": self.sealed,
            "deny_delete": self.deny_delete,
            "deny_purge": self.deny_purge,
            "allow_rollup_hdrs": self.allow_rollup,
        }
        if read("mirror") and self.mirror.strip():
            wire["mirror"] = parse_origin(self.mirror)
        if read("sources") and (sources := parse_origins(self.sources, own_name=self.name)):
            wire["sources"] = sources
        if read("subject_transform") and (transform := parse_transform(self.subject_transform)):
            wire["subject_transform"] = transform
        if (read("republish") or read("republish_headers_only")) and (
            republish := parse_transform(self.republish)
        ):
            wire["republish"] = {**republish, "headers_only": self.republish_headers_only}
        if self.compression != "none":
            wire["compression"] = self.compression
        if read("first_seq") and (first_seq := parse_count(self.first_seq)):
            wire["first_seq"] = first_seq
        if read("metadata") and (metadata := _own_metadata(self.metadata)):
            wire["metadata"] = metadata
        return wire

    @classmethod
    def from_config(cls, config: StreamConfig) -> StreamSpec:
        """The form filled from a stream's config (as the server reports it), in canonical text."""
        return cls(
            name=config.name or "",
            description=config.description or "",
            subjects=", ".join(config.subjects or []),
            retention=_enum_value(config.retention) or "limits",  # type: ignore[arg-type]
            storage=_enum_value(config.storage) or "file",  # type: ignore[arg-type]
            replicas=str(config.num_replicas or 1),
            max_age=duration_field(config.max_age),
            max_msgs=count_field(config.max_msgs or -1),
            max_bytes=size_field(config.max_bytes or -1),
            max_msg_size=size_field(config.max_msg_size or -1),
            max_msgs_per_subject=count_field(config.max_msgs_per_subject or -1),
            discard=_enum_value(config.discard) or "old",  # type: ignore[arg-type]
            duplicate_window=duration_field(config.duplicate_window),
            allow_direct=bool(config.allow_direct),
            mirror=origin_text(config.mirror),
            sources=sources_text(config.sources),
            subject_transform=transform_text(config.subject_transform),
            republish=transform_text(config.republish),
            republish_headers_only=bool(config.republish and config.republish.headers_only),
            compression=_enum_value(config.compression) or "none",  # type: ignore[arg-type]
            first_seq=str(config.first_seq) if config.first_seq else "",
            sealed=bool(config.sealed),
            deny_delete=bool(config.deny_delete),
            deny_purge=bool(config.deny_purge),
            allow_rollup=bool(config.allow_rollup_hdrs),
            metadata=metadata_text(config.metadata),
        )

    def locked_reason(self, key: str) -> str:
        """Why an edit of this stream (its spec as the server has it) cannot change `key` ("" when
        it can): a field the server never changes, or a one-way switch already on."""
        if key in self.IMMUTABLE:
            return self.IMMUTABLE[key]
        if key == "retention" and self.retention == "workqueue":
            return self.RETENTION_WORKQUEUE_REASON
        if key in self.ONE_WAY and getattr(self, key):
            return self.ONE_WAY[key]
        if self.mirror and key in ("subjects", "sources"):
            return "a mirror stores the mirrored stream's subjects and has no sources"
        if key == "allow_rollup" and self.deny_purge:
            return "roll-ups purge, and this stream denies purges for good"
        return ""

    def one_way_changes(self, base: StreamSpec) -> list[str]:
        """The one-way switches (`ONE_WAY`) this edit turns on."""
        return [key for key in self.ONE_WAY if getattr(self, key) and not getattr(base, key)]

    def immutable_changes(self, current: StreamSpec) -> dict[str, str]:
        """Fields changed from `current` that the server will refuse on update, with the reason.

        For a form to disable or mark them; `StreamService.update` still lets the server decide.
        """
        refused = {
            key: reason
            for key, reason in self.IMMUTABLE.items()
            if getattr(self, key) != getattr(current, key)
        }
        if self.retention != current.retention and "workqueue" in (
            self.retention,
            current.retention,
        ):
            refused["retention"] = self.RETENTION_WORKQUEUE_REASON
        return refused


def wire_config(spec: StreamSpec, *, base: StreamSpec | None = None) -> dict[str, Any]:
    """The JSON config for the API, with durations in exact nanoseconds (floats of seconds cannot
    hold every nanosecond past about 104 days). `base` as in `StreamSpec.validate`."""
    wire = spec.to_config(base=base).as_dict()
    for key in ("max_age", "duplicate_window"):
        wire[key] = duration_ns(getattr(spec, key)) or 0
    wire.update(spec.extra_wire(base=base))
    return wire


def _own_metadata(text: str) -> dict[str, str]:
    """The metadata typed; the server's own keys are not for the form."""
    metadata = parse_metadata(text)
    for key in metadata:
        if key.startswith(SERVER_METADATA_PREFIX):
            raise ValueError(
                f"{quote_input(key)}: keys starting {SERVER_METADATA_PREFIX} are the server's"
            )
    return metadata


def _metadata_or_text(text: str) -> object:
    try:
        return parse_metadata(text)
    except ValueError:
        return text
