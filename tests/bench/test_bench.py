"""nncompare bench: the quick run as a smoke test, the FLOP counts, the memory minimum, usage
errors. No timing is asserted anywhere: only structure, and that numbers are finite and > 0."""

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scratch
from compare import cli
from compare.bench import jobs as bench_jobs
from compare.bench import measure as bench_measure
from compare.bench import report as bench_report
from compare.bench import steps as bench
from compare.bench import targets as bench_targets
from compare.cli import bench as bench_cli
from scratch.errors import InvalidArgument


def positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One `nncompare bench --quick` run, written to a temporary folder."""
    out = tmp_path_factory.mktemp("bench")
    paths = out / "bench.json", out / "BENCHMARKS.md"
    rc = cli.main(["bench", "--quick", "--json", str(paths[0]), "--markdown", str(paths[1])])
    return rc, json.loads(paths[0].read_text()), paths[1].read_text(), paths[0]


def test_quick_run_writes_every_config_dtype_and_contender(quick):
    rc, result, _, _ = quick
    assert rc == 0 and result["quick"] is True
    assert [c["name"] for c in result["configs"]] == ["toy", "medium", "large", "deep-narrow"]
    for c in result["configs"]:
        assert set(c["dtypes"]) == {"float32", "float64"}
        for d in c["dtypes"].values():
            assert {"scratch", "torch_ref", "bare", "matmul"} <= set(d["times"])
            for t in d["times"].values():
                assert t["n"] >= t["rounds"] >= 1
                assert all(positive(t[k]) for k in ("median_s", "min_s", "max_s"))
                assert t["min_s"] <= t["median_s"] <= t["max_s"]
                assert t["page_faults_per_call"] >= 0
            assert positive(d["peak_gflops"])
            assert all(positive(f) for f in d["fraction_of_peak"].values())
            for r in d["ratios"].values():
                assert positive(r["median"]) and r["rounds_min"] <= r["rounds_max"]


def test_quick_run_reports_machine_threads_memory_and_jobs(quick):
    _, result, _, _ = quick
    mc = result["machine"]
    assert mc["cpu"] and mc["logical_cores"] >= 1 and mc["torch_threads"] >= 1
    assert mc["numpy_blas"].get("num_threads", 0) >= 1
    assert result["cuda"]["available"] is False or "torch_ref_cuda" in \
        result["configs"][0]["dtypes"]["float64"]["times"]
    for dtype in ("float32", "float64"):
        mem = result["memory"][dtype]
        assert mem["peak_bytes"] >= mem["minimum_bytes"] > 0
    suite = result["parity_suite"]
    assert 0 < suite["cases"] < suite["of_cases"] == len(bench_jobs.parity_cases())
    assert suite["passed"] == suite["cases"] and positive(suite["wall_s"])
    check = result["allocator_check"]
    assert check["available"] and check["page_faults_per_call"]["scratch"] >= 0
    assert positive(check["fraction_of_peak"])
    tb = result["tensorboard"]
    assert tb["available"] is False or positive(tb["ratio"])
    nproc = result["nproc"]                            # --nproc 2 against one process
    assert [r["config"] for r in nproc["rows"]] == ["medium", "large"]
    assert all(positive(r["ratio"]["median"]) for r in nproc["rows"])


def test_quick_run_checks_every_target_and_writes_the_report(quick):
    _, result, md, _ = quick
    names = {t["target"] for t in result["targets"]}
    assert names >= {"scratch/torch_ref", "scratch fraction of matmul peak", "torch_ref/bare",
                     "scratch peak memory / minimum", "float64 parity suite seconds"}
    assert all(t["met"] in (True, False, None) for t in result["targets"])
    missed = sum(t["met"] is False for t in result["targets"])
    assert missed <= len(bench_targets.misses(result)) <= missed + 1   # + the allocator's line
    suite_target = next(t for t in result["targets"] if "parity" in t["target"])
    assert suite_target["met"] is None          # a sample of the suite says nothing of 15 s
    for heading in ("# Benchmarks", "## Machine", "## Targets", "## Memory", "### The cost of `--nproc 2`",
                    "## One training step, float32", "## One training step, float64"):
        assert heading in md
    assert result["machine"]["cpu"] in md and "deep-narrow" in md


def test_a_quick_run_judges_no_target_and_says_so(quick):
    _, result, md, _ = quick
    assert all(t["met"] is None for t in result["targets"])
    assert bench_targets.misses(result) == [] and "## Missed targets" not in md
    printed = bench_report.summary(result)
    assert printed.splitlines()[0].startswith("quick: timings not judged")
    assert "MISSED" not in printed and not any(line.lstrip().startswith("met ")
                                               for line in printed.splitlines())
    assert "quick: timings not judged" in md


def test_a_full_run_is_judged_and_a_quick_one_is_not():
    d = {"ratios": {"scratch/torch_ref": {"median": 5.0}, "torch_ref/bare": {"median": 3.0}},
         "fraction_of_peak": {"scratch": 0.1}}
    result = {"configs": [{"name": "large", "dtypes": {"float64": d}}]}
    assert {t["met"] for t in bench_targets.targets(result)} == {False}
    assert {t["met"] for t in bench_targets.targets({**result, "quick": True})} == {None}


def test_the_progress_line_of_a_parity_sample_says_what_the_result_says(monkeypatch):
    every = bench.QUICK.parity_every
    cases, of_cases = bench_jobs.parity_sample_size(every)
    assert 0 < cases < of_cases == len(bench_jobs.parity_cases())
    suite = {"wall_s": 0.5, "cases": cases, "of_cases": of_cases, "iterations": 20,
             "dataset": "flower", "dtype": "float64", "passed": cases, "failed": []}
    monkeypatch.setattr(bench_jobs, "parity_suite", lambda *a, **k: dict(suite))
    monkeypatch.setattr(bench_jobs, "tensorboard_overhead", lambda *a, **k: {"available": False,
                                                                             "reason": "skipped"})
    logged: list[str] = []
    found = bench.whole_jobs(bench.QUICK, True, log=logged.append)
    target = next(t for t in bench_targets.targets({"configs": [], "quick": True, **found})
                  if "parity" in t["target"])
    announced = next(line for line in logged if "parity suite" in line)
    note = bench_targets.sample_note(cases, of_cases)
    assert note in announced and bench_report._value(target) == note
    assert "not measured" not in announced


def test_the_committed_report_is_the_render_of_the_committed_results():
    """docs/BENCHMARKS.md is generated: rendering docs/benchmarks.json gives it back, so a
    change to the report's code that changes its text shows here."""
    docs = Path(__file__).resolve().parents[2] / "docs"
    result = json.loads((docs / "benchmarks.json").read_text())
    result["targets"] = bench_targets.targets(result)
    rendered = bench_report.markdown(result, Path("docs/benchmarks.json"))
    assert rendered == (docs / "BENCHMARKS.md").read_text()


