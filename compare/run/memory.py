"""glibc's allocator, set for training: freed blocks of any size stay in the process's heap.

By default glibc serves every request of 32 MiB or more (the largest of its sliding
threshold) with a fresh `mmap` and returns it to the kernel on `free`, so that a NumPy
temporary of that size (Z[l] or A[l] of 1024 units on 4096 samples, float64) is faulted
in again, zero-filled page by page, at every step: on `nncompare bench`'s large config
about a fifth of a float64 step, the whole of scratch's gap to torch_ref (the report
shows it, measured with and without this setting). With the threshold at 1 GiB and the
heap never trimmed, a step reuses the blocks the previous step freed: no faults, no
change to the code of `scratch/` (which stays plain NumPy, `A = g(W @ A_prev + b)`).

The cost: the process's resident memory stays at its peak (the blocks are reused, not
returned); peak memory itself does not change. `nncompare` sets it at its start, for its
own process only. It is left alone where the user chose: NNCOMPARE_KEEP_FREED=0, or any
of glibc's own MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_ or a
GLIBC_TUNABLES malloc setting; and off glibc (macOS, Windows, musl) there is nothing to set.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3        # mallopt's parameters (malloc.h)
MMAP_THRESHOLD = 2**30                             # requests below 1 GiB come from the heap
TRIM_THRESHOLD = 2**31 - 1                         # the largest int: never trim the heap
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
OFF = "NNCOMPARE_KEEP_FREED"
KEPT = [False]                                     # whether this process set it


def chosen_by_user(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the allocator is the user's to set: NNCOMPARE_KEEP_FREED=0, or glibc's own
    malloc settings in the environment."""
    return (environ.get(OFF, "").strip() == "0" or any(environ.get(name) for name in USER_SETTINGS)
            or "malloc" in environ.get("GLIBC_TUNABLES", ""))


def on_glibc() -> bool:
    """Whether this process runs on GNU libc (Linux's usual C library; not musl, macOS, Windows)."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):       # no confstr, or no such name here
        return False


def keep_freed_blocks() -> bool:
    """Set glibc's allocator as the module says; whether it was set (False: not glibc, or the
    user's choice, or glibc refused)."""
    if not on_glibc() or chosen_by_user():
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    KEPT[0] = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                   and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return KEPT[0]
