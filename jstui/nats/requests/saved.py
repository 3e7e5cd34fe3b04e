"""Saved requests: named `RequestSpec`s kept in a JSON file in the user's config directory.

The request form saves, loads and deletes them by name; `RequestSpec.to_json`/`from_json`
(spec.py) turn each into JSON and back. The file lives in `default_config_dir()` (`platformdirs`);
the directory is injectable for tests. No NATS here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from jstui.nats.errors import JstuiError, ValidationError
from jstui.nats.requests.spec import RequestSpec

__all__ = ["SavedRequests", "default_config_dir"]

_SAVED_NAME_MAX = 64


def default_config_dir() -> Path:
    """Where jstui keeps its files: the user's config directory (platformdirs)."""
    return Path(platformdirs.user_config_dir("jstui"))


class SavedRequests:
    """Named requests in ``<directory>/requests.json``; written atomically.

    A file that cannot be read or parsed is reported (`JstuiError` with its path) and never
    overwritten, so nothing the user saved is lost by a save that follows.
    """

    FILE_NAME = "requests.json"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_config_dir()

    @property
    def path(self) -> Path:
        return self.directory / self.FILE_NAME

    def load(self) -> dict[str, RequestSpec]:
        """Every saved request by name ({} when there is no file yet); skips unreadable entries."""
        raw = self._read()
        out: dict[str, RequestSpec] = {}
        for name, data in raw.items():
            if not isinstance(data, dict):
                continue
            with contextlib.suppress(ValueError, TypeError, ValidationError):
                out[name] = RequestSpec.from_json(data)
        return out

    def save(self, name: str, spec: RequestSpec) -> None:
        """Save (or replace) `spec` under `name`."""
        name = self.check_name(name)
        raw = self._read()
        raw[name] = spec.to_json()
        self._write(raw)

    def delete(self, name: str) -> bool:
        raw = self._read()
        if name not in raw:
            return False
        del raw[name]
        self._write(raw)
        return True

    @staticmethod
    def check_name(name: str) -> str:
        name = name.strip()
        if not name:
            raise ValidationError("name", "give the request a name to save it")
        if len(name) > _SAVED_NAME_MAX:
            raise ValidationError("name", f"at most {_SAVED_NAME_MAX} characters")
        if any(not c.isprintable() for c in name):
            raise ValidationError("name", "no control characters")
        return name

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise JstuiError(f"cannot read {self.path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise JstuiError(
                f"{self.path} is not valid JSON (line {exc.lineno}); fix or move it"
            ) from None
        requests = data.get("requests") if isinstance(data, dict) else None
        if not isinstance(requests, dict):
            raise JstuiError(f"{self.path} does not hold saved requests; fix or move it")
        return dict(requests)

    def _write(self, requests: dict[str, Any]) -> None:
        text = json.dumps({"version": 1, "requests": requests}, indent=2, ensure_ascii=False)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".requests-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise JstuiError(f"cannot save to {self.path}: {exc.strerror or exc}") from exc
