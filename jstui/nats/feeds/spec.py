"""What a feed subscribes to: `FeedSpec`, its modes and deliver policies, and `--feed` parsing.

The subscribe dialog calls `FeedSpec.create` with the form's fields and `--feed SUBJECT[,opts]`
goes through `parse_feed_option`; both validate every field at once (subjects and names by
`jstui.nats.names`, durations by `jstui.format.units`) and raise `SpecErrors` / `ValidationError`
naming the field. A valid spec is what `Feed` (feed.py) is built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from jstui.format.units import NS_PER_SECOND, duration_has_units, duration_ns
from jstui.nats.errors import SpecErrors, ValidationError
from jstui.nats.names import (
    consumer_name_problem,
    queue_group_problem,
    stream_name_problem,
    subject_problem,
)

__all__ = ["DEFAULT_BUFFER", "Deliver", "FeedMode", "FeedSpec", "parse_feed_option", "parse_since"]

DEFAULT_BUFFER = 10_000
"""Messages kept per feed unless `--feed-buffer` says otherwise."""


class FeedMode(StrEnum):
    CORE = "core"
    JETSTREAM = "js"
    CONSUME = "consume"

    @property
    def label(self) -> str:
        return {"core": "core", "js": "JetStream", "consume": "consuming"}[self.value]


class Deliver(StrEnum):
    """Where a JetStream feed starts."""

    ALL = "all"
    NEW = "new"
    LAST = "last"
    LAST_PER_SUBJECT = "last-per-subject"
    SEQUENCE = "seq"
    TIME = "since"


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`10m`, `1h30m`, `2d` (that long ago) or an ISO time (naive = local time) -> aware UTC.

    Raises `ValueError` with a short message.
    """
    value = text.strip()
    if not value:
        raise ValueError("a duration (10m, 2h) or an ISO time is required")
    now = now or datetime.now(UTC)
    compact = value.replace(" ", "").lower()
    if duration_has_units(compact):
        return now - timedelta(seconds=(duration_ns(compact) or 0) / NS_PER_SECOND)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a duration (10m, 2h) nor an ISO time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means the user's local time
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class FeedSpec:
    """What to subscribe to and how. Build it with `FeedSpec.create` (validates) or
    `parse_feed_option` (the `--feed` short form)."""

    subject: str
    mode: FeedMode = FeedMode.CORE
    queue: str | None = None
    deliver: Deliver = Deliver.ALL
    start_seq: int | None = None
    since: str | None = None
    durable: str | None = None
    stream: str | None = None
    buffer: int = DEFAULT_BUFFER
    auto_mode: bool = False
    """The mode was not given (`--feed SUBJECT`): `feed.choose_mode` settles it when the feed
    opens, JetStream non-consuming if a stream captures the subject, else core."""

    @classmethod
    def create(
        cls,
        subject: str,
        mode: FeedMode | str = FeedMode.CORE,
        *,
        queue: str | None = None,
        deliver: Deliver | str = Deliver.ALL,
        start_seq: int | str | None = None,
        since: str | None = None,
        durable: str | None = None,
        stream: str | None = None,
        buffer: int | str = DEFAULT_BUFFER,
        auto_mode: bool = False,
    ) -> FeedSpec:
        """Validate everything at once; raise `SpecErrors` keyed by field name."""
        errors: dict[str, str] = {}
        subject = subject.strip()
        if problem := subject_problem(subject):
            errors["subject"] = problem
        try:
            mode = FeedMode(mode)
        except ValueError:
            errors["mode"] = f"unknown mode {mode!r} (core, js, consume)"
            mode = FeedMode.CORE
        try:
            deliver = Deliver(deliver)
        except ValueError:
            known = ", ".join(d.value for d in Deliver)
            errors["deliver"] = f"unknown deliver policy {deliver!r} ({known})"
            deliver = Deliver.ALL
        queue = (queue or "").strip() or None
        durable = (durable or "").strip() or None
        stream = (stream or "").strip() or None
        since = (since or "").strip() or None
        seq: int | None = None
        if isinstance(start_seq, str):
            start_seq = start_seq.strip() or None
        if start_seq is not None:
            try:
                seq = int(start_seq)
                if seq < 1:
                    raise ValueError
            except ValueError:
                errors["start_seq"] = "a stream sequence is a whole number from 1"
        try:
            size = int(buffer)
            if not 100 <= size <= 10_000_000:
                raise ValueError
        except ValueError:
            errors["buffer"] = "buffer: a number of messages from 100 to 10,000,000"
            size = DEFAULT_BUFFER
        if mode is FeedMode.CORE:
            if queue and (problem := queue_group_problem(queue)):
                errors["queue"] = problem
            for name, value in (("durable", durable), ("stream", stream), ("since", since)):
                if value:
                    errors[name] = f"{name} applies to JetStream feeds (js or consume)"
            if seq is not None:
                errors["start_seq"] = "a start sequence applies to JetStream feeds"
            if deliver is not Deliver.ALL:
                errors["deliver"] = "a deliver policy applies to JetStream feeds"
        else:
            if queue:
                errors["queue"] = "queue groups apply to core feeds"
            if stream and (problem := stream_name_problem(stream)):
                errors["stream"] = problem
            if durable:
                if mode is not FeedMode.CONSUME:
                    errors["durable"] = "a durable consumer consumes: choose the consuming mode"
                elif problem := consumer_name_problem(durable):
                    errors["durable"] = problem
            if deliver is Deliver.SEQUENCE and seq is None and "start_seq" not in errors:
                errors["start_seq"] = "give the stream sequence to start from"
            if deliver is not Deliver.SEQUENCE and seq is not None:
                errors["start_seq"] = "a start sequence goes with deliver=seq"
            if deliver is Deliver.TIME:
                if not since:
                    errors["since"] = "give a duration (10m) or an ISO time"
                else:
                    try:
                        parse_since(since)
                    except ValueError as error:
                        errors["since"] = str(error)
            elif since:
                errors["since"] = "a start time goes with deliver=since"
        if errors:
            raise SpecErrors(errors)
        return cls(
            subject=subject,
            mode=mode,
            queue=queue,
            deliver=deliver,
            start_seq=seq,
            since=since,
            durable=durable,
            stream=stream,
            buffer=size,
            auto_mode=auto_mode and mode is FeedMode.CORE,
        )

    @property
    def is_jetstream(self) -> bool:
        return self.mode is not FeedMode.CORE

    def start_time(self, now: datetime | None = None) -> datetime | None:
        """The resolved start time for deliver=since (relative durations count from `now`)."""
        return parse_since(self.since, now=now) if self.since else None

    @property
    def label(self) -> str:
        """A short name for a tab: the subject and a mode mark."""
        mark = {FeedMode.CORE: "", FeedMode.JETSTREAM: " js", FeedMode.CONSUME: " consume"}
        queue = f" q={self.queue}" if self.queue else ""
        return f"{self.subject}{mark[self.mode]}{queue}"

    def to_option(self) -> str:
        """The `--feed` short form of this spec (round-trips through `parse_feed_option`)."""
        parts = [self.subject]
        if self.mode is FeedMode.CORE and not self.auto_mode and not self.queue:
            parts.append("core")  # a bare subject would leave the mode open (auto_mode)
        elif self.mode is FeedMode.JETSTREAM:
            parts.append("js")
        elif self.mode is FeedMode.CONSUME:
            parts.append("consume")
        if self.queue:
            parts.append(f"queue={self.queue}")
        if self.is_jetstream:
            if self.deliver is Deliver.SEQUENCE:
                parts.append(f"seq={self.start_seq}")
            elif self.deliver is Deliver.TIME:
                parts.append(f"since={self.since}")
            elif self.deliver is not Deliver.ALL:
                parts.append(f"deliver={self.deliver.value}")
        if self.durable:
            parts.append(f"durable={self.durable}")
        if self.stream:
            parts.append(f"stream={self.stream}")
        if self.buffer != DEFAULT_BUFFER:
            parts.append(f"buffer={self.buffer}")
        return ",".join(parts)


