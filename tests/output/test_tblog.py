"""compare.output.tensorboard.logger: the event files hold exactly the history the harness
recorded, for both sides, read back with TensorBoard's own reader after the writers are closed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata

import scratch
from compare.experiments import zero_init
from compare.output.tensorboard import images as tb_images
from compare.output.tensorboard.logger import Cadence
from compare.proof.metric import relative_error
from compare.proof.result import SIDES
from compare.proof.tolerances import tolerance
from scratch import datasets
from scratch.errors import InvalidArgument
from tests.output.tb_helpers import f32, logged_run, logged_steps, read

ITERATIONS = 23
CADENCE = Cadence(scalars=4, histograms=10, images=11, bins=12)
STEP_TAGS = logged_steps(CADENCE.scalars, ITERATIONS - 1)     # 0, 4, ..., 20, 22
STATE_TAGS = logged_steps(CADENCE.scalars, ITERATIONS)         # 0, 4, ..., 20, 23
PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")
DIFF_TAGS = {"check/step_error", "check/drift", "diff_drift/cost", "diff_test/loss",
             "diff_test/pred_mismatch", *(f"diff_{kind}/{p}" for kind in ("drift", "grad") for p in PARAMS)}
PAGE = 12                      # cards on one page of a TensorBoard tag group


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


def test_diff_run_holds_the_differences_as_the_harness_measures_them(run, events):
    diff = events["diff"]
    trajectory = run.report.trajectory
    steps, values = scalars(diff, "check/step_error")
    assert steps == STEP_TAGS
    assert values == [f32(trajectory.step_error[t]) for t in STEP_TAGS]
    assert scalars(diff, "check/drift")[1] == [f32(trajectory.drift[t]) for t in STEP_TAGS]
    for name in ("cost", *PARAMS):
        assert scalars(diff, f"diff_drift/{name}")[1] == [
            f32(run.records[t].drift[name]) for t in STEP_TAGS]
    for p in PARAMS:                  # lr dW against the layer's size after the step, >= lr
        expected = []
        for r in (run.records[t] for t in STEP_TAGS):
            scale = max(np.abs(r.params["torch"][f"{q}{p[1:]}"]).max() for q in "Wb")
            expected.append(f32(relative_error(run.lr * r.grads["scratch"]["d" + p],
                                               run.lr * r.grads["torch"]["d" + p],
                                               max(scale, run.lr))[0]))
        assert scalars(diff, f"diff_grad/{p}")[1] == expected
    steps, values = scalars(diff, "diff_test/loss")
    assert steps == STATE_TAGS and max(values) < 1e-12
    steps, values = scalars(diff, "diff_test/pred_mismatch")
    assert steps == STATE_TAGS and values == [0.0] * len(STATE_TAGS)


def zero_init_shallow_net() -> tuple[object, str]:
    data = datasets.load("circles", seed=1)
    return zero_init.build("zeros", zero_init.FULL, data.n_x, 1), "circles"


@pytest.mark.parametrize("kind, iterations", [("logistic", 120), ("zeros", 30)])
def test_no_diff_chart_shows_an_error_the_passing_verdict_contradicts(tmp_path, kind, iterations):
    """Logistic regression's gradient vanishes (~1e-17 by step 90) and the zero-init net's db2
    is rounding noise from step 0 (W2 = 0): against their own size their differences read
    1 to 30, while every step agrees to 1e-16 of the size the harness measures with."""
    model, dataset = zero_init_shallow_net() if kind == "zeros" else (None, "flower")
    run = logged_run(tmp_path / kind, "logistic" if model is None else "shallow", iterations,
                     Cadence(5, 0, 0), lr=1.2, model=model, dataset=dataset)
    assert run.report.passed, run.report.diagnosis
    bound = tolerance("float64", "cpu").trajectory
    diff = read(tmp_path / kind / "diff")
    found = {tag: max(scalars(diff, tag)[1]) for tag in diff.Tags()["scalars"]
             if not tag.startswith("diff_raw/")}                # a raw value says so
    shares = [tag for tag in found if "pred_mismatch" in tag]   # of samples, not an error
    assert [found.pop(tag) for tag in shares] == [0.0]
    assert len(found) >= 7 and {tag: v for tag, v in found.items() if not v <= bound} == {}


def test_the_diff_run_has_one_chart_per_quantity_and_each_group_fits_on_a_page(events):
    assert set(events["diff"].Tags()["scalars"]) == DIFF_TAGS
    groups: dict[str, set[str]] = {}
    for acc in events.values():
        tags = acc.Tags()
        for tag in (*tags["scalars"], *tags["histograms"], *tags["images"]):
            groups.setdefault(tag.split("/")[0], set()).add(tag)
    assert {g: len(t) for g, t in groups.items() if len(t) > PAGE} == {}


def tensorboard_order(tag: str) -> list:
    """A key sorting tags as TensorBoard's tag groups do: '/' and digits before other
    characters, runs of digits by their number."""
    key = []
    for part in re.findall(r"\d+|.", tag):
        key.append((0, int(part), "") if part.isdigit() else ((0, -1, "") if part == "/" else (1, 0, part)))
    return key


def test_time_series_opens_on_accuracy_and_the_checks_step_error_and_drift(events):
    """TensorBoard orders tag groups by name and opens the first two (tests/output/
    test_browser.py sees it do so)."""
    every = sorted({tag for acc in events.values() for kind in ("scalars", "histograms", "images")
                    for tag in acc.Tags()[kind]}, key=tensorboard_order)
    groups = list(dict.fromkeys(tag.split("/")[0] for tag in every))
    assert groups[:2] == ["accuracy", "check"]
    assert sorted(tag for tag in every if tag.startswith("check/")) == ["check/drift", "check/step_error"]


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


def session_hparams(acc) -> dict:
    """{name: the protobuf Value} of a run's hparams."""
    content = acc.PluginTagToContent(hp_metadata.PLUGIN_NAME)
    return dict(hp_metadata.parse_session_start_info_plugin_data(
        content[hp_metadata.SESSION_START_INFO_TAG]).hparams)


