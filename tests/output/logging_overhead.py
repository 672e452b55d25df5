"""What TensorBoard logging costs the main job (a measurement script, not a test).

    python tests/output/logging_overhead.py [--reps 3] [--iterations 5000] [cadence flags]

Each model of `nncompare`'s defaults is trained through the harness without and with a
`ModelLogger` (writers opened, hooks, report, writers closed: everything `nncompare`
adds), alternately, `--reps` times in one process, so that both see the same machine
load; the minimum of each is kept. The one-off cost of the first logged run in a process
(its first writers and events) is measured apart and added once, as `nncompare` pays it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from compare.output.tensorboard.logger import Cadence, ModelLogger  # noqa: E402
from compare.proof.harness import check_model  # noqa: E402
from compare.run.config import MODELS, RunConfig, build_scratch  # noqa: E402
from scratch import datasets  # noqa: E402


def train(kind: str, cfg: RunConfig, data: datasets.Dataset, folder: Path | None,
          cadence: Cadence) -> float:
    """Seconds to check and train one model, logging to `folder` (None: no logging)."""
    model = build_scratch(kind, cfg, data)
    t0 = time.perf_counter()
    kwargs = dict(lr=cfg.lr_for(kind), iterations=cfg.iterations, seed=cfg.seed,
                  output=cfg.output_for(data), name=kind)
    if folder is None:
        check_model(model, data, **kwargs)
    else:
        with ModelLogger(folder, kind, data, lr=cfg.lr_for(kind), iterations=cfg.iterations,
                         config={"dataset": data.name}, cadence=cadence) as logger:
            logger.finish(check_model(model, data, on_start=logger.start, on_step=logger.step,
                                      **kwargs))
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--iterations", type=int, default=5000)
    p.add_argument("--log-every", type=int, default=None)
    p.add_argument("--hist-every", type=int, default=None)
    p.add_argument("--image-every", type=int, default=None)
    args = p.parse_args()
    cfg = RunConfig(iterations=args.iterations).validate()
    data = datasets.load(cfg.dataset, seed=cfg.seed)
    cadence = Cadence.auto(cfg.iterations, args.log_every, args.hist_every, args.image_every)
    times: dict[tuple[str, bool], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        short = RunConfig(iterations=2).validate()
        train("logistic", short, data, None, cadence)            # torch's own first-call costs
        warm = (train("logistic", short, data, Path(tmp) / "warm", cadence)
                - train("logistic", short, data, Path(tmp) / "warm2", cadence))
        for rep in range(args.reps):
            for kind in MODELS:
                for logged in (False, True):
                    folder = Path(tmp) / f"r{rep}" / kind if logged else None
                    times.setdefault((kind, logged), []).append(train(kind, cfg, data, folder,
                                                                      cadence))
        sizes = {str(f.relative_to(Path(tmp) / "r0")): f.stat().st_size
                 for f in sorted((Path(tmp) / "r0").glob("*/*/events.out.tfevents.*"))}
    print(f"cadence {cadence}, {args.reps} reps, min seconds:")
    total = {False: 0.0, True: 0.0}
    for kind in MODELS:
        plain, logged = min(times[(kind, False)]), min(times[(kind, True)])
        total[False] += plain
        total[True] += logged
        print(f"  {kind:9s} unlogged {plain:6.2f}  logged {logged:6.2f}  (+{logged / plain - 1:.1%})")
    total[True] += warm
    print(f"  first logged run in a process: +{warm:.2f}")
    print(f"  main job  unlogged {total[False]:6.2f}  logged {total[True]:6.2f}  "
          f"(+{total[True] / total[False] - 1:.1%})")
    for name, size in sizes.items():
        print(f"  {name.rsplit('/', 1)[0]:18s} {size / 1024:7.1f} KiB")


if __name__ == "__main__":
    main()
