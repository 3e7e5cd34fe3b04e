"""Direct delivery against nats-py's callback subscription: a bare subscriber's ceiling, both ways.

One embedded nats-server; the publisher runs in a process of its own (`feed_ingest.py --publish`,
an unpaced flood); the subscriber runs here, alternating between a callback subscription and
`jstui.nats.direct.subscribe_direct`, each only counting messages. Rate = messages / (time of the
last - time of the first). Prints the median of each and their ratio, per payload size.

Run: /work/venv/bin/python benchmarks/direct_delivery.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import nats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import feed_ingest  # noqa: E402  (the publisher and helpers of the feed benchmark)

from jstui.nats.direct import is_direct, subscribe_direct  # noqa: E402
from jstui.nats.embedded import EmbeddedServer  # noqa: E402

FLOOD_SECONDS = 3.0


async def flood_rate(url: str, size: int, direct: bool) -> float:
    nc = await nats.connect(url)
    counts = {"n": 0, "first": 0.0, "last": 0.0}

    def count(msg: Any) -> None:
        now = time.time()
        if not counts["n"]:
            counts["first"] = now
        counts["n"] += 1
        counts["last"] = now

    async def callback(msg: Any) -> None:
        count(msg)

    if direct:
        sub = await subscribe_direct(
            nc, feed_ingest.SUBJECT, count, pending_msgs_limit=0, pending_bytes_limit=0
        )
        assert is_direct(sub)
    else:
        await nc.subscribe(feed_ingest.SUBJECT, cb=callback)
    await nc.flush()
    await feed_ingest.run_publisher(url, size, 0, FLOOD_SECONDS)
    seen = -1
    while seen != counts["n"]:
        seen = counts["n"]
        await asyncio.sleep(feed_ingest.QUIET)
    await nc.close()
    return counts["n"] / max(1e-6, counts["last"] - counts["first"])


async def bench(rounds: int) -> str:
    server = EmbeddedServer()
    server.start()
    parts = []
    try:
        for size in (16, 1024):
            rates: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(rounds):
                for direct in (False, True):
                    rates[direct].append(await flood_rate(server.url, size, direct))
            callback, direct = feed_ingest.median(rates[False]), feed_ingest.median(rates[True])
            parts.append(
                f"{size} B: callback={callback:,.0f}/s direct={direct:,.0f}/s "
                f"ratio={direct / callback:.2f}"
            )
    finally:
        server.stop()
    return " | ".join(parts) + f" (medians of {rounds})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(asyncio.run(bench(max(1, args.rounds))), flush=True)


if __name__ == "__main__":
    main()
