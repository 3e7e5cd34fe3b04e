"""The collector settings the app applies once its UI is built, and undoes on exit."""

from __future__ import annotations

import gc

from jstui.gctuning import GEN0_THRESHOLD, CollectorTuning
from tests.app.conftest import AppFactory, wait_connected, wait_until


def test_apply_raises_the_young_threshold_then_restore_puts_it_back() -> None:
    before = gc.get_threshold()
    tuning = CollectorTuning()
    tuning.apply()
    try:
        assert tuning.applied
        assert gc.get_threshold() == (max(GEN0_THRESHOLD, before[0]), before[1], before[2])
        tuning.apply()  # twice is harmless
    finally:
        tuning.restore()
    assert not tuning.applied
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0  # nothing frozen: cyclic garbage is always collected
    tuning.restore()  # twice is harmless


async def test_the_app_tunes_the_collector_while_it_runs(make_app: AppFactory) -> None:
    before = gc.get_threshold()
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_connected(pilot)
        await wait_until(pilot, lambda: app.collector.applied, what="collector tuned")
        assert gc.get_threshold()[0] == max(GEN0_THRESHOLD, before[0])
    assert gc.get_threshold() == before
