"""Start-up: spawn to first useful frame, and `--help`, each against the fastest honest reference.

Installs jstui the way a user gets it: a wheel of this checkout built once and installed into a
temporary venv (bytecode compiled by the install). Its dependencies are those of the interpreter
running this script, seen through a `.pth` file, so both sides run the same Textual, nats-py and
nats-server (`--venv DIR` reuses an install made by an earlier run and kept with `--keep`).

Then, alternating reference and jstui rounds (A B A B ..., `--rounds` of each):

- spawn in a pseudo-terminal of 160x45 → the screen shows "connected": `jstui` (embedded server,
  no options) against a minimal Textual app that shows one `Static` reading "connected" (the time
  to its text on screen). Both are stopped with SIGTERM after each round. jstui builds its grid's
  panes after its first frame, so the same rounds also time, without a target, the full dashboard:
  `FULL_NEEDLE`, the last grid pane's text, on screen.
- `--help` to its exit: `jstui --help` against a bare click program's `--help`.

The screen is read by feeding the terminal output to `pyte` when it is installed, else by looking
for the text in the byte stream. Figures are medians of the alternated rounds; the ratios are
median jstui / median reference. Targets (issue #11): spawn ≤ 1.5x, `--help` ≤ 2x; the script
exits 1 when one is missed. Prints one line. Run: python benchmarks/startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import tempfile
import termios
import time
from pathlib import Path
from statistics import median

from progress import log

ROOT = Path(__file__).resolve().parent.parent
COLUMNS, ROWS = 160, 45
NEEDLE = "connected"
FULL_NEEDLE = "No worker pool yet"
"""The Workers pane's text: the fourth grid pane, built last, is drawn."""
SPAWN_TARGET = 1.5
HELP_TARGET = 2.0
TIMEOUT = 30.0

REFERENCE_APP = """
from textual.app import App
from textual.widgets import Static


class Reference(App[None]):
    def compose(self):
        yield Static("connected")


Reference().run()
"""

REFERENCE_CLICK = '''
import click


@click.command()
@click.option("--server", help="NATS server to connect to.")
def main(server):
    """A bare click program."""


main()
'''


