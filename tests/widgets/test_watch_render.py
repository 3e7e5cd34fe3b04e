"""The Watch tab's pure builders: hostile subjects, inboxes, headers and payloads of other
programs come out visible and inert (no escape sequence, no markup), and the outcome wording."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

from jstui.nats.requests.watched import WatchedRequest, WatchOutcome
from jstui.widgets.requests.watch_render import WATCH_COLUMNS, watch_cells, watch_detail

HOSTILE = "a.\x1b[2J\x1b]52;c;SGVsbG8=\x07[b]x[/b]\u202e"


def _render(renderable: RenderableType) -> str:
    out = io.StringIO()
    Console(file=out, width=100, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


def _record(**changes: object) -> WatchedRequest:
    fields: dict[str, object] = {
        "id": 1,
        "subject": HOSTILE,
        "reply_to": HOSTILE,
        "stored": True,
        "seen": 1_700_000_000.0,
        "seen_at": 0.0,
        "window": 5.0,
        "size": len(HOSTILE.encode()),
        "data": HOSTILE.encode(),
        "headers": {"reply-to": HOSTILE, "X-Evil": HOSTILE},
    }
    fields.update(changes)
    return WatchedRequest(**fields)  # type: ignore[arg-type]


def _inert(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "␛" in text  # made visible, not dropped


def test_hostile_text_in_rows_and_detail_is_shown_inert() -> None:
    record = _record(
        outcome=WatchOutcome.REPLIED,
        replies=1,
        first_latency=0.0042,
        last_latency=0.0042,
        reply_size=len(HOSTILE.encode()),
        reply_data=HOSTILE.encode(),
        reply_headers={"Nats-Service-Id": HOSTILE},
        stream=HOSTILE,
        seq=7,
    )
    cells = watch_cells(record, {})
    assert list(cells) == [label for label, _ in WATCH_COLUMNS]
    for name in ("subject", "request", "reply", "reply to"):
        _inert(cells[name].plain)
    assert "[b]x[/b]" in cells["subject"].plain  # markup shown as text, never applied
    detail = _render(watch_detail(record))
    _inert(detail)
    assert "stream a.␛[2J" in detail and "seq 7" in detail
    assert "first reply · 4.20 ms" in detail


def test_outcome_wording() -> None:
    assert _record().outcome_text == "waiting"
    late = _record(stored=False, outcome=WatchOutcome.NO_REPLY, late=True)
    assert late.outcome_text == "no reply in 5s, listened late"
    assert _record(outcome=WatchOutcome.NO_REPLY, cut_short=True).outcome_text.endswith(
        "cut short)"
    )
    assert _record(outcome=WatchOutcome.REPLIED, replies=3).outcome_text == "3 replies"
    unheard = _record(outcome=WatchOutcome.NO_REPLY, unheard="cannot listen: a space")
    assert unheard.outcome_text == "no reply in 5s, not listened"
    assert "cannot listen: a space" in _render(watch_detail(unheard))
