"""Learning without gradients: a genetic algorithm and evolution strategies over the weights of an MLP.

Both change the same `MLP` the trainer does, and report like it: a generator of immutable
per-generation statistics (GenerationStats, an EpochStats whose epoch is the generation), seeded by
an explicit np.random.Generator, pausable between yields. After each generation `model` holds the
individual to show: the best of the population (GA) or the search distribution's mean (ES).

A population is a matrix (P, n_params), one individual per row. Layer l of an individual is a block
(n_out, n_in + 1) = [W_l^T | b_l], so the whole population goes through the network in ONE batched
pass: activations are kept feature-major, (P, n_l + 1, n) with a last row of ones, and each layer
is one stacked matmul (P, n_out, n_in + 1) @ (P, n_in + 1, n), bias included.

References: Such et al. 2017 (deep GA: truncation/tournament selection, elitism, Gaussian mutation);
Salimans et al. 2017 and karpathy's NES toy (antithetic sampling, centred-rank fitness shaping,
an optimiser step on the estimated gradient).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np

from nnviz.engine import functions as F
from nnviz.engine import threads
from nnviz.engine.model import MLP, Architecture
from nnviz.engine.optimizers import make_optimizer
from nnviz.engine.training import TRAIN_EVAL_LIMIT, Dataset, EpochStats, TrainingDiverged, scores_of

METHODS = ("ga", "es")
MAX_POPULATION = 2000
TOP_KEPT = 8  # individuals of the last generation kept, best first, for the small pictures


@dataclass(frozen=True)
class EvolutionConfig:
    """Settings of both methods; each uses the ones it needs.

    population: individuals per generation (ES rounds it up to an even number: +eps and -eps).
    sigma: GA, the mutation's standard deviation at generation 1 (it decays by sigma_decay each
        generation, down to sigma_min); ES, the perturbations' standard deviation (constant).
    elite: GA, the share of the best kept unchanged into the next generation (at least one).
    tournament: GA, individuals drawn per parent; the fittest of them breeds.
    crossover: GA, the probability that a child mixes two parents (uniform, gene by gene).
    optimizer, lr: ES, the step on the estimated gradient.
    l1, l2: penalties added to the loss, as in training; fitness = -(loss + penalty).
    """

    population: int = 100
    sigma: float = 0.1
    elite: float = 0.1
    sigma_decay: float = 0.995
    sigma_min: float = 0.005
    tournament: int = 3
    crossover: float = 0.0
    optimizer: str = "adam"
    lr: float = 0.03
    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self):
        if not 2 <= self.population <= MAX_POPULATION:
            raise ValueError(f"population must be between 2 and {MAX_POPULATION}; got {self.population}")
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be a positive number; got {self.sigma}")
        if not 0 <= self.elite < 1:
            raise ValueError(f"elite share must be in [0, 1); got {self.elite}")
        if not 0 <= self.crossover <= 1:
            raise ValueError(f"crossover probability must be in [0, 1]; got {self.crossover}")
        if self.tournament < 1:
            raise ValueError("tournament size must be at least 1")
        make_optimizer(self.optimizer, self.lr)  # a clear message for a bad name or rate


@dataclass(frozen=True)
class GenerationStats(EpochStats):
    """EpochStats of one generation (epoch = generation): losses and accuracies of the shown model
    (the best individual, or ES's mean), the population's mean fitness (-(loss + penalty)), the
    forward passes so far (examples x individuals), seconds of this generation and in total."""

    mean_fitness: float = float("nan")

    @property
    def generation(self) -> int:
        return int(self.epoch)


# ----- the population as parameter vectors -------------------------------------------------------

class Layout:
    """Where each layer lives in an individual's vector: block l is (n_out, n_in + 1) = [W_l^T | b_l]."""

    def __init__(self, arch: Architecture):
        self.arch = arch
        self.blocks = [(n_out, n_in + 1) for n_in, n_out in zip(arch.sizes[:-1], arch.sizes[1:])]
        self.offsets = np.cumsum([0] + [a * b for a, b in self.blocks]).tolist()
        self.n_params = self.offsets[-1]
        # Which entries are weights (not biases): the penalties and nothing else use this.
        mask = np.zeros(self.n_params, bool)
        for (n_out, cols), off in zip(self.blocks, self.offsets):
            mask[off:off + n_out * cols] = (np.arange(n_out * cols) % cols) < cols - 1
        self.weight_mask = mask

    def flatten(self, model: MLP) -> np.ndarray:
        """A model's weights and biases as one vector (n_params,)."""
        return np.concatenate([np.c_[w.T, b].ravel() for w, b in zip(model.weights, model.biases)])

    def layers(self, pop: np.ndarray) -> list[np.ndarray]:
        """Views (P, n_out, n_in + 1) of a population (P, n_params), one per layer."""
        return [pop[:, off:off + a * b].reshape(len(pop), a, b)
                for (a, b), off in zip(self.blocks, self.offsets)]

    def to_model(self, vector: np.ndarray, dtype=np.float32) -> MLP:
        """An MLP (its own arrays) with the weights of one individual (n_params,)."""
        model = MLP(self.arch, [], [])
        self.assign(model, vector, dtype)
        return model

    def assign(self, model: MLP, vector: np.ndarray, dtype=None) -> None:
        """Write one individual's weights into `model`, in place (same arrays when shapes match)."""
        dtype = dtype or model.dtype
        ws, bs = [], []
        for block in self.layers(np.asarray(vector)[None]):
            ws.append(np.ascontiguousarray(block[0, :, :-1].T, dtype=dtype))
            bs.append(np.ascontiguousarray(block[0, :, -1], dtype=dtype))
        if len(model.weights) == len(ws):
            for old, new in zip(model.weights + model.biases, ws + bs):
                old[...] = new
        else:
            model.weights[:], model.biases[:] = ws, bs


class PopulationForward:
    """The whole population through the network in one batched pass, on one fixed set of inputs.

    x (n, d) is stored feature-major with a row of ones, (d + 1, n); hidden activations go into
    reused buffers (P, n_l + 1, n). logits(pop) returns z of the output layer, (P, k, n). A
    population too large for BUFFER_NUMBERS of hidden activations goes through in a few slices
    of individuals (500 individuals of a 32x6 network on 900 points would need 350 MB at once).
    """

    BUFFER_NUMBERS = 1 << 22  # hidden activations held at once: 16 MB in float32

    def __init__(self, layout: Layout, x: np.ndarray, dtype=np.float32):
        self.layout, self.dtype = layout, dtype
        x = np.asarray(x, dtype=dtype)
        self.n = len(x)
        self.x1 = np.ones((x.shape[1] + 1, self.n), dtype)
        self.x1[:-1] = x.T
        hidden = sum(h + 1 for h in layout.arch.sizes[1:-1])
        self.rows = max(1, self.BUFFER_NUMBERS // max(hidden * self.n, 1))  # individuals per slice
        self._buffers: list[np.ndarray] = []
        self._out = np.empty((0, layout.arch.sizes[-1], self.n), dtype)

    def _hidden_buffers(self, p: int) -> list[np.ndarray]:
        rows = min(p, self.rows)
        if not self._buffers or len(self._buffers[0]) != rows:
            self._buffers = [np.ones((rows, h + 1, self.n), self.dtype) for h in self.layout.arch.sizes[1:-1]]
        if len(self._out) != p:
            self._out = np.empty((p, self.layout.arch.sizes[-1], self.n), self.dtype)
        return self._buffers

    def logits(self, pop: np.ndarray) -> np.ndarray:
        """pop (P, n_params) -> output-layer z (P, k, n); the array is reused by the next call."""
        pop = np.asarray(pop, dtype=self.dtype)
        buffers = self._hidden_buffers(len(pop))
        act = self.layout.arch.activation
        for i in range(0, len(pop), self.rows):
            blocks = self.layout.layers(pop[i:i + self.rows])
            m = len(blocks[0])
            a = self.x1
            for l, block in enumerate(blocks[:-1]):
                z = buffers[l][:m, :-1, :]  # the last row stays 1: next layer's bias
                np.matmul(block, a, out=z)  # (m, n_out, n_in + 1) @ (m or 1, n_in + 1, n)
                _activate(act, z)
                a = buffers[l][:m]
            np.matmul(blocks[-1], a, out=self._out[i:i + m])
        return self._out


def _activate(name: str, z: np.ndarray) -> None:
    """Hidden activation in place; tanh as 1 - 2 / (exp(2z) + 1): NumPy's exp is vectorised
    (SIMD) where its float32 tanh is not, which halves the cost of a generation."""
    if name != "tanh":
        F.activate(name, z)
        return
    with np.errstate(over="ignore"):  # exp(2z) = inf gives exactly 1
        np.multiply(z, 2.0, out=z)
        np.exp(z, out=z)
    z += 1.0
    np.divide(-2.0, z, out=z)
    z += 1.0


def population_loss(arch: Architecture, z: np.ndarray, y: np.ndarray, onehot_t: np.ndarray) -> np.ndarray:
    """Mean data loss of each individual from its logits z (P, k, n); y (n,) labels, onehot_t (k, n)
    the targets feature-major. Returns (P,) float64; NaN/inf logits give inf."""
    with np.errstate(over="ignore", invalid="ignore"):
        if arch.output == "softmax" and arch.loss == "cross_entropy" and z.shape[1] == 2:
            # Two classes: -log softmax(z)_y = softplus(z_other - z_y) = max(d, 0) + log1p(exp(-|d|)).
            d = z[:, 0] - z[:, 1]  # (P, n)
            d *= onehot_t[1] - onehot_t[0]  # = z_other - z_y
            per = np.abs(d)
            np.negative(per, out=per)
            np.exp(per, out=per)
            np.log1p(per, out=per)
            per += np.maximum(d, 0, out=d)
        elif arch.output == "softmax" and arch.loss == "cross_entropy":
            # logsumexp(z) - z_y per (individual, example), class by class: a reduction over an
            # axis of 2 to 4 classes costs NumPy several times more than these long-row operations.
            k = z.shape[1]
            m = z[:, 0].copy()  # (P, n)
            for c in range(1, k):
                np.maximum(m, z[:, c], out=m)
            s, picked, tmp = np.zeros_like(m), np.zeros_like(m), np.empty_like(m)
            for c in range(k):
                np.subtract(z[:, c], m, out=tmp)
                s += np.exp(tmp, out=tmp)
                np.multiply(z[:, c], onehot_t[c], out=tmp)
                picked += tmp
            np.log(s, out=s)
            s += m
            s -= picked
            per = s
        else:  # the general path: one row per (individual, example)
            p, k, n = z.shape
            zz = z.transpose(0, 2, 1).reshape(p * n, k).astype(np.float64)
            per = F.loss_per_example(arch.output, arch.loss, zz, np.tile(onehot_t.T, (p, 1))).reshape(p, n)
        loss = per.mean(axis=1, dtype=np.float64)
    return np.where(np.isfinite(loss), loss, np.inf)


def population_accuracy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Share of examples each individual gets right, from logits z (P, k, n). Returns (P,)."""
    pred = (z[:, 0] > 0).astype(np.int64) if z.shape[1] == 1 else z.argmax(axis=1)
    return (pred == y[None]).mean(axis=1)


def centred_ranks(fitness: np.ndarray) -> np.ndarray:
    """Fitness shaping (Salimans et al.): each value replaced by its rank, scaled to [-0.5, 0.5].
    Only the order matters, so one lucky outlier cannot swamp the gradient estimate."""
    ranks = np.empty(len(fitness))
    ranks[np.argsort(fitness, kind="stable")] = np.arange(len(fitness))
    return ranks / max(len(fitness) - 1, 1) - 0.5


# ----- the shared loop ---------------------------------------------------------------------------

class _Evolution:
    """What GA and ES share: data, fitness, bookkeeping and the generator of stats.
    Subclasses implement _generation() -> (fitness of the evaluated population (P,), its losses)."""

    def __init__(self, model: MLP, data: Dataset, config: EvolutionConfig, rng: np.random.Generator):
        self.model, self.data, self.config, self.rng = model, data, config, rng
        self.layout = Layout(model.arch)
        dt = model.dtype
        self._y = np.asarray(data.y_train, dtype=np.int64)
        self._onehot_t = np.ascontiguousarray(model.targets(self._y).T)
        self.fitness_pass = PopulationForward(self.layout, data.x_train, dt)
        n = len(data.x_train)
        eval_idx = np.sort(rng.choice(n, TRAIN_EVAL_LIMIT, replace=False)) if n > TRAIN_EVAL_LIMIT else slice(None)
        self._x_eval = np.ascontiguousarray(data.x_train[eval_idx], dtype=dt)
        self._y_eval = data.y_train[eval_idx]
        self._x_test = np.ascontiguousarray(data.x_test, dtype=dt)
        self.epoch = 0  # generations done (the name the trainer uses, so callers treat both alike)
        self.history: list[GenerationStats] = []
        self.forward_passes, self.total_seconds = 0, 0.0
        self.top: np.ndarray = self.layout.flatten(model)[None].astype(dt)  # (<= TOP_KEPT, n_params), best first
        self.top_fitness = np.full(1, np.nan)
        self._last_mean = float("nan")

    @property
    def lr(self) -> float:
        return self.config.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.reconfigure(replace(self.config, lr=float(value)))

    def reconfigure(self, config: EvolutionConfig) -> None:
        """New settings between generations (the population keeps evolving from where it is)."""
        self.config = config

    def fitness(self, pop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fitness (P,), logits (P, k, n)) of a population on the training set, one batched pass.
        Fitness is -(mean loss + penalty); a NaN or infinite loss is -inf."""
        z = self.fitness_pass.logits(pop)
        loss = population_loss(self.model.arch, z, self._y, self._onehot_t)
        cfg = self.config
        if cfg.l1 or cfg.l2:
            w = pop[:, self.layout.weight_mask].astype(np.float64)
            loss = loss + cfg.l1 * np.abs(w).sum(axis=1) + 0.5 * cfg.l2 * np.square(w).sum(axis=1)
        self.forward_passes += len(pop) * self.fitness_pass.n
        return -loss, z

    def measure(self, epoch: float, seconds: float, samples: int = 0, end: bool = True) -> GenerationStats:
        """Losses and accuracies of `model` (bookkeeping: not counted as forward passes)."""
        scores = scores_of(self.model, self._x_eval, self._y_eval, self._x_test, self.data.y_test,
                           self.config.l1, self.config.l2)
        return GenerationStats(epoch, *scores, seconds, samples, True, self.forward_passes, self.total_seconds,
                               self._last_mean)

    def generations(self, n: int | None = None) -> Iterator[GenerationStats]:
        """Evolve n more generations (forever if None), yielding stats after each one."""
        done = 0
        while n is None or done < n:
            yield self.train_epoch()
            done += 1

    epochs = generations  # the trainer's name

    def train_epoch(self) -> GenerationStats:
        """One generation; returns its stats. TrainingDiverged if the shown model is not finite."""
        t0 = time.perf_counter()
        with threads.BlasLimit(1), np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            fitness = self._generation()
        seconds = time.perf_counter() - t0
        finite = fitness[np.isfinite(fitness)]
        self._last_mean = float(finite.mean()) if len(finite) else float("-inf")
        if not self.model.is_finite():
            raise TrainingDiverged(f"Evolution diverged in generation {self.epoch + 1}: the weights became "
                                   f"NaN or infinite. Lower the learning rate or sigma and reset.")
        self.epoch += 1
        self.total_seconds += seconds
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            stats = self.measure(self.epoch, seconds, self.fitness_pass.n)
        self.history.append(stats)
        return stats

    def _keep_top(self, pop: np.ndarray, fitness: np.ndarray) -> np.ndarray:
        """Remember the best TOP_KEPT individuals (copies) and return the full order, best first."""
        order = np.argsort(-fitness, kind="stable")
        self.top, self.top_fitness = pop[order[:TOP_KEPT]].copy(), fitness[order[:TOP_KEPT]].copy()
        return order

    def top_models(self, k: int = 4) -> list[MLP]:
        """The best k individuals of the last generation, best first (before generation 1: the start)."""
        return [self.layout.to_model(v, self.model.dtype) for v in self.top[:k]]

    def _generation(self) -> np.ndarray:
        raise NotImplementedError


class GeneticAlgorithm(_Evolution):
    """Generation: evaluate everyone, keep the elite unchanged, breed the rest from tournament
    winners (optionally crossing two parents), mutate each child with Gaussian noise of a decaying
    sigma. Generation 1's population is the start model and mutants of it, so a GA started from
    the same weights as backprop starts where backprop does. `model` becomes the best individual."""

    def __init__(self, model: MLP, data: Dataset, config: EvolutionConfig, rng: np.random.Generator):
        super().__init__(model, data, config, rng)
        self.sigma = config.sigma
        self.population = self._mutants(self.layout.flatten(model).astype(model.dtype), config.population)

    def _mutants(self, parent: np.ndarray, p: int) -> np.ndarray:
        """(p, n_params): the parent itself, then p - 1 mutants of it."""
        pop = np.repeat(parent[None], p, axis=0)
        pop[1:] += self.sigma * self._noise(pop[1:].shape, pop.dtype)
        return pop

    def reconfigure(self, config: EvolutionConfig) -> None:
        if config.sigma != self.config.sigma:
            self.sigma = config.sigma  # a new sigma from the slider restarts the decay there
        old = len(self.population)
        if config.population < old:  # the elite survives: it comes first
            self.population = self.population[:config.population].copy()
        elif config.population > old:
            extra = self._mutants(self.population[0], config.population - old + 1)[1:]
            self.population = np.concatenate([self.population, extra])
        super().reconfigure(config)

    def _generation(self) -> np.ndarray:
        cfg, rng, pop = self.config, self.rng, self.population
        p = len(pop)
        fitness, _ = self.fitness(pop)
        order = self._keep_top(pop, fitness)
        self.layout.assign(self.model, pop[order[0]])
        n_elite = max(1, int(round(cfg.elite * p)))
        n_child = p - n_elite
        nxt = np.empty_like(pop)
        nxt[:n_elite] = pop[order[:n_elite]]
        parents = self._tournament(fitness, n_child)
        children = nxt[n_elite:]
        children[...] = pop[parents]
        if cfg.crossover > 0 and n_child:
            mates = pop[self._tournament(fitness, n_child)]
            crossing = rng.random(n_child) < cfg.crossover
            genes = rng.random(children.shape) < 0.5
            mix = crossing[:, None] & genes
            children[mix] = mates[mix]
        children += self.sigma * self._noise(children.shape, pop.dtype)
        self.population = nxt  # best first: elite, then children
        self.sigma = max(self.sigma * cfg.sigma_decay, cfg.sigma_min)
        return fitness

    def _noise(self, shape, dtype) -> np.ndarray:
        """N(0, 1) in the population's own precision (float32: half the memory and time)."""
        kind = dtype if dtype in (np.float32, np.float64) else np.float64
        return self.rng.standard_normal(shape, dtype=kind)

    def _tournament(self, fitness: np.ndarray, n: int) -> np.ndarray:
        """n parent indices: each the fittest of `tournament` individuals drawn at random."""
        draws = self.rng.integers(len(fitness), size=(n, self.config.tournament))
        return draws[np.arange(n), np.argmax(fitness[draws], axis=1)]


class EvolutionStrategies(_Evolution):
    """Generation: P/2 Gaussian directions eps, evaluated at theta + sigma eps and theta - sigma eps
    (antithetic pairs); fitness replaced by centred ranks u; the gradient estimate
    g = sum_i (u_i+ - u_i-) eps_i / (P sigma) of the expected fitness; one optimiser step up it.
    `model` is theta, the mean of the search distribution."""

    def __init__(self, model: MLP, data: Dataset, config: EvolutionConfig, rng: np.random.Generator):
        super().__init__(model, data, config, rng)
        self.theta = self.layout.flatten(model).astype(np.float64)
        self.optimizer = make_optimizer(config.optimizer, config.lr)

    def reconfigure(self, config: EvolutionConfig) -> None:
        if config.optimizer != self.config.optimizer:
            self.optimizer = make_optimizer(config.optimizer, config.lr)
        self.optimizer.lr = config.lr
        super().reconfigure(config)

    def _generation(self) -> np.ndarray:
        cfg = self.config
        half = -(-cfg.population // 2)
        eps = self.rng.standard_normal((half, self.layout.n_params))
        pop = np.concatenate([self.theta + cfg.sigma * eps, self.theta - cfg.sigma * eps])  # (2 half, n_params)
        fitness, _ = self.fitness(pop)
        self._keep_top(pop, fitness)
        u = centred_ranks(fitness)
        grad = (u[:half] - u[half:]) @ eps / (2 * half * cfg.sigma)  # d E[fitness] / d theta
        ascent = [self.theta]
        self.optimizer.step(ascent, [-grad])  # the optimisers descend: step on -grad
        self.layout.assign(self.model, self.theta)
        return fitness


def make_evolution(method: str, model: MLP, data: Dataset, config: EvolutionConfig,
                   rng: np.random.Generator) -> _Evolution:
    """'ga' or 'es' on `model` (updated in place), the trainer's interface."""
    classes = {"ga": GeneticAlgorithm, "es": EvolutionStrategies}
    if method not in classes:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return classes[method](model, data, config, rng)
