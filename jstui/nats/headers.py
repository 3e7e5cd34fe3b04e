"""Message headers as the forms hold them: ``Key: Value`` lines, values in escaped form.

The one rule of what may be sent as a header (`header_problem`), used by the publish form, the
request form, saved requests and NDJSON import alike; `parse_header_lines` reads a form's lines
into pairs, in order. Values are in the escaped form of `jstui.format.editable` (``\\x1b``,
``\\u202e``, ``\\\\``), so any character but a line break (which would end the header) may be sent,
and a header read from the server goes back exactly as it was.
"""

from __future__ import annotations

import re

from jstui.format.editable import EscapeError, unescape_text

__all__ = ["header_problem", "parse_header_lines"]

_HEADER_NAME = re.compile(r"[!-9;-~]+")
"""Printable ASCII without ':' and spaces: what the NATS protocol carries as a header name."""


def header_problem(key: str, value: str = "") -> str:
    """What keeps ``key: value`` from being sent as a header, "" when nothing does."""
    if not key:
        return "the header name is empty"
    if not _HEADER_NAME.fullmatch(key):
        return "a header name is printable ASCII without spaces"
    if "\r" in value or "\n" in value:
        return "a header value cannot hold a line break"
    return ""


def parse_header_lines(text: str) -> tuple[tuple[str, str], ...]:
    """One ``Key: Value`` per line (blank lines ignored) -> header pairs, in order. Raises
    `ValueError` naming the first bad line: no colon, a bad name or value, a bad escape, or a
    name given twice (nats-py sends one value per name: the first would be lost)."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon:
            raise ValueError(f"line {number}: expected 'Key: Value'")
        if problem := header_problem(key):
            raise ValueError(f"line {number}: {problem}")
        try:
            value = unescape_text(value.strip())
        except EscapeError as error:
            raise ValueError(f"line {number}: {error.reason}") from None
        if problem := header_problem(key, value):
            raise ValueError(f"line {number}: {problem}")
        if key.lower() in seen:
            raise ValueError(f"line {number}: {key} is given twice")
        seen.add(key.lower())
        pairs.append((key, value))
    return tuple(pairs)
