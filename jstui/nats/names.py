"""Subjects, stream, consumer and queue-group names: the one place that says which are valid.

Every form and service in `jstui.nats` (feeds, streams, publish, requests, responders, workers)
and every dialog asks these functions before anything is sent, so a subject is judged the same
way wherever it is typed. Each rule is what nats-server 2.15 accepts, measured against a real
server in tests/nats/test_names.py (one table of inputs and verdicts):

- A subject has no empty token (no leading, trailing or doubled dot) and no whitespace; ``>`` may
  only be the last token. A ``*`` or ``>`` inside a longer token (``a.b*``) is an ordinary
  character: the server subscribes, publishes and stores it as a literal.
- A subject to send to (publish, request, stream message) has no wildcard token (``*`` or ``>``):
  the pedantic server refuses it ("Invalid Publish Subject"), a lenient one would deliver it to
  whoever listens on the same pattern.
- Stream and consumer names: 1 to 255 characters, none of space, ``.``, ``*``, ``>`` (they could not
  be a token of the API subject) nor ``/`` and ``\\`` (path separators, err_codes 10128 / 10127).
- A queue group: any text without whitespace (dots and wildcards are fine).

One deliberate difference: the server accepts control and format characters (ESC, DEL, NUL, BiDi
overrides, zero-width characters) and Unicode spaces (NO-BREAK SPACE) in subjects and names; jstui
refuses them, because such a name garbles or hides itself on every screen and in every log that
shows it. Note that nats-py 2.16 refuses a subscription whose token holds ``*`` or ``>`` with other
characters (``a.b*``), which the server accepts: a feed on one fails when it starts.

`subject_matches` and `subjects_collide` answer the pattern questions (filters, overlapping stream
subjects) with the server's semantics. Pure functions, no I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from jstui.format.text import quote_input

__all__ = [
    "MAX_NAME_LENGTH",
    "consumer_name_problem",
    "fits_api_subject",
    "queue_group_problem",
    "stream_name_problem",
    "subject_matches",
    "subject_problem",
    "subjects_collide",
]

MAX_NAME_LENGTH = 255
"""The server's limit on stream and consumer names."""

_NAME_FORBIDDEN = {" ": "space", ".": '"."', "*": '"*"', ">": '">"', "/": '"/"', "\\": '"\\"'}


def _has_control(text: str) -> bool:
    """Control and format characters (ESC, BiDi overrides...) the server accepts but a screen shows
    wrongly."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def _has_space(text: str) -> bool:
    return any(c.isspace() for c in text)


def subject_problem(subject: str, *, wildcards: bool = True) -> str | None:
    """Why `subject` cannot be subscribed to (or, with `wildcards=False`, sent to), or None."""
    if not subject:
        return "a subject is required"
    if _has_space(subject):
        return f"{quote_input(subject)}: a subject cannot contain spaces or other whitespace"
    if _has_control(subject):
        return f"{quote_input(subject)}: a subject cannot contain control characters"
    tokens = subject.split(".")
    if "" in tokens:
        return f"{quote_input(subject)} has an empty token (a leading, trailing or double dot)"
    last = len(tokens) - 1
    for index, token in enumerate(tokens):
        if token in ("*", ">") and not wildcards:
            return f"{quote_input(subject)}: no wildcards (* or >) in a subject to send to"
        if token == ">" and index != last:
            return f"{quote_input(subject)}: '>' must be the last token"
    return None


def _name_problem(name: str, what: str) -> str | None:
    if not name:
        return f"{what} needs a name"
    if len(name) > MAX_NAME_LENGTH:
        return f"at most {MAX_NAME_LENGTH} characters"
    for char, label in _NAME_FORBIDDEN.items():
        if char in name:
            return f"may not contain {label}"
    if _has_space(name):
        return "may not contain whitespace"
    if _has_control(name):
        return "may not contain control characters"
    return None


def stream_name_problem(name: str) -> str | None:
    """Why `name` cannot be a stream name, or None when it can."""
    return _name_problem(name, "a stream")


def consumer_name_problem(name: str) -> str | None:
    """Why `name` cannot be a consumer (durable) name, or None when it can."""
    return _name_problem(name, "a consumer")


def fits_api_subject(name: str) -> bool:
    """Whether `name` can be one token of a JetStream API subject (`$JS.API.STREAM.INFO.<name>`).

    Looser than `stream_name_problem` on purpose: a stream another program created with control
    characters in its name must still be browsable and deletable. A name with a dot would send the
    request to another subject, where it times out.
    """
    return bool(name) and not any(ch in name for ch in ".*> \t\r\n")


def queue_group_problem(name: str) -> str | None:
    """Why `name` cannot be a queue group, or None when it can."""
    if not name:
        return "a queue group needs a name"
    if _has_space(name):
        return "a queue group cannot contain spaces"
    if _has_control(name):
        return "a queue group cannot contain control characters"
    return None


def subjects_collide(a: str, b: str) -> bool:
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


def subject_matches(pattern: str, subject: str) -> bool:
    """True when `subject` matches the NATS `pattern` (`*`: one token, `>`: the rest)."""
    if pattern == subject or pattern == ">":
        return True
    return _match_tokens(_tokens(pattern), subject.split("."))


_TOKEN_CACHE: dict[str, tuple[str, ...]] = {}


def _tokens(pattern: str) -> tuple[str, ...]:
    tokens = _TOKEN_CACHE.get(pattern)
    if tokens is None:
        if len(_TOKEN_CACHE) > 256:
            _TOKEN_CACHE.clear()
        tokens = _TOKEN_CACHE[pattern] = tuple(pattern.split("."))
    return tokens


def _match_tokens(pattern: Sequence[str], tokens: Sequence[str]) -> bool:
    for index, want in enumerate(pattern):
        if want == ">":
            return len(tokens) > index
        if index >= len(tokens):
            return False
        if want != "*" and want != tokens[index]:
            return False
    return len(tokens) == len(pattern)
