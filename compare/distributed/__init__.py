"""Data-parallel training of the torch reference: torch.distributed, DistributedDataParallel.

    group.py      the process group of this process: from the launcher's environment (RANK,
                  WORLD_SIZE, MASTER_ADDR, MASTER_PORT), its backend (gloo on the CPU, NCCL
                  on CUDA, one device per rank), its timeout, and a teardown that does not abort
    launch.py     N local ranks on 127.0.0.1 through PyTorch's own launcher (elastic_launch,
                  the machinery of torchrun); a failed or killed rank named in one line
    signals.py    while local ranks run: Ctrl-C (SIGTERM, SIGHUP) to the launcher alone,
                  passed on to rank 0; the ranks detached from the terminal, killed with it
    shards.py     each step's batch split across the ranks in shards (sizes differ by at most
                  one, no sample twice), each rank's mean loss weighted by N m_r / m so that
                  DDP's average is the gradient of the whole batch's mean; the mistakes
    ddp.py        the data-parallel trainer: every rank's parameters compared bitwise after
                  each step; the go flag of rank 0; the follower loop of ranks 1..N-1
    signature.py  the cause of a wrong setup, told from what the ranks trained on at the
                  first steps and the all-reduced gradient

The part sits below `compare.proof` (pyproject.toml's layers): it needs torch, torch_ref and
the adapter, nothing of the checks; `compare.proof.harness.check_model(nproc=N)` hands
`compare.proof.lockstep` a trainer from here, so the lockstep check itself is unchanged.
"""

import os

LAUNCH_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def launched() -> bool:
    """Whether a launcher started this process as a rank (its variables are all set); no torch
    is imported here, so that `nncompare --help` and early usage errors stay fast."""
    return all(name in os.environ for name in LAUNCH_VARS)
