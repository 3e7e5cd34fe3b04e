"""Run every benchmark one after another and say which targets were missed.

Each script in this folder prints its figures in one line and exits non-zero when it misses a
target of its own; this runner starts them one at a time (never two at once: they would measure
each other), prints each script's line as it comes, then one summary line. Exit status 1 when any
script missed a target or failed.

    python benchmarks/all.py                 # every benchmark, in the order below
    python benchmarks/all.py streams idle    # only these (names without .py)

Run it twice in a row on a quiet machine to quote figures: the README's performance section asks
for two consecutive runs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

ORDER = (
    "startup",
    "demo_start",
    "idle",
    "streams",
    "consumers",
    "kv",
    "objects",
    "feed_ingest",
    "direct_delivery",
    "js_feed",
    "request",
    "workers",
    "observe",
)
"""Quick, quiet measurements first; floods last but two, so their after-effects hit no idle run."""


def run(name: str) -> tuple[int, str, float]:
    """Run one benchmark; its exit status, its last line of output, and how long it took."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    last = lines[-1] if lines else (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return done.returncode, last, time.monotonic() - started


def main(argv: list[str]) -> int:
    names = argv or list(ORDER)
    unknown = [name for name in names if not (HERE / f"{name}.py").is_file()]
    if unknown:
        print(f"no such benchmark: {', '.join(unknown)}", file=sys.stderr)
        return 2
    missed: list[str] = []
    for name in names:
        status, line, seconds = run(name)
        verdict = "ok" if status == 0 else f"MISSED (exit {status})"
        print(f"{name:16} {verdict:18} {seconds:5.0f} s  {line}", flush=True)
        if status != 0:
            missed.append(name)
    print(
        f"benchmarks: {len(names) - len(missed)} of {len(names)} met their targets"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
