"""Streams: the form model (`StreamSpec`), unit parsing, and stream operations (`StreamService`).

Everything the Streams pane needs, with no UI: parse what the user typed ("9s", "10MiB"), say which
fields are wrong before the server is asked, turn the form into a `StreamConfig` and back, and run
list / info / create / update / purge / delete / consumers / browse against the shared `Session`.

Browsing never consumes: messages are read with get-message by sequence (or direct get), never
through a consumer, so work-queue and interest streams are left as they were (nats-notes §10).

Server facts used here (nats-server 2.15.1, measured; see tests/nats/test_streams.py):
- `max_msgs`, `max_bytes`, `max_msg_size`, `max_msgs_per_subject` of 0 or below are stored as -1
  (unlimited); `max_age` 0 is unlimited; `duplicate_window` 0 becomes 2 min (or max_age if smaller).
- `max_age` and `duplicate_window`, when set, must be >= 100 ms; the window may not exceed max_age.
- Duplicate or overlapping subjects within one stream, `>` alone, and subjects overlapping
  `$JS.API.>` or `$SYS.>` are refused (10052); descriptions are limited to 4096 characters.
- A create with the name of an existing stream and the same config succeeds silently (even
  `did_create` is true), so `create` looks the name up first.
- An update may not change the storage type, nor the retention to or from `workqueue`
  (limits <-> interest is allowed).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import math
import re
import unicodedata
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, ClassVar, Literal, ParamSpec, TypeVar

import nats.errors
import nats.js.errors
from nats.js.api import (
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)

from jstui.format.text import sanitize
from jstui.nats.errors import (
    ERR_NO_MESSAGE_FOUND,
    ERR_STREAM_NAME_IN_USE,
    ERR_STREAM_NOT_FOUND,
    JetStreamUnavailableError,
    JstuiError,
    ServerAPIError,
    SpecErrors,
    ValidationError,
    translate,
)
from jstui.nats.session import Session

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CALLS_PER_MESSAGE",
    "ConsumerSummary",
    "MessagePage",
    "StoredMessage",
    "StreamService",
    "StreamSpec",
    "StreamSummary",
    "format_count",
    "format_duration",
    "format_size",
    "parse_count",
    "parse_duration",
    "parse_size",
    "stream_name_problem",
    "subject_problem",
]

DEFAULT_TIMEOUT = 5.0
"""Seconds any one request to the JetStream API may take."""

MAX_CALLS_PER_MESSAGE = 4
"""`StreamService.page` makes at most this many server calls per message asked for."""

MIN_WINDOW_SECONDS = 0.1
"""The server refuses a max age or duplicate window below 100 ms."""

MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 4096
MAX_REPLICAS = 5
_INT64_MAX = 2**63 - 1
_NS = 1_000_000_000

# -- units ---------------------------------------------------------------------------------------

_UNLIMITED_WORDS = frozenset({"", "unlimited", "none", "-"})

_DURATION_UNITS_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": _NS,
    "m": 60 * _NS,
    "h": 3600 * _NS,
    "d": 86400 * _NS,
    "w": 7 * 86400 * _NS,
}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
# Longer units first so "ms" is not read as minutes followed by junk.
_DURATION_UNIT = r"(?:ns|us|µs|μs|ms|s|m|h|d|w)"
_DURATION_PART = re.compile(rf"({_NUMBER})\s*({_DURATION_UNIT})")
_DURATION_FULL = re.compile(rf"(?:{_NUMBER}\s*{_DURATION_UNIT}\s*)+")
_DURATION_HINT = "use a duration like 9s, 1h30m, 250ms or 2d"

# natscli `ParseStringAsBytes` (internal/util/util.go): every unit is a power of 1024, whether it is
# written K, KB or KiB, case-insensitive. jstui does the same so that "10MB" means what it means in
# `nats stream add`, and also takes decimals ("1.5GiB") and a space before the unit.
_SIZE_UNITS: dict[str, int] = {
    "": 1,
    "B": 1,
    "K": 1024,
    "KB": 1024,
    "KIB": 1024,
    "M": 1024**2,
    "MB": 1024**2,
    "MIB": 1024**2,
    "G": 1024**3,
    "GB": 1024**3,
    "GIB": 1024**3,
    "T": 1024**4,
    "TB": 1024**4,
    "TIB": 1024**4,
}
_INTEGER = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:_\d+)*)"
_SIZE = re.compile(rf"({_INTEGER}(?:\.\d+)?)\s*([A-Za-z]*)")
_COUNT = re.compile(_INTEGER)
_SIZE_HINT = "use a size like 512, 10MiB or 1.5GiB"


def _is_unlimited(text: str) -> bool:
    return text.strip().lower() in _UNLIMITED_WORDS


def parse_duration(text: str) -> float | None:
    """Seconds for "9s", "1h30m", "1.5h", "250ms", "2d", "1w" or a plain number of seconds.

    "", "unlimited", "none" and any zero mean no limit (None), as 0 does for the server. Units are
    case-sensitive ("m" is minutes; there are no months). The value is exact to the nanosecond, the
    server's unit, so `parse_duration(format_duration(x)) == x` for every value the server returns.
    """
    ns = _parse_duration_ns(text)
    return ns / _NS if ns else None


def _parse_duration_ns(text: str) -> int | None:
    """`parse_duration` in whole nanoseconds (exact at any length)."""
    raw = text.strip()
    if _is_unlimited(raw):
        return None
    if raw.startswith("-"):
        raise ValueError("a duration cannot be negative")
    if re.fullmatch(_NUMBER, raw):
        total = Fraction(raw) * _NS
    elif _DURATION_FULL.fullmatch(raw):
        total = sum(
            (Fraction(n) * _DURATION_UNITS_NS[u] for n, u in _DURATION_PART.findall(raw)),
            Fraction(0),
        )
    else:
        raise ValueError(f"not a duration: {_hint(raw)}; {_DURATION_HINT}")
    ns = round(total)
    if total and not ns:
        raise ValueError("a duration must be at least 1ns")
    if ns > _INT64_MAX:
        raise ValueError("a duration can be at most about 292 years")
    return ns or None


def format_duration(seconds: float | None) -> str:
    """The shortest text ("9s", "1h30m", "250ms") that `parse_duration` reads back as `seconds`.

    None and 0 give "" (no limit).
    """
    if seconds is None or seconds == 0:
        return ""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("a duration cannot be negative")
    ns = _to_ns(seconds)
    parts: list[str] = []
    for unit in ("w", "d", "h", "m", "s", "ms", "us", "ns"):
        size = _DURATION_UNITS_NS[unit]
        amount, ns = divmod(ns, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def parse_size(text: str) -> int | None:
    """Bytes for "512", "10MiB", "10 MiB", "10MB", "1.5GiB"; "" or "unlimited" give None (no limit).

    Units follow natscli: K, KB and KiB (and M/G/T alike) are all powers of 1024, so "10MB" is
    10485760 bytes. Digits may be grouped with "_" or with "," in threes.
    """
    raw = text.strip()
    if _is_unlimited(raw):
        return None
    if raw.startswith("-"):
        raise ValueError("a size cannot be negative")
    match = _SIZE.fullmatch(raw)
    if match is None or match[2].upper() not in _SIZE_UNITS:
        raise ValueError(f"not a size: {_hint(raw)}; {_SIZE_HINT}")
    amount = Fraction(match[1].replace(",", "").replace("_", "")) * _SIZE_UNITS[match[2].upper()]
    if amount.denominator != 1:
        raise ValueError(f"not a whole number of bytes: {_hint(raw)}")
    if amount > _INT64_MAX:
        raise ValueError("a size can be at most 8EiB")
    return int(amount)


def format_size(n: int | None) -> str:
    """Exact text ("10MiB", "1.5GiB", "1000B") that `parse_size` reads back as `n`.

    None and negative values (the server's -1) give "" (no limit). The largest binary unit that
    shows the value with at most three decimals is used; otherwise plain bytes.
    """
    if n is None or n < 0:
        return ""
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n < size:
            continue
        thousandths, rest = divmod(n * 1000, size)
        if rest == 0:
            whole, frac = divmod(thousandths, 1000)
            return f"{whole}.{frac:03d}".rstrip("0").rstrip(".") + unit
    return f"{n}B"


def parse_count(text: str) -> int | None:
    """A whole number ("1000", "1_000", "1,000"); "" and "unlimited" mean no limit (None)."""
    raw = text.strip()
    if _is_unlimited(raw):
        return None
    if raw.startswith("-"):
        raise ValueError("a count cannot be negative")
    if not _COUNT.fullmatch(raw):
        raise ValueError(f"not a whole number: {_hint(raw)}")
    value = int(raw.replace(",", "").replace("_", ""))
    if value > _INT64_MAX:
        raise ValueError("a count can be at most 2^63-1")
    return value


def format_count(n: int | None) -> str:
    """The text of a count; None and negative values (the server's -1) give "" (no limit)."""
    return "" if n is None or n < 0 else str(n)


def _hint(text: str, limit: int = 20) -> str:
    """Quote user input for an error message, short and with no control characters."""
    shown = "".join(c if c.isprintable() else "?" for c in text)
    return repr(shown if len(shown) <= limit else shown[: limit - 1] + "…")


# -- names and subjects ----------------------------------------------------------------------------

_NAME_FORBIDDEN = {" ": "space", ".": '"."', "*": '"*"', ">": '">"', "/": '"/"', "\\": '"\\"'}


def _has_control(text: str) -> bool:
    """Control and format characters (ESC, BiDi overrides...) the server accepts but a screen shows
    wrongly."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def stream_name_problem(name: str) -> str | None:
    """Why `name` cannot be a stream name, or None when it can.

    Stricter than the server on control characters: it accepts ESC and BiDi controls in names,
    which then garble every screen that shows them.
    """
    if not name:
        return "a stream needs a name"
    if len(name) > MAX_NAME_LENGTH:
        return f"at most {MAX_NAME_LENGTH} characters"
    for char, label in _NAME_FORBIDDEN.items():
        if char in name:
            return f"may not contain {label}"
    if any(c.isspace() for c in name):
        return "may not contain whitespace"
    if _has_control(name):
        return "may not contain control characters"
    return None


def subject_problem(subject: str, *, wildcards: bool = True) -> str | None:
    """Why `subject` is not a valid subject (or filter, when `wildcards`), or None when it is.

    Follows nats-server's `IsValidSubject`: no empty token, `>` only as the last token, no
    whitespace; a `*` or `>` inside a longer token is an ordinary character.
    """
    if not subject:
        return "empty subject"
    if any(c.isspace() for c in subject):
        return f"{_hint(subject)} contains whitespace"
    if _has_control(subject):
        return f"{_hint(subject)} contains control characters"
    tokens = subject.split(".")
    if any(t == "" for t in tokens):
        return f"{_hint(subject)} has an empty token (leading, trailing or doubled '.')"
    for i, token in enumerate(tokens):
        if token in ("*", ">") and not wildcards:
            return f"{_hint(subject)} may not contain wildcards"
        if token == ">" and i != len(tokens) - 1:
            return f"{_hint(subject)}: '>' must be the last token"
    return None


def _subjects_collide(a: str, b: str) -> bool:
    """Whether some subject matches both patterns (nats-server `SubjectsCollide`)."""
    ta, tb = a.split("."), b.split(".")
    for i in range(max(len(ta), len(tb))):
        if i >= len(ta) or i >= len(tb):
            return False
        x, y = ta[i], tb[i]
        if x == ">" or y == ">":
            return True
        if x != y and x != "*" and y != "*":
            return False
    return True


def _split_subjects(text: str) -> list[str]:
    """Subjects as typed: separated by commas and/or whitespace, like natscli's SplitString."""
    return [s for s in re.split(r"[,\s]+", text) if s]


def _enum_value(value: Any) -> str:
    """The string of an enum or of the plain string nats-py leaves in configs it read."""
    return str(getattr(value, "value", value) or "")


def _to_ns(seconds: float) -> int:
    """Nanoseconds nearest to the float's exact value (`seconds * 1e9` would round first)."""
    return round(Fraction(seconds) * _NS)


def _seconds_for_ns(ns: int) -> float:
    """Seconds that nats-py (`int(seconds * 1e9)`, which truncates) turns back into exactly `ns`."""
    seconds = ns / _NS
    while int(seconds * _NS) < ns:
        seconds = math.nextafter(seconds, math.inf)
    return seconds


# -- the form model --------------------------------------------------------------------------------

Retention = Literal["limits", "interest", "workqueue"]
Storage = Literal["file", "memory"]
Discard = Literal["old", "new"]

_FORM_KEYS = (
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
)
"""The StreamConfig keys the form owns; an update leaves every other key as the server has it."""


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

    IMMUTABLE: ClassVar[dict[str, str]] = {
        "name": "a stream cannot be renamed",
        "storage": "the storage type cannot be changed after creation",
    }
    """Fields the server refuses to change on update, whatever the values (nats-server 2.15)."""

    RETENTION_WORKQUEUE_REASON: ClassVar[str] = (
        "retention cannot be changed to or from workqueue after creation"
    )
    """The server allows limits <-> interest but refuses any change to or from workqueue."""

    def subject_list(self) -> list[str]:
        return _split_subjects(self.subjects)

    def validate(self, max_payload: int | None = None) -> dict[str, str]:
        """Every bad field at once, field name -> short message; empty when the form is good.

        `max_payload` is the server's (`nc.max_payload`); a larger max message size is accepted by
        the server but no such message could ever be published, so it is refused here.
        """
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
                f"may not be longer than max age ({format_duration(max_age)})"
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
                    f"larger than the server's max payload ({format_size(max_payload)})"
                )
        return errors

    def _subjects_problem(self) -> str | None:
        subjects = self.subject_list()
        if not subjects:
            return "at least one subject is needed"
        for subject in subjects:
            if problem := subject_problem(subject):
                return problem
            if subject == ">":
                return "'>' alone would capture every subject, the JetStream API's too"
            if _subjects_collide(subject, "$JS.API.>"):
                return f"{_hint(subject)} overlaps the JetStream API ($JS.API.>)"
            if _subjects_collide(subject, "$SYS.>"):
                return f"{_hint(subject)} overlaps the system subjects ($SYS.>)"
        for i, a in enumerate(subjects):
            for b in subjects[i + 1 :]:
                if a == b:
                    return f"{_hint(a)} is listed twice"
                if _subjects_collide(a, b):
                    return f"{_hint(a)} overlaps {_hint(b)}"
        return None

    def _replicas(self) -> int:
        text = self.replicas.strip() or "1"
        if not text.isdigit() or not 1 <= int(text) <= MAX_REPLICAS:
            raise ValueError(f"a whole number from 1 to {MAX_REPLICAS}")
        return int(text)

    def to_config(self) -> StreamConfig:
        """The `StreamConfig` to send; raises `SpecErrors` listing every bad field.

        Unlimited is -1 for the counts and sizes and 0 for max age; a duplicate window left empty
        is sent as 0, which the server turns into its default (2 min, or max age if shorter).
        """
        errors = self.validate()
        if errors:
            raise SpecErrors(errors)

        def limit(value: int | None) -> int:
            return value if value else -1

        def seconds(value: float | None) -> float:
            return _seconds_for_ns(_to_ns(value)) if value else 0

        return StreamConfig(
            name=self.name,
            description=self.description or None,
            subjects=self.subject_list(),
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
            max_age=format_duration(config.max_age),
            max_msgs=format_count(config.max_msgs or -1),
            max_bytes=format_size(config.max_bytes or -1),
            max_msg_size=format_size(config.max_msg_size or -1),
            max_msgs_per_subject=format_count(config.max_msgs_per_subject or -1),
            discard=_enum_value(config.discard) or "old",  # type: ignore[arg-type]
            duplicate_window=format_duration(config.duplicate_window),
            allow_direct=bool(config.allow_direct),
        )

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


# -- plain objects for the UI ----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSummary:
    """One stream's config highlights and state, as a list row or a header shows them."""

    name: str
    description: str
    subjects: tuple[str, ...]
    retention: str
    storage: str
    replicas: int
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    first_time: datetime | None
    last_time: datetime | None
    consumer_count: int
    num_deleted: int
    num_subjects: int
    created: datetime | None
    sealed: bool
    allow_direct: bool
    config: StreamConfig | None = field(default=None, compare=False, repr=False)
    """The full config as the server reported it, for a detail view."""


@dataclass(frozen=True)
class ConsumerSummary:
    """One consumer of a stream and its progress."""

    name: str
    durable: bool
    description: str
    filter_subjects: tuple[str, ...]
    deliver_policy: str
    ack_policy: str
    deliver_group: str
    push: bool
    num_pending: int
    num_ack_pending: int
    num_redelivered: int
    num_waiting: int
    delivered_stream_seq: int
    ack_floor_stream_seq: int
    last_active: datetime | None
    paused: bool
    created: datetime | None


@dataclass(frozen=True)
class StoredMessage:
    """A message read from a stream without consuming it.

    `headers` are the message's own (the server's `Nats-Stream`/`Nats-Sequence`/... of a direct get
    are removed); with a repeated header the last value is kept, as nats-py does.
    """

    stream: str
    seq: int
    subject: str
    time: datetime | None
    headers: dict[str, str] | None
    data: bytes


class MessagePage(list[StoredMessage]):
    """Messages of one page, in the order asked for, plus where the next page starts.

    `next_start` is the sequence to pass as `start` for the following page in the same direction,
    or None when the end (or the beginning) of the stream was reached. A page can hold fewer than
    `count` messages and still have a `next_start`: the per-page call budget ran out in a sparse
    stretch of a filtered backwards walk.
    """

    def __init__(self, messages: Iterable[StoredMessage] = (), next_start: int | None = None):
        super().__init__(messages)
        self.next_start = next_start


_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def _parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time with nanoseconds (cut to microseconds) in UTC; None for Go's zero time."""
    if not isinstance(text, str) or text.startswith("0001-01-01"):
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    fraction = (match[2] or "")[:6].ljust(6, "0")
    zone = "+00:00" if match[3] == "Z" else match[3]
    return datetime.fromisoformat(f"{match[1]}.{fraction}{zone}").astimezone(UTC)


def _summary_from_raw(raw: dict[str, Any]) -> StreamSummary:
    """A summary from a raw STREAM.INFO / STREAM.LIST entry (nats-py drops first_ts, last_ts and
    num_subjects, so the raw JSON is read)."""
    cfg = raw.get("config") or {}
    state = raw.get("state") or {}
    config = StreamConfig.from_response(copy.deepcopy(cfg))
    return StreamSummary(
        name=str(cfg.get("name", "")),
        description=str(cfg.get("description") or ""),
        subjects=tuple(cfg.get("subjects") or ()),
        retention=str(cfg.get("retention") or "limits"),
        storage=str(cfg.get("storage") or "file"),
        replicas=int(cfg.get("num_replicas") or 1),
        messages=int(state.get("messages") or 0),
        bytes=int(state.get("bytes") or 0),
        first_seq=int(state.get("first_seq") or 0),
        last_seq=int(state.get("last_seq") or 0),
        first_time=_parse_time(state.get("first_ts")),
        last_time=_parse_time(state.get("last_ts")),
        consumer_count=int(state.get("consumer_count") or 0),
        num_deleted=int(state.get("num_deleted") or 0),
        num_subjects=int(state.get("num_subjects") or 0),
        created=_parse_time(raw.get("created")),
        sealed=bool(cfg.get("sealed")),
        allow_direct=bool(cfg.get("allow_direct")),
        config=config,
    )


def _consumer_from_raw(raw: dict[str, Any]) -> ConsumerSummary:
    cfg = raw.get("config") or {}
    delivered = raw.get("delivered") or {}
    ack_floor = raw.get("ack_floor") or {}
    filters = cfg.get("filter_subjects") or (
        [cfg["filter_subject"]] if cfg.get("filter_subject") else []
    )
    active = [
        t
        for t in (
            _parse_time(delivered.get("last_active")),
            _parse_time(ack_floor.get("last_active")),
        )
        if t
    ]
    return ConsumerSummary(
        name=str(raw.get("name", "")),
        durable=bool(cfg.get("durable_name")),
        description=str(cfg.get("description") or ""),
        filter_subjects=tuple(filters),
        deliver_policy=str(cfg.get("deliver_policy") or ""),
        ack_policy=str(cfg.get("ack_policy") or ""),
        deliver_group=str(cfg.get("deliver_group") or ""),
        push=bool(cfg.get("deliver_subject")),
        num_pending=int(raw.get("num_pending") or 0),
        num_ack_pending=int(raw.get("num_ack_pending") or 0),
        num_redelivered=int(raw.get("num_redelivered") or 0),
        num_waiting=int(raw.get("num_waiting") or 0),
        delivered_stream_seq=int(delivered.get("stream_seq") or 0),
        ack_floor_stream_seq=int(ack_floor.get("stream_seq") or 0),
        last_active=max(active) if active else None,
        paused=bool(raw.get("paused")),
        created=_parse_time(raw.get("created")),
    )


def _wire_config(spec: StreamSpec) -> dict[str, Any]:
    """The JSON config for the API, with durations in exact nanoseconds (floats of seconds cannot
    hold every nanosecond past about 104 days)."""
    wire = spec.to_config().as_dict()
    for key in ("max_age", "duplicate_window"):
        wire[key] = _parse_duration_ns(getattr(spec, key)) or 0
    return wire


_DIRECT_GET_HEADERS = frozenset(
    {
        "Nats-Stream",
        "Nats-Subject",
        "Nats-Sequence",
        "Nats-Time-Stamp",
        "Nats-Num-Pending",
        "Nats-Last-Sequence",
        "Nats-UpTo-Sequence",
    }
)


def _parse_header_block(block: bytes) -> dict[str, str] | None:
    """Headers from a stored `NATS/1.0\\r\\nKey: value\\r\\n...` block; the last of a repeated key
    wins, like nats-py's own parsing of a direct-get reply."""
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            headers[key.strip()] = value.strip()
    return headers or None


# -- the service -----------------------------------------------------------------------------------

P = ParamSpec("P")
T = TypeVar("T")


def _translating(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Let only `JstuiError`s out, so a widget needs one `except` for every failure."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except JstuiError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    return wrapper


class StreamService:
    """Stream operations on the shared connection; every request is bounded by `timeout` seconds.

    Requests go to the JetStream API directly (`$JS.API.STREAM.*`, or the session's prefix or
    domain) rather than through nats-py's manager, because the manager drops fields the UI shows
    (`first_ts`, `last_ts`, `num_subjects`, the purge count) and rebuilds configs without the keys
    it does not know, which an update would then erase.
    """

    def __init__(self, session: Session, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._session = session
        self.timeout = timeout
        self._allow_direct: dict[str, bool] = {}

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def api_prefix(self) -> str:
        return self._session.jetstream_api_prefix

    async def _request(
        self, api: str, payload: dict[str, Any] | None = None, *, stream: str | None = None
    ) -> dict[str, Any]:
        """One JetStream API call; an error comes back as nats-py's `APIError` (then translated)."""
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            msg = await self._session.nc.request(
                f"{self.api_prefix}.{api}", data, timeout=self.timeout
            )
        except nats.errors.NoRespondersError:
            raise JetStreamUnavailableError(
                "JetStream is not available (not enabled for this account, or no leader)"
            ) from None
        try:
            resp: dict[str, Any] = json.loads(msg.data)
        except ValueError:
            raise JstuiError("the server sent an unreadable reply") from None
        error = resp.get("error")
        if error:
            if stream is not None and error.get("err_code") == ERR_STREAM_NOT_FOUND:
                raise ServerAPIError(
                    f"stream {stream!r} not found",
                    code=error.get("code"),
                    err_code=ERR_STREAM_NOT_FOUND,
                )
            raise nats.js.errors.APIError.from_error(error)
        return resp

    @staticmethod
    def _check_name(name: str) -> None:
        """Refuse a name that cannot be put into an API subject (a "." would send the request to
        another subject, where it times out).

        Only the subject rules apply here, not the stricter rules for new names: a stream another
        program created with control characters in its name must still be browsable and deletable.
        """
        if not name or any(ch in name for ch in ".*> \t\r\n"):
            raise ValidationError("name", f"{sanitize(name)!r} is not a valid stream name")

    @staticmethod
    def _check_filter(subject: str | None) -> None:
        if subject is not None and (problem := subject_problem(subject)):
            raise ValidationError("subject", problem)

    def _max_payload(self) -> int | None:
        try:
            return int(self._session.nc.max_payload) or None
        except JstuiError:
            return None

    def _remember(self, summary: StreamSummary) -> StreamSummary:
        self._allow_direct[summary.name] = summary.allow_direct
        return summary

    # -- streams -------------------------------------------------------------------------------

    @_translating
    async def list_streams(self) -> list[StreamSummary]:
        """Every stream with its state, sorted by name (the API pages by 256)."""
        summaries: list[StreamSummary] = []
        offset = 0
        while True:
            resp = await self._request("STREAM.LIST", {"offset": offset})
            page = resp.get("streams") or []
            summaries.extend(self._remember(_summary_from_raw(raw)) for raw in page)
            offset += len(page)
            if not page or offset >= int(resp.get("total") or 0):
                break
        return sorted(summaries, key=lambda s: s.name)

    async def _raw_info(self, name: str) -> dict[str, Any]:
        self._check_name(name)
        return await self._request(f"STREAM.INFO.{name}", stream=name)

    @_translating
    async def info(self, name: str) -> StreamInfo:
        """The stream's info as nats-py models it (config, state, cluster, created)."""
        raw = await self._raw_info(name)
        self._allow_direct[name] = bool((raw.get("config") or {}).get("allow_direct"))
        return StreamInfo.from_response(raw)

    @_translating
    async def summary(self, name: str) -> StreamSummary:
        return self._remember(_summary_from_raw(await self._raw_info(name)))

    @_translating
    async def config(self, name: str) -> StreamConfig:
        config = (await self.summary(name)).config
        if config is None:  # never: every summary read from the server carries its config
            raise JstuiError(f"no config for stream {name!r}")
        return config

    @_translating
    async def exists(self, name: str) -> bool:
        try:
            await self._raw_info(name)
        except ServerAPIError as exc:
            if exc.err_code == ERR_STREAM_NOT_FOUND:
                return False
            raise
        return True

    @_translating
    async def bounds(self, name: str) -> tuple[int, int]:
        """(first_seq, last_seq) for paging; an empty stream has first_seq > last_seq or both 0."""
        summary = await self.summary(name)
        return summary.first_seq, summary.last_seq

    @_translating
    async def create(self, spec: StreamSpec) -> StreamSummary:
        """Create a stream; a name already in use is an error even when the config is the same.

        The server answers an identical re-create with success, which would let a form "create"
        over an existing stream, so the name is looked up first.
        """
        errors = spec.validate(max_payload=self._max_payload())
        if errors:
            raise SpecErrors(errors)
        self._session.check_writable("create stream")
        wire = _wire_config(spec)
        name = spec.name
        already = ServerAPIError(
            f"stream {name!r} already exists", code=400, err_code=ERR_STREAM_NAME_IN_USE
        )
        if await self.exists(name):
            raise already
        try:
            resp = await self._request(f"STREAM.CREATE.{name}", wire)
        except nats.js.errors.APIError as exc:
            if exc.err_code == ERR_STREAM_NAME_IN_USE:
                raise already from exc
            raise
        return self._remember(_summary_from_raw(resp))

    @_translating
    async def update(self, spec: StreamSpec) -> StreamSummary:
        """Apply the form to an existing stream; the server's refusal comes back as
        `ServerAPIError` with its description and err_code.

        Only the form's keys are replaced: every other key of the current config (sources,
        metadata, deny_delete, keys nats-py does not know...) is sent back as the server has it.
        """
        errors = spec.validate(max_payload=self._max_payload())
        if errors:
            raise SpecErrors(errors)
        self._session.check_writable("edit stream")
        wanted = _wire_config(spec)
        current = (await self._raw_info(spec.name)).get("config") or {}
        merged = dict(current)
        for key in _FORM_KEYS:
            if key in wanted:
                merged[key] = wanted[key]
            else:
                merged.pop(key, None)
        resp = await self._request(f"STREAM.UPDATE.{spec.name}", merged, stream=spec.name)
        return self._remember(_summary_from_raw(resp))

    @_translating
    async def purge(self, name: str, *, subject: str | None = None, keep: int | None = None) -> int:
        """Remove messages (all, or those on `subject`), keeping the newest `keep`; returns how many
        were removed."""
        self._session.check_writable("purge stream")
        self._check_name(name)
        self._check_filter(subject)
        if keep is not None and keep < 0:
            raise ValidationError("keep", "cannot be negative")
        request: dict[str, Any] = {}
        if subject:
            request["filter"] = subject
        if keep:
            request["keep"] = keep
        resp = await self._request(f"STREAM.PURGE.{name}", request, stream=name)
        return int(resp.get("purged") or 0)

    @_translating
    async def count(self, name: str, subject: str | None = None) -> int:
        """Messages stored in the stream, or only on `subject` (wildcards allowed): what a purge
        with that filter would remove."""
        self._check_name(name)
        if not subject:
            raw = await self._raw_info(name)
            return int((raw.get("state") or {}).get("messages") or 0)
        self._check_filter(subject)
        total = offset = 0
        while True:
            raw = await self._request(
                f"STREAM.INFO.{name}", {"subjects_filter": subject, "offset": offset}, stream=name
            )
            subjects: dict[str, int] = (raw.get("state") or {}).get("subjects") or {}
            total += sum(subjects.values())
            offset += len(subjects)
            if not subjects or offset >= int(raw.get("total") or 0):
                return total

    @_translating
    async def delete(self, name: str) -> None:
        """Delete the stream, its messages and its consumers."""
        self._session.check_writable("delete stream")
        self._check_name(name)
        await self._request(f"STREAM.DELETE.{name}", stream=name)
        self._allow_direct.pop(name, None)

    @_translating
    async def consumers(self, name: str) -> list[ConsumerSummary]:
        """The stream's consumers with their progress, sorted by name."""
        self._check_name(name)
        result: list[ConsumerSummary] = []
        offset = 0
        while True:
            resp = await self._request(f"CONSUMER.LIST.{name}", {"offset": offset}, stream=name)
            page = resp.get("consumers") or []
            result.extend(_consumer_from_raw(raw) for raw in page)
            offset += len(page)
            if not page or offset >= int(resp.get("total") or 0):
                break
        return sorted(result, key=lambda c: c.name)

    # -- browsing, never consuming ---------------------------------------------------------------

    async def _use_direct(self, name: str, direct: bool | None) -> bool:
        if direct is False:
            return False
        if name not in self._allow_direct:
            await self.summary(name)
        if direct and not self._allow_direct[name]:
            raise ValidationError("direct", f"direct get is not enabled on stream {name!r}")
        return self._allow_direct[name]

    async def _get(
        self, name: str, request: dict[str, Any], direct: bool, *, explicit: bool
    ) -> StoredMessage | None:
        """One get-message call; None when there is no such message."""
        if direct:
            try:
                return await self._direct_get(name, request)
            except nats.errors.NoRespondersError:
                # allow_direct was switched off since we looked; the leader can still answer.
                self._allow_direct[name] = False
                if explicit:
                    raise ValidationError(
                        "direct", f"direct get is not enabled on stream {name!r}"
                    ) from None
        try:
            resp = await self._request(f"STREAM.MSG.GET.{name}", request, stream=name)
        except nats.js.errors.APIError as exc:
            if exc.err_code == ERR_NO_MESSAGE_FOUND:
                return None
            raise
        raw = resp.get("message") or {}
        hdrs = raw.get("hdrs")
        return StoredMessage(
            stream=name,
            seq=int(raw.get("seq") or 0),
            subject=str(raw.get("subject") or ""),
            time=_parse_time(raw.get("time")),
            headers=_parse_header_block(base64.b64decode(hdrs)) if hdrs else None,
            data=base64.b64decode(raw.get("data") or ""),
        )

    async def _direct_get(self, name: str, request: dict[str, Any]) -> StoredMessage | None:
        """`$JS.API.DIRECT.GET.<stream>`: any replica answers, with the message as the reply."""
        msg = await self._session.nc.request(
            f"{self.api_prefix}.DIRECT.GET.{name}",
            json.dumps(request).encode(),
            timeout=self.timeout,
        )
        # nats-py keys some headers with a str Enum whose hash differs from the plain string.
        headers = {str(getattr(k, "value", k)): v for k, v in (msg.headers or {}).items()}
        status = headers.get("Status")
        if status == "404":
            return None
        if status:
            description = headers.get("Description") or "direct get failed"
            raise ServerAPIError(
                f"direct get: {description.lower()}", code=int(status), err_code=None
            )
        own = {k: v for k, v in headers.items() if k not in _DIRECT_GET_HEADERS}
        return StoredMessage(
            stream=name,
            seq=int(headers.get("Nats-Sequence") or 0),
            subject=headers.get("Nats-Subject", ""),
            time=_parse_time(headers.get("Nats-Time-Stamp")),
            headers=own or None,
            data=bytes(msg.data),
        )

    @_translating
    async def get_message(
        self, name: str, seq: int, *, direct: bool | None = None
    ) -> StoredMessage:
        """The message at `seq`, read without consuming; direct get when the stream allows it
        (`direct=None`), or as asked. A missing sequence raises `ServerAPIError` (10037)."""
        self._check_name(name)
        if seq < 1:
            raise ValidationError("sequence", "must be 1 or more")
        use_direct = await self._use_direct(name, direct)
        message = await self._get(name, {"seq": seq}, use_direct, explicit=bool(direct))
        if message is None:
            raise ServerAPIError(
                f"no message with sequence {seq} in stream {name!r}",
                code=404,
                err_code=ERR_NO_MESSAGE_FOUND,
            )
        return message

    @_translating
    async def next_message(
        self, name: str, seq: int, *, subject: str | None = None, direct: bool | None = None
    ) -> StoredMessage | None:
        """The first message at or after `seq` (on `subject`, wildcards allowed); None past the end.
        Deleted sequences are skipped by the server in the same call."""
        self._check_name(name)
        self._check_filter(subject)
        use_direct = await self._use_direct(name, direct)
        request = {"seq": max(seq, 1), "next_by_subj": subject or ">"}
        return await self._get(name, request, use_direct, explicit=bool(direct))

    @_translating
    async def page(
        self,
        name: str,
        *,
        start: int | None = None,
        count: int,
        newest_first: bool,
        subject: str | None = None,
        direct: bool | None = None,
    ) -> MessagePage:
        """Up to `count` existing messages from `start` (inclusive; None = the newest when
        `newest_first`, else the oldest), skipping deleted and non-matching sequences.

        Forwards, each call returns the next match. Backwards there is no "previous" call in the
        API, so windows below the cursor are scanned forwards (each call jumps to the next match),
        a window of the still-missing count, doubled after each window with no match. A page makes
        at most `MAX_CALLS_PER_MESSAGE * count` calls; in a long sparse stretch it may so return
        fewer messages, with `next_start` telling where to go on.
        """
        self._check_name(name)
        self._check_filter(subject)
        if count <= 0:
            return MessagePage()
        first, last = await self.bounds(name)
        use_direct = await self._use_direct(name, direct)
        explicit = bool(direct)
        wanted = subject or ">"
        budget = MAX_CALLS_PER_MESSAGE * count
        first = max(first, 1)

        if not newest_first:
            found: list[StoredMessage] = []
            seq = max(start or first, first)
            while len(found) < count and budget > 0:
                budget -= 1
                message = await self._get(
                    name, {"seq": seq, "next_by_subj": wanted}, use_direct, explicit=explicit
                )
                if message is None:
                    return MessagePage(found, None)
                found.append(message)
                seq = message.seq + 1
            return MessagePage(found, seq)

        result: list[StoredMessage] = []
        high = last if start is None else min(start, last)
        window = count
        while len(result) < count and high >= first:
            missing = count - len(result)
            window = max(window, missing)
            # A window of w sequences costs at most w + 1 calls; never start one that cannot finish.
            window = min(window, budget - 1)
            if window < 1:
                break
            low = max(first, high - window + 1)
            newest: deque[StoredMessage] = deque(maxlen=missing)
            seq = low
            while True:
                budget -= 1
                message = await self._get(
                    name, {"seq": seq, "next_by_subj": wanted}, use_direct, explicit=explicit
                )
                if message is None or message.seq > high:
                    break
                newest.append(message)
                seq = message.seq + 1
                if seq > high:
                    break
            result.extend(reversed(newest))
            window = missing if newest else window * 2
            high = low - 1
        return MessagePage(result, high if high >= first else None)
