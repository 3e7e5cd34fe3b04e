"""`ConsumerSpec` without a server: every bad field named at once, text read back from a config,
only changed fields sent, immutable fields refused with their reason."""

from __future__ import annotations

from jstui.nats.consumers.spec import ConsumerSpec, parse_metadata, wire_config


def test_validate_names_every_bad_field_at_once() -> None:
    spec = ConsumerSpec(
        stream="",
        name="bad name",
        mode="push",
        deliver_subject="a.*",
        filter_subjects="orders.*, orders.>",
        deliver_policy="by_start_sequence",
        start_seq="",
        ack_wait="soon",
        max_deliver="2",
        backoff="1s, 2s, 3s",
        max_waiting="5",
        replicas="9",
        metadata="team",
    )
    errors = spec.validate()
    assert set(errors) == {
        "stream",
        "name",
        "deliver_subject",
        "filter_subjects",
        "start_seq",
        "ack_wait",
        "backoff",
        "max_waiting",
        "replicas",
        "metadata",
    }
    assert "above the number of backoff values (3)" in errors["backoff"]
    assert "overlaps" in errors["filter_subjects"]


def test_a_good_pull_spec_becomes_the_api_config() -> None:
    spec = ConsumerSpec(
        stream="ORDERS",
        name="work",
        filter_subjects="orders.new orders.paid",
        ack_wait="1m30s",
        max_deliver="5",
        backoff="1s, 10s",
        max_ack_pending="",
        inactive_threshold="1h",
        metadata="team = ops\n\nowner=me=you",
    )
    assert spec.validate() == {}
    wire = wire_config(spec)
    assert wire["durable_name"] == wire["name"] == "work"
    assert wire["filter_subjects"] == ["orders.new", "orders.paid"]
    assert wire["ack_wait"] == 90 * 10**9
    assert wire["backoff"] == [10**9, 10 * 10**9]
    assert wire["max_ack_pending"] == -1
    assert wire["inactive_threshold"] == 3600 * 10**9
    assert wire["metadata"] == {"team": "ops", "owner": "me=you"}
    assert "deliver_subject" not in wire


def test_ephemeral_needs_no_name_and_deliver_group_needs_push() -> None:
    assert ConsumerSpec(stream="S", durable=False).validate() == {}
    errors = ConsumerSpec(stream="S", name="x", deliver_group="g").validate()
    assert errors == {"deliver_group": "only a push consumer has a deliver group"}


def test_round_trip_and_only_changed_fields() -> None:
    config = {
        "name": "d",
        "durable_name": "d",
        "deliver_policy": "all",
        "ack_policy": "explicit",
        "ack_wait": 30_000_000_000,
        "max_deliver": -1,
        "filter_subject": "a.b",
        "max_ack_pending": 1000,
        "max_waiting": 512,
        "metadata": {"_nats.ver": "2.15.1", "k": "v"},
    }
    base = ConsumerSpec.from_config("S", config)
    assert base.ack_wait == "30s" and base.max_deliver == "" and base.metadata == "k=v"
    assert base.changed_fields(ConsumerSpec.from_config("S", config)) == []
    edited = ConsumerSpec.from_config("S", config)
    edited.description = "new"
    edited.filter_subjects = "a.b,  a.c"
    assert edited.changed_keys(base) == ["description", "filter_subject", "filter_subjects"]
    assert edited.validate(base=base) == {}


def test_immutable_fields_are_refused_with_the_reason() -> None:
    base = ConsumerSpec(stream="S", name="d")
    edited = ConsumerSpec(stream="S", name="d", ack_policy="all", deliver_policy="new")
    errors = edited.validate(base=base)
    assert errors == {
        "ack_policy": "cannot change: the ack policy cannot be changed after creation",
        "deliver_policy": "cannot change: the deliver policy cannot be changed after creation",
    }


def test_metadata_lines() -> None:
    assert parse_metadata(" a=1\n\nb= two words ") == {"a": "1", "b": "two words"}
    for bad in ("a", "=1", "a=1\na=2"):
        try:
            parse_metadata(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_deliver_by_start_time_is_sent_in_utc() -> None:
    spec = ConsumerSpec(
        stream="S", name="t", deliver_policy="by_start_time", start_time="2026-12-03 18:00+01:00"
    )
    wire = wire_config(spec)
    assert wire["opt_start_time"] == "2026-12-03T17:00:00.000000Z"
    assert (
        "start_time"
        in ConsumerSpec(
            stream="S", name="t", deliver_policy="by_start_time", start_time="tomorrow"
        ).validate()
    )
