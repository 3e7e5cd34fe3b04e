"""Masking secrets: URL user info (one table), nkey seeds, JWTs and known literal secrets."""

from __future__ import annotations

import pytest

from jstui.format.redact import redact_secrets, redact_url
from tests.config.helpers import FAKE_JWT, creds_text, new_seed


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("nats://u:s3cret@127.0.0.1:4222", "nats://u:xxxxx@127.0.0.1:4222"),
        ("nats://s3cret@127.0.0.1:4222", "nats://xxxxx@127.0.0.1:4222"),  # a token
        ("nats://:s3cret@host", "nats://:xxxxx@host"),
        ("nats://u%40corp:s3%3Acr%2Fet@host:4222", "nats://u%40corp:xxxxx@host:4222"),
        ("nats://u:s3@cret@host", "nats://u:xxxxx@host"),  # an unescaped "@" in the password
        ("nats://u:s3cret@[::1]:4222", "nats://u:xxxxx@[::1]:4222"),
        ("nats://[::1]:4222", "nats://[::1]:4222"),
        (
            "nats://u:s3cret@a:4222,nats://v:0ther@b:4222, nats://c:4222",
            "nats://u:xxxxx@a:4222,nats://v:xxxxx@b:4222, nats://c:4222",
        ),
        ("tls://u:s3cret@host:4443", "tls://u:xxxxx@host:4443"),
        ("ws://u:s3cret@host:8080/path", "ws://u:xxxxx@host:8080/path"),
        ("wss://s3cret@host", "wss://xxxxx@host"),
        ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ("NATS://U:s3cret@HOST", "NATS://U:xxxxx@HOST"),
        (
            "cannot connect to nats://u:s3cret@h:1: authorization violation",
            "cannot connect to nats://u:xxxxx@h:1: authorization violation",
        ),
        (
            "WSServerHandshakeError: 404, url='ws://u:s3cret@h:1/'",
            "WSServerHandshakeError: 404, url='ws://u:xxxxx@h:1/'",
        ),
        ("mail me at ops@example.com", "mail me at ops@example.com"),
        ("", ""),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_secrets_masks_seeds_jwts_creds_and_known_values() -> None:
    seed = new_seed()
    text = (
        f"connect nats://u:s3cret@h:1 seed={seed} jwt={FAKE_JWT} "
        f"creds:\n{creds_text(FAKE_JWT, seed)} password hunter22 token=abcdef"
    )
    masked = redact_secrets(text, known=("hunter22", "abcdef", "ab", ""))
    for secret in ("s3cret", seed, FAKE_JWT, "hunter22", "abcdef"):
        assert secret not in masked
    assert "nats://u:xxxxx@h:1" in masked
    assert "password xxxxx" in masked


def test_redact_secrets_leaves_ordinary_text_alone() -> None:
    text = "$JS.API.STREAM.INFO.ORDERS ok 1.2 ms (312 bytes) SUBJECT_NAME"
    assert redact_secrets(text, known=("ab",)) == text
