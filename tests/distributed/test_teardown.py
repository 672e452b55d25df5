"""The teardown (DDP modules and reducers dropped, a barrier, destroy_process_group, exit) never
aborts: 50 groups made and torn down, each after a DDP step, inside one pair of processes, then
three whole launches; a rank that ended in SIGABRT ("terminate called without an active
exception") would fail the launch (RankFailed)."""

from __future__ import annotations

import pytest

from compare.distributed import launch
from tests.distributed import ranks


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_fifty_groups_made_and_torn_down_without_an_abort():
    assert launch.local(2, "gloo", ranks.cycles, 50) == {0: 50, 1: 50}


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_whole_launches_end_cleanly():
    for _ in range(3):
        assert launch.local(2, "gloo", ranks.cycles, 1) == {0: 1, 1: 1}
