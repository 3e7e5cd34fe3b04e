"""The Streams pane's pure builders for what is more than limits: the table's kind marks, the
settings shown only when on, and the origin lines of the detail (sanitized)."""

from __future__ import annotations

from typing import Any

from nats.js.api import StreamConfig

from jstui.nats.streams.summaries import summary_from_raw
from jstui.widgets.streams.render import config_lines, kind_mark, row_cells, switches


def summary(config: dict[str, Any], **raw: Any) -> Any:
    return summary_from_raw({"config": config, "state": {}, **raw})


def test_kind_marks_in_the_name_cell() -> None:
    kv = summary({"name": "KV_cfg", "subjects": ["$KV.cfg.>"]})
    assert kind_mark(kv) == "[kv]" and row_cells(kv)[0] == "KV_cfg [kv]"
    obj = summary({"name": "OBJ_f", "subjects": ["$O.f.C.>", "$O.f.M.>"]})
    assert kind_mark(obj) == "[obj]"
    mirror = summary({"name": "copy"}, mirror={"name": "orig", "lag": 0, "active": 1})
    assert row_cells(mirror)[0] == "copy [mirror]"
    assert row_cells(summary({"name": "plain", "subjects": ["a"]}))[0] == "plain"


def test_switches_show_only_when_on() -> None:
    assert switches(StreamConfig(name="s")) == []
    config = StreamConfig.from_response(
        {
            "name": "s",
            "compression": "s2",
            "first_seq": 50,
            "allow_rollup_hdrs": True,
            "deny_delete": True,
        }
    )
    assert switches(config) == [
        ("Compression", "s2"),
        ("First seq", "50"),
        ("Roll-up", "allowed"),
        ("Deny delete", "yes (for good)"),
    ]


def test_origin_lines_are_sanitized() -> None:
    config = StreamConfig.from_response(
        {
            "name": "s",
            "sources": [{"name": "a\x1b[2Jb", "filter_subject": "x.>"}, {"name": "c"}],
            "subject_transform": {"src": "x.*", "dest": "y.{{wildcard(1)}}"},
            "republish": {"src": ">", "dest": "rp.>", "headers_only": True},
            "metadata": {"owner": "ops\u202e", "_nats.ver": "2.15.1"},
        }
    )
    lines = config_lines(config)
    assert lines[0] == ("Source ", "a\u241b[2Jb filter=x.>")  # ESC drawn as a visible sign
    assert lines[1:] == [
        ("Source ", "c"),
        ("Transform ", "x.* -> y.{{wildcard(1)}}"),
        ("Republish ", "> -> rp.> (headers only)"),
        ("Metadata ", "owner=ops\\u202e"),
    ]
