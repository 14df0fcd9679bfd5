"""Benchmark: what one upload may cost the server, at the caps nnviz sets.

    python -m nnviz.cli.bench_uploads [--json] [--big]

- Photos (nnviz.lab.preprocess.load_photo): how far reading each test picture raises the peak
  memory (RSS) of a fresh process (a 6000 x 6000 PNG that refuses at the pixel cap, a 12 MP PNG
  at the cap, an 18.75 MP JPEG decoded reduced), and the time it took.
- Models (nnviz.lab.digit_model): seconds of one training epoch on the bundled 8,000 digits for
  the default model's [784, 100, 10], the biggest network the MNIST page builds, one at the
  1,000,000-parameter cap, and with
  --big for the issue's [784, 3000, 3000, 3000, 10] (refused now; tens of seconds).
One BLAS thread, as the app serves. Figures depend on the machine and its load: read them as such.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHOTO_CHILD = r"""
import sys, time
from nnviz.lab.preprocess import load_photo

def status(key):  # kB, from the kernel
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key))

raw = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to what is resident now
before = status("VmRSS:")
t0 = time.perf_counter()
try:
    load_photo(raw); outcome = "read"
except ValueError as e:
    outcome = "refused: " + str(e)
seconds = time.perf_counter() - t0
print(before, status("VmHWM:"), seconds, outcome, sep="\t")
"""
PICTURES = {"png36": ((6000, 6000), "RGBA", "PNG"), "png12": ((4000, 3000), "RGB", "PNG"),
            "jpeg19": ((5000, 3750), "RGB", "JPEG")}


def _picture(size, mode: str, fmt: str) -> bytes:
    """A dark stroke on light paper, enlarged to `size` (made here, not in the measured process)."""
    from PIL import Image, ImageDraw
    small = Image.new("L", (400, 300), 200)
    ImageDraw.Draw(small).line([(200, 40), (200, 260)], fill=40, width=14)
    buf = io.BytesIO()
    small.resize(size).convert(mode).save(buf, fmt)
    return buf.getvalue()


def photo_costs() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, spec in PICTURES.items():
            path = Path(tmp) / kind
            path.write_bytes(_picture(*spec))
            out = subprocess.run([sys.executable, "-c", PHOTO_CHILD, str(path)], capture_output=True, text=True,
                                 env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, check=True)
            before, after, seconds, outcome = out.stdout.strip().split("\t", 3)
            rows.append({"metric": "photo", "picture": kind, "file_kb": round(path.stat().st_size / 1024),
                         "extra_peak_mb": round(max(int(after) - int(before), 0) / 1024),
                         "seconds": round(float(seconds), 3), "outcome": outcome})
    return rows


def epoch_costs(big: bool) -> list[dict]:
    import numpy as np

    from nnviz.data.mnist import load_bundled
    from nnviz.engine.model import MLP
    from nnviz.engine.threads import BlasLimit
    from nnviz.engine.training import TrainConfig, Trainer
    from nnviz.lab.digit_model import digit_model_problem

    data = load_bundled()
    sizes_list = [(784, 100, 10), (784, 500, 500, 10), (784, 1255, 10)] + ([(784, 3000, 3000, 3000, 10)] if big else [])
    rows = []
    for sizes in sizes_list:
        rng = np.random.default_rng(0)
        model = MLP.create(sizes, "relu", "softmax", "cross_entropy", "he", rng)
        trainer = Trainer(model, data, TrainConfig("sgd", 0.01, 32), rng)
        with BlasLimit(1):
            t0 = time.perf_counter()
            trainer.train_epoch()
            seconds = time.perf_counter() - t0
        rows.append({"metric": "epoch", "sizes": list(sizes), "params": model.n_params, "batch": 32,
                     "seconds": round(seconds, 2), "accepted": digit_model_problem(model) is None})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nnviz.cli.bench_uploads", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--big", action="store_true", help="also time an epoch of the issue's 20M-parameter model")
    args = p.parse_args(argv)
    for row in [*photo_costs(), *epoch_costs(args.big)]:
        if args.json:
            print(json.dumps(row), flush=True)
        elif row["metric"] == "photo":
            print(f"photo {row['picture']:>7} ({row['file_kb']:,} KB): +{row['extra_peak_mb']} MB at the peak, "
                  f"{row['seconds']:.2f} s, {row['outcome'][:90]}", flush=True)
        else:
            print(f"epoch {str(row['sizes']):<30} {row['params']:>10,} params: {row['seconds']:6.2f} s "
                  f"({'accepted' if row['accepted'] else 'refused'})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
