"""`python -m nnviz train --method ga|es`: generations as JSON lines with forward passes, for real."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
XOR = ("train", "--json", "--dataset", "xor", "--points", "300", "--hidden", "8", "--hidden", "8",
       "--activation", "tanh", "--loss", "cross_entropy", "--init", "glorot", "--epochs", "60", "--seed", "3",
       "--population", "60")


def _run(*args):
    out = subprocess.run([sys.executable, "-m", "nnviz", *args], cwd=ROOT, text=True, capture_output=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.mark.parametrize("method,sigma", [("ga", "0.1"), ("es", "0.1")])
def test_each_method_evolves_xor_and_counts_forward_passes(method, sigma):
    rows = _run(*XOR, "--method", method, "--sigma", sigma)
    assert [r["epoch"] for r in rows] == list(range(1, 61))  # --epochs counts generations
    assert set(rows[0]) >= {"epoch", "train_loss", "test_loss", "train_acc", "test_acc", "forward_passes",
                            "mean_fitness"}
    assert [r["forward_passes"] for r in rows] == [g * 60 * 150 for g in range(1, 61)]  # 150 training points
    assert rows[-1]["test_acc"] >= 0.85 and rows[-1]["train_loss"] < rows[0]["train_loss"]
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]
    assert strip(_run(*XOR[:-4], "--epochs", "3", "--method", method)) == \
        strip(_run(*XOR[:-4], "--epochs", "3", "--method", method))  # same seed, same run


def test_bad_population_is_one_line():
    out = subprocess.run([sys.executable, "-m", "nnviz", "train", "--method", "ga", "--population", "0"],
                         cwd=ROOT, text=True, capture_output=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "--population" in out.stderr
