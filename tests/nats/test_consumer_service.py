"""`ConsumerService` against a real nats-server: each kind created, edits that send only what
changed, the server's immutable fields (the facts in jstui/nats/consumers/spec.py), changes made
elsewhere never overwritten, delete, pause and resume, read-only mode, and interop with consumers
made by plain nats-py programs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from nats.aio.client import Client

from jstui.nats.consumers.service import ConsumerService, server_version
from jstui.nats.consumers.spec import ConsumerSpec
from jstui.nats.errors import JstuiError, ReadOnlyError, ServerAPIError, SpecErrors
from jstui.nats.session import Session


@pytest.fixture
async def stream(nc: Client, unique: str) -> AsyncIterator[str]:
    js = nc.jetstream()
    await js.add_stream(name=unique, subjects=[f"{unique}.>"])
    for index in range(5):
        await js.publish(f"{unique}.{'a' if index < 3 else 'b'}", b"x")
    yield unique
    await js.delete_stream(unique)


@pytest.fixture
def consumers(session: Session) -> ConsumerService:
    return ConsumerService(session)


async def _raw(nc: Client, api: str, payload: dict[str, object]) -> dict[str, object]:
    msg = await nc.request(f"$JS.API.{api}", json.dumps(payload).encode(), timeout=5)
    result: dict[str, object] = json.loads(msg.data)
    return result


async def test_each_kind_is_created_and_listed(consumers: ConsumerService, stream: str) -> None:
    pull = await consumers.create(
        ConsumerSpec(stream=stream, name="pull", filter_subjects=f"{stream}.a", max_deliver="3")
    )
    assert (pull.kind, pull.num_pending, pull.filter_subjects) == (
        "pull durable",
        3,
        (f"{stream}.a",),
    )
    push = await consumers.create(
        ConsumerSpec(
            stream=stream,
            name="push",
            mode="push",
            deliver_subject=f"deliver.{stream}",
            deliver_group="workers",
            max_waiting="",
            deliver_policy="last",
        )
    )
    assert (push.kind, push.deliver_group, push.deliver_policy) == (
        "push durable",
        "workers",
        "last",
    )
    ephemeral = await consumers.create(
        ConsumerSpec(
            stream=stream,
            durable=False,
            deliver_policy="by_start_sequence",
            start_seq="4",
            inactive_threshold="5m",
        )
    )
    assert ephemeral.kind == "pull ephemeral" and ephemeral.num_pending == 2
    by_subject = await consumers.create(
        ConsumerSpec(
            stream=stream,
            name="latest",
            filter_subjects=f"{stream}.a {stream}.b",
            deliver_policy="last_per_subject",
            ack_policy="none",
        )
    )
    assert by_subject.num_pending == 2
    since = await consumers.create(
        ConsumerSpec(
            stream=stream,
            name="since",
            deliver_policy="by_start_time",
            start_time=(datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        )
    )
    assert since.num_pending == 0  # nothing stored after a time still to come
    listed = {(e.name, e.kind) for e in await consumers.list_all(stream)}
    assert ("pull", "pull durable") in listed and ("push", "push durable") in listed
    assert (ephemeral.name, "pull ephemeral") in listed
    everything = await consumers.list_all()
    assert {e.name for e in everything if e.stream == stream} == {n for n, _k in listed}

    with pytest.raises(SpecErrors, match="already exists"):
        await consumers.create(
            ConsumerSpec(stream=stream, name="pull", filter_subjects=f"{stream}.a")
        )


async def test_an_edit_sends_only_what_changed(
    nc: Client, consumers: ConsumerService, stream: str
) -> None:
    # Made elsewhere with a key the form does not know: the edit must keep it as it is.
    await _raw(
        nc,
        f"CONSUMER.CREATE.{stream}.d",
        {
            "stream_name": stream,
            "config": {"durable_name": "d", "ack_policy": "explicit", "sample_freq": "50%"},
        },
    )
    entry = await consumers.info(stream, "d")
    base = ConsumerSpec.from_config(stream, entry.config)
    edited = ConsumerSpec.from_config(stream, entry.config)
    edited.description = "billing workers"
    edited.backoff = "1s, 5s"
    edited.max_deliver = "4"
    edited.metadata = "team=billing"
    saved = await consumers.update(edited, base=base)
    assert saved.description == "billing workers"
    assert saved.config["sample_freq"] == "50%"
    assert saved.config["backoff"] == [10**9, 5 * 10**9]
    assert ("team", "billing") in saved.metadata
    # Nothing changed: nothing sent, the consumer as it was.
    again = ConsumerSpec.from_config(stream, saved.config)
    assert (await consumers.update(again, base=again)).config == saved.config


async def test_immutable_fields_are_refused_by_jstui_and_the_server(
    nc: Client, consumers: ConsumerService, stream: str
) -> None:
    entry = await consumers.create(ConsumerSpec(stream=stream, name="fixed"))
    base = ConsumerSpec.from_config(stream, entry.config)
    edited = ConsumerSpec.from_config(stream, entry.config)
    edited.ack_policy = "all"
    edited.mem_storage = True
    with pytest.raises(SpecErrors) as refused:
        await consumers.update(edited, base=base)
    assert refused.value.errors == {
        "ack_policy": "cannot change: the ack policy cannot be changed after creation",
        "mem_storage": "cannot change: the storage type cannot be changed after creation",
    }
    # The facts behind ConsumerSpec.IMMUTABLE, asked of the server itself.
    for change in (
        {"deliver_policy": "new"},
        {"ack_policy": "all"},
        {"max_waiting": 10},
        {"mem_storage": True},
    ):
        config = {**entry.config, **change}
        resp = await _raw(
            nc,
            f"CONSUMER.CREATE.{stream}.fixed",
            {"stream_name": stream, "config": config, "action": "update"},
        )
        error = resp.get("error")
        assert isinstance(error, dict) and error["err_code"] == 10012, change


async def test_a_change_made_elsewhere_is_never_overwritten(
    nc: Client, consumers: ConsumerService, stream: str
) -> None:
    entry = await consumers.create(ConsumerSpec(stream=stream, name="shared", ack_wait="30s"))
    base = ConsumerSpec.from_config(stream, entry.config)
    await _raw(
        nc,
        f"CONSUMER.CREATE.{stream}.shared",
        {
            "stream_name": stream,
            "config": {**entry.config, "ack_wait": 60 * 10**9},
            "action": "update",
        },
    )
    edited = ConsumerSpec.from_config(stream, entry.config)
    edited.description = "mine"
    with pytest.raises(JstuiError, match=r"changed elsewhere .*ack_wait"):
        await consumers.update(edited, base=base)
    assert (await consumers.info(stream, "shared")).config["ack_wait"] == 60 * 10**9


async def test_delete_pause_and_resume(consumers: ConsumerService, stream: str) -> None:
    await consumers.create(ConsumerSpec(stream=stream, name="gone"))
    await consumers.create(ConsumerSpec(stream=stream, name="nap"))
    await consumers.delete(stream, "gone")
    assert not await consumers.exists(stream, "gone")
    with pytest.raises(ServerAPIError, match="consumer not found"):
        await consumers.delete(stream, "gone")

    until = datetime.now(UTC) + timedelta(hours=1)
    paused = await consumers.pause(stream, "nap", until)
    assert paused.paused and paused.pause_until is not None
    assert abs((paused.pause_until - until).total_seconds()) < 1
    resumed = await consumers.resume(stream, "nap")
    assert not resumed.paused and resumed.pause_until is None


async def test_pause_says_why_on_an_older_server(session: Session) -> None:
    assert server_version("v2.10.22-RC.1") == (2, 10, 22)
    assert server_version("unknown") is None
    service = ConsumerService(session)
    assert service.pause_unsupported() == ""
    # The version the server announced, as an older one would: nothing is sent.
    session._set_status(server_version="2.10.22")
    assert "needs nats-server 2.11 or newer; this server is 2.10.22" in service.pause_unsupported()
    with pytest.raises(JstuiError, match=r"2\.11"):
        await service.pause("S", "c", datetime.now(UTC))


async def test_read_only_refuses_before_touching_the_server() -> None:
    service = ConsumerService(Session(["nats://127.0.0.1:1"], read_only=True))
    spec = ConsumerSpec(stream="s", name="c")
    with pytest.raises(ReadOnlyError, match="create consumer"):
        await service.create(spec)
    with pytest.raises(ReadOnlyError, match="edit consumer"):
        await service.update(spec, base=spec)
    with pytest.raises(ReadOnlyError, match="delete consumer"):
        await service.delete("s", "c")
    with pytest.raises(ReadOnlyError, match="pause consumer"):
        await service.pause("s", "c", datetime.now(UTC))
    with pytest.raises(ReadOnlyError, match="resume consumer"):
        await service.resume("s", "c")


async def test_consumers_of_plain_nats_py_programs_are_listed_with_their_figures(
    nc: Client, consumers: ConsumerService, stream: str
) -> None:
    js = nc.jetstream()
    puller = await js.pull_subscribe(f"{stream}.a", durable="fetcher", stream=stream)
    fetched = await puller.fetch(2, timeout=5)
    await fetched[0].ack()  # one acked, one left pending
    await nc.flush()
    pushed = await js.subscribe(f"{stream}.b", queue="grp", stream=stream, manual_ack=True)
    await nc.flush()

    async def listed() -> dict[str, object]:
        return {e.name: e for e in await consumers.list_all(stream)}

    entries = await listed()
    fetcher = entries["fetcher"]
    assert fetcher.kind == "pull durable"  # type: ignore[attr-defined]
    assert fetcher.num_ack_pending == 1  # type: ignore[attr-defined]
    assert fetcher.num_pending == 1  # type: ignore[attr-defined]
    assert fetcher.ack_floor_stream_seq == 1  # type: ignore[attr-defined]
    # The server counts a push consumer bound once its JetStream layer has seen the subscriber's
    # interest, which may come after the subscribe's flush on a loaded machine (CI listed it
    # unbound once): list again until it does.
    deadline = time.monotonic() + 10
    while not entries["grp"].push_bound:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the queue group's consumer never listed as bound"
        await asyncio.sleep(0.05)
        entries = await listed()
    group = entries["grp"]
    assert group.kind == "push durable"  # type: ignore[attr-defined]
    assert group.deliver_group == "grp"  # type: ignore[attr-defined]
    await pushed.unsubscribe()


async def test_a_server_named_ephemeral_consumer_can_be_edited(
    nc: Client, consumers: ConsumerService, stream: str
) -> None:
    # Its config carries no name (only the info does): the edit must not take that for a
    # change made elsewhere.
    resp = await _raw(
        nc,
        f"CONSUMER.CREATE.{stream}",
        {
            "stream_name": stream,
            "config": {"ack_policy": "explicit", "inactive_threshold": 60 * 10**9},
        },
    )
    name = str(resp["name"])
    entry = await consumers.info(stream, name)
    assert entry.kind == "pull ephemeral" and "name" not in entry.config
    base = ConsumerSpec.from_config(stream, entry.config, name=entry.name)
    edited = ConsumerSpec.from_config(stream, entry.config, name=entry.name)
    edited.description = "short-lived"
    assert (await consumers.update(edited, base=base)).description == "short-lived"
