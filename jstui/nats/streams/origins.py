"""The stream form's one-line texts for where messages come from and where they go, both ways.

A stream's mirror and each of its sources are written as one line (`origin_text` /
`parse_origin`):

    NAME [filter=SUBJECT] [start=SEQ | start=TIME] [api=PREFIX | domain=DOMAIN]

`start=42` is a sequence, `start=2026-12-01T10:00:00Z` (or `2026-12-01 10:00`, local time) a
time; `api=$JS.hub.API` reads the stream through another JetStream API (another account or
domain), `domain=hub` is short for `api=$JS.hub.API`. A subject transform or a republish is
`SRC -> DEST` (`transform_text` / `parse_transform`; the arrow, not `>`, which is a wildcard).
Metadata is `key=value` lines (`jstui.nats.consumers.spec.parse_metadata`), without the keys the
server writes itself (`_nats.*`).

Data flow: the server's config (nats-py models) -> these texts -> the form's fields -> the user
-> `parse_*` -> the API's JSON. `merge_sources` keeps what the form does not show of a source
(its own subject transforms, an external deliver prefix) when the sources are saved again.
Pure functions, no I/O; every problem is a `ValueError` whose message names what is wrong.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from nats.js.api import RePublish, StreamSource, SubjectTransform

from jstui.format.text import quote_input
from jstui.nats.consumers.spec import SERVER_METADATA_PREFIX, parse_start_time, rfc3339
from jstui.nats.names import stream_name_problem, subject_problem

__all__ = [
    "ARROW",
    "merge_sources",
    "metadata_text",
    "origin_text",
    "parse_origin",
    "parse_origins",
    "parse_transform",
    "sources_text",
    "transform_text",
]

ARROW = "->"
"""Between the source and the destination of a transform or a republish."""

_FORM_SOURCE_KEYS = ("name", "filter_subject", "opt_start_seq", "opt_start_time", "external")
"""The keys of a source (or mirror) that the form's line says; the others are kept on save."""


def _time_text(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def origin_text(source: StreamSource | None) -> str:
    """The form's line for a mirror or a source ("" for none)."""
    if source is None or not source.name:
        return ""
    parts = [source.name]
    if source.filter_subject:
        parts.append(f"filter={source.filter_subject}")
    if source.opt_start_seq:
        parts.append(f"start={source.opt_start_seq}")
    elif source.opt_start_time:
        parts.append(f"start={_time_text(source.opt_start_time)}")
    if source.external is not None and source.external.api:
        parts.append(f"api={source.external.api}")
    return " ".join(parts)


def parse_origin(line: str) -> dict[str, Any]:
    """The API's JSON for one mirror or source line; `ValueError` says what is wrong."""
    words = line.split()
    if not words:
        raise ValueError("a stream name is needed")
    name, *options = words
    if "=" in name:
        raise ValueError(f"start with the stream's name, not {quote_input(name)}")
    if problem := stream_name_problem(name):
        raise ValueError(problem)
    origin: dict[str, Any] = {"name": name}
    given: set[str] = set()
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not value:
            raise ValueError(f"{quote_input(option)}: write filter=, start=, api= or domain=")
        if key in given:
            raise ValueError(f"{key}= is given twice")
        given.add(key)
        if key == "filter":
            if problem := subject_problem(value):
                raise ValueError(f"filter: {problem}")
            origin["filter_subject"] = value
        elif key == "start":
            if value.isdigit():
                if int(value) < 1:
                    raise ValueError("start: a sequence starts at 1")
                origin["opt_start_seq"] = int(value)
            else:
                origin["opt_start_time"] = rfc3339(parse_start_time(value))
        elif key in ("api", "domain"):
            if "external" in origin:
                raise ValueError("give api= or domain=, not both")
            api = value if key == "api" else f"$JS.{value}.API"
            if problem := subject_problem(api, wildcards=False):
                raise ValueError(f"{key}: {problem}")
            origin["external"] = {"api": api}
        else:
            raise ValueError(f"{quote_input(key)} is not an option: filter=, start=, api=, domain=")
    return origin


def parse_origins(text: str, *, own_name: str = "") -> list[dict[str, Any]]:
    """Sources, one line each; `ValueError` names the line (a stream cannot source itself, nor
    the same stream and filter twice: the server refuses both)."""
    origins: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            origin = parse_origin(line)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if own_name and origin["name"] == own_name and "external" not in origin:
            raise ValueError(f"line {number}: a stream cannot source itself")
        identity = (
            origin["name"],
            origin.get("filter_subject", ""),
            str(origin.get("external", {}).get("api", "")),
        )
        if identity in seen:
            raise ValueError(f"line {number}: the same source is given twice")
        seen.add(identity)
        origins.append(origin)
    return origins


def sources_text(sources: Iterable[StreamSource] | None) -> str:
    """The form's sources box: one line per source."""
    return "\n".join(origin_text(source) for source in sources or ())


def merge_sources(
    current: Iterable[Mapping[str, Any]] | None, wanted: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The sources to send: each wanted one over what the server has for the same stream
    (and API), so keys the form does not show (subject transforms, a deliver prefix) stay."""
    kept = list(current or ())
    merged: list[dict[str, Any]] = []
    for want in wanted:
        api = (want.get("external") or {}).get("api", "")
        same = next(
            (
                have
                for have in kept
                if have.get("name") == want["name"]
                and ((have.get("external") or {}).get("api") or "") == api
            ),
            None,
        )
        entry = copy.deepcopy(dict(same)) if same is not None else {}
        if same is not None:
            kept.remove(same)
        external = entry.get("external") or {}
        for key in _FORM_SOURCE_KEYS:
            entry.pop(key, None)
        entry.update(copy.deepcopy(dict(want)))
        if "external" in want:
            entry["external"] = {**external, **want["external"]}
        merged.append(entry)
    return merged


def transform_text(transform: SubjectTransform | RePublish | None) -> str:
    """`SRC -> DEST` for a subject transform or a republish ("" for none)."""
    if transform is None or not (transform.src or transform.dest):
        return ""
    return f"{transform.src or ''} {ARROW} {transform.dest or ''}"


def parse_transform(text: str) -> dict[str, str] | None:
    """{"src": ..., "dest": ...} for `SRC -> DEST`; None for an empty field."""
    if not text.strip():
        return None
    src, sep, dest = text.partition(ARROW)
    src, dest = src.strip(), dest.strip()
    if not sep or not src or not dest:
        raise ValueError(f"write SOURCE {ARROW} DESTINATION, e.g. orders.* {ARROW} eu.orders.*")
    if problem := subject_problem(src):
        raise ValueError(f"source: {problem}")
    if any(ch.isspace() for ch in dest) or not dest.isprintable():
        raise ValueError("the destination is one subject, without spaces")
    return {"src": src, "dest": dest}


def metadata_text(metadata: Mapping[str, str] | None) -> str:
    """The form's metadata box: `key=value` lines, sorted, without the server's own keys."""
    return "\n".join(
        f"{key}={value}"
        for key, value in sorted((metadata or {}).items())
        if not str(key).startswith(SERVER_METADATA_PREFIX)
    )
