"""compare.run.memory: glibc keeps freed blocks, so a step's large temporaries are not faulted
in again every step; the user's own allocator settings are left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from compare.run import memory

# one process: a [1024, 4096] float64 temporary (32 MiB, at glibc's largest mmap threshold)
# made and freed 10 times after a warm-up; prints [set, minor page faults of the 10]
FAULTS = """
import json, resource, sys
import numpy as np
from compare.run import memory
kept = memory.keep_freed_blocks()
a = np.ones((1024, 4096))
def steps(n):
    for _ in range(n):
        b = a * 2.0
        del b
steps(2)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
steps(10)
print(json.dumps([kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before]))
"""

glibc_only = pytest.mark.skipif(not memory.on_glibc(), reason="glibc's allocator only (not this C library)")


def faults(env: dict[str, str]) -> tuple[bool, int]:
    run = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if k not in env}, **env})
    assert run.returncode == 0, run.stderr
    kept, found = json.loads(run.stdout)
    return kept, found


@glibc_only
def test_kept_blocks_are_not_faulted_in_again_and_the_defaults_are() -> None:
    kept, with_setting = faults({})
    off, with_defaults = faults({memory.OFF: "0"})
    assert kept and not off
    huge_pages = 10 * 32 // 2           # the fewest faults of 10 fresh 32 MiB blocks: one per 2 MiB page
    assert with_defaults >= huge_pages, with_defaults
    assert with_setting <= with_defaults // 20, (with_setting, with_defaults)


@pytest.mark.parametrize("env", [{"NNCOMPARE_KEEP_FREED": "0"}, {"MALLOC_MMAP_THRESHOLD_": "65536"},
                                 {"MALLOC_TRIM_THRESHOLD_": "0"}, {"MALLOC_TOP_PAD_": "1"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}])
def test_the_user_s_own_allocator_settings_are_left_alone(env: dict[str, str]) -> None:
    assert memory.chosen_by_user(env)


@pytest.mark.parametrize("env", [{}, {"NNCOMPARE_KEEP_FREED": "1"}, {"MALLOC_ARENA_MAX": "2"},
                                 {"GLIBC_TUNABLES": "glibc.pthread.rseq=0"}])
def test_other_settings_do_not_count_as_a_choice(env: dict[str, str]) -> None:
    assert not memory.chosen_by_user(env)


@glibc_only
def test_a_user_setting_keeps_the_process_as_the_user_set_it() -> None:
    kept, _ = faults({"MALLOC_MMAP_THRESHOLD_": "65536"})
    assert not kept
