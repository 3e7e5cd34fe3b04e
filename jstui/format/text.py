"""Untrusted bytes and strings made into safe, one-line or multi-line display text.

Everything jstui shows that came from the network (subjects, headers, payloads, stream and consumer
names, server error descriptions) goes through `sanitize`, `sanitize_multiline` or `safe_text`
first. The rules (see textual-notes section 11):

- Decode with ``errors="replace"``; never raise on bad UTF-8.
- Make every character that could drive the terminal or hide/reorder text visible: C0 controls
  become Unicode Control Pictures (ESC -> ``\u241b``, NUL -> ``\u2400``, LF -> ``\u23ce``), DEL
  becomes ``\u2421``, C1 controls become ``\\x9b``-style escapes, and every other character Python
  does not call printable (Unicode Cc, Cf, Cs, Co, Cn, Zl, Zp: BiDi overrides and isolates,
  zero-width characters, BOM, line/paragraph separators, lone surrogates, private use, unassigned)
  becomes a ``\\u202e``-style escape. Ordinary spaces (Zs, e.g. NO-BREAK SPACE) are kept.
- Truncate, with a visible ``...(+N chars)`` suffix.
- Never parse markup: square brackets stay plain characters. Callers hand widgets a
  ``rich.text.Text`` (see `safe_text`) or a Textual ``Content``, never a raw ``str`` to a widget
  that parses markup.

A literal backslash in the input is shown as is, so the text ``\\u202e`` and an escaped U+202E look
the same; this is display text, not a reversible encoding.

`quote_input` is the short form of the same for error messages that repeat what the user typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache

from rich.text import Text

__all__ = [
    "ELLIPSIS",
    "as_bytes",
    "headers_lines",
    "quote_input",
    "safe_text",
    "sanitize",
    "sanitize_line_parts",
    "sanitize_multiline",
]

ELLIPSIS = "\u2026"
"""Marks text that was cut short."""

_NEWLINE_PICTURE = "\u23ce"  # RETURN SYMBOL, for LF in single-line text
_DEL_PICTURE = "\u2421"  # SYMBOL FOR DELETE
_TAB_SPACES = "    "

# Runs of anything outside printable ASCII; only these need a closer look.
_NOT_PLAIN_ASCII = re.compile(r"[^ -~]+")

# Continuation bytes of UTF-8 (10xxxxxx): counting the other bytes counts characters.
_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))


@lru_cache(maxsize=4096)
def _escape_char(ch: str) -> str:
    """The visible form of one character in single-line text (itself when harmless)."""
    code = ord(ch)
    if code < 0x20:
        return _NEWLINE_PICTURE if code == 0x0A else chr(0x2400 + code)
    if code == 0x7F:
        return _DEL_PICTURE
    if 0x80 <= code < 0xA0:
        return f"\\x{code:02x}"
    if ch.isprintable() or unicodedata.category(ch) == "Zs":
        return ch
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape_char_multiline(ch: str) -> str:
    """Like `_escape_char`, but LF stays a line break and TAB becomes four spaces."""
    if ch == "\n":
        return "\n"
    if ch == "\t":
        return _TAB_SPACES
    return _escape_char(ch)


def _replace_run(match: re.Match[str]) -> str:
    run = match.group()
    if run.isprintable():  # accented letters, CJK, emoji...: nothing to do
        return run
    return "".join(map(_escape_char, run))


def _replace_run_multiline(match: re.Match[str]) -> str:
    run = match.group()
    if run.isprintable():
        return run
    return "".join(map(_escape_char_multiline, run))


def _cut(head: str, max_len: int, escape: Callable[[str], str]) -> tuple[str, int]:
    """Escape `head` char by char until the output would pass `max_len`.

    Returns the output and how many characters of `head` it shows. Only used when escapes made the
    output longer than allowed, so the Python loop is off the hot path.
    """
    parts: list[str] = []
    used = 0
    for index, ch in enumerate(head):
        shown = ch if " " <= ch <= "~" else escape(ch)
        if used + len(shown) > max_len:
            return "".join(parts), index
        parts.append(shown)
        used += len(shown)
    return "".join(parts), len(head)


def _decode(data: bytes, max_len: int) -> tuple[str, int]:
    """Decode UTF-8 with replacement; return text (at least `max_len` chars) and the total length.

    Valid UTF-8 is decoded whole (fast). Invalid UTF-8 longer than needed is decoded only as far
    as needed, and the rest is counted, approximately, as its number of UTF-8 lead bytes.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return text, len(text)
    # Each character takes at most 4 bytes, so this prefix yields at least max_len characters.
    limit = max_len * 4 + 4
    if len(data) <= limit:
        text = data.decode("utf-8", "replace")
        return text, len(text)
    text = data[:limit].decode("utf-8", "replace")
    rest = data[limit:]
    return text, len(text) + len(rest.translate(None, _UTF8_CONTINUATION))