_OPTION_KEYS = ("queue", "deliver", "seq", "since", "durable", "stream", "buffer")


def parse_feed_option(text: str, *, buffer: int = DEFAULT_BUFFER) -> FeedSpec:
    """Parse the `--feed` short form: ``SUBJECT[,option...]``.

    Options: ``js`` (JetStream, non-consuming), ``consume`` (JetStream, consuming), ``queue=NAME``,
    ``deliver=all|new|last|last-per-subject``, ``seq=N``, ``since=10m|ISO-TIME``,
    ``durable=NAME``, ``stream=NAME``, ``buffer=N``. ``deliver``, ``seq``, ``since`` and
    ``stream`` imply ``js`` unless ``consume`` is given, ``queue`` implies ``core``; ``seq=N``
    means deliver from that sequence, ``since=`` from that time. With no mode at all the spec is
    `auto_mode`: JetStream when a stream captures the subject, core otherwise (decided when the
    feed opens, by `feed.choose_mode`). Raises `ValidationError` (field ``feed``) with one line
    naming the problem.
    """
    raw = text.strip()
    if not raw:
        raise ValidationError("feed", "empty --feed value; expected SUBJECT[,option...]")
    subject, *options = (part.strip() for part in raw.split(","))
    mode: FeedMode | None = None
    values: dict[str, str] = {}
    for option in options:
        if not option:
            continue
        key, sep, value = option.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep:
            if key in ("js", "jetstream"):
                mode = mode if mode is FeedMode.CONSUME else FeedMode.JETSTREAM
                continue
            if key in ("consume", "consuming"):
                mode = FeedMode.CONSUME
                continue
            if key == "core":
                mode = FeedMode.CORE
                continue
            raise ValidationError("feed", f"unknown option {key!r} in {raw!r}")
        if key == "mode":
            try:
                mode = FeedMode(value.lower())
            except ValueError:
                raise ValidationError("feed", f"mode={value!r}: core, js or consume") from None
            continue
        if key not in _OPTION_KEYS:
            raise ValidationError("feed", f"unknown option {key!r} in {raw!r}")
        if not value:
            raise ValidationError("feed", f"{key}= needs a value")
        values[key] = value
    deliver = values.get("deliver", Deliver.ALL.value).lower()
    if "seq" in values:
        deliver = Deliver.SEQUENCE.value
    elif "since" in values:
        deliver = Deliver.TIME.value
    auto_mode = False
    if mode is None:
        jetstream_hint = any(k in values for k in ("deliver", "seq", "since", "stream"))
        mode = FeedMode.JETSTREAM if jetstream_hint else FeedMode.CORE
        auto_mode = not jetstream_hint and "queue" not in values
    try:
        return FeedSpec.create(
            subject,
            mode,
            queue=values.get("queue"),
            deliver=deliver,
            start_seq=values.get("seq"),
            since=values.get("since"),
            durable=values.get("durable"),
            stream=values.get("stream"),
            buffer=values.get("buffer", buffer),
            auto_mode=auto_mode,
        )
    except SpecErrors as errors:
        first = next(iter(errors.errors.values()))
        raise ValidationError("feed", f"{raw!r}: {first}") from None
