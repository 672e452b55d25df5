"""The thread policy's decisions (not timings): one thread for both sides below a gigaflop
per product, the pools left alone above it, and the user's own settings respected."""

import pytest
import torch
from threadpoolctl import threadpool_limits

from scratch import spec, threads
from torch_ref import device

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def no_thread_settings(monkeypatch):
    for name in spec.THREAD_SETTINGS:
        monkeypatch.delenv(name, raising=False)


def test_small_products_get_one_thread_and_large_ones_are_left_alone():
    assert spec.product_flops([64, 10, 5, 10], 1437) == 2 * 1437 * 64 * 10
    assert spec.threads_for([64, 10, 5, 10], 1437) == 1                      # digits: 1.8 MFLOP
    assert spec.threads_for([2, 10, 5, 1], 320) == 1
    assert spec.threads_for([1024, 1024, 1], 8192) is None                   # 17 GFLOP
    assert spec.threads_for([784, 20, 7, 5, 10], 4000) == 1                  # 0.13 GFLOP


def test_the_user_s_environment_decides(monkeypatch):
    monkeypatch.setenv("NNCOMPARE_THREADS", "3")
    assert spec.threads_for([2, 10, 1], 320) == 3 and spec.threads_for([1024, 1024], 8192) == 3
    monkeypatch.setenv("NNCOMPARE_THREADS", "keep")
    assert spec.threads_for([2, 10, 1], 320) is None
    monkeypatch.delenv("NNCOMPARE_THREADS")
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(name, "2")
        assert spec.threads_for([2, 10, 1], 320) is None
        monkeypatch.delenv(name)


def test_torch_follows_the_policy_on_the_cpu_only_and_not_after_set_num_threads():
    assert device.threads_for([2, 10, 1], 320, CPU) == 1
    assert device.threads_for([2, 10, 1], 320, torch.device("meta")) is None
    before = torch.get_num_threads()
    torch.set_num_threads(before + 1)
    try:
        assert device.threads_for([2, 10, 1], 320, CPU) is None
    finally:
        torch.set_num_threads(before)


def test_blas_threads_are_set_for_the_block_and_restored():
    first = threads.blas_threads_now()
    with threads.blas_threads(1):
        assert threads.blas_threads_now() == 1
    assert threads.blas_threads_now() == first


@pytest.mark.skipif(threads.blas_threads_now() < 2, reason="NumPy's BLAS has one thread here")
def test_a_limit_the_user_set_since_first_seen_is_kept(monkeypatch):
    """As on a machine whose BLAS started with 8 threads: the user's later limit of 2 stays."""
    monkeypatch.setattr(threads, "_first_seen", 8)
    with threadpool_limits(limits=2, user_api="blas"), threads.blas_threads(1):
        assert threads.blas_threads_now() == 2
    monkeypatch.setattr(threads, "_first_seen", threads.blas_threads_now())
    with threads.blas_threads(1):
        assert threads.blas_threads_now() == 1
