"""`python -m nnviz class` in subprocesses on one SQLite file: create, submit (rated while it
waits), board; bad input is exit status 2 and one line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnviz.classroom.evaluate import rate
from nnviz.data.mnist import public_digits
from nnviz.engine.model import MLP
from nnviz.engine.model_files import load_model, save_model
from nnviz.engine.threads import BlasLimit
from nnviz.engine.training import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT),
            "NNVIZ_DATABASE_URL": f"sqlite:///{tmp_path}/class.db"}


def nnviz_class(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnviz", "class", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    with BlasLimit(1):
        rng = np.random.default_rng(3)
        model = MLP.create((784, 32, 10), "relu", "softmax", "cross_entropy", "he", rng)
        for _ in Trainer(model, public_digits(), TrainConfig("momentum", 0.05, 64), rng).epochs(1):
            pass
    path = tmp_path_factory.mktemp("m") / "mine.npz"
    save_model(model, path)
    return path


def test_create_submit_board_round_trip(env, model_file):
    r = nnviz_class(env, "create", "--eps", "0.1", "--open", "--json")
    assert r.returncode == 0, r.stderr
    created = json.loads(r.stdout)
    assert len(created["code"]) == 6 and len(created["teacher_key"]) >= 24
    r = nnviz_class(env, "submit", "--code", created["code"].lower(), "--name", "<i>Ann</i>",
                    "--model", str(model_file), "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    expected = rate(load_model(model_file), 0.1, seed=0)
    assert abs(got["clean_acc"] - expected.clean_acc) < 1e-9  # clean accuracy does not depend on the seed
    assert 0 <= got["robust_acc"] <= got["clean_acc"]
    r = nnviz_class(env, "board", "--code", created["code"], "--json")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(x["name"], x["clean_acc"], x["robust_acc"]) for x in rows] == \
        [("<i>Ann</i>", got["clean_acc"], got["robust_acc"])]


@pytest.mark.parametrize("case", ["unknown code", "not a model", "taken name", "round closed"])
def test_bad_input_is_exit_status_2_and_one_line(env, model_file, tmp_path, case):
    created = json.loads(nnviz_class(env, "create", "--open", "--json").stdout)
    args = ["submit", "--code", created["code"], "--name", "Bo", "--model", str(model_file)]
    if case == "unknown code":
        args[2] = "ZZZZZZ"
    elif case == "not a model":
        bad = tmp_path / "bad.npz"
        bad.write_bytes(b"PK\x03\x04 not a zip at all")
        args[-1] = str(bad)
    elif case == "taken name":
        assert nnviz_class(env, *args).returncode == 0
    else:
        closed = json.loads(nnviz_class(env, "create", "--json").stdout)
        args[2] = closed["code"]
    r = nnviz_class(env, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_eps_outside_the_class_range_is_refused(env):
    r = nnviz_class(env, "create", "--eps", "0.5")
    assert r.returncode == 2 and "0.3" in r.stderr