def as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    """`data` as `bytes` (a copy only when it is not bytes already)."""
    return data if isinstance(data, bytes) else bytes(data)


def sanitize_line_parts(
    text: str | bytes, max_len: int, *, multiline: bool = False
) -> tuple[str, int, int]:
    """Sanitize without the suffix: return the output, the characters it shows, and the total.

    For callers that end a cut line their own way (`payload_preview`).
    """
    max_len = max(0, max_len)
    if isinstance(text, str):
        full, total = text, len(text)
    else:
        full, total = _decode(as_bytes(text), max_len)
    if multiline and "\r" in full:
        before = len(full)
        full = full.replace("\r\n", "\n")
        total -= before - len(full)
    head = full[:max_len] if len(full) > max_len else full

    if not multiline and head.isprintable():
        return head, len(head), total
    out = _NOT_PLAIN_ASCII.sub(_replace_run_multiline if multiline else _replace_run, head)
    if len(out) <= max_len:
        return out, len(head), total
    out, shown = _cut(head, max_len, _escape_char_multiline if multiline else _escape_char)
    return out, shown, total


def _sanitize(text: str | bytes, max_len: int, multiline: bool) -> str:
    out, shown, total = sanitize_line_parts(text, max_len, multiline=multiline)
    if shown < total:
        out += f"{ELLIPSIS}(+{total - shown:,} chars)"
    return out


def sanitize(text: str | bytes, *, max_len: int = 4096) -> str:
    """Return `text` as one safe, visible line of at most `max_len` characters plus a suffix.

    Bytes are decoded as UTF-8 with replacement. C0 controls (including TAB, CR, LF, ESC and NUL)
    become Control Pictures (LF becomes ``\u23ce``), DEL ``\u2421``, C1 controls ``\\x9b``-style
    escapes, and format, surrogate, private-use, unassigned and line/paragraph-separator characters
    ``\\u202e``-style escapes. Markup is left alone: it is plain text once wrapped in ``Text``.
    When the text is longer, it is cut and ``...(+N chars)`` appended (N counts input characters).
    Printable text that fits is returned unchanged (the fast path).
    """
    if type(text) is str and len(text) <= max_len and text.isprintable():
        return text
    return _sanitize(text, max_len, multiline=False)


def sanitize_multiline(text: str | bytes, *, max_len: int = 65536) -> str:
    """Like `sanitize`, but keeps line breaks: LF stays, CRLF becomes LF, TAB becomes 4 spaces.

    A lone CR is still made visible (``\u240d``), since it would overwrite the line on a terminal.
    """
    return _sanitize(text, max_len, multiline=True)


def safe_text(text: str | bytes, *, style: str = "", max_len: int = 4096) -> Text:
    """A Rich `Text` of the sanitized `text`; never parses markup."""
    return Text(sanitize(text, max_len=max_len), style=style)


def quote_input(text: str, limit: int = 20) -> str:
    """What the user typed, quoted for an error message: short, with no control characters."""
    shown = "".join(c if c.isprintable() else "?" for c in text)
    return repr(shown if len(shown) <= limit else shown[: limit - 1] + ELLIPSIS)


def headers_lines(headers: Mapping[str, str] | None, *, max_len: int = 4096) -> list[str]:
    """Sanitized ``Key: Value`` lines, in the mapping's order; ``[]`` for None or no headers.

    A value that is a list or tuple (several values for one key) gives one line per value.
    """
    if not headers:
        return []
    lines: list[str] = []
    for key, value in headers.items():
        name = sanitize(str(key), max_len=256)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            shown = item if isinstance(item, str | bytes) else str(item)
            lines.append(f"{name}: {sanitize(shown, max_len=max_len)}")
    return lines
