"""compare.output.tensorboard.logger: the event files hold exactly the history the harness
recorded, for both sides, read back with TensorBoard's own reader after the writers are closed."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata

from compare.output.tensorboard import images as tb_images
from compare.output.tensorboard.logger import Cadence
from compare.proof.metric import relative_error
from compare.proof.result import SIDES
from scratch.errors import InvalidArgument
from tests.output.tb_helpers import f32, logged_run, logged_steps, read

ITERATIONS = 23
CADENCE = Cadence(scalars=4, histograms=10, images=11, bins=12)
STEP_TAGS = logged_steps(CADENCE.scalars, ITERATIONS - 1)     # 0, 4, ..., 20, 22
STATE_TAGS = logged_steps(CADENCE.scalars, ITERATIONS)         # 0, 4, ..., 20, 23
PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")



@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return logged_run(tmp_path_factory.mktemp("tb") / "exp" / "deep", "deep", ITERATIONS, CADENCE)


@pytest.fixture(scope="module")
def events(run):
    return {name: read(run.folder / name) for name in ("scratch", "torch", "diff")}


def scalars(acc, tag):
    return [e.step for e in acc.Scalars(tag)], [e.value for e in acc.Scalars(tag)]


def test_the_run_trained_and_passed(run):
    assert run.report.passed, run.report.diagnosis
    assert len(run.records) == ITERATIONS


def test_three_run_folders_each_with_one_event_file_and_nothing_else(run):
    assert sorted(p.name for p in run.folder.iterdir()) == ["diff", "scratch", "torch"]
    assert all(p.is_dir() for p in run.folder.iterdir())          # nothing at <experiment>/<model>
    assert sorted(p.name for p in run.folder.parent.iterdir()) == ["deep"]
    for name in ("diff", "scratch", "torch"):
        entries = list((run.folder / name).iterdir())
        assert len(entries) == 1, entries                          # no hparams sub-run
        assert entries[0].is_file() and entries[0].name.startswith("events.out.tfevents.")


def test_scratch_and_torch_carry_the_same_tags(events):
    scratch, torch_ = events["scratch"].Tags(), events["torch"].Tags()
    expected = {"loss/train", "loss/test", "accuracy/train", "accuracy/test",
                *(f"{kind}/{p}" for kind in ("grad_norm", "weight_norm", "update_ratio")
                  for p in PARAMS)}
    assert set(scratch["scalars"]) == set(torch_["scalars"]) == expected
    histograms = {f"{kind}/{p}" for kind in ("weights", "grads") for p in PARAMS}
    assert set(scratch["histograms"]) == set(torch_["histograms"]) == histograms
    assert scratch["images"] == torch_["images"] == ["decision_boundary"]


def test_loss_train_is_the_harness_cost_history(run, events):
    for side in SIDES:
        steps, values = scalars(events[side], "loss/train")
        assert steps == STEP_TAGS
        assert values == [f32(run.report.trajectory.costs[side][t]) for t in STEP_TAGS]


def test_grad_norms_and_update_ratios_are_those_of_each_recorded_step(run, events):
    for side in SIDES:
        for p in PARAMS:
            steps, values = scalars(events[side], f"grad_norm/{p}")
            assert steps == STEP_TAGS
            g = [np.linalg.norm(run.records[t].grads[side]["d" + p]) for t in STEP_TAGS]
            assert values == [f32(x) for x in g]
            steps, values = scalars(events[side], f"update_ratio/{p}")
            w = [np.linalg.norm(run.params[t][side][p]) for t in STEP_TAGS]   # the state updated
            kept = [i for i, norm in enumerate(w) if norm > 0]               # b starts at 0
            assert steps == [STEP_TAGS[i] for i in kept]
            assert values == [f32(run.lr * g[i] / w[i]) for i in kept]


def test_weight_norms_follow_the_parameters_state_by_state(run, events):
    assert len(run.params) == ITERATIONS + 1
    for side in SIDES:
        for p in PARAMS:
            steps, values = scalars(events[side], f"weight_norm/{p}")
            assert steps == STATE_TAGS
            assert values == [f32(np.linalg.norm(run.params[s][side][p])) for s in STATE_TAGS]


def test_test_and_train_metrics_end_at_the_reports_final_scores(run, events):
    for side in SIDES:
        for split in ("train", "test"):
            steps, values = scalars(events[side], f"accuracy/{split}")
            assert steps == STATE_TAGS
            assert values[-1] == f32(run.report.final[side]["accuracy"][split])
        steps, values = scalars(events[side], "loss/test")
        assert steps == STATE_TAGS
    # loss/test at the end, recomputed independently of either side's code from torch's
    # final parameters: the mean binary cross-entropy of the logits
    W = run.params[-1]["torch"]
    A = run.data.X_test
    for l in (1, 2, 3):
        Z = W[f"W{l}"] @ A + W[f"b{l}"]
        A = np.maximum(Z, 0) if l < 3 else Z
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(A[0]), torch.from_numpy(run.data.Y_test[0].astype(np.float64))).item()
    for side in SIDES:
        assert scalars(events[side], "loss/test")[1][-1] == pytest.approx(expected, rel=1e-6)


def test_diff_run_holds_the_differences_the_harness_measured(run, events):
    diff = events["diff"]
    steps, values = scalars(diff, "diff/loss_abs")
    assert steps == STEP_TAGS
    cost = run.report.trajectory.costs
    assert values == [f32(abs(cost["scratch"][t] - cost["torch"][t])) for t in STEP_TAGS]
    assert max(values) < 1e-12                                      # they agree
    assert scalars(diff, "diff/step_error")[1] == [f32(run.report.trajectory.step_error[t])
                                                   for t in STEP_TAGS]
    assert scalars(diff, "diff/loss_rel")[1] == [f32(run.records[t].drift["cost"]) for t in STEP_TAGS]
    for p in PARAMS:
        assert scalars(diff, f"diff/param_max_rel/{p}")[1] == [
            f32(run.records[t].drift[p]) for t in STEP_TAGS]
        grads = [run.records[t].grads for t in STEP_TAGS]
        assert scalars(diff, f"diff/grad_max_rel/{p}")[1] == [
            f32(relative_error(g["scratch"]["d" + p], g["torch"]["d" + p])[0]) for g in grads]
    steps, values = scalars(diff, "diff/pred_mismatch_test")
    assert steps == STATE_TAGS and values == [0.0] * len(STATE_TAGS)


def test_histograms_are_compact_and_on_their_cadence(run, events):
    for side in SIDES:
        for p in PARAMS:
            weights = events[side].Histograms(f"weights/{p}")
            assert [h.step for h in weights] == logged_steps(CADENCE.histograms, ITERATIONS)
            for h in weights:
                assert h.histogram_value.num == run.params[h.step][side][p].size
                assert len(h.histogram_value.bucket) <= CADENCE.bins + 1
                assert h.histogram_value.max == pytest.approx(run.params[h.step][side][p].max())
            grads = events[side].Histograms(f"grads/{p}")
            assert [h.step for h in grads] == logged_steps(CADENCE.histograms, ITERATIONS - 1)


def test_hparams_are_in_each_runs_own_folder_with_the_same_keys(events):
    infos = {}
    for side in SIDES:
        content = events[side].PluginTagToContent(hp_metadata.PLUGIN_NAME)
        assert hp_metadata.EXPERIMENT_TAG in content
        start = hp_metadata.parse_session_start_info_plugin_data(
            content[hp_metadata.SESSION_START_INFO_TAG])
        infos[side] = {k: v.string_value or v.number_value for k, v in start.hparams.items()}
    assert infos["scratch"].keys() == infos["torch"].keys()
    assert {k for k in infos["scratch"] if infos["scratch"][k] != infos["torch"][k]} == {"side"}
    assert infos["torch"]["side"] == "torch"
    assert infos["scratch"]["lr"] == 0.3 and infos["scratch"]["layers"] == "2-10-5-1"
    with pytest.raises(KeyError):                                  # none in the diff run
        events["diff"].PluginTagToContent(hp_metadata.PLUGIN_NAME)


def test_decision_boundaries_of_both_sides_agree(run, events):
    expected_steps = logged_steps(CADENCE.images, ITERATIONS)
    pictures = {}
    for side in SIDES:
        images = events[side].Images("decision_boundary")
        assert [i.step for i in images] == expected_steps
        pictures[side] = [np.asarray(Image.open(io.BytesIO(i.encoded_image_string)).convert("RGB"))
                          for i in images]
        assert pictures[side][-1].shape == (tb_images.SIZE, tb_images.SIZE, 3)
    for a, b in zip(pictures["scratch"], pictures["torch"], strict=True):
        assert np.mean(np.any(a != b, axis=2)) < 0.001
    first, last = pictures["torch"][0], pictures["torch"][-1]
    assert np.mean(np.any(first != last, axis=2)) > 0.05             # training moved the boundary


def test_layout_texts_and_graph(events):
    diff = events["diff"]
    layout = layout_pb2.Layout()
    layout.ParseFromString(diff.Tensors("custom_scalars__config__")[0].tensor_proto.string_val[0])
    charts = {c.title: list(c.multiline.tag) for cat in layout.category for c in cat.chart}
    assert charts["loss/train"] == ["^loss/train$"]
    assert charts["accuracy/test"] == ["^accuracy/test$"]
    assert {f"grad_norm/{p}" for p in PARAMS} <= charts.keys()
    parity = diff.Tensors("parity/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "**PASS**: all checks agree" in parity and "trajectory" in parity
    for side in SIDES:
        config = events[side].Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
        assert '"lr": 0.3' in config and '"dataset": "flower"' in config
    graph = events["torch"].Graph()
    assert any("Linear" in node.op or "linear" in node.op for node in graph.node)


def test_diverged_training_is_flushed_readable_and_says_why(tmp_path):
    run = logged_run(tmp_path / "deep", "deep", 40, Cadence(1, 0, 0), lr=1e8, layers=[2, 50, 50, 1])
    assert "diverged" in run.report.error
    last = len(run.records) - 1
    assert last < 39
    for side in SIDES:
        acc = read(tmp_path / "deep" / side)
        steps, values = scalars(acc, "loss/train")
        assert steps == list(range(last + 1))
        assert values == [f32(run.report.trajectory.costs[side][t]) for t in steps]
        status = acc.Tensors("status/text_summary")[0].tensor_proto.string_val[0].decode()
        assert "diverged" in status


def test_an_interrupt_closes_the_writers_and_marks_the_run(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        logged_run(tmp_path / "shallow", "shallow", 50, Cadence(1, 0, 0), stop_at=6)
    for side in ("scratch", "torch", "diff"):
        acc = read(tmp_path / "shallow" / side)
        status = acc.Tensors("status/text_summary")[0].tensor_proto.string_val[0].decode()
        assert status == "interrupted after step 6"
    assert scalars(read(tmp_path / "shallow" / "scratch"), "loss/train")[0] == list(range(7))


def test_cadence_defaults_scale_with_the_run_and_are_checked():
    assert Cadence.auto(5000) == Cadence(50, 500, 1250)
    assert Cadence.auto(30) == Cadence(1, 3, 7)
    assert Cadence.auto(5000, scalars=1, histograms=0) == Cadence(1, 0, 1250)
    for bad in (dict(scalars=0), dict(histograms=-1), dict(images=-2)):
        with pytest.raises(InvalidArgument):
            Cadence.auto(100, **bad)
