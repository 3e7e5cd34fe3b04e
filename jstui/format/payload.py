"""Payloads made into safe display text: binary detection, hex dump, pretty JSON, previews.

A message payload is untrusted bytes. `render_payload` picks (or is told) a `PayloadView` for the
detail view: JSON pretty-printed when it is a JSON object or array, a ``hexdump -C`` style dump when
it looks binary, else text; `payload_preview` makes the one line a feed row shows. Every path
ends in `jstui.format.text`'s sanitizing, so no control character or markup reaches the screen.
"""

from __future__ import annotations

import codecs
import json
from enum import StrEnum

from jstui.format.text import ELLIPSIS, as_bytes, sanitize_line_parts, sanitize_multiline

__all__ = [
    "EMPTY",
    "NOT_JSON",
    "PayloadView",
    "hexdump",
    "is_probably_binary",
    "next_view",
    "payload_preview",
    "pretty_json",
    "render_payload",
]

# Control bytes that make a payload look binary (tab, LF and CR are ordinary text).
_BINARY_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_BINARY_CONTROL_SHARE = 0.10
_BINARY_SAMPLE = 8192

# hexdump: printable ASCII shown as itself, everything else as ".".
_HEX_ASCII = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


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
    data = as_bytes(data)
    if not data:
        return False
    return not _is_utf8(data) or _looks_like_control_bytes(data[:_BINARY_SAMPLE])


def hexdump(data: bytes, *, max_bytes: int = 64 * 1024) -> str:
    """A ``hexdump -C`` style dump: offset, 16 bytes in hex, and the printable ASCII between bars.

    Non-printable bytes show as ``.`` in the ASCII column. At most `max_bytes` are dumped; a last
    line then says how many were left out. No trailing newline; ``""`` for empty data.
    """
    data = as_bytes(data)
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
    data = as_bytes(data)
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
    data = as_bytes(data)
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
    data = as_bytes(data)
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
    line, shown, total = sanitize_line_parts(text, width)
    if shown == total and complete:
        return line
    line, _, _ = sanitize_line_parts(text, width - 1)
    return line + ELLIPSIS
