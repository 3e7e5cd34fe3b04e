"""An external core requester, written with plain nats-py: one ``nc.request``.

Usage: core_requester.py --server URL --subject SUBJECT [--payload TEXT] [--timeout SECONDS]
Prints the reply's payload (exit 0), or ``no responders`` / ``timeout`` (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import nats
import nats.errors


async def main(server: str, subject: str, payload: str, timeout: float) -> int:
    nc = await nats.connect(server)
    try:
        msg = await nc.request(subject, payload.encode(), timeout=timeout)
    except nats.errors.NoRespondersError:
        print("no responders", flush=True)
        return 1
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
