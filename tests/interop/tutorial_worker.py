"""The tutorial's JetStream worker, as a user would run it: a plain nats-py program.

    python tutorial_worker.py URL SUBJECT QUEUE

Like the tutorial: one connection for JetStream (`js.subscribe(SUBJECT, queue=QUEUE)`, so nats-py
looks the durable consumer QUEUE up and creates it when missing, with its own inbox as the deliver
subject) plus a second connection (the tutorial publishes its results on it). Acks each task.
Prints ``ready`` once subscribed, then runs until its standard input closes, and prints how many
tasks it handled. No connection name: a watcher must label it by address and client library.
"""

from __future__ import annotations

import asyncio
import sys

import nats
from nats.aio.msg import Msg


async def main() -> None:
    url, subject, queue = sys.argv[1:4]
    nc = await nats.connect(url)
    results = await nats.connect(url)
    js = nc.jetstream()
    handled = 0

    async def work(msg: Msg) -> None:
        nonlocal handled
        handled += 1
        await results.publish(f"results.{queue}", msg.data)
        await msg.ack()

    await js.subscribe(subject, queue=queue, cb=work, manual_ack=True)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(handled, flush=True)
    await nc.drain()
    await results.drain()


if __name__ == "__main__":
    asyncio.run(main())
