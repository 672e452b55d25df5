"""StateMeter gives exactly the numbers of lockstep.state_errors, which it replaces in the
lockstep's every-step measure (state_errors stays the one that builds reported Comparisons)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from compare import adapter
from compare.proof.lockstep import state_errors
from compare.proof.state import StateMeter, notes_order
from scratch.spec import ModelSpec
from torch_ref.models import Net

DIMS = [3, 4, 2, 1]


def state(rng: np.random.Generator, dtype: type = np.float64) -> dict[str, np.ndarray]:
    params = {}
    for l in range(1, len(DIMS)):
        params[f"W{l}"] = rng.standard_normal((DIMS[l], DIMS[l - 1])).astype(dtype)
        params[f"b{l}"] = rng.standard_normal((DIMS[l], 1)).astype(dtype)
    return params


def vector(params: dict[str, np.ndarray]) -> np.ndarray:
    meter = StateMeter({n: p.shape for n, p in params.items()}, notes_order(list(params)))
    found = meter.vector(params)
    assert found is not None
    return found


def both(params: dict[str, np.ndarray], ref: dict[str, np.ndarray], J: float, J_ref: float,
         J_scale: float = 1.0, floor: float = 0.0) -> tuple[dict[str, float], dict[str, float]]:
    meter = StateMeter({n: p.shape for n, p in params.items()}, notes_order(list(params)))
    fast = meter.errors(J, vector(params), J_ref, vector(ref), J_scale, floor)
    slow = {c.name: c.rel_err for c in state_errors(J, params, J_ref, ref, 1e-10, J_scale, floor)}
    return fast, slow


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(5))
def test_the_meter_gives_state_errors_numbers_exactly(dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = state(rng, dtype)
    ref = {n: (p + rng.standard_normal(p.shape) * 10.0 ** rng.integers(-12, 0)).astype(dtype)
           for n, p in params.items()}
    fast, slow = both(params, ref, 0.7, 0.7 + 1e-9 * seed, J_scale=2.0, floor=0.01 * seed)
    assert fast == slow                                     # bitwise: the same float64 arithmetic


def test_a_zero_layer_a_floor_and_equal_states_are_measured_as_state_errors_does() -> None:
    params = state(np.random.default_rng(0))
    params["W2"][...] = 0.0
    params["b2"][...] = 0.0
    ref = {n: p.copy() for n, p in params.items()}
    fast, slow = both(params, ref, 0.5, 0.5)
    assert fast == slow and set(fast.values()) == {0.0}
    params["b2"][0, 0] = 1e-20                               # against a layer of size 0: inf
    fast, slow = both(params, ref, 0.5, 0.5)
    assert fast == slow and fast["b2"] == math.inf
    fast, slow = both(params, ref, 0.5, 0.5, floor=0.1)      # ... or against the floor
    assert fast == slow and fast["b2"] == pytest.approx(1e-19, rel=1e-15)


def test_nan_and_inf_are_inf_as_in_state_errors() -> None:
    params, ref = state(np.random.default_rng(1)), state(np.random.default_rng(1))
    params["W1"][1, 2], params["b3"][0, 0] = np.nan, np.inf
    fast, slow = both(params, ref, math.nan, 0.5)
    assert fast == slow
    assert fast["W1"] == fast["b3"] == fast["cost"] == math.inf and fast["W2"] == 0.0


def test_a_changed_shape_or_names_that_are_not_the_notes_leave_it_to_state_errors() -> None:
    params = state(np.random.default_rng(2))
    meter = StateMeter({n: p.shape for n, p in params.items()}, notes_order(list(params)))
    params["b1"] = np.zeros((DIMS[1], 5))                   # an update that broadcast b
    assert meter.vector(params) is None
    assert notes_order(["W1", "b1", "V2"]) is None
    assert notes_order(["b1", "W2", "W1", "b2"]) == ["W1", "b1", "W2", "b2"]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_torch_vector_is_the_scratch_vector_of_the_same_parameters(dtype: torch.dtype) -> None:
    net = Net(ModelSpec.build(DIMS, "relu", "sigmoid"), seed=3, dtype=dtype)
    params = adapter.params_from_torch(net)
    order = notes_order(list(params))
    theta = adapter.params_vector([net.notes_params()[n] for n in order])
    assert theta.dtype == np.float64 and np.array_equal(theta, vector(params))
    theta[0] = 123.0                                          # a copy, not a view
    assert float(net.notes_params()["W1"].detach()[0, 0]) != 123.0
