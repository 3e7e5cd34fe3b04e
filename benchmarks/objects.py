"""Object stores: memory while a large object is put and got, and how long each takes.

    /work/main/.venv/bin/python benchmarks/objects.py [--mb N]

One embedded nats-server (file storage in a temporary directory), jstui's own `Session` and
`ObjectService`, as the Object stores pane uses them. A file of N MiB (200) of incompressible
bytes is put into a bucket (nats-py's put with jstui's counting reader), then got back into
another file (jstui's chunk loop), digest checked both ways. Around each the process's peak RSS is
reset (`/proc/self/clear_refs`, 5) and read back (`VmHWM`): the growth over the RSS before it is
what the transfer needed at its worst. Target: under 64 MiB each, for an object of 200 MiB, so an
object is never held whole. The server's memory is its own process's and not counted.

Prints one line; exits 1 when a target is missed (or a digest does not match).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jstui.nats.embedded import EmbeddedServer  # noqa: E402
from jstui.nats.objects.model import StoreSpec  # noqa: E402
from jstui.nats.objects.service import ObjectService  # noqa: E402
from jstui.nats.objects.transfer import Transfer  # noqa: E402
from jstui.nats.session import Session  # noqa: E402

TARGET_MB = 64.0
BUCKET = "bench"
MIB = 1024 * 1024


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> int:
    """Reset the peak RSS to the current RSS; returns the current RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status_kib("VmRSS")


def peak_growth_mb(before_kib: int) -> float:
    return (_status_kib("VmHWM") - before_kib) / 1024


def write_source(path: Path, mib: int) -> None:
    with open(path, "wb") as file:
        for _ in range(mib):
            file.write(os.urandom(MIB))


async def measure(url: str, source: Path, target: Path) -> dict[str, float | bool]:
    async with Session([url]) as session:
        service = ObjectService(session)
        await service.create_bucket(StoreSpec(name=BUCKET))
        size = source.stat().st_size
        put = Transfer(total=size)
        before = reset_peak()
        started = time.monotonic()
        entry = await service.put_file(BUCKET, source, source.name, "benchmark", put)
        put_seconds = time.monotonic() - started
        put_growth = peak_growth_mb(before)
        got = Transfer(total=0)
        before = reset_peak()
        started = time.monotonic()
        await service.get_file(entry, target, got)
        get_seconds = time.monotonic() - started
        get_growth = peak_growth_mb(before)
        return {
            "put_mb": put_growth,
            "put_s": put_seconds,
            "get_mb": get_growth,
            "get_s": get_seconds,
            "verified": bool(put.verified and got.verified and target.stat().st_size == size),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="object size in MiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        source, target = Path(work, "source.bin"), Path(work, "target.bin")
        write_source(source, args.mb)
        server = EmbeddedServer(store_dir=Path(work, "store"), server_name="bench-objects")
        server.start()
        try:
            r = asyncio.run(measure(server.url, source, target))
        finally:
            server.stop()
    ok = bool(r["verified"]) and r["put_mb"] < TARGET_MB and r["get_mb"] < TARGET_MB
    load = os.getloadavg()[0]
    print(
        f"objects: {args.mb} MiB put: peak RSS +{r['put_mb']:.1f} MiB in {r['put_s']:.1f} s "
        f"({args.mb / r['put_s']:.0f} MiB/s), get: +{r['get_mb']:.1f} MiB in {r['get_s']:.1f} s "
        f"({args.mb / r['get_s']:.0f} MiB/s), digests {'match' if r['verified'] else 'DIFFER'} "
        f"(target < {TARGET_MB:.0f} MiB each), load {load:.1f} {'OK' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
