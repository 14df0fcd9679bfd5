"""`python -m nnviz attack`: how far FGSM or PGD brings the digit model down on the held-out digits.

    python -m nnviz attack --method pgd --eps 0.1 --steps 20 --json

Trains the default model (about a second) or loads one saved by nnviz, attacks every one of
the 2,000 held-out digits, and reports clean, adversarial and same-size random-noise accuracy.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from nnviz.cli.args import number


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", choices=("fgsm", "pgd"), default="fgsm",
                   help="fgsm: one signed gradient step; pgd: --steps projected steps; default fgsm")
    p.add_argument("--eps", type=number(float, 0.0, 1.0), default=0.1,
                   help="L-infinity budget: each pixel (0..1) moves by at most eps; default 0.1")
    p.add_argument("--steps", type=number(int, 1, 10_000), default=20, help="pgd: number of steps; default 20")
    p.add_argument("--step-size", type=number(float, 0.0, 1.0, lo_open=True), default=None,
                   help="pgd: size of each step; default 2.5 * eps / steps")
    p.add_argument("--no-random-start", dest="random_start", action="store_false",
                   help="pgd: start from the digit itself, not a random point of the eps-box")
    p.add_argument("--seed", type=number(int, 0, 2**63 - 1), default=0,
                   help="seeds the random start and the noise control; default 0")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="a model saved by nnviz (.npz, 784 inputs, 10 softmax or sigmoid outputs, at most 1M parameters); default: train the default model")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of sentences")


def run(args: argparse.Namespace) -> int:
    """Attack the held-out digits and print the accuracies. Returns the exit status."""
    import numpy as np

    from nnviz.data.mnist import load_bundled
    from nnviz.lab.attacks import attack_accuracy

    prog = getattr(args, "prog", "python -m nnviz attack")
    t0 = time.perf_counter()
    data = load_bundled()
    if args.model:
        from nnviz.engine.model_files import ModelFileError
        from nnviz.lab.digit_model import load_digit_model
        try:
            model = load_digit_model(args.model)
        except ModelFileError as e:
            print(f"{prog}: {e}", file=sys.stderr)
            return 1
        description = f"{args.model} {list(model.sizes)} {model.arch.activation}"
    else:
        from nnviz.lab.pretrained import train_default_model
        trained = train_default_model()
        model, description = trained.model, trained.description
    x, y = data.x_test, data.y_test
    clean_acc = float((model.predict(x) == y).mean())
    steps = args.steps if args.method == "pgd" else 1
    if args.step_size is not None:
        step = args.step_size
    else:
        step = 2.5 * args.eps / steps if args.method == "pgd" else args.eps
    rng = np.random.default_rng(args.seed)
    if args.method == "pgd":
        from nnviz.lab.attacks import pgd
        adv = pgd(model, x, y, args.eps, step, steps, args.random_start, rng)
        adv_acc = float((model.predict(adv) == y).mean())
    else:
        adv_acc = attack_accuracy(model, x, y, "fgsm", args.eps)
    noise_acc = attack_accuracy(model, x, y, "noise", args.eps, rng=rng)
    result = {"method": args.method, "eps": args.eps, "steps": steps, "step_size": step,
              "random_start": bool(args.random_start) if args.method == "pgd" else False,
              "n": int(len(y)), "clean_acc": clean_acc, "adv_acc": adv_acc, "noise_acc": noise_acc,
              "model": description, "seconds": round(time.perf_counter() - t0, 3)}
    if args.json:
        print(json.dumps(result))
    else:
        what = "FGSM" if args.method == "fgsm" else f"PGD ({steps} steps of {step:.4g})"
        print(f"model: {description}")
        print(f"{len(y):,} held-out digits, L-infinity eps {args.eps:g}")
        print(f"clean accuracy:               {clean_acc:7.2%}")
        print(f"under {what + ':':<24}{adv_acc:7.2%}")
        print(f"random noise of the same eps: {noise_acc:7.2%}")
    return 0


if __name__ == "__main__":
    from nnviz.cli.main import main
    raise SystemExit(main(["attack", *sys.argv[1:]]))
