"""`jstui demo`: spawn to every pane showing live data, in a 160x45 pseudo-terminal.

Each round spawns `python -m jstui demo` from this checkout (embedded server, tutorial names) and
times, from the spawn, the screen showing:

- "connected" (the status line);
- "Message 1" (the Feeds pane: the publisher's first messages, read through the stream);
- "just now" (the Streams pane: the stream's last message, or a consumer's activity, just now);
- "jstui-demo-worker-" (the Workers pane: a member row of the watched deliver group);
- "first reply p50" (the Request/Reply pane's Watch tab: its counts line shows a latency only
  once a watched request was matched with its reply).

The screen is read as `benchmarks/startup.py` reads it (`until_on_screen`: pyte when installed,
else the byte stream). Figures are medians over `--rounds`; the target (issue #16) is every pane
live within 3 s of the command; the script exits 1 when it is missed. Prints one line.
Run: python benchmarks/demo_start.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from statistics import median

from progress import log
from startup import until_on_screen

ROOT = Path(__file__).resolve().parent.parent
TARGET = 3.0
NEEDLES = ("connected", "Message 1", "just now", "jstui-demo-worker-", "first reply p50")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    needles = NEEDLES
    argv = [sys.executable, "-m", "jstui", "demo"]
    connected: list[float] = []
    live: list[float] = []
    for round_number in range(1, args.rounds + 1):
        times, _cpu = until_on_screen(argv, *needles, cwd=ROOT)
        connected.append(times[0])
        live.append(max(times))
        shown = ", ".join(f"{n!r} {t:.2f} s" for n, t in zip(needles, times, strict=True))
        log(f"round {round_number}: {shown}")
    load = os.getloadavg()[0]
    all_live = median(live)
    print(
        f"demo start: connected {median(connected):.2f} s, every pane live {all_live:.2f} s "
        f"(median of {args.rounds}; target {TARGET:g} s; load {load:.1f})"
    )
    sys.exit(0 if all_live <= TARGET else 1)


if __name__ == "__main__":
    main()
