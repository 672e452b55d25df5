"""Make the README's TensorBoard screenshot (docs/tensorboard.png) from a fresh run of the main job.

    python scripts/tensorboard_screenshot.py [--out docs/tensorboard.png] [--size 1400x1120]

1. runs the README's main job, `nncompare --experiment screenshot --overwrite --logdir TMP
   --no-progress` (as `python -m compare`; it trains the three models, ~30-60 s);
2. serves TMP/screenshot with the project's TensorBoard starter (`tests/output/tb_helpers.served`:
   127.0.0.1, a free port, stopped by its PID afterwards);
3. opens the Time Series page, filtered to the deep net's runs and to `loss/train`,
   `diff/loss_abs` and `grad_norm/W1`, in headless Chromium driven by Selenium and Debian's
   chromedriver (`tests/output/chromium.py`), waits until the five series are drawn, and
   writes the PNG.

Needs Debian's `chromium` and `chromium-driver`; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.output.chromium import missing, screenshot  # noqa: E402

EXPERIMENT = "screenshot"
TAGS = "^loss/train$|^check/step_error$|^grad_norm/W1$"        # DEVELOPERS.md, "The browser test"
RUNS = "^deep/"
# loss/train and grad_norm/W1: scratch and torch; diff/loss_abs: the diff run; each of the
# five series is drawn twice (the smoothed line over the faint raw one)
LINES = 10
EXPECT = {"deep/scratch", "deep/torch", "deep/diff"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "tensorboard.png",
                        help="the PNG to write (default docs/tensorboard.png)")
    parser.add_argument("--size", default="1400x1120", help="viewport WIDTHxHEIGHT (default 1400x1120)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds the main job may take (default 600)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    why = missing()
    if why is not None:
        print(f"tensorboard_screenshot: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="nncompare-screenshot-") as logdir:
        command = [sys.executable, "-m", "compare", "--experiment", EXPERIMENT, "--overwrite",
                   "--logdir", logdir, "--no-progress"]
        print("running the main job:", " ".join(command[2:]), flush=True)
        start = time.monotonic()
        subprocess.run(command, cwd=ROOT, check=True, timeout=args.timeout,
                       stdin=subprocess.DEVNULL)
        print(f"main job done in {time.monotonic() - start:.0f} s; taking the screenshot", flush=True)
        colours = screenshot(Path(logdir) / EXPERIMENT, args.out, TAGS, RUNS, width, height,
                             series=LINES, expect=EXPECT)
    print(f"wrote {args.out} ({width}x{height}, {len(colours)} lines drawn: {', '.join(colours)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
