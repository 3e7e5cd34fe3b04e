"""A value on one line, for the keys table and a key's history: `value_preview`.

A JSON object or array is compacted and marked ``json`` (the pane colours it), text shows as it
is, binary as hex (`jstui.format.payload.payload_preview`); every control, BiDi and escape
character is made inert by `jstui.format.text.sanitize`. Here, below the widgets and the dialogs,
so that both can use it. Pure.
"""

from __future__ import annotations

import json

from jstui.format.payload import payload_preview
from jstui.format.text import sanitize

__all__ = ["JSON_MARK", "value_preview"]

JSON_MARK = "json "
JSON_SNIFF_BYTES = 64 * 1024
"""Longer values are not parsed to recognise JSON: a preview must stay cheap."""
PREVIEW_WIDTH = 60


def value_preview(value: bytes, width: int = PREVIEW_WIDTH) -> str:
    """One safe line of at most `width` characters for `value`."""
    start = value.lstrip()[:1]
    if start in (b"{", b"[") and len(value) <= JSON_SNIFF_BYTES:
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict | list):
            compact = json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))
            room = width - len(JSON_MARK)
            text = sanitize(compact, max_len=room + 16)
            return JSON_MARK + (text if len(text) <= room else text[: room - 1] + "…")
    return payload_preview(value, width)
