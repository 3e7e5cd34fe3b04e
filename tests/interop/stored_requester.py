"""The tutorial's stored-request publisher, written with plain nats-py.

Subscribes to a fresh inbox, publishes the request into the stream through JetStream with a
``reply-to: <inbox>`` header, then prints the first reply (exit 0) or ``timeout`` (exit 1).

Usage: stored_requester.py --server URL --subject SUBJECT [--payload TEXT] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import nats
import nats.errors


async def main(server: str, subject: str, payload: str, timeout: float) -> int:
    nc = await nats.connect(server)
    js = nc.jetstream()
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    ack = await js.publish(subject, payload.encode(), headers={"reply-to": inbox})
    print(f"stored in {ack.stream} #{ack.seq}", file=sys.stderr)
    try:
        msg = await sub.next_msg(timeout=timeout)
    except nats.errors.TimeoutError:
        print("timeout", flush=True)
        return 1
    finally:
        await nc.drain()
    print(msg.data.decode(), flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--payload", default="Hello, Consumers!")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.server, args.subject, args.payload, args.timeout)))