def test_hparams_are_in_each_runs_own_folder_with_the_same_keys(events):
    infos = {}
    for side in SIDES:
        assert hp_metadata.EXPERIMENT_TAG in events[side].PluginTagToContent(hp_metadata.PLUGIN_NAME)
        infos[side] = {k: v.string_value or v.number_value for k, v in session_hparams(events[side]).items()}
    assert infos["scratch"].keys() == infos["torch"].keys()
    assert {k for k in infos["scratch"] if infos["scratch"][k] != infos["torch"][k]} == {"side"}
    assert infos["torch"]["side"] == "torch"
    assert infos["scratch"]["lr"] == 0.3 and infos["scratch"]["layers"] == "2-10-5-1"
    with pytest.raises(KeyError):                                  # none in the diff run
        events["diff"].PluginTagToContent(hp_metadata.PLUGIN_NAME)


def test_hparams_show_integers_as_integers_and_alpha_only_with_leaky_relu(tmp_path, events):
    """TensorBoard prints every number to 5 digits (a batch of 320 as '320.00'): integers are
    text; alpha applies to Leaky ReLU alone."""
    found = session_hparams(events["scratch"])
    kinds = {k: v.WhichOneof("kind") for k, v in found.items()}
    assert found["iterations"].string_value == str(ITERATIONS) and found["seed"].string_value == "1"
    assert found["batch_size"].string_value == found["m_train"].string_value == "320"
    assert kinds["lr"] == "number_value" and found["lr"].number_value == 0.3
    assert "alpha" not in found and "requested" not in found
    leaky = scratch.DeepNet([2, 5, 1], activation="leaky_relu", init="he", seed=1)
    logged_run(tmp_path / "leaky", "deep", 2, Cadence(1, 0, 0), model=leaky)
    assert session_hparams(read(tmp_path / "leaky" / "torch"))["alpha"].number_value == 0.01


def test_hparams_tab_shows_the_settings_that_matter_first(events):
    """The HParams tab shows the five hparams its experiment marks `differs` (then those
    sorting first by name): layers, activation, init, lr and iterations, in every run alike."""
    experiments = []
    for side in SIDES:
        content = events[side].PluginTagToContent(hp_metadata.PLUGIN_NAME)
        experiments.append(hp_metadata.parse_experiment_plugin_data(content[hp_metadata.EXPERIMENT_TAG]))
    assert experiments[0] == experiments[1]
    infos = sorted(experiments[0].hparam_infos, key=lambda i: (not i.differs, i.name))
    assert [i.name for i in infos[:5]] == ["activation", "init", "iterations", "layers", "lr"]
    assert {i.name for i in infos} >= {"alpha", "model", "side", "dataset", "batch_size"}
    assert [m.name.tag for m in experiments[0].metric_infos] == [
        "loss/train", "loss/test", "accuracy/train", "accuracy/test"]


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


