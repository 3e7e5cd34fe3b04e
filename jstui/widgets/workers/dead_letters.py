"""The dead letters of the consumer a Workers view shows (a watched deliver group or pull
consumer, or a jstui JetStream pool): `ConsumerDeadLetters`.

Data flow: the app's one `DeadLetters` collects the account's max-deliveries and terminated
advisories on the message path; a view names its consumer with `show(stream, consumer)` (or
`show(None)` for a core group or a service: no line at all) and asks for `line(style)` whenever
it draws. The deque is read only when the watch's dead-letter counter or the consumer shown
changed, and the line rebuilt only when that or the originals read of the few it lists changed,
so a 4 Hz redraw costs a few dictionary look-ups.
The view's own poll (never the message path) calls `fetch()`, which reads the missing originals
of the newest few (at most `DEAD_LETTERS_SHOWN` reads, by sequence, without consuming).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from rich.text import Text

from jstui.nats.errors import JstuiError
from jstui.nats.observe.deadletters import DeadLetter, DeadLetters
from jstui.widgets.workers.render import DEAD_LETTERS_SHOWN, StyleOf, dead_letters_text


class ConsumerDeadLetters:
    """The dead letters of one consumer (`target`: stream, consumer), read from `letters`."""

    def __init__(self, letters: DeadLetters, emptied_or_filled: Callable[[], None]) -> None:
        self.letters = letters
        self._emptied_or_filled = emptied_or_filled
        """Called when the target went from no dead letter to some or back (the pane offers its
        key only when there is one)."""
        self.target: tuple[str, str] | None = None
        self.held: list[DeadLetter] = []
        """The target's dead letters still held, oldest first (as of the last `refresh`)."""
        self._read_for: tuple[object, ...] | None = None
        self._line_for: tuple[object, ...] | None = None
        self._line: Text | None = None

    def show(self, stream: str | None, consumer: str = "") -> None:
        """Follow the dead letters of `stream`/`consumer` from now on; None: of nothing."""
        target = (stream, consumer) if stream and consumer else None
        if target != self.target:
            self.target = target
            self._read_for = self._line_for = None
            self.refresh()

    def refresh(self) -> bool:
        """Read the deque again if a dead letter came (or the target changed); True when the
        target's list may differ from before."""
        wanted = (self.letters.watch.dead_letters, self.target)
        if wanted == self._read_for:
            return False
        self._read_for = wanted
        target, had = self.target, bool(self.held)
        self.held = [] if target is None else self.letters.dead_letters(*target)
        if had != bool(self.held):
            self._emptied_or_filled()
        return True

    @property
    def newest(self) -> DeadLetter | None:
        self.refresh()
        return self.held[-1] if self.held else None

    def line(self, style: StyleOf) -> Text | None:
        """The line under the table; None when nothing is followed (core groups, services).
        Built again only when something it shows changed."""
        self.refresh()
        if self.target is None:
            return None
        # the originals may also have been read by the Events pane or the detail dialog
        read = tuple(self.letters.cached_original(letter) is not None for letter in self._shown())
        wanted = (self._read_for, read, self.letters.watch.started)
        if wanted != self._line_for or self._line is None:
            self._line_for = wanted
            self._line = dead_letters_text(
                self.held,
                self.letters.cached_original,
                style,
                watched=self.letters.watch.started,
            )
        return self._line

    async def fetch(self) -> None:
        """Read the originals the line lacks (the newest few), without consuming. A failure
        other than about one message (the server away) stops here and is tried next time."""
        self.refresh()
        missing = [
            letter for letter in self._shown() if self.letters.cached_original(letter) is None
        ]
        if not missing:
            return
        with contextlib.suppress(JstuiError):  # the line keeps its "…"; the next poll tries again
            for letter in missing:
                await self.letters.original(letter)

    def _shown(self) -> list[DeadLetter]:
        """The dead letters the line lists (the newest few)."""
        return self.held[-DEAD_LETTERS_SHOWN:]
