"""Editable text: untrusted bytes and strings put in a form's fields safely, and read back exactly.

Textual's `Input` and `TextArea` draw their text as it is: a payload or header value holding
``ESC ] 52 ; ... BEL`` would reach the terminal as a real clipboard write, ``ESC [ 2J`` would
clear the screen. `sanitize` (text.py) is no answer for a field, since its display text is not
reversible. So a form fills a field from server data (a message to publish again, a saved or
earlier request) through this module, and reads it back through it on send:

    bytes from the server ─> `editable_payload` / `escape_bytes` ─> the field (only safe text)
    the field ─> `payload_bytes` / `unescape_bytes` ─> exactly the original bytes ─> publish

**Plain text** (valid UTF-8 whose every character is printable, a space, a line break or a tab)
is safe as it is and goes into the field unchanged, so JSON with its own backslashes stays
readable (`plain_text`; `PayloadFormat.TEXT`). Anything else goes in **escaped** (the text of a
Python bytes literal, without the quotes; `PayloadFormat.ESCAPED`):

- a printable character stands for its UTF-8 bytes; ``\\\\`` is one backslash;
- ``\\n``, ``\\r``, ``\\t`` are LF, CR and TAB (in a multi-line field LF stays a line break);
- ``\\xNN`` is one byte, so invalid UTF-8 survives: ESC is ``\\x1b``, a stray 0xFF ``\\xff``;
- ``\\uNNNN`` and ``\\UNNNNNNNN`` are a code point's UTF-8: the BiDi override U+202E is
  ``\\u202e``, the C1 control U+009B is ``\\u009b`` (``\\x9b`` would be the lone byte).

Only what needs it is escaped (control, format, separator, surrogate, private-use and unassigned
characters, bytes that are not UTF-8, and the backslash), so escaped text reads like the
original. `unescape_bytes(escape_bytes(b)) == b` for all bytes and `unescape_text(escape_text(s))
== s` for all strings (tests/test_format_editable.py checks both on hostile and random input). An
unknown or cut escape raises `EscapeError`, which says where; nothing is guessed. Pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

__all__ = [
    "EscapeError",
    "PayloadFormat",
    "editable_headers",
    "editable_payload",
    "escape_bytes",
    "escape_text",
    "is_plain",
    "payload_bytes",
    "plain_text",
    "unescape_bytes",
    "unescape_text",
]


class PayloadFormat(StrEnum):
    """How a form reads its payload box."""

    TEXT = "text"
    """As typed, sent as UTF-8."""
    ESCAPED = "escaped"
    """Backslash escapes turned into the bytes they stand for."""


class EscapeError(ValueError):
    """Escaped text that does not read back: an unknown or cut escape, or not UTF-8 where text is
    needed. `reason` says what, `str()` adds where (line and column, from 1)."""

    def __init__(self, reason: str, text: str = "", position: int = 0) -> None:
        self.reason = reason
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        where = f"line {line}, column {column}" if "\n" in text else f"column {column}"
        super().__init__(f"{where}: {reason}" if text else reason)


_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNNAMED = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
# Runs that may need escaping: anything but printable ASCII without the backslash (and LF).
_SPECIAL = re.compile(r"[^ -\[\]-~]+")
_SPECIAL_MULTILINE = re.compile(r"[^ -\[\]-~\n]+")
_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([\\nrt]))")
_SURROGATE_ESCAPED = range(0xDC80, 0xDD00)
"""Where ``errors="surrogateescape"`` puts the bytes that are not UTF-8."""


def _harmless(ch: str) -> bool:
    return ch.isprintable() or unicodedata.category(ch) == "Zs"


def _escape_char(ch: str, *, raw_bytes: bool) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if _harmless(ch):
        return ch
    code = ord(ch)
    if raw_bytes and code in _SURROGATE_ESCAPED:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape(text: str, *, multiline: bool, raw_bytes: bool) -> str:
    kept = "\n" if multiline else ""

    def replace(match: re.Match[str]) -> str:
        run = match.group()
        if "\\" not in run and (run.replace(kept, "") if kept else run).isprintable():
            return run  # accented letters, CJK, emoji (and line breaks): nothing to do
        return "".join(ch if ch == kept else _escape_char(ch, raw_bytes=raw_bytes) for ch in run)

    return (_SPECIAL_MULTILINE if multiline else _SPECIAL).sub(replace, text)


def escape_text(text: str, *, multiline: bool = False) -> str:
    """`text` in escaped form; with `multiline`, LF stays a line break instead of ``\\n``."""
    return _escape(text, multiline=multiline, raw_bytes=False)


def escape_bytes(data: bytes, *, multiline: bool = True) -> str:
    """`data` in escaped form: its UTF-8 text, escaped, with ``\\xNN`` for bytes not UTF-8."""
    return _escape(data.decode("utf-8", "surrogateescape"), multiline=multiline, raw_bytes=True)


def unescape_bytes(text: str) -> bytes:
    """The bytes escaped `text` stands for; `EscapeError` on an unknown or cut escape."""
    if "\\" not in text:
        return text.encode("utf-8", "surrogatepass")
    out = bytearray()
    position = 0
    while (start := text.find("\\", position)) >= 0:
        out += text[position:start].encode("utf-8", "surrogatepass")
        match = _ESCAPE.match(text, start)
        if match is None:
            shown = text[start : start + 2].replace("\n", "")
            raise EscapeError(
                f"{shown} is not an escape (\\\\ is a backslash; \\xNN, \\uNNNN, \\n, \\r, \\t)",
                text,
                start,
            )
        byte, short, long, named = match.groups()
        if byte is not None:
            out.append(int(byte, 16))
        elif named is not None:
            out += _UNNAMED[named].encode()
        else:
            code = int(short or long, 16)
            if code > 0x10FFFF:
                raise EscapeError(f"{match.group()} is beyond Unicode", text, start)
            out += chr(code).encode("utf-8", "surrogatepass")
        position = match.end()
    out += text[position:].encode("utf-8", "surrogatepass")
    return bytes(out)


def unescape_text(text: str) -> str:
    """The string escaped `text` stands for; `EscapeError` also when its bytes are not UTF-8."""
    data = unescape_bytes(text)
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as error:
        raise EscapeError(f"byte {error.start + 1} is not UTF-8 (use \\uNNNN here)") from None


def is_plain(text: str) -> bool:
    """True when `text` can sit in a field as it is: every character printable, a space, LF or
    TAB."""
    return all(_harmless(ch) or ch in "\n\t" for ch in text)


def plain_text(data: bytes) -> str | None:
    """`data` as text when it is plain text (UTF-8, `is_plain`), else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if is_plain(text) else None


def editable_payload(data: bytes) -> tuple[str, PayloadFormat]:
    """What a payload box shows for `data`, and how the box is to be read back."""
    text = plain_text(data)
    if text is not None:
        return text, PayloadFormat.TEXT
    return escape_bytes(data, multiline=True), PayloadFormat.ESCAPED


def payload_bytes(text: str, payload_format: PayloadFormat | str) -> bytes:
    """The bytes a payload box holding `text` sends; `EscapeError` for bad escaped text."""
    if PayloadFormat(payload_format) is PayloadFormat.ESCAPED:
        return unescape_bytes(text)
    return text.encode("utf-8", "surrogatepass")


def editable_headers(headers: Iterable[tuple[str, str]]) -> str:
    """A headers box: one ``Key: Value`` line per header, both in escaped form."""
    return "\n".join(f"{escape_text(key)}: {escape_text(value)}" for key, value in headers)
