"""Shared helpers for the config tests: seeds, creds text, context files, and `resolve`."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nkeys

from jstui.config import Settings, resolve_settings

FAKE_JWT = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJVIn0.c2ln"


def new_seed(prefix: int = nkeys.PREFIX_BYTE_USER) -> str:
    return nkeys.encode_seed(os.urandom(32), prefix).decode()


def public_key(seed: str) -> str:
    return nkeys.from_seed(bytearray(seed.encode())).public_key.decode()


def creds_text(jwt: str, seed: str) -> str:
    return (
        "-----BEGIN NATS USER JWT-----\n"
        f"{jwt}\n"
        "------END NATS USER JWT------\n\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{seed}\n"
        "------END USER NKEY SEED------\n"
    )


def data_uri(text: str) -> str:
    return "data:;base64," + base64.b64encode(text.encode()).decode()


def write_context(config_home: Path, name: str, data: Mapping[str, Any] | str) -> Path:
    folder = config_home / "nats" / "context"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def select(config_home: Path, name: str) -> None:
    (config_home / "nats").mkdir(parents=True, exist_ok=True)
    (config_home / "nats" / "context.txt").write_text(name)


def resolve(config_home: Path, env: Mapping[str, str], **flags: Any) -> Settings:
    return resolve_settings(flags, environ=env, config_home=config_home)
