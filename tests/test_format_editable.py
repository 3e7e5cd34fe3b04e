"""`jstui.format.editable`: what a form's field may hold, and that it reads back exactly.

Every hostile value of tests/test_format.py (escape sequences, C1, BiDi, NUL, invalid UTF-8, lone
surrogates, markup) and a few thousand random ones go through escape and back: the escaped text
holds nothing a terminal acts on, and unescaping gives the original bytes (or string).
"""

from __future__ import annotations

import random

import pytest

from jstui.format.editable import (
    EscapeError,
    PayloadFormat,
    editable_headers,
    editable_payload,
    escape_bytes,
    escape_text,
    is_plain,
    payload_bytes,
    plain_text,
    unescape_bytes,
    unescape_text,
)
from tests.test_format import HOSTILE_IDS, HOSTILE_VALUES


def as_data(value: str | bytes) -> bytes:
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def assert_field_safe(text: str, *, multiline: bool) -> None:
    """Only characters a field can draw without the terminal acting on them."""
    for ch in text:
        if multiline and ch == "\n":
            continue
        assert is_plain(ch) and ch != "\t", f"{ch!r} in {text!r}"


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_escaped_bytes_are_safe_and_read_back_exactly(value: str | bytes) -> None:
    data = as_data(value)
    for multiline in (True, False):
        escaped = escape_bytes(data, multiline=multiline)
        assert_field_safe(escaped, multiline=multiline)
        assert unescape_bytes(escaped) == data


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_escaped_text_is_safe_and_reads_back_exactly(value: str | bytes) -> None:
    text = value if isinstance(value, str) else value.decode("utf-8", "replace")
    for multiline in (True, False):
        escaped = escape_text(text, multiline=multiline)
        assert_field_safe(escaped, multiline=multiline)
        assert unescape_text(escaped) == text


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=HOSTILE_IDS)
def test_a_payload_box_reads_back_exactly(value: str | bytes) -> None:
    data = as_data(value)
    text, payload_format = editable_payload(data)
    assert_field_safe(text.replace("\t", " "), multiline=True)  # TAB is fine in plain text
    assert payload_bytes(text, payload_format) == data


def test_round_trip_on_random_input() -> None:
    rng = random.Random(10)
    alphabet = "ab\\xu{}\n\r\t \x00\x1b\x07\x7f\x9b\u202e\u2028\ufeff\ud800é中😀"
    for _ in range(3000):
        data = rng.randbytes(rng.randrange(0, 40))
        assert unescape_bytes(escape_bytes(data)) == data
        assert unescape_bytes(escape_bytes(data, multiline=False)) == data
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        assert unescape_text(escape_text(text)) == text
        assert unescape_text(escape_text(text, multiline=True)) == text


@pytest.mark.parametrize(
    ("original", "escaped"),
    [
        (b"plain {json: [1, 2]}", "plain {json: [1, 2]}"),
        (b"back\\slash", "back\\\\slash"),
        (b"P\x1b]52;c;SElKQUNLRUQ=\x07Q", "P\\x1b]52;c;SElKQUNLRUQ=\\x07Q"),
        (b"\x1b[2J", "\\x1b[2J"),
        ("\u202eevil".encode(), "\\u202eevil"),
        ("c1 \x9b".encode(), "c1 \\u009b"),
        (b"lone \x9b byte", "lone \\x9b byte"),
        (b"nul\x00", "nul\\x00"),
        (b"a\r\nb\tc", "a\\r\nb\\tc"),
        ("caf\u00e9 \u4e2d \U0001f600".encode(), "caf\u00e9 \u4e2d \U0001f600"),
        ("tag \U000e0041".encode(), "tag \\U000e0041"),
        (b"\xed\xa0\x80", "\\xed\\xa0\\x80"),  # an encoded surrogate is not UTF-8: three bytes
    ],
)
def test_escaped_form_table(original: bytes, escaped: str) -> None:
    assert escape_bytes(original) == escaped
    assert unescape_bytes(escaped) == original


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("\\q", "column 1: \\q is not an escape"),
        ("ab\\x1", "column 3: \\x is not an escape"),
        ("one\ntwo \\u12", "line 2, column 5: \\u is not an escape"),
        ("end\\", "column 4: \\ is not an escape"),
        ("\\U00110000", "beyond Unicode"),
    ],
)
def test_bad_escapes_say_where(text: str, where: str) -> None:
    with pytest.raises(EscapeError, match=where.replace("\\", "\\\\")):
        unescape_bytes(text)


def test_text_must_be_utf8() -> None:
    with pytest.raises(EscapeError, match="byte 2 is not UTF-8"):
        unescape_text("a\\xff")


def test_plain_text_is_left_as_it_is() -> None:
    assert plain_text(b'{"a": "x\\ny"}\n\tz') == '{"a": "x\\ny"}\n\tz'
    assert editable_payload(b"[bold]x[/]") == ("[bold]x[/]", PayloadFormat.TEXT)
    for data in (b"\x1b[2J", b"a\rb", b"\xff", "\u202e".encode(), b"\x00"):
        assert plain_text(data) is None
        assert editable_payload(data)[1] is PayloadFormat.ESCAPED
    assert payload_bytes("x\\x1b", PayloadFormat.TEXT) == b"x\\x1b"
    assert payload_bytes("x\\x1b", "escaped") == b"x\x1b"


def test_headers_box() -> None:
    box = editable_headers([("X-Esc", "\x1b]0;t\x07"), ("Path", "C:\\dir")])
    assert box == "X-Esc: \\x1b]0;t\\x07\nPath: C:\\\\dir"
