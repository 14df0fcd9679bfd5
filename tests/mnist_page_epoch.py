"""How long one epoch on the full 60,000 training digits takes in the MNIST page (a benchmark, not a test).

    .venv/bin/python tests/mnist_page_epoch.py [--epochs 3] [--preset Templates|Modern|network.py]

The full MNIST is a download this closed machine cannot make, so the bundled training digits are
tiled to 60,000 (and the test digits to 10,000) and handed to the page as if the full set were on disk. The page then runs in
process (Streamlit's AppTest): Train on the full set, and every script run is one live frame (a
chunk of nnviz.ui.mnist.CHUNK_EXAMPLES digits and the pictures). An epoch in the page takes its
frames, each at least the page's tick (nnviz.ui.mnist.TICK_S) apart: the sum of max(tick, run).
AppTest reruns the whole page, not just the live fragment, so the figure is an upper bound.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from nnviz.data.mnist import load_bundled  # noqa: E402
from nnviz.data.toy import Dataset  # noqa: E402
from nnviz.ui import mnist as ui  # noqa: E402

TICK_S = ui.TICK_S


def tiled_full() -> Dataset:
    b = load_bundled()
    reps = -(-60_000 // len(b.x_train))
    x, y = np.tile(b.x_train, (reps, 1))[:60_000], np.tile(b.y_train, reps)[:60_000]
    # ... and the test digits to the full set's 10,000: every frame evaluates and pictures them.
    test_reps = -(-10_000 // len(b.x_test))
    x_test, y_test = np.tile(b.x_test, (test_reps, 1))[:10_000], np.tile(b.y_test, test_reps)[:10_000]
    return Dataset(x, y, x_test, y_test, n_classes=10, name="mnist-70k-tiled")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--preset", default=None, help="a preset button of the page (default: the page's own settings)")
    args = ap.parse_args()
    init = PagesManager.__init__

    def init_without_legacy_pages(self, *a, **k):  # as tests/conftest.py: run pages through app.py's navigation
        init(self, *a, **k)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init_without_legacy_pages
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.switch_page("pages/mnist.py").run()
    ui._full_holder()["data"] = tiled_full()
    if args.preset:
        next(b for b in at.button if b.label == args.preset).click().run()
    at.radio(key=ui.widget_key("data")).set_value("full").run()
    next(b for b in at.button if b.label == "Reset").click().run()
    next(b for b in at.button if b.label == "Train").click().run()
    run = at.session_state[ui.RUN_KEY]
    run.target_epoch = 10**6
    print(f"{run.description()}: {len(run.data.x_train):,} training digits, chunks of {ui.CHUNK_EXAMPLES:,}, "
          f"tick {TICK_S:g} s")
    frames: list[float] = []
    epoch_page, epoch_runs = [], []
    start_epoch, page_s, runs_s = run.epoch, 0.0, 0.0
    while len(epoch_page) < args.epochs:
        t0 = time.perf_counter()
        at.run()
        dt = time.perf_counter() - t0
        if at.exception:
            raise SystemExit(at.exception[0].message)
        frames.append(dt)
        page_s += max(TICK_S, dt)
        runs_s += dt
        if run.epoch > start_epoch:
            epoch_page.append(page_s)
            epoch_runs.append(runs_s)
            start_epoch, page_s, runs_s = run.epoch, 0.0, 0.0
            print(f"  epoch {run.epoch}: {epoch_page[-1]:.2f} s in the page ({epoch_runs[-1]:.2f} s of script runs), "
                  f"test accuracy {run.curve[-1].test_acc:.1%}")
    print(f"one full-MNIST epoch in the page: median {statistics.median(epoch_page):.2f} s "
          f"(target <= 1 s); a frame: median {1000 * statistics.median(frames):.0f} ms of script run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
