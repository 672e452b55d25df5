"""NumPy's BLAS threads for a block (threadpoolctl), by the policy of `scratch.spec.threads_for`.

A limit the user set (threadpoolctl's `threadpool_limits`, or the environment variables
the policy names) is respected: the pool is changed only while it holds the threads it
had when first seen here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threadpoolctl import threadpool_info, threadpool_limits

_first_seen: int | None = None       # BLAS threads when nncompare first looked


def blas_threads_now() -> int:
    """The threads of NumPy's BLAS now (the largest, if several BLAS libraries are loaded)."""
    return max((lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"),
               default=1)


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` BLAS threads (None: unchanged), then restore them; unchanged
    too when the user has limited them since this process first looked."""
    global _first_seen
    now = blas_threads_now()
    if _first_seen is None:
        _first_seen = now
    if n is None or n == now or now != _first_seen:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield
