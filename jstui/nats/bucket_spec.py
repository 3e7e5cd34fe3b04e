"""What a key-value bucket's and an object store's create forms share: `BucketSpecBase`, the form
as typed (name, description, TTL, max bytes, storage, replicas, compression), its checks and the
part of the backing stream's config both kinds of bucket ask for; and the name rules of a bucket
and of the stream behind it (`bucket_of`, `bucket_name_problem_for`).

Data flow: the form builds a spec (`BucketSpec` in jstui/nats/kv/model.py, `StoreSpec` in
jstui/nats/objects/model.py), `validate` says what is wrong field by field (the subclass adds its
own fields' checks in `_own_problems` and its size fields in `SIZE_FIELDS`), and `stream_config`
is what the subclass's `wire_config` starts from. Pure values and functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from jstui.format.text import quote_input
from jstui.format.units import duration_ns, parse_count, parse_size

__all__ = [
    "COMPRESSION_CHOICES",
    "STORAGE_CHOICES",
    "BucketSpecBase",
    "bucket_name_problem_for",
    "bucket_of",
]

STORAGE_CHOICES = ("file", "memory")
COMPRESSION_CHOICES = ("none", "s2")
MAX_STREAM_NAME = 255

_BUCKET_NAME = re.compile(r"[a-zA-Z0-9_-]+")


def bucket_of(stream: str, prefix: str) -> str | None:
    """The bucket `stream` backs (`KV_config` -> `config` for the prefix `KV_`), or None for any
    other stream."""
    if stream.startswith(prefix) and len(stream) > len(prefix):
        return stream[len(prefix) :]
    return None


def bucket_name_problem_for(name: str, prefix: str) -> str | None:
    """Why `name` cannot name a bucket stored in the stream `<prefix><name>` (letters, digits,
    "-" and "_", as every client checks, and a stream name the server takes)."""
    if not name:
        return "a bucket needs a name"
    if not _BUCKET_NAME.fullmatch(name):
        return f"{quote_input(name)}: only letters, digits, '-' and '_'"
    if len(name) > MAX_STREAM_NAME - len(prefix):
        return f"at most {MAX_STREAM_NAME - len(prefix)} characters"
    return None


@dataclass(frozen=True)
class BucketSpecBase:
    """The fields both create forms have, as typed; `validate` says what is wrong, field by
    field."""

    STREAM_PREFIX: ClassVar[str] = ""
    SIZE_FIELDS: ClassVar[tuple[str, ...]] = ("max_bytes",)
    """The fields holding a size ("10MiB"), checked by `parse_size`."""

    name: str = ""
    description: str = ""
    ttl: str = ""
    max_bytes: str = ""
    storage: str = "file"
    replicas: str = "1"
    compression: str = "none"

    def _own_problems(self) -> dict[str, str]:
        """The subclass's own fields' problems (checked after the name)."""
        return {}

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if problem := bucket_name_problem_for(self.name, self.STREAM_PREFIX):
            errors["name"] = problem
        errors.update(self._own_problems())
        parsers = (("ttl", duration_ns), *((key, parse_size) for key in self.SIZE_FIELDS))
        for key, parse in parsers:
            try:
                parse(getattr(self, key))
            except ValueError as error:
                errors[key] = str(error)
        try:
            replicas = parse_count(self.replicas) or 1
            if not 1 <= replicas <= 5:
                errors["replicas"] = "from 1 to 5"
        except ValueError as error:
            errors["replicas"] = str(error)
        if self.storage not in STORAGE_CHOICES:
            errors["storage"] = "file or memory"
        if self.compression not in COMPRESSION_CHOICES:
            errors["compression"] = "none or s2"
        return errors

    def stream_config(self, subjects: list[str]) -> dict[str, Any]:
        """The backing stream's config on `subjects`, as far as both kinds of bucket agree (call
        `validate` first: this raises `ValueError` on what it reports)."""
        config: dict[str, Any] = {
            "name": self.STREAM_PREFIX + self.name,
            "subjects": subjects,
            "retention": "limits",
            "max_consumers": -1,
            "max_msgs": -1,
            "max_bytes": parse_size(self.max_bytes) or -1,
            "max_age": duration_ns(self.ttl) or 0,
            "max_msg_size": -1,
            "storage": self.storage,
            "num_replicas": parse_count(self.replicas) or 1,
            "discard": "new",
            "allow_rollup_hdrs": True,
            "allow_direct": True,
            "compression": self.compression,
        }
        if self.description:
            config["description"] = self.description
        return config
