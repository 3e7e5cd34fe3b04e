"""A nats-server with JetStream that wants user `u` and password `s3cret`, for the secret tests.

`EmbeddedServer` cannot set a user, so this writes a config file (as tests/config/test_connect.py
does) and yields the port; the tests build URLs with the right or a wrong password inside.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.config.test_connect import running_server

USER = "u"
PASSWORD = "s3cret"
WRONG_PASSWORD = "n0tIt9"
SECRETS = (PASSWORD, WRONG_PASSWORD)


@contextlib.contextmanager
def password_server(folder: Path) -> Iterator[int]:
    """Start the server in `folder` (its store goes there too); yield its port."""
    store = folder / "js"
    config = (
        f"jetstream {{ store_dir: {str(store)!r} }}\n"
        f"authorization {{ user: {USER}, password: {PASSWORD} }}\n"
    )
    with running_server(folder, config=config) as url:
        yield int(url.rsplit(":", 1)[1])


def url_with(password: str, port: int) -> str:
    return f"nats://{USER}:{password}@127.0.0.1:{port}"
