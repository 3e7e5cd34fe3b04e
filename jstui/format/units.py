"""Durations, sizes and counts: parsed from what the user typed, and written for forms or display.

Two families, named so that they never clash:

- **Form values** round-trip: `parse_duration` / `parse_size` / `parse_count` read what a form
  field holds ("9s", "1h30m", "10MiB", "1_000"; "", "unlimited", "none" and "-" mean no limit,
  None), and `duration_field` / `size_field` / `count_field` write a server value back as the
  exact text that parses to it ("" for no limit). `duration_ns` is `parse_duration` in whole
  nanoseconds, the server's unit. Parse errors are `ValueError`s with a short message that can be
  shown under the field.
- **Display text** is short and rounded, for tables, status lines and rates: `format_size`
  ("1.5 GiB"), `format_count` ("1,234"), `format_rate` ("12.3k/s"), `format_duration_short`
  ("5m12s"), `format_age` ("3s ago"). It is never parsed back.

Sizes follow natscli: K, KB and KiB (M, G, T alike) are all powers of 1024. Pure functions, no
I/O; `jstui.nats` imports them from here (nats -> format is the allowed direction).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from jstui.format.text import quote_input

__all__ = [
    "NS_PER_SECOND",
    "count_field",
    "counted",
    "duration_field",
    "duration_has_units",
    "duration_ns",
    "exact_ns",
    "format_age",
    "format_count",
    "format_duration_short",
    "format_rate",
    "format_size",
    "parse_count",
    "parse_duration",
    "parse_size",
    "size_field",
]

NS_PER_SECOND = 1_000_000_000
_INT64_MAX = 2**63 - 1

# -- form values -----------------------------------------------------------------------------------

_UNLIMITED_WORDS = frozenset({"", "unlimited", "none", "-"})

_DURATION_UNITS_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_SECOND,
    "m": 60 * NS_PER_SECOND,
    "h": 3600 * NS_PER_SECOND,
    "d": 86400 * NS_PER_SECOND,
    "w": 7 * 86400 * NS_PER_SECOND,
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
    # Every unit `format_size` shows must read back: sizes are displayed up to EiB.
    "P": 1024**5,
    "PB": 1024**5,
    "PIB": 1024**5,
    "E": 1024**6,
    "EB": 1024**6,
    "EIB": 1024**6,
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
    server's unit, so `parse_duration(duration_field(x)) == x` for every value the server returns.
    """
    ns = duration_ns(text)
    return ns / NS_PER_SECOND if ns else None


def duration_ns(text: str) -> int | None:
    """`parse_duration` in whole nanoseconds (exact at any length)."""
    raw = text.strip()
    if _is_unlimited(raw):
        return None
    if raw.startswith("-"):
        raise ValueError("a duration cannot be negative")
    if re.fullmatch(_NUMBER, raw):
        total = Fraction(raw) * NS_PER_SECOND
    elif _DURATION_FULL.fullmatch(raw):
        total = sum(
            (Fraction(n) * _DURATION_UNITS_NS[u] for n, u in _DURATION_PART.findall(raw)),
            Fraction(0),
        )
    else:
        raise ValueError(f"not a duration: {quote_input(raw)}; {_DURATION_HINT}")
    ns = round(total)
    if total and not ns:
        raise ValueError("a duration must be at least 1ns")
    if ns > _INT64_MAX:
        raise ValueError("a duration can be at most about 292 years")
    return ns or None


