"""Untrusted bytes and strings made into safe display text.

Everything jstui shows that came from the network (subjects, headers, payloads, stream and consumer
names, server error descriptions) goes through this module first. The rules
(see textual-notes section 11):

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

This module imports nothing from Textual.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from enum import StrEnum
from functools import lru_cache

from rich.text import Text

__all__ = [
    "PayloadView",
    "format_age",
    "format_count",
    "format_duration_short",
    "format_rate",
    "format_size",
    "headers_lines",
    "hexdump",
    "is_probably_binary",
    "next_view",
    "payload_preview",
    "pretty_json",
    "render_payload",
    "safe_text",
    "sanitize",
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
# Control bytes that make a payload look binary (tab, LF and CR are ordinary text).
_BINARY_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_BINARY_CONTROL_SHARE = 0.10
_BINARY_SAMPLE = 8192

# hexdump: printable ASCII shown as itself, everything else as ".".
_HEX_ASCII = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


# --------------------------------------------------------------------------------------------------
# sanitize


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


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    return data if isinstance(data, bytes) else bytes(data)


def _sanitize_parts(text: str | bytes, max_len: int, multiline: bool) -> tuple[str, int, int]:
    """Sanitize without the suffix: return the output, the characters it shows, and the total."""
    max_len = max(0, max_len)
    if isinstance(text, str):
        full, total = text, len(text)
    else:
        full, total = _decode(_as_bytes(text), max_len)
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
    out, shown, total = _sanitize_parts(text, max_len, multiline)
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


# --------------------------------------------------------------------------------------------------
# payloads


def _is_utf8(data: bytes, final: bool = True) -> bool:
    """True when `data` is valid UTF-8; when not `final`, a character cut at the end is fine."""
    try:
        if final:
            data.decode("utf-8")
        else:
            codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _looks_like_control_bytes(sample: bytes) -> bool:
    """True when `sample` holds a NUL or over 10% control bytes (TAB, LF, CR not counted)."""
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _BINARY_CONTROLS))
    return controls > len(sample) * _BINARY_CONTROL_SHARE


def is_probably_binary(data: bytes) -> bool:
    """True when `data` is not valid UTF-8, holds a NUL, or over 10% of it is control bytes.

    TAB, LF and CR do not count as control bytes. The UTF-8 check covers all of `data`; the
    control-byte share is measured on the first 8 KiB. Empty data is not binary.
    """
    data = _as_bytes(data)
    if not data:
        return False
    return not _is_utf8(data) or _looks_like_control_bytes(data[:_BINARY_SAMPLE])


def hexdump(data: bytes, *, max_bytes: int = 64 * 1024) -> str:
    """A ``hexdump -C`` style dump: offset, 16 bytes in hex, and the printable ASCII between bars.

    Non-printable bytes show as ``.`` in the ASCII column. At most `max_bytes` are dumped; a last
    line then says how many were left out. No trailing newline; ``""`` for empty data.
    """
    data = _as_bytes(data)
    max_bytes = max(0, max_bytes)
    shown = data[:max_bytes]
    lines: list[str] = []
    for offset in range(0, len(shown), 16):
        chunk = shown[offset : offset + 16]
        left = chunk[:8].hex(" ")
        right = chunk[8:].hex(" ")
        printable = chunk.translate(_HEX_ASCII).decode("ascii")
        lines.append(f"{offset:08x}  {left:<23}  {right:<23}  |{printable}|")
    if len(data) > len(shown):
        left_out = len(data) - len(shown)
        lines.append(f"{ELLIPSIS} {left_out:,} more bytes not shown ({len(data):,} bytes in all)")
    return "\n".join(lines)


def pretty_json(data: bytes) -> str | None:
    """The payload pretty-printed (indent 2, non-ASCII kept, then sanitized), or None.

    Only a JSON object or array counts: ``"1"`` or ``"true"`` are shown as text instead.
    """
    data = _as_bytes(data)
    start = data.lstrip()[:1]
    if start not in (b"{", b"["):
        return None
    try:
        value = json.loads(data)
        if not isinstance(value, dict | list):
            return None
        text = json.dumps(value, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        return None
    return sanitize_multiline(text)


class PayloadView(StrEnum):
    """How the detail view shows a payload."""

    TEXT = "text"
    JSON = "json"
    HEX = "hex"


_VIEW_CYCLE = {
    PayloadView.TEXT: PayloadView.JSON,
    PayloadView.JSON: PayloadView.HEX,
    PayloadView.HEX: PayloadView.TEXT,
}

EMPTY = "<empty>"
NOT_JSON = "<not a JSON object or array>"


def next_view(view: PayloadView) -> PayloadView:
    """The view after `view`: TEXT -> JSON -> HEX -> TEXT."""
    return _VIEW_CYCLE[PayloadView(view)]


def render_payload(data: bytes, view: PayloadView | None = None) -> tuple[PayloadView, str]:
    """Render a payload as safe (multi-line) text; return the view used and the text.

    With `view` None the view is picked: JSON for a JSON object or array, HEX for binary, else
    TEXT. An explicit JSON view of a payload that is not JSON says so (`NOT_JSON`) rather than
    switching views, so cycling with `next_view` always reaches HEX. Empty data gives `EMPTY`.
    """
    data = _as_bytes(data)
    if view is None:
        pretty = pretty_json(data)
        if pretty is not None:
            return PayloadView.JSON, pretty
        view = PayloadView.HEX if is_probably_binary(data) else PayloadView.TEXT
    else:
        view = PayloadView(view)
    if not data:
        return view, EMPTY
    if view is PayloadView.JSON:
        pretty = pretty_json(data)
        return view, NOT_JSON if pretty is None else pretty
    if view is PayloadView.HEX:
        return view, hexdump(data)
    return view, sanitize_multiline(data)


def payload_preview(data: bytes, width: int = 200) -> str:
    """One safe line for a feed row: the start of the payload, at most `width` characters.

    ``<empty>`` for no data; ``<binary N bytes> 48 65 6c...`` for binary. A cut line ends in an
    ellipsis. Only the first ``4 * width`` bytes or so are looked at, so this is cheap whatever the
    payload size (a payload that turns binary later still previews as text).
    """
    data = _as_bytes(data)
    if not data:
        return EMPTY
    width = max(1, width)
    # At 4 bytes per character at most, this holds more than `width` characters when cut.
    sample = data[: width * 4 + 4]
    complete = len(sample) == len(data)
    if not _is_utf8(sample, final=complete) or _looks_like_control_bytes(sample):
        label = f"<binary {len(data):,} bytes>"
        room = width - len(label) - 1  # after the space
        if 3 * len(data) - 1 <= room:
            return f"{label} {data.hex(' ')}"
        count = max(0, room // 3)  # "xx " per byte, the ellipsis in place of the last space
        return f"{label} {data[:count].hex(' ')}{ELLIPSIS}" if count else label + ELLIPSIS
    text = sample.decode("utf-8", "replace")
    line, shown, total = _sanitize_parts(text, width, multiline=False)
    if shown == total and complete:
        return line
    line, _, _ = _sanitize_parts(text, width - 1, multiline=False)
    return line + ELLIPSIS


# --------------------------------------------------------------------------------------------------
# numbers and durations

_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_size(n: int | float) -> str:
    """Bytes in binary units: ``0 B``, ``512 B``, ``1.0 KiB``, ``10.0 MiB``, ``1.5 GiB``."""
    if isinstance(n, float) and not math.isfinite(n):
        return "?"
    sign = "-" if n < 0 else ""
    value = abs(n)
    if value < 1024:
        return f"{sign}{int(value)} B"
    value /= 1024
    unit = 1
    while unit < len(_SIZE_UNITS) - 1 and value >= 1023.95:
        value /= 1024
        unit += 1
    return f"{sign}{value:.1f} {_SIZE_UNITS[unit]}"


def format_count(n: int | float) -> str:
    """An integer with thousands separators: ``1,234``."""
    if isinstance(n, float) and not math.isfinite(n):
        return "?"
    return f"{round(n):,}"


_RATE_UNITS = ("", "k", "M", "G", "T")


def format_rate(per_s: float) -> str:
    """A rate per second, short: ``0/s``, ``2.5/s``, ``830/s``, ``12.3k/s``, ``1.2M/s``."""
    if not math.isfinite(per_s):
        return "?/s"
    sign = "-" if per_s < 0 else ""
    value = abs(per_s)
    if value == 0:
        return "0/s"
    if value < 9.95:
        return f"{sign}{value:.1f}/s"
    if value < 999.5:
        return f"{sign}{value:.0f}/s"
    value /= 1000
    unit = 1
    while unit < len(_RATE_UNITS) - 1 and value >= 999.95:
        value /= 1000
        unit += 1
    return f"{sign}{value:.1f}{_RATE_UNITS[unit]}/s"


def format_duration_short(seconds: float) -> str:
    """A duration in at most two units: ``250us``-style below 1 ms, ``250ms``, ``9s``, ``5m12s``,
    ``1h30m``, ``2d3h`` (micro is written with the micro sign)."""
    if math.isnan(seconds):
        return "?"
    if seconds < 0:
        return "-" + format_duration_short(-seconds)
    if math.isinf(seconds):
        return "\u221e"
    if seconds == 0:
        return "0s"
    if seconds < 1:
        micros = round(seconds * 1_000_000)
        if micros < 1000:
            return f"{micros}\u00b5s"
        millis = round(seconds * 1000)
        if millis < 1000:
            return f"{millis}ms"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def format_age(seconds: float) -> str:
    """How long ago: ``just now`` under a second (or in the future, from clock skew), ``3s ago``."""
    if math.isnan(seconds):
        return "?"
    if seconds < 1:
        return "just now"
    return f"{format_duration_short(seconds)} ago"


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