def install(venv: Path) -> Path:
    """Build a wheel of this checkout and install it into a new venv at `venv`; its python."""
    log(f"building the wheel and installing it into {venv}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix="jstui-wheel-") as wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, str(ROOT)],
            check=True,
        )
        (wheel,) = Path(wheels).glob("jstui-*.whl")
        # pip compiles the installed modules to bytecode (its default)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--no-deps", "--compile", str(wheel)],
            check=True,
        )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # the dependencies of the running interpreter, after the venv's own packages
    (site / "zz_bench_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    server = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    if server:
        (venv / "bin" / "nats-server").symlink_to(server)
    return python


def check_install(python: Path) -> None:
    """The jstui that runs is the wheel's, with its bytecode, not this checkout."""
    where = subprocess.run(
        [str(python), "-c", "import jstui.cli; print(jstui.cli.__file__, jstui.cli.__cached__)"],
        cwd=python.parent,  # not this checkout, which `python -c` would put first on sys.path
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    module, cached = Path(where[0]), Path(where[1])
    if not module.is_relative_to(python.parent.parent) or not cached.exists():
        raise SystemExit(f"jstui is not the installed wheel, or not compiled: {where}")


def _pty_child(slave: int) -> None:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat), its children left out."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def until_on_screen(argv: list[str], *needles: str, cwd: Path) -> tuple[list[float], float]:
    """Seconds from spawning `argv` in a 160x45 pty to each of `needles` on its screen, and the
    CPU time the process used until the first showed (less noisy on a busy machine); then
    SIGTERM once all showed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("TEXTUAL", None)
    screen = Screen()
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=env,
        preexec_fn=lambda: _pty_child(slave),
        close_fds=True,
    )
    os.close(slave)
    seen: dict[str, float] = {}
    cpu = 0.0
    try:
        while len(seen) < len(needles):
            if time.perf_counter() - started > TIMEOUT:
                missing = [needle for needle in needles if needle not in seen]
                raise SystemExit(f"{argv[0]}: {missing} not on screen after {TIMEOUT:.0f} s")
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                raise SystemExit(f"{argv[0]} exited before showing {needles!r}") from None
            screen.feed(chunk)
            for needle in needles:
                if needle not in seen and screen.shows(needle):
                    seen[needle] = time.perf_counter() - started
                    if needle == needles[0]:
                        cpu = cpu_seconds(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:  # keep the pty drained while it exits
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    return [seen[needle] for needle in needles], cpu


class Screen:
    """What a terminal shows: `pyte` when it is installed, else the bytes received so far."""

    def __init__(self) -> None:
        try:
            import pyte
        except ImportError:
            self._pyte = None
            self._received = b""
            return
        self._pyte = pyte.Screen(COLUMNS, ROWS)
        self._stream = pyte.ByteStream(self._pyte)

    def feed(self, chunk: bytes) -> None:
        if self._pyte is None:
            self._received += chunk
        else:
            self._stream.feed(chunk)

    def shows(self, needle: str) -> bool:
        if self._pyte is None:
            return needle.encode() in self._received
        return any(needle in line for line in self._pyte.display)


def help_time(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each side (≥ 5)")
    parser.add_argument("--help-rounds", type=int, default=15, help="--help rounds of each side")
    parser.add_argument("--venv", type=Path, help="reuse this venv (made with --keep)")
    parser.add_argument("--keep", type=Path, help="install into this folder and keep it")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jstui-startup-"))
    try:
        if options.venv:
            python = options.venv / "bin" / "python"
        else:
            python = install(options.keep or work / "venv")
        check_install(python)
        jstui = python.parent / "jstui"
        (work / "reference_app.py").write_text(REFERENCE_APP)
        (work / "reference_click.py").write_text(REFERENCE_CLICK)
        reference_app = [str(python), str(work / "reference_app.py")]
        reference_click = [str(python), str(work / "reference_click.py"), "--help"]
        # one unmeasured round of each, so that the first measured one finds warm caches
        until_on_screen(reference_app, NEEDLE, cwd=work)
        until_on_screen([str(jstui)], NEEDLE, cwd=work)
        spawn: dict[str, list[float]] = {"reference": [], "jstui": []}
        full: list[float] = []
        cpu: dict[str, list[float]] = {"reference": [], "jstui": []}
        for round_number in range(1, options.rounds + 1):
            (seconds,), cpu_used = until_on_screen(reference_app, NEEDLE, cwd=work)
            spawn["reference"].append(seconds)
            cpu["reference"].append(cpu_used)
            (seconds, full_seconds), cpu_used = until_on_screen(
                [str(jstui)], NEEDLE, FULL_NEEDLE, cwd=work
            )
            spawn["jstui"].append(seconds)
            cpu["jstui"].append(cpu_used)
            full.append(full_seconds)
            log(
                f"spawn round {round_number}: reference {spawn['reference'][-1] * 1000:.0f} ms "
                f"(CPU {cpu['reference'][-1] * 1000:.0f}), jstui {spawn['jstui'][-1] * 1000:.0f} "
                f"ms (CPU {cpu['jstui'][-1] * 1000:.0f}), full dashboard {full[-1] * 1000:.0f} ms"
            )
        helps: dict[str, list[float]] = {"reference": [], "jstui": []}
        for _ in range(options.help_rounds):
            helps["reference"].append(help_time(reference_click, work))
            helps["jstui"].append(help_time([str(jstui), "--help"], work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    spawn_ratio = median(spawn["jstui"]) / median(spawn["reference"])
    cpu_ratio = median(cpu["jstui"]) / median(cpu["reference"])
    help_ratio = median(helps["jstui"]) / median(helps["reference"])
    screen = "pyte" if Screen()._pyte is not None else "byte stream"
    print(
        f"spawn→'{NEEDLE}' 160x45 (medians of {options.rounds} alternated rounds, {screen}): "
        f"Textual one-Static app {median(spawn['reference']) * 1000:.0f} ms, "
        f"jstui {median(spawn['jstui']) * 1000:.0f} ms, ratio {spawn_ratio:.2f} "
        f"(target ≤ {SPAWN_TARGET}; CPU until then {median(cpu['reference']) * 1000:.0f} / "
        f"{median(cpu['jstui']) * 1000:.0f} ms, ratio {cpu_ratio:.2f}); "
        f"jstui's full dashboard {median(full) * 1000:.0f} ms (no target); "
        f"--help ({options.help_rounds} rounds): bare click "
        f"{median(helps['reference']) * 1000:.0f} ms, "
        f"jstui {median(helps['jstui']) * 1000:.0f} ms, "
        f"ratio {help_ratio:.2f} (target ≤ {HELP_TARGET}); load {os.getloadavg()[0]:.1f}"
    )
    if spawn_ratio > SPAWN_TARGET or help_ratio > HELP_TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
