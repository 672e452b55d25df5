"""scripts/gpu_check.py: its --dry-run runs the whole sequence on the CPU within a time limit and
writes the report; without CUDA it refuses in one line (exit 2); its parsers and fallback work."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_check.py"
DRY_RUN_LIMIT_S = 150      # ~50 s alone on the 2-core machine; room for a loaded one


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module            # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(DRY_RUN_LIMIT_S + 30)
def test_the_dry_run_writes_the_report(tmp_path):
    out = tmp_path / "GPU.md"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=DRY_RUN_LIMIT_S)
    seconds = time.perf_counter() - start
    assert run.returncode == 0, run.stdout + run.stderr
    text = out.read_text()
    assert "**Dry run" in text and "## Machine" in text and "## Summary" in text
    for title in ("(a) tests marked cuda", "(a) the rest of the test suite", "(b) nncompare --device cpu",
                  "(c) precision audit on cpu, flower", "(c) precision audit on cpu, mnist",
                  "(d) GPU benchmark on cpu"):
        assert f"| {title}" in text, title
    assert "| FAILED |" not in text and "| TIMED OUT |" not in text
    assert "float64 (truth)" in text and "| busy | [1024, 1024, 1024, 1] m=256 |" in text
    assert "7 of 7 steps ok" in run.stdout
    assert not (ROOT / "docs" / "GPU.md").exists() or (ROOT / "docs" / "GPU.md").stat().st_mtime < start
    print(f"dry run: {seconds:.0f} s")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_without_cuda_it_refuses_in_one_line_with_exit_2():
    run = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2
    assert run.stderr.startswith("gpu_check: error: no CUDA device") and run.stderr.count("\n") == 1
    assert "--dry-run" in run.stderr and run.stdout == ""


def test_bad_usage_is_one_line_with_exit_2():
    run = subprocess.run([sys.executable, str(SCRIPT), "--bogus"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "--bogus" in run.stderr


def test_pytest_counts_come_from_the_closing_line_or_the_progress_dots():
    gpu_check = load_script()
    closing = "....s\nSKIPPED [1] a.py:3: no\n4 passed, 1 skipped, 2 deselected in 3.1s\n"
    assert gpu_check.pytest_counts(closing) == {"passed": 4, "skipped": 1, "deselected": 2}
    assert gpu_check.pytest_counts("1 failed, 3 passed, 1 error in 2s") == \
        {"failed": 1, "passed": 3, "error": 1}
    cut = "........F.s [ 40%]\n...\n"
    found = gpu_check.pytest_counts(cut)
    assert found["passed"] == 12 and found["failed"] == 1 and found["skipped"] == 1
    assert gpu_check.counts_text(found).endswith("(stopped early)")


def test_a_step_over_its_limit_is_killed_and_reported(tmp_path):
    gpu_check = load_script()
    step = gpu_check.Step("sleep", "a sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                          2, (), gpu_check.judge_tests)
    start = time.perf_counter()
    gpu_check.execute(step, deadline=time.perf_counter() + 100)
    assert step.status == "TIMED OUT" and time.perf_counter() - start < 30


def test_a_step_whose_modules_are_missing_is_skipped_naming_them():
    gpu_check = load_script()
    step = gpu_check.Step("x", "x", [sys.executable, "-c", "pass"], 10, ("no_such_module_xyz",),
                          gpu_check.judge_tests)
    gpu_check.execute(step, deadline=time.perf_counter() + 100)
    assert step.status == "skipped" and "no_such_module_xyz" in step.summary


def test_the_torch_only_fallback_measures_gemm_rates():
    lines = load_script().torch_only_bench(dry=True)
    assert len(lines) == 3 and "TFLOP/s" in lines[0] and lines[2] == "- peak: unknown"


def test_the_peaks_table_names_its_sources():
    from compare.bench.peaks import peak_for

    assert peak_for("NVIDIA H200").name == "H200 SXM" and peak_for("NVIDIA H200 NVL").float32 == 60.0
    assert peak_for("NVIDIA A100-SXM4-80GB").float64 == 19.5
    assert peak_for("NVIDIA H100 80GB HBM3").float32 == 67.0
    assert peak_for("Tesla T4") is None
    assert all("datasheet" in p.source and "https://" in p.source
               for p in (peak_for("NVIDIA H200"), peak_for("NVIDIA H100 PCIe"), peak_for("NVIDIA A100")))
