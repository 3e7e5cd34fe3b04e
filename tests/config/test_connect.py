"""Resolved settings against a real nats-server: every credential kind and TLS connect."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import nkeys
import pytest
from nats.aio.client import Client

from jstui.config import Settings
from jstui.nats.embedded import find_nats_server, free_port
from tests.config.helpers import (
    creds_text,
    data_uri,
    new_seed,
    public_key,
    resolve,
    select,
    write_context,
)

# --- against a real nats-server ----------------------------------------------------------------


@contextlib.contextmanager
def running_server(cwd: Path, *args: str, config: str | None = None) -> Iterator[str]:
    """A nats-server on a free loopback port with the given options; yields its URL."""
    port = free_port()
    command = [str(find_nats_server()), "-a", "127.0.0.1", "-p", str(port), *args]
    if config is not None:
        (cwd / "server.conf").write_text(config)
        command += ["-c", str(cwd / "server.conf")]
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"nats-server exited at start-up: {command}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("nats-server did not start listening")
                time.sleep(0.02)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def _quiet(_error: Exception) -> None:
    return None


async def connect(settings: Settings) -> Client:
    return await asyncio.wait_for(
        nats.connect(
            servers=list(settings.servers),
            allow_reconnect=False,
            connect_timeout=2,
            error_cb=_quiet,
            **settings.connect_options(),
        ),
        timeout=10,
    )


async def assert_round_trip(settings: Settings) -> None:
    nc = await connect(settings)
    try:
        sub = await nc.subscribe("cfg.test")
        await nc.publish("cfg.test", b"hi")
        msg = await sub.next_msg(timeout=2)
        assert msg.data == b"hi"
    finally:
        await nc.close()


async def test_user_password_connects(
    tmp_path: Path, config_home: Path, env: dict[str, str]
) -> None:
    with running_server(tmp_path, "--user", "alice", "--pass", "secret") as url:
        settings = resolve(config_home, env, server=url, user="alice", password="secret")
        await assert_round_trip(settings)
        wrong = resolve(config_home, env, server=url, user="alice", password="wrong")
        with pytest.raises(Exception, match=r"Authorization Violation"):
            await connect(wrong)


async def test_user_password_from_a_context_connects(
    tmp_path: Path, config_home: Path, env: dict[str, str]
) -> None:
    with running_server(tmp_path, "--user", "alice", "--pass", "secret") as url:
        write_context(config_home, "c", {"url": url, "user": "alice", "password": "env://ALICE_PW"})
        select(config_home, "c")
        await assert_round_trip(resolve(config_home, {**env, "ALICE_PW": "secret"}))


async def test_token_connects(tmp_path: Path, config_home: Path, env: dict[str, str]) -> None:
    with running_server(tmp_path, "--auth", "s3cr3t-token") as url:
        await assert_round_trip(resolve(config_home, env, server=url, token="s3cr3t-token"))
        with pytest.raises(Exception, match=r"Authorization Violation"):
            await connect(resolve(config_home, env, server=url, token="nope"))


async def test_nkey_connects(tmp_path: Path, config_home: Path, env: dict[str, str]) -> None:
    seed = new_seed()
    seed_file = tmp_path / "user.nk"
    seed_file.write_text(seed + "\n")
    config = f'authorization {{ users = [ {{ nkey: "{public_key(seed)}" }} ] }}\n'
    with running_server(tmp_path, config=config) as url:
        await assert_round_trip(resolve(config_home, env, server=url, nkey=str(seed_file)))
        write_context(config_home, "inline", {"url": url, "nkey": data_uri(seed)})
        await assert_round_trip(resolve(config_home, env, context="inline"))


# JWT (decentralised) auth: an operator, an account and users, signed here with nkeys.


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any], issuer_seed: str) -> str:
    claims = {**claims, "iat": int(time.time()), "iss": public_key(issuer_seed), "jti": ""}
    digest = hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest()
    claims["jti"] = base64.b32encode(digest).decode().rstrip("=")
    header = _b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64url(json.dumps(claims).encode())
    key_pair = nkeys.from_seed(bytearray(issuer_seed.encode()))
    return f"{header}.{body}.{_b64url(key_pair.sign(f'{header}.{body}'.encode()))}"


def _user_claims(seed: str, *, bearer: bool = False) -> dict[str, Any]:
    nats_claims: dict[str, Any] = {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}
    if bearer:
        nats_claims["bearer_token"] = True
    return {
        "sub": public_key(seed),
        "name": "u",
        "nats": {**nats_claims, "type": "user", "version": 2},
    }


@pytest.fixture
def operator_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server trusting a fresh operator; yields (url, account seed)."""
    operator = new_seed(nkeys.PREFIX_BYTE_OPERATOR)
    account = new_seed(nkeys.PREFIX_BYTE_ACCOUNT)
    operator_jwt = _jwt(
        {"sub": public_key(operator), "name": "op", "nats": {"type": "operator", "version": 2}},
        operator,
    )
    limits = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
              "wildcards": True, "conn": -1, "leaf": -1}  # fmt: skip
    account_jwt = _jwt(
        {
            "sub": public_key(account),
            "name": "acc",
            "nats": {"limits": limits, "type": "account", "version": 2},
        },
        operator,
    )
    (tmp_path / "operator.jwt").write_text(operator_jwt)
    config = (
        f'operator: "{tmp_path / "operator.jwt"}"\n'
        "resolver: MEMORY\n"
        f'resolver_preload: {{ {public_key(account)}: "{account_jwt}" }}\n'
    )
    with running_server(tmp_path, config=config) as url:
        yield url, account


