"""An external core responder, as any nats-py program would write it: subscribe and msg.respond.

Usage: external_responder.py --server URL --subject SUBJECT [--name NAME]
Replies ``<name> got: <payload>``; prints ``ready`` once subscribed; runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import nats
from nats.aio.msg import Msg


async def main(server: str, subject: str, name: str) -> None:
    nc = await nats.connect(server)

    async def handler(msg: Msg) -> None:
        await msg.respond(f"{name} got: ".encode() + msg.data)

    await nc.subscribe(subject, cb=handler)
    await nc.flush()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await nc.drain()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--name", default="external")
    args = parser.parse_args()
    asyncio.run(main(args.server, args.subject, args.name))
