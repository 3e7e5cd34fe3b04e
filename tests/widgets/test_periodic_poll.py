"""`PeriodicPoll` backs off while answers do not change and comes back when they do.

No timing is asserted: the base period is tiny and the tests wait for the number of runs, then
read the period the poll chose. Unchanged answers (``False``) double it up to ``longest``; a
changed answer, a ``None`` (a poll that does not say) and `wake()` bring it back to the base;
`hurry()` brings it back without a run of its own.
"""

from __future__ import annotations

from textual.app import App

from jstui.widgets.base import PeriodicPoll
from tests.conftest import eventually

BASE = 0.01
LONGEST = 0.08


class Answers:
    """A poll whose answer the test sets: False (unchanged), True (changed) or None."""

    def __init__(self, answer: bool | None) -> None:
        self.answer = answer

    async def __call__(self) -> bool | None:
        return self.answer


async def test_unchanged_answers_stretch_the_period_and_a_change_snaps_it_back() -> None:
    app: App[None] = App()
    async with app.run_test():
        answers = Answers(False)
        poll = PeriodicPoll(app, BASE, answers, description="test", longest=LONGEST)
        await eventually(lambda: poll.runs >= 1, what="a first run")
        await eventually(lambda: poll.period == LONGEST, what="the longest period")
        runs = poll.runs
        await eventually(lambda: poll.runs > runs + 1, timeout=20, what="more runs")
        assert poll.period == LONGEST  # capped

        answers.answer = True
        await eventually(lambda: poll.period == BASE, timeout=20, what="a change seen")

        answers.answer = None  # a poll that does not say keeps the base period
        runs = poll.runs
        await eventually(lambda: poll.runs > runs + 2, timeout=20, what="more runs")
        assert poll.period == BASE


async def test_wake_and_hurry_bring_a_slow_poll_back() -> None:
    app: App[None] = App()
    async with app.run_test():
        answers = Answers(False)
        poll = PeriodicPoll(app, BASE, answers, description="test", longest=100.0)
        await eventually(lambda: poll.period >= 1.0, what="a slow poll")
        runs = poll.runs
        poll.wake()
        assert poll.period == BASE
        await eventually(lambda: poll.runs > runs, what="the woken run")

        await eventually(lambda: poll.period >= 1.0, what="slow again")
        runs = poll.runs
        PeriodicPoll.hurry_all()  # what a key press does
        assert poll.period == BASE
        await eventually(lambda: poll.runs > runs, what="a run within the base period")