async def test_user_jwt_and_seed_from_a_context_connect(
    operator_server: tuple[str, str], config_home: Path, env: dict[str, str]
) -> None:
    url, account = operator_server
    seed = new_seed()
    user_jwt = _jwt(_user_claims(seed), account)
    write_context(
        config_home, "jwt", {"url": url, "user_jwt": data_uri(user_jwt), "user_seed": "env://SEED"}
    )
    settings = resolve(config_home, {**env, "SEED": seed}, context="jwt")
    assert settings.describe_auth() == "jwt"
    await assert_round_trip(settings)
    # the signature is really checked: another user's seed is refused
    wrong = resolve(config_home, {**env, "SEED": new_seed()}, context="jwt")
    with pytest.raises(Exception, match=r"Authorization Violation"):
        await connect(wrong)


async def test_creds_file_connects(
    operator_server: tuple[str, str], config_home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    url, account = operator_server
    seed = new_seed()
    creds = tmp_path / "user.creds"
    creds.write_text(creds_text(_jwt(_user_claims(seed), account), seed))
    await assert_round_trip(
        resolve(config_home, {**env, "NATS_URL": url, "NATS_CREDS": str(creds)})
    )


async def test_bearer_jwt_connects(
    operator_server: tuple[str, str], config_home: Path, env: dict[str, str]
) -> None:
    url, account = operator_server
    bearer = _jwt(_user_claims(new_seed(), bearer=True), account)
    write_context(config_home, "bearer", {"url": url, "user_jwt": bearer})
    settings = resolve(config_home, env, context="bearer")
    assert settings.describe_auth() == "bearer jwt"
    await assert_round_trip(settings)
    # a JWT that is not a bearer token needs its seed
    not_bearer = _jwt(_user_claims(new_seed()), account)
    write_context(config_home, "plain", {"url": url, "user_jwt": not_bearer})
    with pytest.raises(Exception, match=r"Authorization Violation"):
        await connect(resolve(config_home, env, context="plain"))


async def test_tls_with_client_cert_and_handshake_first_connects(
    tmp_path: Path, config_home: Path, env: dict[str, str], tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    config = (
        f'tls {{ cert_file: "{cert}", key_file: "{key}", ca_file: "{cert}", '
        "verify: true, handshake_first: true }\n"
    )
    with running_server(tmp_path, config=config) as url:
        port = url.rsplit(":", 1)[1]
        write_context(
            config_home,
            "tls",
            {
                "url": f"tls://127.0.0.1:{port}",
                "cert": str(cert),
                "key": str(key),
                "ca": str(cert),
                "tls_first": True,
            },
        )
        settings = resolve(config_home, env, context="tls")
        await assert_round_trip(settings)
