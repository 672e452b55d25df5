"""The layering of the packages (pyproject.toml's [tool.importlinter] contracts) holds, would
fail on an edge that runs up, sideways or in a cycle, and no function is over 40 lines."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scratch", "torch_ref", "compare")
MAX_LINES = 40


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter's own command, on the packages under `root` (its copies come first)."""
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(command), "--config", str(root / "pyproject.toml")], cwd=root,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})


def test_the_contracts_hold():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 kept, 0 broken." in run.stdout


def test_torch_ref_may_use_only_the_vocabulary_of_scratch():
    """The forbidden list names every scratch module but spec and errors, so a new one is
    forbidden to torch_ref until someone decides otherwise."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c.get("source_modules") == ["torch_ref"])
    modules = {f"scratch.{p.stem}" for p in (ROOT / "scratch").glob("*.py") if p.stem != "__init__"}
    assert set(contract["forbidden_modules"]) == {"compare", *modules - {"scratch.spec", "scratch.errors"}}


BAD_EDGES = [   # (module that gains the import, the import): each breaks a contract
    ("compare/bench/jobs.py", "import compare.cli"),                     # a cycle through the command line
    ("compare/experiments/docs.py", "import compare.cli.experiment"),   # experiments above the command line
    ("compare/output/report.py", "import compare.run.rundir"),          # output reaching up into the run
    ("compare/output/tensorboard/logger.py", "import compare.run.job"),
    ("compare/proof/result.py", "import compare.output.report"),        # the proof reaching the output
    ("compare/adapter.py", "import compare.proof.harness"),
    ("compare/distributed/ddp.py", "import compare.proof.lockstep"),   # distributed sits below the proof
    ("compare/adapter.py", "import compare.distributed.group"),        # ... and above the adapter
    ("compare/proof/metric.py", "import compare.proof.result"),         # result -> metric -> result
    ("torch_ref/train.py", "import scratch.validate"),
    ("torch_ref/models.py", "import compare.adapter"),
    ("scratch/model.py", "import torch_ref"),
]


@pytest.mark.slow
def test_each_bad_edge_breaks_a_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint_imports(tmp_path).returncode == 0
    for path, statement in BAD_EDGES:
        target = tmp_path / path
        original = target.read_text()
        target.write_text(original + f"\n{statement}  # noqa\n")
        run = lint_imports(tmp_path)
        target.write_text(original)
        assert run.returncode != 0 and "BROKEN" in run.stdout, (path, statement, run.stdout)


def long_functions() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_LINES:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_over_40_lines():
    assert long_functions() == []
