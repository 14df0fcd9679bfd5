"""`python -m nnviz backprop` in a subprocess: the JSON object, Mazur's figures, the text form."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    return subprocess.run([sys.executable, "-m", "nnviz", "backprop", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60)


@pytest.mark.parametrize("example,sizes", [("mazur", [2, 2, 2]), ("notebook", [2, 3, 2])])
def test_json_has_every_layer_and_the_step(example, sizes):
    out = _run("--example", example, "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    for key in ("z", "a", "delta", "grad_b"):
        assert [len(v) for v in d[key]] == sizes[1:]
    assert [np.shape(g) for g in d["grad_w"]] == [(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    assert [np.shape(w) for w in d["weights_after"]] == [np.shape(g) for g in d["grad_w"]]
    assert d["cost_after"] < d["cost_before"]
    np.testing.assert_allclose(np.concatenate([np.ravel(g) for g in d["grad_w"]]),
                               np.concatenate([np.ravel(g) for g in d["numeric_grad_w"]]), rtol=1e-5, atol=1e-10)


def test_mazur_text_shows_his_numbers():
    out = _run("--example", "mazur")
    assert out.returncode == 0, out.stderr
    for figure in ("0.593269992", "0.751365070", "0.298371109", "0.358916480", "0.149780716"):
        assert figure in out.stdout
    assert "biases kept fixed" in out.stdout


def test_a_bad_example_is_one_line_and_status_2():
    out = _run("--example", "lenet")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "invalid choice" in out.stderr
