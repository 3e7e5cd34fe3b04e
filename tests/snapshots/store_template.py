"""The snapshot server's starting store: the tutorial's stream, made once by a real nats-server.

A stream's created time is set by the server and shown by the Streams pane, so it cannot come from
the app's clocks. The server keeps it in the stream's `meta.inf` (guarded by a checksum in
`meta.sum`) and takes it from there when it starts on an existing store. So the tests start each
server on a copy of `store/`, which this module wrote once, and every picture shows the same
created time. Regenerate it (and then the pictures) only when the stream must change:

    python -m tests.snapshots.store_template
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import nats
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from jstui.nats.embedded import EmbeddedServer

STORE_TEMPLATE = Path(__file__).parent / "store"
STREAM = "example_stream"
SUBJECTS = "my.subject.*"
TUTORIAL_STREAM = StreamConfig(
    name=STREAM,
    subjects=[SUBJECTS],
    retention=RetentionPolicy.LIMITS,
    storage=StorageType.FILE,
    max_age=3600.0,  # the tutorial's 9s would expire messages while a slow machine draws them
    max_msgs=1000,
    max_bytes=10 * 1024 * 1024,
)


async def _create(url: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jsm().add_stream(TUTORIAL_STREAM)
    finally:
        await nc.drain()


def write_template(target: Path = STORE_TEMPLATE) -> None:
    """Replace `target` with the store of a server that created the tutorial's stream, empty."""
    with tempfile.TemporaryDirectory(prefix="jstui-template-") as work:
        store = Path(work) / "store"
        server = EmbeddedServer(store_dir=store, server_name="jstui-snapshots").start()
        try:
            asyncio.run(_create(server.url))
        finally:
            server.stop()
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(store, target)


if __name__ == "__main__":
    write_template()
    print(f"wrote {STORE_TEMPLATE}")
