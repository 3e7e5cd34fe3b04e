"""Say which widgets held the pilot up when it times out waiting for a screen.

`Pilot.press` waits until every widget of the screen has handled what was queued before the key;
after 30 s Textual raises `WaitForScreenTimeout`, which names neither the widget nor what it waits
for. A snapshot test failed that way in CI, now and then, and never at a desk. Installed by the
suite's conftest, this adds to that error each widget with messages still queued: the messages,
and where its message loop is stopped (or that it is not running at all).
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.message_pump import MessagePump
from textual.pilot import Pilot, WaitForScreenTimeout


def stuck_widgets(app: App[Any]) -> str:
    """Every message pump of the app's screen with queued messages, and what it is doing."""
    try:
        pumps: list[MessagePump] = [app, *app.screen.walk_children(with_self=True)]
    except Exception as error:  # no screen any more: say so
        return f"(no screen to look at: {error!r})"
    lines: list[str] = []
    for pump in pumps:
        queue: Any = pump._message_queue
        if not queue.qsize():
            continue
        queued = list(getattr(queue, "values", ()))  # (Textual's own queue: a deque there)
        task = pump._task
        names = [type(message).__name__ for message in queued[:5]]
        lines.append(
            f"{pump!r}: {queue.qsize()} queued {names}, running={pump._running} "
            f"closing={pump._closing} task={'none' if task is None else task.get_name()}"
        )
        if task is not None:
            lines += [f"    {where}" for where in _awaiting(task.get_coro())]
    return "\n".join(lines) or "(no widget has messages queued)"


def _awaiting(coroutine: Any) -> list[str]:
    """Where a suspended coroutine stands, down its chain of awaits (a task's own stack shows
    only its outermost frame)."""
    where: list[str] = []
    while coroutine is not None and len(where) < 20:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is None:
            break
        where.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    return where


def install() -> None:
    """Wrap `Pilot._wait_for_screen` so that its timeout says who is stuck."""
    wait_for_screen = Pilot._wait_for_screen

    async def saying_who_is_stuck(self: Pilot[Any], timeout: float = 30.0) -> bool:
        try:
            return await wait_for_screen(self, timeout)
        except WaitForScreenTimeout as error:
            raise WaitForScreenTimeout(f"{error}\n{stuck_widgets(self.app)}") from None

    Pilot._wait_for_screen = saying_who_is_stuck  # type: ignore[method-assign]
