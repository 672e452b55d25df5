"""The packages type-check: mypy (config in pyproject.toml [tool.mypy]) finds no errors in
scratch, torch_ref and compare, so a wrong annotation or an unnarrowed Optional fails CI."""

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scratch", "torch_ref", "compare")


def test_mypy_finds_no_errors(monkeypatch):
    monkeypatch.chdir(ROOT)                  # pyproject.toml's [tool.mypy] and its cache
    stdout, stderr, status = api.run([*PACKAGES])
    assert status == 0, f"mypy {' '.join(PACKAGES)}:\n{stdout}{stderr}"
    assert "Success: no issues found" in stdout
