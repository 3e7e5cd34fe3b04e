"""Streams beyond the limits, against a real nats-server: mirrors, sources, transforms,
republish, the one-way switches, metadata, bucket streams, and the version table.

The server facts that `jstui/nats/streams/spec.py` states are measured here (nats-server 2.15.1,
raw API requests as any program would send them); the service and the spec are then checked
against them, and with plain nats-py programs on the other side."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamSource, SubjectTransform

from jstui.nats.errors import JstuiError, ServerAPIError, SpecErrors
from jstui.nats.features import FEATURES, server_version, unsupported
from jstui.nats.session import Session
from jstui.nats.streams.origins import (
    merge_sources,
    origin_text,
    parse_origin,
    parse_origins,
    parse_transform,
)
from jstui.nats.streams.service import StreamService
from jstui.nats.streams.spec import StreamSpec, wire_config
from jstui.nats.streams.summaries import Bucket, backing_bucket


async def api(nc: Client, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    reply = await nc.request(f"$JS.API.{subject}", data, timeout=5)
    result: dict[str, Any] = json.loads(reply.data)
    return result


async def raw_update(nc: Client, name: str, **changes: Any) -> dict[str, Any]:
    """Update as another program would: the current config with `changes` (None removes)."""
    config = (await api(nc, f"STREAM.INFO.{name}"))["config"]
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return await api(nc, f"STREAM.UPDATE.{name}", config)


async def two_streams(nc: Client, unique: str) -> JetStreamContext:
    """`<unique>_a` on `<unique>.a.>` and `<unique>_b` on `<unique>.b.>`, made by nats-py."""
    js = nc.jetstream()
    await js.add_stream(name=f"{unique}_a", subjects=[f"{unique}.a.>"])
    await js.add_stream(name=f"{unique}_b", subjects=[f"{unique}.b.>"])
    return js


# -- pure: the texts of the form -------------------------------------------------------------------


def test_origin_lines_read_and_write_back() -> None:
    line = "ORDERS filter=orders.eu.> start=42 api=$JS.hub.API"
    origin = parse_origin(line)
    assert origin == {
        "name": "ORDERS",
        "filter_subject": "orders.eu.>",
        "opt_start_seq": 42,
        "external": {"api": "$JS.hub.API"},
    }
    config = StreamConfig.from_response({"name": "m", "mirror": dict(origin)})
    assert origin_text(config.mirror) == line
    timed = parse_origin("ORDERS start=2026-12-01T10:00:00Z domain=hub")
    assert timed["opt_start_time"] == "2026-12-01T10:00:00.000000Z"
    assert timed["external"] == {"api": "$JS.hub.API"}
    source = StreamSource(name="ORDERS", opt_start_time=None)
    assert origin_text(source) == "ORDERS"
    for bad, said in (
        ("", "a stream name is needed"),
        ("a.b", '"."'),
        ("ORDERS filter=", "write filter="),
        ("ORDERS start=0", "starts at 1"),
        ("ORDERS start=yesterday", "not a time"),
        ("ORDERS colour=red", "is not an option"),
        ("ORDERS api=x domain=y", "not both"),
        ("ORDERS filter=a..b", "empty token"),
    ):
        with pytest.raises(ValueError, match=said):
            parse_origin(bad)
    with pytest.raises(ValueError, match="line 2: the same source is given twice"):
        parse_origins("A\nA\n")
    with pytest.raises(ValueError, match="line 1: a stream cannot source itself"):
        parse_origins("me", own_name="me")
    assert parse_transform("a.* -> b.{{wildcard(1)}}") == {
        "src": "a.*",
        "dest": "b.{{wildcard(1)}}",
    }
    assert parse_transform("  ") is None
    with pytest.raises(ValueError, match="SOURCE -> DESTINATION"):
        parse_transform("a.> > b.>")


def test_merge_sources_keeps_what_the_form_does_not_show() -> None:
    current = [
        {"name": "A", "subject_transforms": [{"src": "a.>", "dest": "x.>"}], "filter_subject": "a"},
        {"name": "B", "external": {"api": "$JS.hub.API", "deliver": "d.>"}},
    ]
    wanted = [{"name": "B", "external": {"api": "$JS.hub.API"}}, {"name": "A"}, {"name": "C"}]
    assert merge_sources(current, wanted) == [
        {"name": "B", "external": {"api": "$JS.hub.API", "deliver": "d.>"}},
        {"name": "A", "subject_transforms": [{"src": "a.>", "dest": "x.>"}]},
        {"name": "C"},
    ]


def test_spec_rules_for_mirrors_sources_and_switches() -> None:
    mirror = StreamSpec(name="m", mirror="SRC filter=a.>")
    assert mirror.validate() == {}
    wire = wire_config(mirror)
    assert "subjects" not in wire and wire["mirror"] == {"name": "SRC", "filter_subject": "a.>"}
    assert StreamSpec(name="s", sources="A\nB filter=b.x").validate() == {}
    errors = StreamSpec(
        name="m", subjects="x.>", mirror="SRC", sources="B", first_seq="5"
    ).validate()
    assert set(errors) == {"subjects", "sources", "first_seq"}
    assert "no subjects of its own" in errors["subjects"]
    assert "needed (or a mirror, or sources)" in StreamSpec(name="n").validate()["subjects"]
    assert (
        "roll-ups purge"
        in StreamSpec(name="r", subjects="r", allow_rollup=True, deny_purge=True).validate()[
            "allow_rollup"
        ]
    )
    assert "after creation" in StreamSpec(name="x", subjects="x", sealed=True).validate()["sealed"]
    assert (
        "the server's"
        in StreamSpec(name="x", subjects="x", metadata="_nats.level=1").validate()["metadata"]
    )
    with pytest.raises(SpecErrors):
        StreamSpec(name="x", subjects="x", republish="a.>").to_config()
    current = StreamSpec(name="x", subjects="x", deny_purge=True, sealed=True)
    assert current.locked_reason("deny_purge") and current.locked_reason("sealed")
    assert "denies purges" in current.locked_reason("allow_rollup")
    assert not current.locked_reason("deny_delete")
    assert StreamSpec(name="x", mirror="S").locked_reason("subjects")
    turned_on = StreamSpec(name="x", subjects="x", deny_delete=True, sealed=True)
    assert turned_on.one_way_changes(StreamSpec(name="x", subjects="x")) == [
        "sealed",
        "deny_delete",
    ]


def test_version_table() -> None:
    assert server_version("v2.10.22-RC.1") == (2, 10, 22)
    assert unsupported("subject_transform", "2.15.1") == ""
    assert unsupported("subject_transform", "") == ""  # unknown: the server will say
    reason = unsupported("subject_transform", "2.9.25")
    assert reason == "a subject transform needs nats-server 2.10 or newer; this server is 2.9.25"
    assert FEATURES["consumer_pause"].since == (2, 11)
    assert FEATURES["msg_ttl"].since == (2, 11)


def test_bucket_streams_are_recognised() -> None:
    assert backing_bucket("KV_config", ["$KV.config.>"], replicated=False) == Bucket("kv", "config")
    assert backing_bucket("OBJ_f", ["$O.f.C.>", "$O.f.M.>"], replicated=False) == Bucket("obj", "f")
    assert backing_bucket("KV_copy", [], replicated=True) == Bucket("kv", "copy")
    assert backing_bucket("KV_config", ["other.>"], replicated=False) is None
    assert backing_bucket("KV_", ["$KV..>"], replicated=False) is None
    assert backing_bucket("orders", ["$KV.orders.>"], replicated=False) is None


# -- the server's rules, measured ------------------------------------------------------------------


async def test_server_rules_the_spec_relies_on(nc: Client, unique: str) -> None:
    src, mirror, plain = f"{unique}_src", f"{unique}_m", f"{unique}_p"
    assert "error" not in await api(
        nc, f"STREAM.CREATE.{src}", {"name": src, "subjects": [f"{unique}.>"]}
    )
    created = await api(nc, f"STREAM.CREATE.{mirror}", {"name": mirror, "mirror": {"name": src}})
    assert "error" not in created
    for change, err_code in (
        ({"subjects": ["x.>"], "mirror": {"name": src}}, 10034),
        ({"mirror": {"name": src}, "sources": [{"name": src}]}, 10031),
        ({"mirror": {"name": src}, "first_seq": 5}, 10143),
    ):
        name = f"{unique}_bad"
        refused = await api(nc, f"STREAM.CREATE.{name}", {"name": name, **change})
        assert refused["error"]["err_code"] == err_code, (change, refused)
    changed = await raw_update(nc, mirror, mirror={"name": src, "filter_subject": f"{unique}.a"})
    assert changed["error"]["err_code"] == 10055

    assert "error" not in await api(
        nc, f"STREAM.CREATE.{plain}", {"name": plain, "subjects": [f"{unique}p.>"]}
    )
    sealed = await api(
        nc, f"STREAM.CREATE.{unique}_s", {"name": f"{unique}_s", "sealed": True, "subjects": ["s9"]}
    )
    assert "can not be sealed" in sealed["error"]["description"]
    assert "error" not in await raw_update(nc, plain, first_seq=100)
    info = await api(nc, f"STREAM.INFO.{plain}")
    assert info["config"]["first_seq"] == 100 and info["state"]["first_seq"] == 0
    assert "error" not in await raw_update(nc, plain, deny_delete=True, deny_purge=True)
    assert "cancel deny" in (await raw_update(nc, plain, deny_delete=False))["error"]["description"]
    rollup = await raw_update(nc, plain, allow_rollup_hdrs=True)
    assert "purge permission" in rollup["error"]["description"]
    assert "error" not in await raw_update(nc, plain, sealed=True)
    assert "unseal" in (await raw_update(nc, plain, sealed=False))["error"]["description"]


# -- the service, with plain nats-py programs on the other side ------------------------------------


async def test_mirror_and_sourced_stream_created_and_fed(
    session: Session, nc: Client, unique: str
) -> None:
    service = StreamService(session)
    js = await two_streams(nc, unique)
    mirror = await service.create(
        StreamSpec(name=f"{unique}_m", mirror=f"{unique}_a filter={unique}.a.keep")
    )
    assert mirror.is_mirror and not mirror.subjects
    both = await service.create(
        StreamSpec(name=f"{unique}_all", sources=f"{unique}_a\n{unique}_b start=2")
    )
    assert both.placement is not None and len(both.placement.sources) == 2
    for subject in ("a.keep", "a.drop", "b.one", "b.two"):
        await js.publish(f"{unique}.{subject}", b"x")

    async def counts() -> tuple[int, int]:
        return (
            (await js.stream_info(f"{unique}_m")).state.messages,
            (await js.stream_info(f"{unique}_all")).state.messages,
        )

    # The filter keeps one of a's; b's source starts at its second message.
    wanted, seen = (1, 3), (0, 0)
    for _ in range(250):
        seen = await counts()
        if seen == wanted:
            break
        await asyncio.sleep(0.02)
    assert seen == wanted
    config = await service.config(f"{unique}_m")
    spec = StreamSpec.from_config(config)
    assert spec.mirror == f"{unique}_a filter={unique}.a.keep"
    assert "mirror" in spec.locked_reason("mirror") and spec.locked_reason("subjects")


async def test_sources_edited_keep_their_transforms_and_metadata_its_server_keys(
    session: Session, nc: Client, unique: str
) -> None:
    service = StreamService(session)
    js = await two_streams(nc, unique)
    name = f"{unique}_agg"
    transform = SubjectTransform(src=f"{unique}.a.>", dest=f"agg.{unique}.>")
    await js.add_stream(
        StreamConfig(
            name=name,
            sources=[StreamSource(name=f"{unique}_a", subject_transforms=[transform])],
            metadata={"owner": "ops"},
        )
    )
    base = StreamSpec.from_config(await service.config(name))
    assert base.metadata == "owner=ops"  # the server's _nats keys are not the form's
    edited = StreamSpec.from_config(await service.config(name))
    edited.sources = f"{base.sources}\n{unique}_b filter={unique}.b.x"
    edited.metadata = "owner=dev\nteam=core"
    await service.update(edited, base=base)
    raw = (await api(nc, f"STREAM.INFO.{name}"))["config"]
    assert raw["sources"][0]["subject_transforms"] == [
        {"src": f"{unique}.a.>", "dest": f"agg.{unique}.>"}
    ]
    assert raw["sources"][1] == {"name": f"{unique}_b", "filter_subject": f"{unique}.b.x"}
    assert raw["metadata"]["owner"] == "dev" and raw["metadata"]["team"] == "core"
    assert any(key.startswith("_nats.") for key in raw["metadata"])

    # The rest of the configuration, set and shown back.
    current = StreamSpec.from_config(await service.config(name))
    changed = StreamSpec.from_config(await service.config(name))
    changed.compression = "s2"
    changed.subject_transform = f"{unique}.x.> -> {unique}.y.>"
    changed.republish = f"agg.{unique}.> -> rp.{unique}.>"
    changed.republish_headers_only = True
    changed.allow_rollup = True
    await service.update(changed, base=current)
    shown = StreamSpec.from_config(await service.config(name))
    assert (shown.compression, shown.subject_transform, shown.republish) == (
        "s2",
        f"{unique}.x.> -> {unique}.y.>",
        f"agg.{unique}.> -> rp.{unique}.>",
    )
    assert shown.republish_headers_only and shown.allow_rollup

    # One-way: on, then locked; the server refuses it off, and says so.
    locked = StreamSpec.from_config(await service.config(name))
    locked.allow_rollup = False
    locked.deny_delete = True
    await service.update(locked, base=shown)
    now = StreamSpec.from_config(await service.config(name))
    assert now.deny_delete and now.locked_reason("deny_delete")
    undo = StreamSpec.from_config(await service.config(name))
    undo.deny_delete = False
    with pytest.raises(ServerAPIError, match="deny message deletes"):
        await service.update(undo, base=now)


async def test_an_edit_leaves_metadata_it_cannot_read_untouched(
    session: Session, nc: Client, unique: str
) -> None:
    """Another program may write a metadata key jstui's form would refuse (an empty one)."""
    name = f"{unique}_meta"
    await nc.jetstream().add_stream(name=name, subjects=[f"{unique}.m"])
    await raw_update(nc, name, metadata={"": "empty key"})
    service = StreamService(session)
    base = StreamSpec.from_config(await service.config(name))
    edited = StreamSpec.from_config(await service.config(name))
    edited.description = "changed"
    await service.update(edited, base=base)
    raw = (await api(nc, f"STREAM.INFO.{name}"))["config"]
    assert raw["description"] == "changed" and raw["metadata"][""] == "empty key"


async def test_features_disabled_by_the_servers_version(session: Session) -> None:
    service = StreamService(session)
    assert service.unsupported("subject_transform") == ""
    session._set_status(server_version="2.9.25")
    assert "2.10 or newer" in service.unsupported("subject_transform")
    assert "2.10 or newer" in service.unsupported("metadata")
    assert service.unsupported("max_age") == ""


async def test_an_edit_never_overwrites_a_change_made_elsewhere(
    session: Session, nc: Client, unique: str
) -> None:
    name = f"{unique}_race"
    await nc.jetstream().add_stream(name=name, subjects=[f"{unique}.r"])
    service = StreamService(session)
    base = StreamSpec.from_config(await service.config(name))  # the form opens
    await raw_update(nc, name, max_msgs=500, sources=[{"name": f"{unique}_other"}])
    edited = StreamSpec(**{**vars(base), "description": "mine"})
    with pytest.raises(JstuiError, match=r"changed elsewhere .*\(max_msgs, sources\)"):
        await service.update(edited, base=base)
    raw = (await api(nc, f"STREAM.INFO.{name}"))["config"]
    assert raw["max_msgs"] == 500 and "description" not in raw
