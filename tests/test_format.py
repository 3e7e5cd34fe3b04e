"""jstui.format: hostile network text comes out visible, inert and bounded."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import unicodedata

import pytest
from rich.console import Console
from rich.text import Text

from jstui.format.columns import ColumnWidths
from jstui.format.payload import (
    EMPTY,
    NOT_JSON,
    PayloadView,
    hexdump,
    is_probably_binary,
    next_view,
    payload_preview,
    pretty_json,
    render_payload,
)
from jstui.format.text import headers_lines, safe_text, sanitize, sanitize_multiline
from jstui.format.units import (
    compact_size,
    counted,
    format_age,
    format_count,
    format_duration_short,
    format_rate,
    format_size,
    parse_size,
    size_field,
)

# Code points that must never reach a terminal from network text.
FORBIDDEN = frozenset(
    [
        *range(0x00, 0x20),  # C0, including ESC, NUL, BEL, CR, LF, TAB
        *range(0x7F, 0xA0),  # DEL and C1, including CSI 0x9b
        *range(0x202A, 0x202F),  # BiDi embeddings and overrides
        *range(0x2066, 0x206A),  # BiDi isolates
    ]
)
# Unicode categories that are invisible, reorder text or cannot be encoded.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def assert_safe(text: str, *, multiline: bool = False) -> None:
    """Fail if `text` holds a control, format, BiDi or surrogate char (but "\\n" if multiline)."""
    assert isinstance(text, str)
    for index, ch in enumerate(text):
        if multiline and ch == "\n":
            continue
        assert ord(ch) not in FORBIDDEN, f"U+{ord(ch):04X} at {index} in {text!r}"
        category = unicodedata.category(ch)
        assert category not in FORBIDDEN_CATEGORIES, f"{category} U+{ord(ch):04X} in {text!r}"
    text.encode("utf-8")  # no lone surrogate survives


MARKUP = [
    "[/x]",
    "[/]",
    "[b]bold[/b]",
    "[link=http://evil.example]click[/link]",
    "[link=http://e] [@click=app.quit]q",
    "[@click=app.quit]quit[/]",
    "[$accent]x",
    "[a.b] [red on blue]x",
]

ESC_SEQUENCES = {
    "csi-clear": "\x1b[2J\x1b[H",
    "osc52-clipboard": "\x1b]52;c;ZXZpbA==\x07",
    "osc8-link": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "osc0-title": "\x1b]0;pwned\x07",
    "c1-csi": "\x9b2J",
    "c1-osc": "\x9d0;title\x9c",
    "sgr": "\x1b[31mred\x1b[0m",
}

HOSTILE: dict[str, str | bytes] = {
    **{f"markup-{i}": s for i, s in enumerate(MARKUP)},
    **ESC_SEQUENCES,
    "del": "a\x7fb",
    "nul": "a\x00b",
    "bel-bs-vt-ff": "\x07\x08\x0b\x0c",
    "cr-overwrite": "safe\rEVIL",
    "crlf": "line1\r\nline2",
    "tab": "a\tb",
    "bidi-override": "invoice\u202egpj.exe",
    "bidi-all": "".join(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]),
    "marks": "\u200e\u200f\u061c",
    "zero-width": "a\u200bb\u200cc\u200dd\u2060e",
    "bom": "\ufeffdata",
    "line-separators": "a\u2028b\u2029c",
    "lone-surrogate": "x\ud800y\udfff",
    "private-use": "\ue000\U000f0000",
    "noncharacter": "\uffff\U0010ffff",
    "tag-chars": "\U000e0001\U000e0041",
    "invalid-utf8": b"\xff\xfe\xc3",
    "bytes-esc": b"\x1b[2J\x1b]52;c;ZXZpbA==\x07",
    "bytes-c1-utf8": "\x9b31m".encode(),
    "bytes-bidi": "\u202eabc".encode(),
    "bytes-mixed": b"ok \xc3\xa9 \xff \x00 \x1b[H \xe2\x80\xae end",
    "empty-str": "",
    "empty-bytes": b"",
    "everything": "".join(ESC_SEQUENCES.values()) + "\x00\x7f\u202e\ufeff\u2028\ud800" + "[/x]",
}
HOSTILE_IDS = list(HOSTILE)
HOSTILE_VALUES = list(HOSTILE.values())


# --------------------------------------------------------------------------------------------------
# sanitize: every output is safe


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_sanitize_is_safe(value: str | bytes) -> None:
    assert_safe(sanitize(value))


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_sanitize_multiline_is_safe(value: str | bytes) -> None:
    assert_safe(sanitize_multiline(value), multiline=True)


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_safe_text_is_safe_and_plain(value: str | bytes) -> None:
    text = safe_text(value, style="bold")
    assert isinstance(text, Text)
    assert text.plain == sanitize(value)
    assert_safe(text.plain)
    assert text.spans == []  # no markup was parsed into spans
    assert str(text.style) == "bold"


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_payload_functions_are_safe(value: str | bytes) -> None:
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    assert_safe(payload_preview(data))
    assert_safe(payload_preview(data, width=10))
    for view in [None, *PayloadView]:
        used, shown = render_payload(data, view)
        assert isinstance(used, PayloadView)
        assert_safe(shown, multiline=True)


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_headers_lines_are_safe(value: str | bytes) -> None:
    text = value if isinstance(value, str) else value.decode("utf-8", "replace")
    lines = headers_lines({text or "k": text, "Nats-Msg-Id": "1"})
    assert len(lines) == 2
    for line in lines:
        assert_safe(line)


# --------------------------------------------------------------------------------------------------
# sanitize: what comes out


@pytest.mark.parametrize("markup", MARKUP)
def test_markup_is_left_as_plain_characters(markup: str) -> None:
    assert sanitize(markup) == markup
    assert safe_text(markup).plain == markup


def test_markup_example_from_the_brief() -> None:
    hostile = "[/x] [link=http://e] [@click=app.quit]q"
    assert sanitize(hostile) == hostile


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\x1b[2J", "\u241b[2J"),
        ("\x00", "\u2400"),
        ("\x07", "\u2407"),
        ("\t", "\u2409"),
        ("\r", "\u240d"),
        ("\n", "\u23ce"),
        ("\x1f", "\u241f"),
        ("\x7f", "\u2421"),
        ("\x9b2J", "\\x9b2J"),
        ("\x80\x9f", "\\x80\\x9f"),
        ("ab\u202ecd", "ab\\u202ecd"),
        ("\u2066\u2069", "\\u2066\\u2069"),
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
        ("\u200b\u200c\u200d\u2060", "\\u200b\\u200c\\u200d\\u2060"),
        ("\ufeff", "\\ufeff"),
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("\ud800", "\\ud800"),
        ("\ue000", "\\ue000"),
        ("\U0010ffff", "\\U0010ffff"),
        ("\U000e0001", "\\U000e0001"),
    ],
)
def test_controls_become_visible(value: str, expected: str) -> None:
    assert sanitize(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "orders.eu.created",
        "plain printable ASCII ~!@#$%^&*()_+{}|:<>?",
        "Grüße aus Köln",
        "東京 ✓ 👍 😀",
        "no-break\u00a0space and ideographic\u3000space",
        "e\u0301 combining accent",
        "\ufffd replacement char",
        "\u2400 control pictures typed by the sender",
    ],
)
def test_printable_text_is_unchanged(value: str) -> None:
    assert sanitize(value) == value
    assert sanitize(value.encode()) == value
    assert sanitize_multiline(value) == value


def test_printable_ascii_fast_path_returns_the_same_object() -> None:
    line = "x" * 100
    assert sanitize(line) is line


def test_invalid_utf8_is_replaced() -> None:
    assert sanitize(b"\xff\xfe\xc3") == "\ufffd" * 3
    assert sanitize(b"ok \xff end") == "ok \ufffd end"


def test_mixed_bytes_are_decoded_then_escaped() -> None:
    assert sanitize(b"a\xc3\xa9\x1b[H\xe2\x80\xae") == "a\u00e9\u241b[H\\u202e"


def test_truncation_adds_a_visible_suffix() -> None:
    assert sanitize("x" * 5000, max_len=100) == "x" * 100 + "\u2026(+4,900 chars)"
    assert sanitize(b"y" * 150, max_len=100) == "y" * 100 + "\u2026(+50 chars)"
    assert sanitize("x" * 100, max_len=100) == "x" * 100
    assert sanitize("abc", max_len=0) == "\u2026(+3 chars)"


def test_escapes_count_against_max_len() -> None:
    # Each U+202E becomes six characters; only whole escapes are shown.
    result = sanitize("\u202e" * 1000, max_len=60)
    assert result == "\\u202e" * 10 + "\u2026(+990 chars)"
    assert_safe(result)


@pytest.mark.parametrize(
    "payload",
    [
        b"A" * 1_000_000,
        b"\xff" * 1_000_000,
        "\u00e9".encode() * 500_000,
        "\x1b[2J" * 250_000,
        "\u202e" * 1_000_000,
    ],
    ids=["ascii", "invalid-utf8", "two-byte-utf8", "esc", "bidi"],
)
def test_megabyte_payload_is_truncated(payload: str | bytes) -> None:
    result = sanitize(payload)
    assert len(result) < 4096 + 40
    assert re.search(r"\u2026\(\+[\d,]+ chars\)$", result)
    assert_safe(result)
    many = sanitize_multiline(payload)
    assert len(many) < 65536 + 40
    assert_safe(many, multiline=True)


def test_megabyte_valid_utf8_counts_left_out_characters() -> None:
    assert sanitize("\u00e9".encode() * 500_000, max_len=10).endswith("(+499,990 chars)")


def test_multiline_keeps_newlines_and_expands_tabs() -> None:
    assert sanitize_multiline("a\r\nb\n\tc") == "a\nb\n    c"
    assert sanitize_multiline(b"k:\tv\r\n") == "k:    v\n"


def test_multiline_still_shows_other_controls() -> None:
    assert sanitize_multiline("safe\rEVIL\n\x1b[2J\u202e") == "safe\u240dEVIL\n\u241b[2J\\u202e"


def test_multiline_truncates() -> None:
    assert sanitize_multiline("ab\n" * 10, max_len=6) == "ab\nab\n\u2026(+24 chars)"


# --------------------------------------------------------------------------------------------------
# what a terminal receives

SGR = re.compile(r"\x1b\[[0-9;]*m")


def render(text: Text) -> str:
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor", width=200)
    console.print(text)
    output = console.file.getvalue()
    assert isinstance(output, str)
    return output


@pytest.mark.parametrize("sequence", list(ESC_SEQUENCES.values()), ids=list(ESC_SEQUENCES))
@pytest.mark.parametrize("style", ["", "bold red"])
def test_rendered_output_carries_no_input_escape(sequence: str, style: str) -> None:
    hostile = f"before {sequence} [@click=app.quit]x[/] \u202eafter\x7f\x00"
    output = render(safe_text(hostile, style=style))
    assert sequence not in output
    # Rich adds SGR styling of its own; once that is removed, no ESC, BEL or C1 is left.
    bare = SGR.sub("", output)
    assert "\x1b" not in bare
    assert "\x07" not in bare
    assert not any(0x80 <= ord(ch) <= 0x9F for ch in bare)
    assert_safe(bare.rstrip("\n"))
    assert "[@click=app.quit]x[/]" in bare


def test_rendered_bytes_carry_no_input_escape() -> None:
    output = render(safe_text(b"\x1b]52;c;ZXZpbA==\x07\x1b[2J\xc2\x9b"))
    assert "\x1b" not in SGR.sub("", output)
    assert "\u241b]52;c;ZXZpbA==\u2407\u241b[2J\\x9b" in output


def test_format_imports_nothing_from_textual() -> None:
    code = (
        "import sys, jstui.format.text, jstui.format.payload, jstui.format.units; "
        "print(sorted(m for m in sys.modules if 'textual' in m))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------------
# binary, hex, JSON


@pytest.mark.parametrize(
    ("data", "binary"),
    [
        (b"", False),
        (b"hello", False),
        (b"line1\r\n\tline2\n", False),
        ("Grüße 東京".encode(), False),
        (b'{"a": 1}', False),
        (b"\x1b[31mERROR\x1b[0m disk full on /dev/sda1, retrying in 5 seconds", False),
        (b"\xff\xfe\xc3", True),
        (b"text then \xff", True),
        (b"\x00abc", True),
        (b"\x1b[2J", True),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", True),
        (bytes(range(256)), True),
        (b"a" * 20_000 + b"\xff", True),
    ],
)
def test_is_probably_binary(data: bytes, binary: bool) -> None:
    assert is_probably_binary(data) is binary


def test_hexdump_known_input() -> None:
    assert hexdump(b"Hello, world!\n") == (
        "00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a        |Hello, world!.|"
    )


def test_hexdump_full_lines_and_offsets() -> None:
    lines = hexdump(bytes(range(0x20, 0x20 + 33))).split("\n")
    assert lines == [
        "00000000  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f  | !\"#$%&'()*+,-./|",
        "00000010  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|",
        "00000020  40                                                |@|",
    ]


def test_hexdump_hides_control_and_high_bytes() -> None:
    line = hexdump(b"\x1b[2J\x7f\x9b\xff\x00")
    assert line.endswith("|.[2J....|")
    assert_safe(line)


def test_hexdump_truncates_with_a_note() -> None:
    dump = hexdump(bytes(100), max_bytes=32)
    lines = dump.split("\n")
    assert len(lines) == 3
    assert lines[1].startswith("00000010  00 00")
    assert lines[2] == "\u2026 68 more bytes not shown (100 bytes in all)"


def test_hexdump_of_a_megabyte_is_bounded() -> None:
    lines = hexdump(b"\xab" * 1_000_000).split("\n")
    assert len(lines) == 64 * 1024 // 16 + 1
    assert lines[-1] == "\u2026 934,464 more bytes not shown (1,000,000 bytes in all)"


def test_hexdump_empty() -> None:
    assert hexdump(b"") == ""


def test_pretty_json_object() -> None:
    assert pretty_json(b'{"a":[1,2],"b":"\xc3\xa9"}') == (
        '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "\u00e9"\n}'
    )


def test_pretty_json_array_with_whitespace() -> None:
    assert pretty_json(b"  \n[true, null]\n") == "[\n  true,\n  null\n]"


def test_pretty_json_sanitizes_decoded_strings() -> None:
    # JSON escapes decode to real controls; the pretty text must show them, not emit them.
    result = pretty_json(b'{"k": "\\u202e\\u007f\\u009b\\u001b[2J", "\\u2028": "[/x]"}')
    assert result is not None
    assert_safe(result, multiline=True)
    assert "\\u202e" in result
    assert "[/x]" in result


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"1",
        b'"a string"',
        b"true",
        b"null",
        b"{not json}",
        b'{"a": 1',
        b"[1, 2] trailing",
        b"\xff{}",
        b'{"a": "\xff"}',
        b"[" * 100_000 + b"]" * 100_000,
        b"[" + b"9" * 5000 + b"]",
        b"hello",
    ],
    ids=[
        "empty",
        "number",
        "string",
        "true",
        "null",
        "bad",
        "unclosed",
        "trailing",
        "invalid-utf8-before",
        "invalid-utf8-inside",
        "deep",
        "huge-int",
        "text",
    ],
)
def test_pretty_json_rejects(data: bytes) -> None:
    assert pretty_json(data) is None


# --------------------------------------------------------------------------------------------------
# payload views and previews


@pytest.mark.parametrize(
    ("data", "view"),
    [
        (b'{"a": 1}', PayloadView.JSON),
        (b"[1, 2, 3]", PayloadView.JSON),
        (b"\x00\x01\x02", PayloadView.HEX),
        (b"\xff\xfe\xc3", PayloadView.HEX),
        (b"hello\nworld", PayloadView.TEXT),
        (b"42", PayloadView.TEXT),
        (b"", PayloadView.TEXT),
    ],
)
def test_render_payload_picks_a_view(data: bytes, view: PayloadView) -> None:
    used, shown = render_payload(data)
    assert used is view
    assert_safe(shown, multiline=True)


def test_render_payload_views() -> None:
    data = b'{"a":1}'
    assert render_payload(data, PayloadView.TEXT) == (PayloadView.TEXT, '{"a":1}')
    assert render_payload(data, PayloadView.JSON) == (PayloadView.JSON, '{\n  "a": 1\n}')
    assert render_payload(data, PayloadView.HEX) == (PayloadView.HEX, hexdump(data))
    assert render_payload(b"hello", PayloadView.JSON) == (PayloadView.JSON, NOT_JSON)
    assert render_payload(b"", PayloadView.HEX) == (PayloadView.HEX, EMPTY)
    assert render_payload(b"") == (PayloadView.TEXT, EMPTY)


def test_render_payload_text_keeps_lines() -> None:
    data = b"first line\r\nsecond\tline \x1b[2J"
    assert render_payload(data) == (PayloadView.TEXT, "first line\nsecond    line \u241b[2J")


def test_next_view_cycles() -> None:
    assert next_view(PayloadView.TEXT) is PayloadView.JSON
    assert next_view(PayloadView.JSON) is PayloadView.HEX
    assert next_view(PayloadView.HEX) is PayloadView.TEXT
    assert [str(view) for view in PayloadView] == ["text", "json", "hex"]


def test_payload_preview_text() -> None:
    assert payload_preview(b"hello") == "hello"
    assert payload_preview(b'{"a":\n  1}') == '{"a":\u23ce  1}'
    assert payload_preview(b"\x1b[2Jhi there") == "\u241b[2Jhi there"


def test_payload_preview_empty() -> None:
    assert payload_preview(b"") == "<empty>"


def test_payload_preview_binary() -> None:
    assert payload_preview(b"\x00\x01\x02\xff\x48") == "<binary 5 bytes> 00 01 02 ff 48"
    preview = payload_preview(bytes(1000), width=40)
    assert preview.startswith("<binary 1,000 bytes> 00 00")
    assert preview.endswith("\u2026")
    assert len(preview) <= 40


@pytest.mark.parametrize("width", [1, 5, 20, 200])
@pytest.mark.parametrize(
    "data",
    [b"x" * 1_000_000, "\u00e9".encode() * 500_000, "\u202e".encode() * 1000, b"a\x00" * 500],
    ids=["ascii", "two-byte", "bidi", "binary"],
)
def test_payload_preview_is_cut_to_width(data: bytes, width: int) -> None:
    preview = payload_preview(data, width=width)
    assert_safe(preview)
    if not preview.startswith("<binary"):
        assert len(preview) <= width
        assert preview.endswith("\u2026")


def test_payload_preview_exact_width_is_not_cut() -> None:
    assert payload_preview(b"x" * 10, width=10) == "x" * 10
    assert payload_preview(b"x" * 11, width=10) == "x" * 9 + "\u2026"


# --------------------------------------------------------------------------------------------------
# numbers, durations, headers


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024 * 1024 - 1, "1.0 MiB"),
        (10 * 1024 * 1024, "10.0 MiB"),
        (int(1.5 * 1024**3), "1.5 GiB"),
        (2 * 1024**4, "2.0 TiB"),
        (-2048, "-2.0 KiB"),
    ],
)
def test_format_size(n: int, expected: str) -> None:
    assert format_size(n) == expected


@pytest.mark.parametrize(
    ("unit", "power"),
    [("B", 0), ("KiB", 1), ("MiB", 2), ("GiB", 3), ("TiB", 4), ("PiB", 5), ("EiB", 6)],
)
def test_every_displayed_size_unit_reads_back(unit: str, power: int) -> None:
    """A size shown in any unit can be typed back into a form (`1PiB` and `1EiB` were refused)."""
    n = 3 * 1024**power + 1024 ** max(power - 1, 0) * 512 if power else 3
    shown = format_size(n)
    assert shown.endswith(f" {unit}")
    assert parse_size(shown) == pytest.approx(n, rel=0.05)  # shown to one decimal
    assert parse_size(f"1{unit}") == 1024**power
    assert parse_size(f"1 {unit.lower()}") == 1024**power
    assert parse_size(size_field(n)) == n  # the form's own text is exact
    assert parse_size(compact_size(min(n, 1024**4))) == pytest.approx(min(n, 1024**4), rel=0.05)
    if power:
        assert size_field(1024**power) == f"1{unit}"


def test_rounded_display_sizes_read_back_to_the_nearest_byte() -> None:
    assert format_size(1126) == "1.1 KiB" and parse_size("1.1 KiB") == 1126
    assert compact_size(1126) == "1.1K" and parse_size("1.1K") == 1126
    with pytest.raises(ValueError, match="whole number of bytes"):
        parse_size("1.5B")


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0"), (999, "999"), (1234, "1,234"), (1_000_000, "1,000,000")]
)
def test_format_count(n: int, expected: str) -> None:
    assert format_count(n) == expected


@pytest.mark.parametrize(
    ("n", "noun", "plural", "expected"),
    [
        (0, "key", "", "0 keys"),
        (1, "key", "", "1 key"),
        (2, "key", "", "2 keys"),
        (1234, "message", "", "1,234 messages"),
        (1, "reply", "replies", "1 reply"),
        (3, "reply", "replies", "3 replies"),
        (1, "deleted key", "", "1 deleted key"),
        (0.6, "key", "", "1 key"),  # the noun agrees with the digits shown
        (1.4, "key", "", "1 key"),
    ],
)
def test_counted_agrees_with_its_count(
    n: int | float, noun: str, plural: str, expected: str
) -> None:
    assert counted(n, noun, plural) == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0, "0/s"),
        (0.5, "0.5/s"),
        (9.9, "9.9/s"),
        (12, "12/s"),
        (830.2, "830/s"),
        (999.6, "1.0k/s"),
        (12_345, "12.3k/s"),
        (999_999, "1.0M/s"),
        (1_234_567, "1.2M/s"),
        (float("nan"), "?/s"),
    ],
)
def test_format_rate(rate: float, expected: str) -> None:
    assert format_rate(rate) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (0.000_250, "250\u00b5s"),
        (0.25, "250ms"),
        (0.9996, "1s"),
        (9, "9s"),
        (9.4, "9s"),
        (59.6, "1m"),
        (90, "1m30s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (86400, "1d"),
        (2 * 86400 + 3 * 3600 + 59, "2d3h"),
        (-5, "-5s"),
        (float("inf"), "\u221e"),
    ],
)
def test_format_duration_short(seconds: float, expected: str) -> None:
    assert format_duration_short(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(3, "3s ago"), (5400, "1h30m ago"), (0.2, "just now"), (-4, "just now")],
)
def test_format_age(seconds: float, expected: str) -> None:
    assert format_age(seconds) == expected


def test_headers_lines() -> None:
    assert headers_lines(None) == []
    assert headers_lines({}) == []
    assert headers_lines({"Nats-Msg-Id": "42", "X-Note": "[b]hi[/b]"}) == [
        "Nats-Msg-Id: 42",
        "X-Note: [b]hi[/b]",
    ]


def test_headers_lines_escape_keys_and_values() -> None:
    assert headers_lines({"X\u202eY": "v\x1b[2J\r\nInjected: yes"}) == [
        "X\\u202eY: v\u241b[2J\u240d\u23ceInjected: yes"
    ]


def test_column_widths_follow_the_widest_value_both_ways() -> None:
    widths = ColumnWidths(["Name", "N"])
    assert widths.widths() == (4, 1)
    widths.add(("alpha", "12"))
    widths.add(("be", "1,234"))
    assert widths.widths() == (5, 5)
    widths.change(("be", "1,234"), ("be", "9"))
    assert widths.widths() == (5, 2)  # the widest went: narrower at once, nothing re-measured
    widths.remove(("alpha", "12"))
    assert widths.widths() == (4, 1)  # the label is the floor
    widths.add(("中文", "x"))  # wide characters count as two cells
    assert widths.widths() == (4, 1)
    widths.add(("中文中文中", "x"))
    assert widths.widths() == (10, 1)
