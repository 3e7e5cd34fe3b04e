"""Small plain nats-py programs jstui must interoperate with; tests run them as subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 30.0
"""Generous: a Python start with nats-py imported takes ~0.5 s, much more on a loaded machine."""


@contextlib.asynccontextmanager
async def running(program: str, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run `program` (a file here) until the block ends; enter once it printed ``ready``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / program),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        if line.strip() != b"ready":
            assert process.stderr is not None
            error = await process.stderr.read()
            raise AssertionError(f"{program} did not start: {line!r} {error.decode()[-2000:]}")
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def run(program: str, *args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """Run `program` to its end; returns its exit status, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / program),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode(), err.decode()
