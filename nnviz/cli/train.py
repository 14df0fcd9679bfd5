"""`python -m nnviz train`: train a network on a toy set or the bundled digits, one line per epoch."""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

from nnviz.cli.args import ArgumentError, number

EPILOG = """examples:
  python -m nnviz train --hidden 30
      the seed's network.py ([784, 30, 10] sigmoid, quadratic, eta 3.0) on the bundled digits
  python -m nnviz train --dataset spiral --points 600 --noise 0.05 --hidden 32 --hidden 32 \\
      --activation relu --loss cross_entropy --optimizer adam --lr 0.02 --batch-size 32 --epochs 150
      the two spirals, learnt
  python -m nnviz train --dataset moons --hidden 8 --hidden 8 --activation tanh --loss cross_entropy \
      --method ga --population 100 --sigma 0.1 --epochs 100 --json
      no gradients: a genetic algorithm evolves the weights (--epochs counts generations)"""
DATASETS = ("moons", "circles", "xor", "gauss", "spiral", "spiral3", "blobs", "mnist")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `train` command's options. Defaults are the seed's workload (Nielsen's network.py)."""
    from nnviz.engine.evolution import MAX_POPULATION
    from nnviz.engine.functions import HIDDEN_ACTIVATIONS, LOSSES, OUTPUTS
    from nnviz.engine.model import INITIALISERS
    from nnviz.engine.optimizers import OPTIMIZERS

    p.add_argument("--dataset", choices=DATASETS, default="mnist",
                   help="a 2-D toy set, or mnist (the bundled 8,000/2,000 digits); default mnist")
    p.add_argument("--hidden", type=number(int, 1, 10_000), action="append", default=[], metavar="N",
                   help="a hidden layer of N neurons; repeat for more layers; none = no hidden layer")
    p.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default="sigmoid", help="default sigmoid")
    p.add_argument("--output", choices=OUTPUTS, default=None,
                   help="output function; default softmax for cross_entropy, sigmoid for quadratic")
    p.add_argument("--loss", choices=LOSSES, default="quadratic", help="default quadratic")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None, help="default sgd (es: adam)")
    p.add_argument("--lr", type=number(float, 0.0, 1e6, lo_open=True), default=None,
                   help="learning rate; default 3.0 (es: 0.03)")
    p.add_argument("--batch-size", type=number(int, 1, 1_000_000), default=10, help="default 10")
    p.add_argument("--epochs", type=number(int, 1, 100_000), default=5, help="default 5")
    p.add_argument("--seed", type=number(int, 0, 2**63 - 1), default=0,
                   help="seeds the data, the initial weights and the batch order; default 0")
    p.add_argument("--l2", type=number(float, 0.0, 1e3), default=0.0, help="L2 penalty l2/2 * sum W^2; default 0")
    p.add_argument("--l1", type=number(float, 0.0, 1e3), default=0.0, help="L1 penalty l1 * sum |W|; default 0")
    p.add_argument("--init", choices=INITIALISERS, default=None,
                   help="initial weights; default normal (the seed's N(0,1)) for sigmoid/tanh/linear, he for relu")
    p.add_argument("--noise", type=number(float, 0.0, 2.0), default=0.2, help="toy sets: noise; default 0.2")
    p.add_argument("--points", type=number(int, 4, 1_000_000), default=400, help="toy sets: points; default 400")
    p.add_argument("--test-ratio", type=number(float, 0.05, 0.9), default=0.5,
                   help="toy sets: share held out for testing; default 0.5")
    p.add_argument("--method", choices=("backprop", "ga", "es"), default="backprop",
                   help="backprop (default); ga, a genetic algorithm; es, evolution strategies. "
                        "For ga and es --epochs counts generations; es steps with --optimizer and --lr")
    p.add_argument("--population", type=number(int, 2, MAX_POPULATION), default=100,
                   help="ga/es: individuals per generation; default 100")
    p.add_argument("--sigma", type=number(float, 0.0, 100.0, lo_open=True), default=0.1,
                   help="ga: initial mutation std (decays 0.5%% a generation); es: perturbation std; default 0.1")
    p.add_argument("--elite", type=number(float, 0.0, 0.99), default=0.1,
                   help="ga: share of the best kept unchanged; default 0.1")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per epoch (generation) instead of a table")