def test_no_function_of_the_bench_or_the_experiments_is_over_40_lines():
    root = Path(__file__).resolve().parents[2] / "compare"
    long = [f"{path.name}:{node.name}" for folder in ("bench", "experiments")
            for path in sorted((root / folder).glob("*.py"))
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 40]
    assert long == []


def test_render_rewrites_the_report_from_saved_results(quick, tmp_path):
    _, _, md, json_path = quick
    out = tmp_path / "again.md"
    assert bench_cli.main(["--render", str(json_path), "--markdown", str(out)]) == 0
    assert out.read_text() == md
    with pytest.raises(InvalidArgument, match="render: cannot read"):
        bench_cli.main(["--render", str(tmp_path / "missing.json"), "--markdown", str(out)])


def test_flop_count_is_exact_for_the_toy_net():
    # forward 2 * 400 * (4*2 + 1*4); dW the same; dA[1] = W2^T dZ2 only: 2 * 400 * 1*4
    assert bench_measure.matmul_flops([2, 4, 1], 400) == {
        "forward": 9600, "backward_dW": 9600, "backward_dA": 3200, "total": 22400}


def test_flop_count_matches_the_products_of_a_step():
    dims, m = (5, 4, 3, 2), 6
    products = bench_measure.step_products(dims, m, np.dtype("float64"))
    assert len(products) == 3 + 3 + 2                   # Z[l], dW[l], dA[l-1] for l >= 2
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in products)
    assert flops == bench_measure.matmul_flops(dims, m)["total"]
    for a, b, out in products:
        assert out.shape == (a.shape[0], b.shape[1])


