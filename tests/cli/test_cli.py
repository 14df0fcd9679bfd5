"""`python -m nnviz ...` run for real in a subprocess: JSON lines, the table, and one-line errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nnviz.cli import main as cli

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"epoch", "train_loss", "test_loss", "train_acc", "test_acc", "forward_passes", "seconds"}


MOONS = ("train", "--json", "--dataset", "moons", "--hidden", "8", "--activation", "tanh", "--loss",
         "cross_entropy", "--optimizer", "sgd", "--lr", "0.1", "--batch-size", "10")
LEARN = MOONS + ("--epochs", "15", "--seed", "0")
SEED1, SEED2 = MOONS + ("--epochs", "3", "--seed", "1"), MOONS + ("--epochs", "3", "--seed", "2")
DIGITS = ("train", "--json", "--hidden", "30", "--epochs", "2")  # the defaults are the seed workload
TABLE = ("train", "--dataset", "xor", "--epochs", "3", "--points", "100")
SOFTMAX = ("train", "--dataset", "blobs", "--loss", "cross_entropy", "--epochs", "1", "--hidden", "4",
           "--hidden", "3", "--activation", "relu")
LINEAR = ("train", "--dataset", "gauss", "--loss", "quadratic", "--output", "linear", "--epochs", "1")
DIVERGE = ("train", "--dataset", "moons", "--activation", "linear", "--output", "linear", "--lr", "1000",
           "--epochs", "3", "--json")
STUCK = ("train", "--dataset", "mnist", "--lr", "1e6", "--epochs", "3", "--json")  # ended at 10.6%, no word
STUCK_TABLE = ("train", "--dataset", "mnist", "--lr", "1e6", "--epochs", "2")
HELP, TRAIN_HELP = ("--help",), ("train", "--help")
# Bad arguments run as real subprocesses:
BAD = [("train", "--lr", "-1"), ("train", "--loss", "cross_entropy", "--output", "linear"), (), ("frobnicate",)]


def _start(args):
    return subprocess.Popen([sys.executable, "-m", "nnviz", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def runs():
    """Every command above, run once as `python -m nnviz ...`, all at the same time (the machine is busy)."""
    commands = [LEARN, SEED1, SEED2, (*SEED1,), DIGITS, TABLE, DIVERGE, STUCK, STUCK_TABLE, HELP, TRAIN_HELP, *BAD]
    procs = [(args, _start(args)) for args in commands]
    results = {}
    for args, proc in procs:
        stdout, stderr = proc.communicate(timeout=180)
        results.setdefault(args, []).append(subprocess.CompletedProcess(args, proc.returncode, stdout, stderr))
    return results


def train_json(runs, args, i=0):
    out = runs[args][i]
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert all(set(r) == KEYS for r in rows)
    return rows


@pytest.mark.parametrize("args", [STUCK, STUCK_TABLE])
def test_a_run_that_stops_learning_says_why_on_stderr_once_and_exits_0(runs, args):
    out = runs[args][0]
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnviz train: warning: Not learning"), out.stderr
    assert "stuck at 0 or 1" in lines[0] and "smaller --lr" in lines[0]
    if "--json" in args:  # stdout stays pure JSON, one object per epoch
        assert [json.loads(line)["epoch"] for line in out.stdout.splitlines()] == [1, 2, 3]


def test_json_one_object_per_epoch_and_learning(runs):
    rows = train_json(runs, LEARN)
    assert [r["epoch"] for r in rows] == list(range(1, 16))
    assert all(0 <= r["train_acc"] <= 1 and 0 <= r["test_acc"] <= 1 and r["seconds"] >= 0 for r in rows)
    assert rows[-1]["train_loss"] < 0.8 * rows[0]["train_loss"]
    assert rows[-1]["test_acc"] > rows[0]["test_acc"]
    assert rows[-1]["test_acc"] > 0.85


def test_same_seed_same_run_other_seed_other_run(runs):
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    a, b, c = train_json(runs, SEED1, 0), train_json(runs, SEED1, 1), train_json(runs, SEED2)
    assert len(a) == 3
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


def test_seed_workload_on_the_bundled_digits(runs):
    """Nielsen's [784, 30, 10] sigmoid quadratic, batch 10, eta 3.0: the defaults, two epochs."""
    rows = train_json(runs, DIGITS)
    assert len(rows) == 2 and rows[1]["test_acc"] > 0.8


