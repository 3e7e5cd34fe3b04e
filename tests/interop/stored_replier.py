"""The tutorial's stored-request replier, written with plain nats-py.

A durable push consumer with manual ack on the stream: for each request it reads the ``reply-to``
header, publishes ``Response from <name> : <REQUEST IN UPPER CASE>`` to that inbox, then acks.

Usage: stored_replier.py --server URL --stream NAME --subject SUBJECT --durable NAME [--name NAME]
Prints ``ready`` once bound; runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import nats
from nats.aio.msg import Msg


async def main(server: str, stream: str, subject: str, durable: str, name: str) -> None:
    nc = await nats.connect(server)
    js = nc.jetstream()

    async def handler(msg: Msg) -> None:
        reply_to = (msg.headers or {}).get("reply-to")
        if reply_to:
            text = msg.data.decode().upper()
            await nc.publish(reply_to, f"Response from {name} : {text}".encode())
        await msg.ack()

    await js.subscribe(subject, durable=durable, stream=stream, cb=handler, manual_ack=True)
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
    parser.add_argument("--stream", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--durable", required=True)
    parser.add_argument("--name", default="replier")
    args = parser.parse_args()
    asyncio.run(main(args.server, args.stream, args.subject, args.durable, args.name))
