"""The data-parallel mistakes: each one against the correct setup, through `check_model` on N
ranks (gloo, this machine), scratch's gradient descent on one process the ground truth.

The torch side trains by DistributedDataParallel (`compare.distributed.ddp`): each batch of m
split in shards of m_r rows, each rank's mean loss weighted by N m_r / m, so that DDP's average
of the N gradients is the gradient of the whole batch's mean. The mistakes, each committed by
every rank (`shards.committing`):

    loss_x_world       the loss also multiplied by N              gradient x N
    sum                a sum over the shard, not a mean            gradient x m / N
    unweighted         the shards' means averaged 1/N each         the rows of small shards weigh more
    sampler_padding    DistributedSampler's padding                mean over m' = ceil(m/N) N rows
    sampler_drop_last  DistributedSampler(drop_last=True)          mean over m' = floor(m/N) N rows
    unsynced_shuffle   each rank's batch order seeded by its rank  ranks train on different batches

For each, the step at which the trajectory check fails, what differs first and the signature
the report names. The last three mistakes change nothing on a split that is even (and the
shuffle nothing in full-batch descent): the full run shows that too, where a test would pass.
Each run is logged to TensorBoard by rank 0, as every experiment's are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from compare.distributed import launch, shards
from compare.experiments.base import Experiment, ExperimentFailed, Result, Settings, Table, fmt
from compare.experiments.session import FD_ENTRIES, Session
from compare.proof.result import ModelReport
from scratch import datasets
from scratch.datasets import Dataset
from scratch.shallow import ShallowNet

NAME = "ddp-mistakes"
WRONG: tuple[str, ...] = tuple(shards.MISTAKES)
SETUPS: tuple[str | None, ...] = (None, *WRONG)
MARK = "data-parallel signature "


@dataclass(frozen=True)
class Split:
    """One table: `world` ranks, mini-batches of `batch_size` (None: the whole batch)."""

    world: int
    batch_size: int | None

    def label(self, m: int) -> str:
        """'N = 2 ranks, batches of 101 and 17: shards of 51/50 and 9/8 rows'."""
        sizes = list(dict.fromkeys(batches(m, self.batch_size or m)))
        split = ["/".join(str(len(shards.shard(b, r, self.world))) for r in range(self.world))
                 for b in sizes]
        batch = (f"the whole batch of {m}" if self.batch_size is None else
                 f"batches of {' and '.join(map(str, sizes))}")
        return f"N = {self.world} ranks, {batch}: shards of {' and '.join(split)} rows"

    def uneven(self, m: int) -> bool:
        return any(b % self.world for b in batches(m, self.batch_size or m))


def batches(m: int, batch: int) -> list[int]:
    """The batch sizes of one pass over m samples."""
    return [batch] * (m // batch) + ([m % batch] if m % batch else [])


@dataclass(frozen=True)
class Config:
    dataset: str = "flower"
    n_h: int = 4
    lr: float = 1.2
    iterations: int = 40
    splits: tuple[Split, ...] = (Split(2, 101), Split(3, 101), Split(2, None))


FULL = Config()
QUICK = Config(iterations=4, splits=(Split(2, 101),))


def variant(split: Split, wrong: str | None) -> str:
    """The run's name (its TensorBoard folder): 'N2-b101-sum', 'N2-full-correct'."""
    batch = f"b{split.batch_size}" if split.batch_size else "full"
    return f"N{split.world}-{batch}-{wrong or 'correct'}"


def check(session: Session, data: Dataset, split: Split, wrong: str | None, cfg: Config,
          seed: int) -> ModelReport:
    """One setup through the session's runner (its logger on rank 0), on this rank."""
    name = variant(split, wrong)
    model = ShallowNet(data.n_x, cfg.n_h, activation="tanh", init="small", seed=seed)
    with shards.committing(wrong):
        return session.runner.check(
            model, data, session._logger(name, data, cfg.lr, cfg.iterations), lr=cfg.lr,
            iterations=cfg.iterations, batch_size=split.batch_size, seed=seed,
            fd_max_entries=FD_ENTRIES, name=name)


def outcome(report: ModelReport) -> dict:
    """What the table shows of one run: passed, where the trajectory check failed first, the
    signature the report names, the worst error of each check."""
    trajectory = report.checks["trajectory"]
    first = trajectory.first_divergence
    detail = trajectory.detail
    return {"passed": report.passed,
            "first_step": None if first is None else first.step,
            "first": None if first is None else first.name,
            "rel_err": None if first is None else first.rel_err,
            "signature": detail.split(MARK, 1)[1] if MARK in detail else "",
            "errors": {name: c.max_rel_err for name, c in report.checks.items()}}


