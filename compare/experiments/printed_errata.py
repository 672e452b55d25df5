"""Experiment 8: the notes' formulas as printed, through the harness.

`docs/NOTES.md#formulas-the-notes-print-wrong` lists the formulas the notes print
wrong; `compare.experiments.errata` codes each as one of our models with that one
formula replaced. Each printed
model goes through the four checks against the torch reference and must fail,
with the harness naming the quantity the printed formula computes (for a formula
that cannot even run, the line that raised); the same model with the formula
corrected must pass.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from compare.experiments import errata
from compare.experiments.base import Experiment, ExperimentFailed, Result, Settings, Table
from compare.experiments.session import Session
from compare.proof.result import ModelReport
from scratch import datasets
from scratch.deep import DeepNet
from scratch.logistic import LogisticRegression
from scratch.shallow import ShallowNet

NAME = "errata"
NOT_CODED = ("3.2", '"the network has four hidden layers"', "one hidden layer of four units",
             "not a formula: ShallowNet(n_h=4) is the network the section describes")


@dataclass(frozen=True)
class Config:
    dataset: str = "flower"
    lr: float = 1.2
    iterations: int = 20          # the printed bias update shows at the first step


FULL = Config()
QUICK = Config(iterations=3)


def corrected(erratum: errata.Erratum, n_x: int, seed: int) -> object:
    """The model `errata.build` makes for `erratum`, with our (corrected) class instead."""
    base = next(c for c in (DeepNet, ShallowNet, LogisticRegression)
                if issubclass(erratum.model, c))
    return errata.build(dataclasses.replace(erratum, model=base), n_x, seed)


def named(report: ModelReport) -> tuple[str | None, str]:
    """(the quantity the harness named or None, what it said in a few words)."""
    first = report.first_divergence
    if first is None:
        return None, "nothing: every check passed"
    if first["quantity"] is not None:
        where = f" {first['where']}" if first["where"] else ""
        return first["quantity"], f"{first['check']}: {first['quantity']}{where}"
    source = re.search(r"\(([\w./]+:\d+): (.*)\)\s*$", first["message"] or "")
    code = source[2].split("  #")[0].strip() if source else ""
    said = f"{first['check']}: raised at {source[1]}: `{code}`" if source else first["message"]
    return None, said


def matches(erratum: errata.Erratum, quantity: str | None, said: str) -> bool:
    """The harness named the expected quantity, or (the formula raised) the line that computes it."""
    if quantity is not None:
        return quantity == erratum.names
    stem = erratum.names.rstrip("0123456789")
    return re.search(rf"\b{re.escape(stem)}\b", said) is not None


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    data = datasets.load(cfg.dataset, seed=settings.seed)
    table = Table(["§", "printed", "correct", "the harness named (printed)", "expected",
                   "printed fails", "corrected passes"])
    facts: list[dict] = []
    with Session(NAME, settings, 2 * len(errata.ERRATA) * cfg.iterations) as session:
        for i, e in enumerate(errata.ERRATA, start=1):
            printed = session.check(errata.build(e, data.n_x, settings.seed), data,
                                    variant=f"{i}-printed", lr=cfg.lr, iterations=cfg.iterations)
            fixed = session.check(corrected(e, data.n_x, settings.seed), data,
                                  variant=f"{i}-corrected", lr=cfg.lr, iterations=cfg.iterations)
            quantity, said = named(printed)
            facts.append({"erratum": e, "quantity": quantity, "said": said,
                          "printed_failed": not printed.passed, "matches": matches(e, quantity, said),
                          "corrected_passed": fixed.passed, "diagnosis": printed.diagnosis})
            table.add(f"§{e.section}", f"`{e.printed}`", f"`{e.correct}`", said, e.names,
                      "yes" if not printed.passed else "NO",
                      "yes" if fixed.passed else f"NO: {fixed.diagnosis}")
    table.add(f"§{NOT_CODED[0]}", NOT_CODED[1], NOT_CODED[2], NOT_CODED[3], "-", "-", "-")
    setup = (f"Each model of compare.experiments.errata (deep nets "
             f"[2, 5, 3, 1] tanh with Xavier init, shallow "
             f"nets n_h = 4, logistic regression) and its corrected twin through the four checks "
             f"on {cfg.dataset}, {cfg.iterations} lockstep steps at lr {cfg.lr}, seed {settings.seed}")
    result = Result(NAME, setup, [table], conclusion(facts), {"errata": facts},
                    logs=session.folder)
    bad = [f"§{f['erratum'].section} {f['erratum'].printed}" for f in facts
           if not (f["printed_failed"] and f["matches"] and f["corrected_passed"])]
    if bad:
        raise ExperimentFailed(f"{NAME}: not caught and named as expected: {'; '.join(bad)}\n"
                               + result.text())
    return result


def conclusion(facts: list[dict]) -> str:
    """Written from the facts (`run` raises before this if any erratum escaped)."""
    by_check: dict[str, list[str]] = {}
    for f in facts:
        by_check.setdefault(f["said"].split(":")[0], []).append(f"§{f['erratum'].section}")
    text = (f"All {len(facts)} printed formulas that can be coded fail the checks, each with the "
            "harness naming the quantity it computes, and every corrected model passes all four "
            "checks. Caught by "
            + "; ".join(f"the {check} check: {', '.join(secs)}" for check, secs in by_check.items())
            + ". ")
    return (text + "".join(_remark(f) for f in facts)).rstrip()


def _remark(f: dict) -> str:
    """A word on an erratum the checks catch in an unusual way, from what the harness said."""
    printed = f["erratum"].printed
    if f["quantity"] is None:
        why = ("its shapes do not match" if "shape" in (f["diagnosis"] or "") else
               "the scratch model raised")
        return (f"The printed `{printed}` cannot even be computed ({why}); the harness reports "
                "the line that raised. ")
    if f["said"].startswith("trajectory"):
        step = re.search(r"at step (\d+)", f["said"])
        when = ("at the first step" if step and step[1] == "0" else
                f"at step {step[1]}" if step else "during training")
        return (f"`{printed}` is not in the forward or backward pass: only the trajectory check "
                f"sees it, {when}. ")
    return ""


EXPERIMENT = Experiment(
    name=NAME, section="errata", title="The notes' printed formulas through the gradient check",
    question="Does the harness catch each formula the notes print wrong, and name it, while the "
             "corrected formula passes?",
    run=run)