def test_large_config_flops_by_hand():
    n, m = 1024, 4096
    per_layer = [2 * n * n * m, 2 * n * n * m, 2 * 1 * n * m]
    total = bench_measure.matmul_flops([n, n, n, 1], m)["total"]
    assert total == 2 * sum(per_layer) + per_layer[1] + per_layer[2]


def test_memory_minimum_is_params_grads_and_caches():
    model = scratch.DeepNet([3, 5, 2, 1], activation="tanh")
    X = np.random.default_rng(0).standard_normal((3, 7))
    Y = (X[:1] > 0).astype(np.float64)
    mem = bench_measure.scratch_memory(model, X, Y, 0.1)
    params = (5 * 3 + 5) + (2 * 5 + 2) + (1 * 2 + 1)            # 35 entries
    caches = 2 * (5 + 2 + 1) * 7                                 # Z[l] and A[l], [n_l, m]
    assert mem["params_bytes"] == mem["grads_bytes"] == 8 * params
    assert mem["minimum_bytes"] == 8 * (2 * params + caches)
    assert mem["floor_A_only_bytes"] == 8 * (2 * params + caches // 2)
    assert mem["peak_bytes"] >= mem["minimum_bytes"]             # all are held at the end


def test_interleaved_gives_every_contender_every_round():
    calls = {"a": 0, "b": 0}

    def bump(name):
        def f():
            calls[name] += 1
        return f

    timings = bench_measure.interleaved({"a": bump("a"), "b": bump("b")}, rounds=3,
                                        budget_s=1e-4, warmup=1, max_calls=5)
    for name, t in timings.items():
        assert len(t.round_medians) == 3 and 3 <= len(t.samples) <= 15
        assert calls[name] == len(t.samples) + 1
    r = bench_measure.ratio(timings["a"], timings["b"])
    assert positive(r["median"]) and r["rounds_min"] <= r["rounds_max"]


def test_targets_compare_each_value_with_its_bound():
    d = {"ratios": {"scratch/torch_ref": {"median": 0.5}, "torch_ref/bare": {"median": 1.2}},
         "fraction_of_peak": {"scratch": 0.9}}
    result = {"configs": [{"name": "large", "dtypes": {"float64": d}}],
              "memory": {"float64": {"ratio": 1.4}}, "tensorboard": {"ratio": None},
              "parity_suite": {"cases": 72, "of_cases": 72, "wall_s": 16.0}}
    found = {(t["target"], t["dtype"]): t["met"] for t in bench_targets.targets(result)}
    assert found == {("scratch/torch_ref", "float64"): True,
                     ("scratch fraction of matmul peak", "float64"): True,
                     ("torch_ref/bare", "float64"): False,
                     ("scratch peak memory / minimum", "float64"): True,
                     ("logged/unlogged main job", "float64"): None,
                     ("float64 parity suite seconds", "float64"): False}


def test_parity_suite_covers_every_model_output_init_and_activation():
    cases = bench_jobs.parity_cases()
    assert len(cases) == 2 * 4 * (1 + 4 * 2)
    assert len({tuple(c.values()) for c in cases}) == len(cases)
    assert {c["model"] for c in cases} == {"logistic", "shallow", "deep"}


@pytest.mark.parametrize("argv", [["--only", "huge"], ["--dtypes", "float16"], ["--rounds", "0"],
                                  ["--threads", "0"], ["--bogus"]])
def test_bad_usage_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(InvalidArgument):
        bench_cli.main(argv)
    assert cli.main(["bench", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nncompare: error:") and "\n" not in err


def test_render_of_a_file_that_is_not_bench_results_names_it(quick, tmp_path, capsys):
    _, result, _, _ = quick
    broken = {key: value for key, value in result.items() if key != "targets"}
    broken["configs"] = [{"name": "toy"}]                     # an entry without its numbers
    cases = {"empty.json": ({}, "has no 'quick', "), "list.json": ([], "holds an array, not a JSON object"),
             "text.json": ("x", "holds a string, not a JSON object"),
             "configs.json": ({**result, "configs": 3}, "'configs' is not a JSON array"),
             "broken.json": (broken, "does not hold the results that 'nncompare bench --json' writes")}
    out = tmp_path / "out.md"
    for name, (document, message) in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps(document))
        with pytest.raises(InvalidArgument, match="render: ") as error:
            bench_cli.main(["--render", str(path), "--markdown", str(out)])
        assert str(path) in str(error.value) and message in str(error.value)
        assert cli.main(["bench", "--render", str(path), "--markdown", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"nncompare: error: render: {path}") and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--json", ""], "json: got '', expected a file path"),
    (["--json", "-"], "json: got '-', expected a file path"),
    (["--json", "."], "json: . is a folder, expected a file path"),
    (["--markdown", __file__ + "/B.md"], f"markdown: cannot write {__file__}/B.md: {__file__} is not"),
    (["--json", "same.x", "--markdown", "same.x"], "markdown: same.x is also the --json file"),
    (["--render", ""], "render: got '', expected the results file"),
    (["--render", "r.json", "--json", "x.json"], "render: --json names where new results go"),
    (["--render", "r.json", "--markdown", "."], "markdown: . is a folder"),
])
def test_bad_output_paths_are_refused_before_measuring(monkeypatch, argv, message):
    def never(*args, **kwargs):
        raise AssertionError("measured")
    monkeypatch.setattr(bench, "run", never)
    monkeypatch.setattr(bench, "render", never)
    with pytest.raises(InvalidArgument) as error:
        bench_cli.main(argv)
    assert str(error.value).startswith(message)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_an_output_path_where_nothing_can_be_created_is_refused(monkeypatch):
    monkeypatch.setattr(bench, "run", lambda *a, **k: pytest.fail("measured"))
    with pytest.raises(InvalidArgument, match="json: cannot write /proc/b.json: nothing can be "
                                              "created in /proc"):
        bench_cli.main(["--quick", "--json", "/proc/b.json"])


@pytest.mark.slow
def test_python_dash_m_reports_bad_usage():
    run = subprocess.run([sys.executable, "-m", "compare", "bench", "--only", "huge"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "only: unknown config 'huge'" in run.stderr


def test_the_harness_cost_is_measured_per_dataset_idle_and_busy(quick):
    """The quick run measures flower only, both conditions; wall and ideal in the same run."""
    _, result, md, _ = quick
    cost = result["harness_cost"]
    assert [(r["dataset"], r["busy"]) for r in cost["rows"]] == [("flower", False), ("flower", True)]
    for r in cost["rows"]:
        assert positive(r["wall_s"]) and positive(r["ideal_s"]) and r["ratio"] == r["wall_s"] / r["ideal_s"]
        assert r["layers"] == [2, 10, 5, 1] and r["m"] == 320
    assert "### The harness's cost per dataset" in md and "| flower | [2, 10, 5, 1] | 320 | busy |" in md


def test_the_harness_targets_judge_every_row_and_the_digits_main_job():
    cost = {"iterations": 5000, "cores": 2, "rows": [
        {"dataset": "digits", "busy": False, "wall_s": 20.0, "ideal_s": 16.0, "ratio": 1.25},
        {"dataset": "flower", "busy": True, "wall_s": 9.0, "ideal_s": 3.0, "ratio": 3.0}]}
    found = bench_targets.harness_targets(cost)
    assert [(t["target"], t["config"], t["met"]) for t in found] == [
        ("lockstep wall / ideal", "digits", True), ("digits main job seconds", "digits", True),
        ("lockstep wall / ideal", "flower", False)]
    assert bench_targets.harness_targets({**cost, "iterations": 20})[1]["target"] == "lockstep wall / ideal"