def test_table_output_and_defaults(runs):
    out = runs[TABLE][0]
    assert out.returncode == 0 and out.stderr == ""
    lines = out.stdout.splitlines()
    # No --hidden: no hidden layer; quadratic loss: sigmoid output, as in network.py.
    assert lines[0].startswith("xor: 50 train / 50 test; network [2, 2] sigmoid, sigmoid output, quadratic loss")
    assert lines[1].split() == ["epoch", "train", "loss", "test", "loss", "train", "acc", "test", "acc",
                                "fwd", "passes", "seconds"]
    assert [line.split()[0] for line in lines[2:5]] == ["1", "2", "3"]
    assert [line.split()[5] for line in lines[2:5]] == ["50", "100", "150"]  # forward passes so far
    assert all(len(line.split()) == 7 for line in lines[2:5])
    assert lines[5].startswith("done in")


def test_cross_entropy_gets_softmax_unless_output_given(capsys):
    assert cli.main(list(SOFTMAX)) == 0
    assert "network [2, 4, 3, 4] relu, softmax output, cross_entropy loss, he init" in capsys.readouterr().out
    assert cli.main(list(LINEAR)) == 0
    assert "linear output, quadratic loss, normal init" in capsys.readouterr().out


def test_divergence_is_one_line_and_exit_1(runs):
    out = runs[DIVERGE][0]
    assert out.returncode == 1
    assert len(out.stderr.splitlines()) == 1 and "diverged" in out.stderr and "Traceback" not in out.stderr


# The same main(), in this process (a subprocess each costs ~0.25 s of CPU):
BAD_IN_PROCESS = [
    ("train", "--hidden", "ten"), ("train", "--bogus"), ("train", "--lr", "abc"), ("train", "--lr", "nan"), ("train", "--lr", "inf"), ("train", "--epochs", "0"),
    ("train", "--batch-size", "0"), ("train", "--dataset", "iris"), ("train", "--hidden", "0"),
    ("train", "--noise", "-0.1"), ("train", "--activation", "swish"), ("train", "--seed", "-1"),
    ("train", "extra"), ("train", "--hidden"), ("--bogus",), ("train", "--l2", "-1"), ("train", "--test-ratio", "1"),
]


def _one_line_error(rc, stdout, stderr):
    assert rc == 2, (stdout, stderr)
    assert stdout == ""
    assert len(stderr.splitlines()) == 1, stderr
    assert "error:" in stderr and "Traceback" not in stderr and "usage:" not in stderr


@pytest.mark.parametrize("args", BAD, ids=" ".join)
def test_bad_arguments_exit_2_with_one_line(runs, args):
    out = runs[args][0]
    _one_line_error(out.returncode, out.stdout, out.stderr)


@pytest.mark.parametrize("args", BAD_IN_PROCESS, ids=" ".join)
def test_bad_arguments_in_process(args, capsys):
    rc = cli.main(list(args))
    out = capsys.readouterr()
    _one_line_error(rc, out.out, out.err)


def test_help_lists_every_command(runs):
    out = runs[HELP][0]
    assert out.returncode == 0
    for name in ("train", "bench", "attack"):
        assert f"    {name}" in out.stdout
    out = runs[TRAIN_HELP][0]
    assert out.returncode == 0 and "--hidden" in out.stdout and "--json" in out.stdout


def test_a_missing_command_module_is_one_clear_line(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "ghost", ("nnviz.no_such_module", "a command not installed"))
    assert cli.main(["ghost"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "ghost" in err and "not available" in err
    # The other commands are unaffected by it.
    assert cli.main(["train", "--dataset", "gauss", "--epochs", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["epoch"] == 1


def test_no_training_point_left_is_a_one_line_error_with_status_2():
    r = subprocess.run([sys.executable, "-m", "nnviz", "train", "--dataset", "moons", "--points", "4",
                        "--test-ratio", "0.9"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "python -m nnviz train: error: A test share of 0.9 leaves none of the 4 points for training: "
        "lower the test share, or use more points."]
