"""Secrets masked out of text before it is shown, written to stderr or logged.

`redact_url` masks the user info of every URL in a text, the way nats-server and Go's
`url.Redacted` do (`nats://u:s3cret@host` becomes `nats://u:xxxxx@host`), with one difference: user
info without a password is a token to NATS, so it is masked whole (`nats://xxxxx@host`). It takes
one URL, a comma-separated list, or any text that contains URLs (an error message of nats-py or
of jstui), so every place that shows a server URL calls this one function.

`redact_secrets` is the log's last line of defence: URLs as above, plus anything shaped like an
nkey seed or a JWT, plus the literal secret values it is handed (passwords, tokens).

Data flow: the real URLs go only to nats-py (`Session.servers`); everything the session publishes
or raises, and every log record, passes through here first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "xxxxx"

MIN_LITERAL_SECRET = 3
"""Literal secrets shorter than this are not masked in logs: masking every "a" of a one-letter
password would make the log unreadable, and such a password protects nothing."""

# A scheme, "://", then the user info: everything up to the last "@" before a character that
# ends a URL in running text (space, comma between URLs, quote, angle bracket). Greedy, so an
# unescaped "@" inside a password is masked with the rest of it.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s,'\"<>]*)@")

# nkey seeds: "S", the key type, then base32 (58 characters in all); JWTs: three base64url parts.
_SEED = re.compile(r"\bS[UACNOPX][A-Z2-7]{56}\b")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match["userinfo"]
    user, colon, _password = userinfo.partition(":")
    masked = f"{user}:{MASK}" if colon else MASK
    return f"{match['scheme']}{masked}@"


def redact_url(text: str) -> str:
    """`text` with the user info of every URL in it masked (see the module docstring)."""
    if "@" not in text:
        return text
    return _USERINFO.sub(_mask_userinfo, text)


def redact_secrets(text: str, known: Iterable[str] = ()) -> str:
    """`text` with URL user info, nkey seeds, JWTs and the `known` literal secrets masked."""
    text = _JWT.sub(MASK, _SEED.sub(MASK, redact_url(text)))
    # Longest first, so a secret that contains a shorter one is masked whole.
    for secret in sorted(set(known), key=len, reverse=True):
        if len(secret) >= MIN_LITERAL_SECRET:
            text = text.replace(secret, MASK)
    return text