def duration_field(seconds: float | None) -> str:
    """The shortest text ("9s", "1h30m", "250ms") that `parse_duration` reads back as `seconds`.

    None and 0 give "" (no limit).
    """
    if seconds is None or seconds == 0:
        return ""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("a duration cannot be negative")
    ns = exact_ns(seconds)
    parts: list[str] = []
    for unit in ("w", "d", "h", "m", "s", "ms", "us", "ns"):
        size = _DURATION_UNITS_NS[unit]
        amount, ns = divmod(ns, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def parse_size(text: str) -> int | None:
    """Bytes for "512", "10MiB", "10 MiB", "10MB", "1.5GiB"; "" or "unlimited" give None (no limit).

    Units follow natscli: K, KB and KiB (and M/G/T/P/E alike) are all powers of 1024, so "10MB" is
    10485760 bytes. Every text `format_size`, `compact_size` and `size_field` show reads back;
    a decimal that is not a whole number of bytes ("1.1KiB") is rounded to the nearest byte.
    Digits may be grouped with "_" or with "," in threes.
    """
    raw = text.strip()
    if _is_unlimited(raw):
        return None
    if raw.startswith("-"):
        raise ValueError("a size cannot be negative")
    match = _SIZE.fullmatch(raw)
    if match is None or match[2].upper() not in _SIZE_UNITS:
        raise ValueError(f"not a size: {quote_input(raw)}; {_SIZE_HINT}")
    unit = _SIZE_UNITS[match[2].upper()]
    amount = Fraction(match[1].replace(",", "").replace("_", "")) * unit
    if amount.denominator != 1:
        if unit == 1:
            raise ValueError(f"not a whole number of bytes: {quote_input(raw)}")
        # A displayed size ("1.1 KiB", one decimal) is a rounded value: take the nearest byte.
        amount = Fraction(round(amount))
    if amount > _INT64_MAX:
        raise ValueError("a size can be at most 8EiB")
    return int(amount)


def size_field(n: int | None) -> str:
    """Exact text ("10MiB", "1.5GiB", "1000B") that `parse_size` reads back as `n`.

    None and negative values (the server's -1) give "" (no limit). The largest binary unit that
    shows the value with at most three decimals is used; otherwise plain bytes.
    """
    if n is None or n < 0:
        return ""
    for unit, size in (
        ("EiB", 1024**6),
        ("PiB", 1024**5),
        ("TiB", 1024**4),
        ("GiB", 1024**3),
        ("MiB", 1024**2),
        ("KiB", 1024),
    ):
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
        raise ValueError(f"not a whole number: {quote_input(raw)}")
    value = int(raw.replace(",", "").replace("_", ""))
    if value > _INT64_MAX:
        raise ValueError("a count can be at most 2^63-1")
    return value


def count_field(n: int | None) -> str:
    """The text of a count; None and negative values (the server's -1) give "" (no limit)."""
    return "" if n is None or n < 0 else str(n)


def exact_ns(seconds: float) -> int:
    """Nanoseconds nearest to the float's exact value (`seconds * 1e9` would round first)."""
    return round(Fraction(seconds) * NS_PER_SECOND)


def duration_has_units(text: str) -> bool:
    """True for a duration written with units ("10m", "1h30m"), not a bare number."""
    return _DURATION_FULL.fullmatch(text.strip()) is not None


# -- display text ----------------------------------------------------------------------------------

_DISPLAY_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


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
    while unit < len(_DISPLAY_SIZE_UNITS) - 1 and value >= 1023.95:
        value /= 1024
        unit += 1
    return f"{sign}{value:.1f} {_DISPLAY_SIZE_UNITS[unit]}"


def compact_size(n: int) -> str:
    """Bytes in at most 5 characters: ``16B``, ``999B``, ``1.0K``, ``12K``, ``1.0M``."""
    if n < 1000:
        return f"{n}B"
    for unit, scale in (("K", 1024), ("M", 1024**2), ("G", 1024**3)):
        value = n / scale
        if value < 9.95:
            return f"{value:.1f}{unit}"
        if value < 999.5:
            return f"{value:.0f}{unit}"
    return f"{n / 1024**4:.0f}T"


def format_count(n: int | float) -> str:
    """An integer with thousands separators: ``1,234``."""
    if isinstance(n, float) and not math.isfinite(n):
        return "?"
    return f"{round(n):,}"


def counted(n: int | float, noun: str, plural: str = "") -> str:
    """A count and its noun, agreeing: ``1 key``, ``0 keys``, ``1,234 keys`` (`plural` for
    nouns that do not just take an "s": ``counted(2, "reply", "replies")``). The noun agrees
    with the digits shown: 0.6 reads ``1 key``."""
    digits = format_count(n)
    return f"{digits} {noun if digits == '1' else plural or noun + 's'}"


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