def run(args: argparse.Namespace) -> int:
    """Train and print one line per epoch. Returns the exit status."""
    import numpy as np

    from nnviz.engine.model import MLP
    from nnviz.engine.training import TrainingDiverged

    rng = np.random.default_rng(args.seed)
    es = args.method == "es"
    args.optimizer = args.optimizer or ("adam" if es else "sgd")
    args.lr = args.lr if args.lr is not None else (0.03 if es else 3.0)
    output = args.output or ("softmax" if args.loss == "cross_entropy" else "sigmoid")
    init = args.init or ("he" if args.activation in ("relu", "leaky_relu") else "normal")
    try:
        if args.dataset == "mnist":
            from nnviz.data.mnist import load_bundled
            data = load_bundled()
        else:
            from nnviz.data.toy import make_dataset
            data = make_dataset(args.dataset, args.points, args.noise, args.test_ratio, rng)
        sizes = [data.x_train.shape[1], *args.hidden, data.n_classes]
        model = MLP.create(sizes, args.activation, output, args.loss, init, rng)
        trainer = _learner(args, model, data, rng)
    except ValueError as e:  # no point left to train on; an impossible pairing (cross_entropy + linear output)
        raise ArgumentError(f"{getattr(args, 'prog', 'nnviz train')}: error: {e}") from None

    if not args.json:
        print(f"{data.name}: {len(data.y_train):,} train / {len(data.y_test):,} test; network {sizes} "
              f"{args.activation}, {output} output, {args.loss} loss, {init} init; "
              f"{_method_line(args)}, L2 {args.l2:g}, L1 {args.l1:g}")
        step = "epoch" if args.method == "backprop" else "gen"
        print(f"{step:>5}  {'train loss':>10}  {'test loss':>10}  {'train acc':>9}  {'test acc':>8}  "
              f"{'fwd passes':>11}  {'seconds':>7}")
    from nnviz.lab.learning import diagnose

    tested = len(data.y_test) > 0
    x_sample, y_reference = (data.x_test, data.y_test) if tested else (data.x_train, data.y_train)
    with np.errstate(all="ignore"):
        initial_loss = trainer.measure(0, 0.0, 0, True).train_loss
    told: set[bool] = set()  # the kinds of warning already printed (failed, still at chance)
    t0 = time.perf_counter()
    try:
        for s in trainer.epochs(args.epochs):
            if args.json:
                row = {"epoch": s.epoch, "train_loss": s.train_loss, "test_loss": s.test_loss,
                       "train_acc": s.train_acc, "test_acc": s.test_acc, "forward_passes": s.forward_passes,
                       "seconds": round(s.seconds, 6)}
                if args.method != "backprop":
                    row["mean_fitness"] = s.mean_fitness
                print(json.dumps({k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                                  for k, v in row.items()}), flush=True)
            else:
                print(f"{s.epoch:>5g}  {s.train_loss:>10.4f}  {s.test_loss:>10.4f}  {s.train_acc:>9.4f}  "
                      f"{s.test_acc:>8.4f}  {s.forward_passes:>11,}  {s.seconds:>7.2f}", flush=True)
            if args.method != "backprop":  # the rule reads a gradient learner's symptoms and remedy (--lr)
                continue
            # Not learning, and why (the rule the pages use): on stderr, once per kind, in both modes.
            verdict = diagnose(model, x_sample[:500], y_reference, s.test_acc if tested else s.train_acc,
                               s.train_loss, initial_loss, trainer.epoch, len(data.y_train), args.lr,
                               remedy="Start again with a smaller --lr.")
            if verdict.message and verdict.failed not in told:
                told.add(verdict.failed)
                print(f"nnviz train: warning: {verdict.message}", file=sys.stderr, flush=True)
    except TrainingDiverged as e:
        print(f"nnviz train: {e}", file=sys.stderr)
        return 1
    if not args.json:
        print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def _learner(args: argparse.Namespace, model, data, rng):
    """The trainer (backprop) or an evolution (ga, es) of `model`: both yield stats per step."""
    if args.method == "backprop":
        from nnviz.engine.training import TrainConfig, Trainer
        return Trainer(model, data, TrainConfig(args.optimizer, args.lr, args.batch_size, args.l1, args.l2), rng)
    from nnviz.engine.evolution import EvolutionConfig, make_evolution
    config = EvolutionConfig(population=args.population, sigma=args.sigma, elite=args.elite,
                             optimizer=args.optimizer, lr=args.lr, l1=args.l1, l2=args.l2)
    return make_evolution(args.method, model, data, config, rng)


def _method_line(args: argparse.Namespace) -> str:
    if args.method == "ga":
        return f"genetic algorithm: population {args.population}, sigma {args.sigma:g}, elite {args.elite:g}"
    if args.method == "es":
        return (f"evolution strategies: population {args.population}, sigma {args.sigma:g}, "
                f"{args.optimizer} lr {args.lr:g}")
    return f"{args.optimizer} lr {args.lr:g}, batch {args.batch_size}"
