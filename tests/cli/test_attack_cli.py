"""`python -m nnviz attack` in a subprocess: its figures are measured, not written in."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnviz.data.mnist import load_bundled
from nnviz.engine.model import MLP
from nnviz.engine.model_files import model_to_bytes, save_model
from nnviz.engine.threads import BlasLimit
from nnviz.lab.attacks import attack_accuracy
from nnviz.lab.pretrained import train_default_model

ROOT = Path(__file__).resolve().parents[2]
# One BLAS thread: the suite may share its cores with other processes (a server, other tests).
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def attack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnviz", "attack", *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=120)


def attack_json(*args: str) -> dict:
    r = attack(*args, "--json")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1  # ONE JSON object
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A 2-epoch model, saved: different from the default one, so the CLI must really load it."""
    with BlasLimit(1):
        trained = train_default_model(epochs=2, seed=5)
    path = tmp_path_factory.mktemp("m") / "small.npz"
    save_model(trained.model, path)
    return trained.model, path


def test_default_model_fgsm_falls_far_below_half():
    out = attack_json("--method", "fgsm", "--eps", "0.1")
    assert {"method", "eps", "steps", "clean_acc", "adv_acc", "noise_acc", "n"} <= out.keys()
    assert out["method"] == "fgsm" and out["eps"] == 0.1 and out["n"] == 2000
    assert 0.93 < out["clean_acc"] < 0.98  # the default model, ~95.7%
    assert out["adv_acc"] < 0.5 * out["clean_acc"]
    assert out["noise_acc"] > out["clean_acc"] - 0.03


def test_loaded_model_figures_come_from_the_code(small_model):
    model, path = small_model
    data = load_bundled()
    with BlasLimit(1):
        expected_clean = (model.predict(data.x_test) == data.y_test).mean()
        expected_adv = attack_accuracy(model, data.x_test, data.y_test, "fgsm", 0.05)
    weak = attack_json("--model", str(path), "--eps", "0.05")
    strong = attack_json("--model", str(path), "--eps", "0.2")
    pgd = attack_json("--model", str(path), "--method", "pgd", "--eps", "0.1", "--steps", "10")
    fgsm = attack_json("--model", str(path), "--eps", "0.1")
    assert weak["clean_acc"] == strong["clean_acc"] == pytest.approx(expected_clean)
    assert weak["adv_acc"] == pytest.approx(expected_adv)
    assert strong["adv_acc"] < weak["adv_acc"] < weak["clean_acc"]
    assert pgd["steps"] == 10 and pgd["adv_acc"] <= fgsm["adv_acc"] + 0.01


def test_table_output_and_one_line_errors(small_model, tmp_path):
    _, path = small_model
    r = attack("--model", str(path), "--method", "pgd", "--eps", "0.1", "--steps", "5")
    assert r.returncode == 0 and "clean accuracy" in r.stdout and "PGD (5 steps" in r.stdout
    bad = attack("--eps", "-1")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a model")
    r = attack("--model", str(junk))
    assert r.returncode == 1 and "not an nnviz model" in r.stderr and "Traceback" not in r.stderr


def test_a_sigmoid_output_model_is_attacked_like_in_the_app(tmp_path):
    """The app takes network.py's sigmoid-output models; so does the CLI (one rule, digit_model)."""
    model = MLP.create((784, 10), "sigmoid", "sigmoid", "quadratic", "normal", np.random.default_rng(1))
    path = tmp_path / "sigmoid.npz"
    save_model(model, path)
    out = attack_json("--model", str(path), "--eps", "0.1")
    data = load_bundled()
    assert out["clean_acc"] == pytest.approx((model.predict(data.x_test) == data.y_test).mean())


@pytest.mark.parametrize("weights, message", [
    (1e300, "NaN or infinite"),  # finite float64, infinite once cast to float32
    (3e38, "overflow"),  # finite float32, overflows in the forward pass
])
def test_a_model_with_nan_answers_is_refused_in_one_line(tmp_path, weights, message):
    path = tmp_path / "nan.npz"
    model = MLP.create((784, 10), "relu", "softmax", "cross_entropy", "he", np.random.default_rng(0))
    np.savez(path, **{k: (np.full((784, 10), weights) if k == "W0" else np.zeros(10) if k == "b0" else v)
                      for k, v in np.load(io.BytesIO(model_to_bytes(model)), allow_pickle=False).items()})
    r = attack("--model", str(path))
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_model_too_costly_is_refused_in_one_line(tmp_path):
    path = tmp_path / "big.npz"
    save_model(MLP.create((784, 1300, 10), "relu", "softmax", "cross_entropy", "he", np.random.default_rng(0)), path)
    r = attack("--model", str(path))
    assert r.returncode == 1 and "1,033,510 parameters; the limit is 1,000,000" in r.stderr