def on_ranks(settings: Settings, cfg: Config, splits: tuple[Split, ...], logs: str | None) -> dict:
    """Every setup of `splits` (one world size), as this rank; rank 0 logs (into `logs`, the
    folder of an earlier launch, if given) and returns the outcomes (module level: the
    launcher pickles it by name)."""
    from compare.distributed import group

    if group.rank() > 0:
        settings = dataclasses.replace(settings, logdir=None, progress=False)
    data = datasets.load(cfg.dataset, seed=settings.seed)
    found: dict = {}
    with Session(NAME, settings, len(splits) * len(SETUPS) * cfg.iterations) as session:
        if logs is not None and group.rank() == 0:
            session.logs = Path(logs)              # one folder for every launch
        for split in splits:
            for wrong in SETUPS:
                found[variant(split, wrong)] = outcome(check(session, data, split, wrong, cfg,
                                                             settings.seed))
    return {"outcomes": found, "logs": session.folder}


def measured(settings: Settings, cfg: Config) -> tuple[dict, str | None]:
    """The outcomes of every split, one launch of ranks per world size; the log folder."""
    outcomes: dict = {}
    logs = None
    for world in dict.fromkeys(s.world for s in cfg.splits):
        splits = tuple(s for s in cfg.splits if s.world == world)
        found = launch.local(world, "gloo", on_ranks, settings, cfg, splits, logs)[0]
        outcomes.update(found["outcomes"])
        logs = found["logs"]
    return outcomes, logs


def table(split: Split, outcomes: dict, m: int) -> Table:
    rows = Table(["setup", "what it does", "trajectory check", "fails at step", "first to differ",
                  "signature the report names"], title=split.label(m))
    for wrong in SETUPS:
        o = outcomes[variant(split, wrong)]
        what = shards.MISTAKES[wrong] if wrong else "shards of m_r rows, each mean loss weighted by N m_r / m"
        first = "-" if o["first"] is None else f"{o['first']} ({fmt(o['rel_err'], '.1e')})"
        rows.add(wrong or "correct", what, "pass" if o["passed"] else "FAIL",
                 "-" if o["first_step"] is None else o["first_step"], first, o["signature"] or "-")
    return rows


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    outcomes, logs = measured(settings, cfg)
    m = datasets.load(cfg.dataset, seed=settings.seed).X_train.shape[1]
    uneven = [s for s in cfg.splits if s.uneven(m)]
    claims(outcomes, uneven)
    setup = (f"ShallowNet [2, {cfg.n_h}, 1] (tanh, small init) on {cfg.dataset} (m_train = {m}), "
             f"lr {cfg.lr}, {cfg.iterations} steps, seed {settings.seed}; torch by "
             "DistributedDataParallel on gloo ranks of this machine, scratch on one process")
    return Result(NAME, setup, [table(s, outcomes, m) for s in cfg.splits],
                  conclusion(outcomes, cfg, uneven, m), {"outcomes": outcomes},
                  logs=logs)


def claims(outcomes: dict, uneven: list[Split]) -> None:
    """ExperimentFailed unless the correct setup passes everywhere and every mistake fails at
    step 0 or 1 with a signature on every uneven split."""
    for name, o in outcomes.items():
        if name.endswith("-correct") and not o["passed"]:
            raise ExperimentFailed(f"{NAME}, {name}: the correct data-parallel setup failed: {o}")
    for split in uneven:
        for wrong in WRONG:
            o = outcomes[variant(split, wrong)]
            if o["passed"] or o["first_step"] not in (0, 1) or not o["signature"]:
                raise ExperimentFailed(f"{NAME}, {variant(split, wrong)}: the mistake was not caught "
                                       f"at step 0 or 1 with its signature: {o}")


def conclusion(outcomes: dict, cfg: Config, uneven: list[Split], m: int) -> str:
    correct = [o for name, o in outcomes.items() if name.endswith("-correct")]
    worst = max(o["errors"]["trajectory"] for o in correct)
    caught = [outcomes[variant(s, w)]["first_step"] for s in uneven for w in WRONG]
    text = (f"The correct setup passed every check in every configuration (worst trajectory step "
            f"error {worst:.1e}). On the uneven splits, each of the {len(WRONG)} mistakes was "
            f"caught by the trajectory check at step {max(caught)}{' or before' if max(caught) else ''}, "
            "and the report named its signature.")
    even = [s for s in cfg.splits if s not in uneven]
    for split in even:
        missed = [w for w in WRONG if outcomes[variant(split, w)]["passed"]]
        if missed:
            text += (f" On the even split ({split.label(m)}), {', '.join(missed)} passed: "
                     "there they compute the same mathematics as the correct setup (no shard is "
                     "smaller, nothing to pad or drop" + (", one batch: no shuffle" if
                                                        split.batch_size is None else "")
                     + "), so a test on an even split cannot see them.")
    return text


EXPERIMENT = Experiment(
    name=NAME, section="DDP", title="Data-parallel mistakes, each caught by its signature",
    question="Does the step-by-step check against one process catch the common "
             "DistributedDataParallel mistakes (loss x world size, sum for mean, "
             "DistributedSampler's padding and drop_last, an unsynchronised shuffle), and name "
             "each one's cause?",
    run=run)
