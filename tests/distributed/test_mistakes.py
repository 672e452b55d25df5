"""The common data-parallel mistakes, each caught at step 0 or 1 and named by its signature,
while the correct setup passes: the `ddp-mistakes` experiment's quick run (flower, mini-batches
of 101 and 17 over 2 ranks: shards 51/50 and 9/8), logged to TensorBoard by rank 0; and a
mistake carried into the ranks that `check_model(nproc=2)` starts itself."""

from __future__ import annotations

import pytest

import scratch
from compare.distributed import shards
from compare.experiments import Settings, get
from compare.experiments import ddp_mistakes as experiment
from compare.proof.harness import check_model
from scratch import datasets
from tests.output.tb_helpers import read

SIGNATURES = {  # what each mistake's signature must say (the mathematics of the batch of 101)
    "loss_x_world": "exactly 2 (the world size) times the whole batch's mean",
    "sum": "50.5 = m/N = 101/2 times",
    "unweighted": "1/N each, not m_r/m: shards of 51/50 rows",
    "sampler_padding": "mean over m' = 102 rows, not m = 101: DistributedSampler's padding",
    "sampler_drop_last": "mean over m' = 100 rows, not m = 101: DistributedSampler's drop_last",
    "unsynced_shuffle": "rank 1 trained on another batch than rank 0: an unsynchronised shuffle",
}


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_each_mistake_is_caught_at_step_0_or_1_and_named(tmp_path):
    assert get("ddp-mistakes") is experiment.EXPERIMENT
    assert set(SIGNATURES) == set(shards.MISTAKES)
    result = experiment.run(Settings(quick=True, logdir=str(tmp_path), overwrite=True))
    outcomes = result.facts["outcomes"]
    assert outcomes["N2-b101-correct"]["passed"] and outcomes["N2-b101-correct"]["signature"] == ""
    assert outcomes["N2-b101-correct"]["errors"]["trajectory"] <= 1e-11      # float64's bound
    for wrong, says in SIGNATURES.items():
        found = outcomes[f"N2-b101-{wrong}"]
        assert not found["passed"] and found["first_step"] in (0, 1), (wrong, found)
        assert says in found["signature"], (wrong, found["signature"])
    text = result.text()
    assert all(wrong in text for wrong in SIGNATURES) and "caught by the trajectory check" in text
    for side in ("scratch", "torch"):                # both sides logged, for every setup
        for name in outcomes:
            assert "loss/train" in read(tmp_path / "exp-ddp-mistakes" / name / side).Tags()["scalars"]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_mistake_reaches_the_ranks_check_model_starts():
    data = datasets.load("flower", seed=1)
    model = scratch.ShallowNet(n_x=2, n_h=4, activation="tanh", seed=1)
    with shards.committing("loss_x_world"):
        report = check_model(model, data, lr=1.2, iterations=2, batch_size=101, nproc=2)
    assert not report.passed
    assert SIGNATURES["loss_x_world"] in report.checks["trajectory"].detail
