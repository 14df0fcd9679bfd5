"""`python -m nnviz backprop`: one training example through a tiny network, every number printed.

    python -m nnviz backprop --example mazur --json

mazur: Matt Mazur's 2-2-2 sigmoid network with his inputs, weights and targets ("A Step by Step
Backpropagation Example"); notebook: the talk's 2-3-2 tanh + softmax on one point of the moons.
Prints z, a and delta per layer, dC/dW (n_in, n_out like the engine) and dC/db beside their
finite-difference estimates, the cost before and after one step of -eta grad C, the new weights.
"""
from __future__ import annotations

import argparse
import json
import sys

EPILOG = ("The engine's quadratic cost is C = 1/2 sum_j (a_j - y_j)^2 per example (Mazur's E_total); "
          "weights are (n_in, n_out), so Nielsen's w^l_jk is W[k][j].")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--example", choices=("mazur", "notebook"), default="mazur",
                   help="mazur: Mazur's worked example; notebook: the talk's 2-3-2 tanh + softmax; default mazur")
    p.add_argument("--json", action="store_true",
                   help="one JSON object: z, a, delta, grad_w, grad_b (lists per layer), cost_before, "
                        "cost_after, weights_after")


def _vector(values) -> str:
    return "[" + ", ".join(f"{v:.9f}" for v in values) + "]"


def run(args: argparse.Namespace) -> int:
    from nnviz.lab.backprop import PRESETS, as_dict, backprop_step

    step = backprop_step(PRESETS[args.example]())
    d = as_dict(step)
    if args.json:
        print(json.dumps(d))
        return 0
    ex = step.example
    print(f"{ex.source}: sizes {'-'.join(map(str, d['sizes']))}, {d['activation']} hidden, "
          f"{d['output']} output, {d['loss'].replace('_', '-')} cost, eta {d['eta']:g}")
    print(f"1. input  x = {_vector(d['x'])}   target y = {_vector(d['y'])}")
    for l, (z, a) in enumerate(zip(d["z"], d["a"]), start=1):
        print(f"2. layer {l}: z = {_vector(z)}   a = {_vector(a)}")
    print(f"3. output error  delta^{len(d['z'])} = {_vector(d['delta'][-1])}")
    for l in range(len(d["z"]) - 1, 0, -1):
        print(f"4. back to layer {l}: delta^{l} = {_vector(d['delta'][l - 1])}")
    for l, (gw, nw, gb) in enumerate(zip(d["grad_w"], d["numeric_grad_w"], d["grad_b"]), start=1):
        print(f"5. layer {l}: dC/dW (rows: from, columns: to)   finite difference")
        for row, num in zip(gw, nw):
            print(f"     {_vector(row)}   {_vector(num)}")
        print(f"   dC/db = {_vector(gb)}")
    kept = "" if ex.update_biases else " (biases kept fixed, as in the source)"
    print(f"update: p <- p - {d['eta']:g} dC/dp{kept}: cost {d['cost_before']:.9f} -> {d['cost_after']:.9f}")
    for l, w in enumerate(d["weights_after"], start=1):
        print(f"   W{l} after = " + "  ".join(_vector(row) for row in w))
    return 0


if __name__ == "__main__":
    from nnviz.cli.main import main
    raise SystemExit(main(["backprop", *sys.argv[1:]]))
