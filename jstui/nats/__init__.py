"""The NATS service layer: asyncio and nats-py only, never Textual.

nats-py's transport module imports aiohttp at its own import whenever aiohttp is installed, for its
WebSocket transport alone (``ws://`` and ``wss://`` servers). `jstui serve` brings aiohttp in
(textual-serve needs it), and every start of jstui then paid for importing it: a sixth of the
start-up. So when nats-py's transport module is imported, aiohttp is hidden from it (an import
hook, placed here because every import of nats-py in jstui passes through this package first,
and costing nothing until then), and `prepare_websocket(servers)`, called before each connect,
hands aiohttp over when a server is a WebSocket one.

nats-py's client module also imports its JetStream package (``nats.js``: the API's ~60
dataclasses, an email parser for headers) at its own import, although a core connection never
uses it: a third of nats-py's import, ~25 ms before the first frame could say "connected". A
second hook gives that package a lazy loader (`importlib.util.LazyLoader`): the module exists at
once and its body runs on first use, when the session makes its JetStream context, a status
header is read or one of its submodules is imported, after that frame. In that last case the
body, reading its ``__path__``, imports that very submodule, which importlib, having looked for it
in ``sys.modules`` before, would run a second time (two copies of its exception classes): the
hook hands importlib the module the body imported instead.

And nats-py's client module asks `importlib.metadata` for its own version at its import (the
version it sends the server at connect): ~20 ms of imports and a parse of its ``METADATA`` before
the first frame. A third hook runs that module with `importlib.metadata` hidden (it then says
"0.0.0") and sets the version from the name of nats-py's ``.dist-info`` directory, which an
installed wheel names ``nats_py-<version>.dist-info``; anything else asks `importlib.metadata`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import LazyLoader
from pathlib import Path
from types import ModuleType
from typing import Any

_TRANSPORT = "nats.aio.transport"
_CLIENT = "nats.aio.client"
_JETSTREAM = "nats.js"
_DISTRIBUTION = "nats_py"


class _RunWithout(MetaPathFinder, Loader):
    """A meta path finder for one of nats-py's modules alone (`name`): its loader runs the module
    with ``sys.modules[hidden] = None`` (an import of `hidden` then fails as if not installed),
    then calls `after(module)`. Nothing changes if `hidden` is imported already."""

    def __init__(
        self, name: str, hidden: str, after: Callable[[ModuleType], None] | None = None
    ) -> None:
        self.name = name
        self.hidden = hidden
        self.after = after
        self.loader: Loader | None = None

    def find_spec(
        self, name: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != self.name:
            return None
        sys.meta_path.remove(self)  # once, and not for the look-up just below
        if self.hidden in sys.modules:
            return None  # imported already (a test run, `jstui serve`): nothing to save
        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            self.loader = spec.loader
            spec.loader = self
        return spec

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        assert self.loader is not None
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        assert self.loader is not None
        sys.modules[self.hidden] = None  # type: ignore[assignment]
        try:
            self.loader.exec_module(module)
        finally:
            del sys.modules[self.hidden]
        if self.after is not None:
            self.after(module)


def _set_installed_version(client: ModuleType) -> None:
    setattr(client, "__version__", _installed_version(client))  # noqa: B010 (a module)


def _installed_version(client: ModuleType) -> str:
    """nats-py's version from its wheel's ``.dist-info`` directory beside the ``nats`` package
    (`client` is ``nats.aio.client``), else as importlib.metadata tells it."""
    site = Path(client.__file__ or "").resolve().parents[2]
    prefix = f"{_DISTRIBUTION}-"
    with contextlib.suppress(OSError):
        found = [
            entry.name[len(prefix) : -len(".dist-info")]
            for entry in os.scandir(site)
            if entry.name.lower().startswith(prefix) and entry.name.endswith(".dist-info")
        ]
        if len(found) == 1:
            return found[0]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nats-py")
    except PackageNotFoundError:
        return "0.0.0"  # (what nats-py itself says then)


def prepare_websocket(servers: Iterable[str]) -> None:
    """Give nats-py its WebSocket transport's aiohttp when one of `servers` needs it (if aiohttp
    is not installed at all, nats-py's own error says so at connect)."""
    if not any(url.lower().startswith(("ws://", "wss://")) for url in servers):
        return
    import nats.aio.transport as transport

    if transport.aiohttp is None:
        try:
            import aiohttp
        except ImportError:
            return
        transport.aiohttp = aiohttp


class _JetStreamOnFirstUse(MetaPathFinder):
    """A meta path finder for nats-py's JetStream package and its submodules: the package gets a
    lazy loader; once its body has run, the submodule import that made it run (if one did) gets
    the module the body imported, and the finder leaves the meta path."""

    def __init__(self) -> None:
        self.package_ran = False

    def find_spec(
        self, name: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == _JETSTREAM:
            spec = PathFinder.find_spec(name, path)
            if spec is not None and spec.loader is not None:
                spec.loader = LazyLoader(_NoteRun(spec.loader, self))
            return spec
        if not name.startswith(f"{_JETSTREAM}.") or not self.package_ran:
            return None  # (the body's own imports, while it runs: as usual)
        sys.meta_path.remove(self)
        imported = sys.modules.get(name)
        if imported is None or target is not None:  # (not imported by the body; a reload)
            return None
        return ModuleSpec(name, _Imported(imported))


class _NoteRun(Loader):
    """The package's own loader, telling the finder once the package's body has run."""

    def __init__(self, loader: Loader, finder: _JetStreamOnFirstUse) -> None:
        self.loader = loader
        self.finder = finder

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.finder.package_ran = True


class _Imported(Loader):
    """Hands importlib a module that is imported already, untouched."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec  # (importlib set it to the spec that brought it here)


if _CLIENT not in sys.modules:
    sys.meta_path.insert(0, _RunWithout(_CLIENT, "importlib.metadata", _set_installed_version))
if _TRANSPORT not in sys.modules:
    sys.meta_path.insert(0, _RunWithout(_TRANSPORT, "aiohttp"))
if _JETSTREAM not in sys.modules:
    sys.meta_path.insert(0, _JetStreamOnFirstUse())
