"""What the benchmark scripts share and that imports neither nats nor Textual (start-up measures
those imports): the progress line on stderr. Each script's one line of figures goes to stdout."""

from __future__ import annotations

import sys
import time


def log(text: str) -> None:
    """Progress on stderr; the one line of figures goes to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)
