"""External queue-group workers: a separate nats-py program, as a user would run one.

    python workers_external.py URL MODE SUBJECT QUEUE COUNT

MODE is ``core`` (N ``nc.subscribe(subject, queue=QUEUE)``) or ``group`` (N
``js.subscribe(subject, queue=QUEUE)``, explicit acks: they join jstui's deliver group, since
nats-py uses the queue name as the durable name). Prints ``ready`` once subscribed, then runs until
its standard input closes, and prints the messages each worker handled.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import nats
from nats.aio.msg import Msg


async def main() -> None:
    url, mode, subject, queue, count = sys.argv[1:6]
    nc = await nats.connect(url, name="external-workers")
    js = nc.jetstream()
    counts = [0] * int(count)

    def worker(index: int) -> Callable[[Msg], Awaitable[None]]:
        async def handle(msg: Msg) -> None:
            counts[index] += 1
            if mode == "group":
                await msg.ack()

        return handle

    for index in range(len(counts)):
        if mode == "core":
            await nc.subscribe(subject, queue=queue, cb=worker(index))
        else:
            await js.subscribe(subject, queue=queue, cb=worker(index), manual_ack=True)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(" ".join(str(n) for n in counts), flush=True)
    await nc.drain()


if __name__ == "__main__":
    asyncio.run(main())