def test_layout_opens_on_loss_accuracy_and_the_check_the_rest_closed(events):
    layout = layout_pb2.Layout()
    layout.ParseFromString(events["diff"].Tensors("custom_scalars__config__")[0]
                           .tensor_proto.string_val[0])
    opened = [[list(c.multiline.tag) for c in cat.chart] for cat in layout.category if not cat.closed]
    assert opened == [[["^loss/train$"], ["^loss/test$"]],
                      [["^accuracy/train$"], ["^accuracy/test$"]],
                      [["^check/step_error$"], ["^check/drift$"]]]
    closed = {c.title: list(c.multiline.tag) for cat in layout.category if cat.closed for c in cat.chart}
    assert {f"grad_norm/{p}" for p in PARAMS} <= closed.keys()
    assert ["^diff_drift/"] in closed.values() and ["^diff_grad/"] in closed.values()


def text(acc, tag: str) -> str:
    return acc.Tensors(f"{tag}/text_summary")[0].tensor_proto.string_val[0].decode()


def test_the_report_text_sorts_first_and_the_settings_are_one_table(events):
    every = sorted(tag for acc in events.values() for tag in acc.Tags()["tensors"]
                   if tag.endswith("/text_summary"))
    assert every == ["parity/text_summary", "settings/text_summary"]     # in the diff run
    assert "**PASS**: all checks agree" in text(events["diff"], "parity")
    assert "trajectory" in text(events["diff"], "parity")
    settings = text(events["diff"], "settings").splitlines()
    assert settings[:2] == ["| setting | value |", "|---|---|"]
    assert all(line.startswith("| `") and line.endswith(" |") for line in settings[2:])
    for row in ("| `model` | deep |", "| `lr` | 0.3 |", f"| `iterations` | {ITERATIONS} |",
                "| `dataset` | flower |", "| `requested.models` | deep |", "| `requested.lr` | (unset) |"):
        assert row in settings
    assert not any("alpha" in line for line in settings)


def test_the_readme_documents_every_tag_and_how_to_filter_the_runs(events):
    """Every tag of the three runs is in the README's TensorBoard section (`<param>` for
    W1, b1, ...), with the run filters for one model (`^deep/`, which test_browser.py
    uses) and for the scratch and torch runs alone."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    section = readme.read_text().split("\n## TensorBoard\n", 1)[1].split("\n## ", 1)[0]
    every = {re.sub(r"/[Wb]\d+$", "/<param>", tag) for acc in events.values()
             for kind in ("scalars", "histograms", "images") for tag in acc.Tags()[kind]}
    assert sorted(tag for tag in every if f"`{tag}`" not in section) == []
    assert "`^deep/`" in section and "`scratch|torch`" in section


def test_the_torch_run_holds_the_graph_in_the_notes_names_with_each_output_s_shape(run, events):
    graph = {node.name: node for node in events["torch"].Graph().node}
    dims = [run.model.params["W1"].shape[1]] + [run.model.params[f"W{l}"].shape[0]
                                                for l in range(1, len(run.model.params) // 2 + 1)]
    L, last = len(dims) - 1, "input/X"
    for l in range(1, L + 1):
        linear = graph[f"Net/Z{l}"]
        assert linear.op == "aten::linear"
        assert list(linear.input) == [last, f"Net/Z{l}/W{l}", f"Net/Z{l}/b{l}"]
        assert [d.size for d in linear.attr["_output_shapes"].list.shape[0].dim] == [1, dims[l]]
        last = f"Net/Z{l}"
        if l < L:
            assert graph[f"Net/A{l}"].op == "aten::relu" and list(graph[f"Net/A{l}"].input) == [last]
            last = f"Net/A{l}"
    assert list(graph[f"output/Z{L}"].input) == [f"Net/Z{L}"]
    assert [d.size for d in graph["input/X"].attr["_output_shapes"].list.shape[0].dim] == [1, dims[0]]


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
