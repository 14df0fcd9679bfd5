"""A fully connected network (multi-layer perceptron), batch-first: rows are examples.

Layer l computes a_l = f(a_{l-1} @ W_l + b_l) with W_l of shape (n_in, n_out); the last layer
uses the output function (softmax, sigmoid or linear). Backprop is the four equations of
Nielsen's chapter 2, applied to a whole mini-batch at once.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from nnviz.engine import blas, threads
from nnviz.engine import functions as F

INITIALISERS = ("normal", "glorot", "he")
# A forward pass writes its hidden layers into reused buffers when they hold at least SCRATCH_MIN
# numbers: fresh arrays that large cost page faults (a 200x200 grid: ~1 ms more for a 2-8-8-2 net).
# Up to SCRATCH_MAX numbers a layer (2 MB in float32), so a model never keeps much memory.
SCRATCH_MIN, SCRATCH_MAX = 1 << 14, 1 << 19


@dataclass(frozen=True)
class Architecture:
    """What a network is, apart from its numbers. sizes = (n_inputs, hidden..., n_outputs)."""

    sizes: tuple[int, ...]
    activation: str = "relu"
    output: str = "softmax"
    loss: str = "cross_entropy"

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes must be at least (inputs, outputs), all >= 1; got {self.sizes}")
        if self.activation not in F.HIDDEN_ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose from {', '.join(F.HIDDEN_ACTIVATIONS)}")
        F.check_pairing(self.output, self.loss)


@dataclass
class Gradients:
    """dL/dW and dL/db per layer, same shapes as the model's weights and biases."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]


@dataclass
class Trace:
    """One forward and backward pass kept whole, for teaching (MLP.trace). For layer l = 1..L at
    list index l - 1: z[l-1] = a_{l-1} @ W_l + b_l and a[l-1] = f(z) (batch, n_l), delta[l-1] =
    dC/dz (batch, n_l); x is a_0 (batch, n_0); grads as MLP.gradients (of the batch-mean cost)."""

    x: np.ndarray
    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    grads: Gradients


@dataclass
class _Workspace:
    """Buffers for one batch size, reused between steps so training allocates almost nothing."""

    acts: list[np.ndarray]  # acts[0] is the input; acts[l] the output of layer l, (batch, n_l)
    deltas: list[np.ndarray]  # deltas[l] = dL/dz_l, (batch, n_l)
    tmps: list[np.ndarray]
    grads: Gradients = field(repr=False)
    # Weight-shaped scratch for the L1/L2 terms, made on first use: a fresh temporary that large
    # costs its page faults on every step.
    penalty: list[np.ndarray] = field(default_factory=list, repr=False)
    # (layer, "forward" | "update") -> (a, b, c, parts, blas.Plan or None): the big products' BLAS
    # calls, built for these very arrays and thread count (None: NumPy's matmul does it).
    plans: dict = field(default_factory=dict, repr=False)


class MLP:
    """Weights, biases and the maths: forward, backward, and the gradient w.r.t. the input."""

    def __init__(self, arch: Architecture, weights: list[np.ndarray], biases: list[np.ndarray]):
        self.arch = arch
        self.weights = weights
        self.biases = biases
        self._workspaces: dict[int, _Workspace] = {}
        self._scratch: list[np.ndarray] = []  # hidden-layer buffers of forward(); rows >= any batch seen
        self._scratch_lock = threading.Lock()  # a shared model (the default digit model) is used by many threads
        self._widest_hidden = max(arch.sizes[1:-1], default=0)

    # ----- construction -------------------------------------------------------------
    @classmethod
    def create(cls, sizes, activation="relu", output="softmax", loss="cross_entropy",
               init="glorot", rng: np.random.Generator | None = None, dtype=np.float32) -> "MLP":
        """A new network. init: 'normal' (Nielsen's N(0,1) weights and biases), 'glorot', 'he'."""
        arch = Architecture(tuple(sizes), activation, output, loss)
        rng = rng if rng is not None else np.random.default_rng()
        if init not in INITIALISERS:
            raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITIALISERS)}")
        weights, biases = [], []
        for n_in, n_out in zip(arch.sizes[:-1], arch.sizes[1:]):
            if init == "normal":
                w = rng.standard_normal((n_in, n_out))
                b = rng.standard_normal(n_out)
            elif init == "glorot":
                limit = np.sqrt(6.0 / (n_in + n_out))
                w = rng.uniform(-limit, limit, (n_in, n_out))
                b = np.zeros(n_out)
            else:  # he
                w = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
                b = np.zeros(n_out)
            weights.append(w.astype(dtype))
            biases.append(b.astype(dtype))
        return cls(arch, weights, biases)

    def __getstate__(self):  # pickle/deepcopy: the reused buffers and their lock are not the model
        return {**self.__dict__, "_workspaces": {}, "_scratch": [], "_scratch_lock": None}

    def __setstate__(self, state):
        self.__dict__.update(state, _scratch_lock=threading.Lock())

    def copy(self) -> "MLP":
        return MLP(self.arch, [w.copy() for w in self.weights], [b.copy() for b in self.biases])

    def astype(self, dtype) -> "MLP":
        return MLP(self.arch, [w.astype(dtype) for w in self.weights], [b.astype(dtype) for b in self.biases])

    @property
    def dtype(self):
        return self.weights[0].dtype

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.arch.sizes

    @property
    def n_params(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def params(self) -> list[np.ndarray]:
        """All parameter arrays, weights then biases (the order gradients() uses)."""
        return [*self.weights, *self.biases]

    def is_finite(self) -> bool:
        return all(np.isfinite(p).all() for p in self.params())

    # ----- forward --------------------------------------------------------------------
    def _as_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"input must have shape (batch, {self.sizes[0]}); got {x.shape}")
        return x

    def forward(self, x: np.ndarray, all_layers: bool = False):
        """Output probabilities (batch, n_out); with all_layers, the list [x, a_1, ..., a_L]."""
        return self._propagate(self._as_input(x), True, all_layers)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """z of the output layer (batch, n_out), before softmax/sigmoid."""
        return self._propagate(self._as_input(x), False, False)

    def _propagate(self, x: np.ndarray, apply_output: bool, all_layers: bool):
        """a_l = f(a_{l-1} @ W_l + b_l), layer by layer. Returned arrays are always fresh; without
        all_layers the hidden layers of a large batch go into this model's reused buffers."""
        if len(x) == 1 and not all_layers:
            return self._propagate_one(x[0], apply_output)
        acts = [x]
        last = len(self.weights) - 1
        scratch = None
        if not all_layers and len(x) * self._widest_hidden >= SCRATCH_MIN:  # the test is cheap; one digit skips it all
            scratch = self._acquire_scratch(len(x))
        try:
            for l, (w, b) in enumerate(zip(self.weights, self.biases)):
                z = np.matmul(acts[-1], w, out=scratch[l][:len(x)] if scratch and l < last else None)
                F.add_bias(z, b)
                if l < last:
                    F.activate(self.arch.activation, z)
                elif apply_output:
                    F.output(self.arch.output, z)
                acts.append(z)
        finally:
            if scratch:
                self._scratch_lock.release()
        return acts if all_layers else acts[-1]

    def _propagate_one(self, a: np.ndarray, apply_output: bool) -> np.ndarray:
        """One example (n_in,) -> (1, n_out): vector-matrix products and no batch machinery, since a
        drawn digit's latency is mostly per-call overhead (the products take ~4 of ~8 us)."""
        weights, biases, activation = self.weights, self.biases, self.arch.activation
        for l in range(len(weights) - 1):
            a = np.matmul(a, weights[l])  # (n_l,), fresh
            a += biases[l]
            F.activate(activation, a)
        z = np.matmul(a, weights[-1])
        z += biases[-1]
        z = z.reshape(1, -1)
        return F.output(self.arch.output, z) if apply_output else z

    def _acquire_scratch(self, batch: int) -> list[np.ndarray] | None:
        """Buffers (rows >= batch, n_l) for the hidden layers, locked; None when the batch is small or
        huge, or another thread holds them (that pass then allocates its own arrays)."""
        if not SCRATCH_MIN <= batch * self._widest_hidden <= SCRATCH_MAX:
            return None
        if not self._scratch_lock.acquire(blocking=False):
            return None
        if not self._scratch or len(self._scratch[0]) < batch or self._scratch[0].dtype != self.dtype:
            self._scratch = [np.empty((batch, n), self.dtype) for n in self.sizes[1:-1]]
        return self._scratch

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class labels (batch,). A single sigmoid output means class 1 when p > 0.5."""
        p = self.forward(x)
        return (p[:, 0] > 0.5).astype(np.int64) if p.shape[1] == 1 else p.argmax(axis=1)

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """One-hot targets (batch, n_out) for integer labels; a single output takes y itself."""
        labels = np.asarray(labels)
        n_out = self.sizes[-1]
        if n_out == 1:
            return labels.reshape(-1, 1).astype(self.dtype)
        y = np.zeros((labels.shape[0], n_out), dtype=self.dtype)
        y[np.arange(labels.shape[0]), labels] = 1
        return y

    def loss(self, x: np.ndarray, labels: np.ndarray, l1: float = 0.0, l2: float = 0.0) -> float:
        """Mean loss over the rows, plus l1 * sum|W| + l2/2 * sum W^2 (biases not regularised)."""
        z = self.logits(x).astype(np.float64)
        data = F.loss_per_example(self.arch.output, self.arch.loss, z, self.targets(labels)).mean()
        return float(data + self.penalty(l1, l2))

    def penalty(self, l1: float, l2: float) -> float:
        total = 0.0
        for w in self.weights:
            if l1:
                total += l1 * float(np.abs(w).sum(dtype=np.float64))
            if l2:
                total += 0.5 * l2 * float(np.square(w, dtype=np.float64).sum())
        return total

    def evaluate(self, x: np.ndarray, labels: np.ndarray, chunk: int = 4096) -> tuple[float, float]:
        """(mean data loss, accuracy) over a whole set, in chunks to bound memory."""
        total_loss, correct = 0.0, 0
        for i in range(0, len(x), chunk):
            z = self.logits(x[i:i + chunk])
            yb = labels[i:i + chunk]
            total_loss += float(F.loss_per_example(self.arch.output, self.arch.loss, z.astype(np.float64),
                                                   self.targets(yb)).sum())
            pred = (z[:, 0] > 0).astype(np.int64) if z.shape[1] == 1 else z.argmax(axis=1)
            correct += int((pred == yb).sum())
        n = max(len(x), 1)
        return total_loss / n, correct / n

    # ----- backward -------------------------------------------------------------------
    def _workspace(self, batch: int) -> _Workspace:
        ws = self._workspaces.get(batch)
        if ws is None:
            dt = self.dtype
            acts = [np.empty((batch, n), dt) for n in self.sizes]
            deltas = [np.empty((batch, n), dt) for n in self.sizes]
            tmps = [np.empty((batch, n), dt) for n in self.sizes]
            grads = Gradients([np.empty_like(w) for w in self.weights], [np.empty_like(b) for b in self.biases])
            ws = self._workspaces[batch] = _Workspace(acts, deltas, tmps, grads)
        return ws

    def batch_buffer(self, batch: int) -> np.ndarray:
        """The (batch, n_in) input buffer of gradients(); gather a mini-batch straight into it."""
        return self._workspace(batch).acts[0]

    def gradients(self, x: np.ndarray, y: np.ndarray, l1: float = 0.0, l2: float = 0.0) -> Gradients:
        """dL/dW, dL/db of the mean loss over the batch (plus penalty) for inputs x and one-hot y.

        The returned arrays are buffers reused by the next call with the same batch size.
        """
        return self._backprop(x, y, l1, l2, None)

    def sgd_step(self, x: np.ndarray, y: np.ndarray, lr: float, l1: float = 0.0, l2: float = 0.0) -> bool:
        """One plain SGD step, W -= lr dL/dW and b -= lr dL/db, fused into backprop: the products
        write lr-scaled gradients and each layer is updated as soon as the layer below has its delta,
        so there is no separate pass over the parameters (the same numbers as gradients() then
        optimizers.SGD). False, with every parameter untouched, when the output layer's bias gradient
        is not finite (NaN/inf anywhere upstream reaches it)."""
        return self._backprop(x, y, l1, l2, float(lr)) is not None

    def _backprop(self, x, y, l1: float, l2: float, lr: float | None) -> Gradients | None:
        """gradients() (lr None) or sgd_step() (lr: the buffers hold lr * gradient, applied per layer)."""
        m = x.shape[0]
        ws = self._workspace(m)
        acts, deltas, tmps, g = ws.acts, ws.deltas, ws.tmps, ws.grads
        if acts[0] is not x:
            acts[0][...] = x
        last = len(self.weights) - 1
        # BLAS threads in force: big products split into that many parts (engine/blas.py).
        parts = threads.blas_threads() or 1
        # Forward, into the reused buffers.
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            product = self._plan(ws, l, "forward", acts[l], w, acts[l + 1], parts)
            z = product() if product else np.matmul(acts[l], w, out=acts[l + 1])
            F.add_bias(z, b)
            if l == last:
                F.output(self.arch.output, z)
            else:
                F.activate(self.arch.activation, z)
        # Output error, already divided by m (and times lr for a step), so every product below is of
        # the batch mean.
        scale = 1.0 if lr is None else lr
        delta = F.output_delta(self.arch.output, self.arch.loss, acts[-1], y, out=deltas[-1])
        delta *= scale / m
        for l in range(last, -1, -1):
            w = self.weights[l]
            np.add.reduce(delta, axis=0, out=g.biases[l])  # np.sum without its Python wrapper
            if lr is not None and l == last and not np.isfinite(g.biases[l]).all():
                return None
            penalty = self._penalty_gradient(ws, l, scale, l1, l2) if l1 or l2 else None
            below = delta
            if l > 0:
                below = np.matmul(delta, w.T, out=deltas[l])  # back through W_l, before W_l changes
                F.scale_by_derivative(self.arch.activation, acts[l], below, tmps[l])
            # A step adds -a^T delta straight into W in one BLAS call (see engine/blas.py); else the
            # gradient is written to its buffer and then subtracted.
            update = self._plan(ws, l, "update", acts[l], delta, w, parts) if lr is not None else None
            if update is None:
                np.matmul(acts[l].T, delta, out=g.weights[l])  # (n_in, batch) @ (batch, n_out)
                if penalty is not None:
                    g.weights[l] += penalty
                if lr is not None:
                    w -= g.weights[l]
            else:
                update()
                if penalty is not None:
                    w -= penalty
            if lr is not None:
                self.biases[l] -= g.biases[l]
            delta = below
        return g

    @staticmethod
    def _plan(ws: _Workspace, l: int, kind: str, a, b, c, parts: int):
        """The workspace's blas.Plan for this product (made on first use, and again when an array, as
        after a weight is replaced, or the thread count changed); None: NumPy's matmul."""
        cached = ws.plans.get((l, kind))
        if cached is None or not (cached[0] is a and cached[1] is b and cached[2] is c and cached[3] == parts):
            cached = ws.plans[l, kind] = (a, b, c, parts,
                                          blas.plan(kind, a, b, c, -1.0 if kind == "update" else 1.0, parts))
        return cached[4]

    def _penalty_gradient(self, ws: _Workspace, l: int, scale: float, l1: float, l2: float) -> np.ndarray:
        """scale * (l1 sign(W_l) + l2 W_l), the L1/L2 terms' gradient, in a reused buffer (a fresh
        temporary that large costs its page faults on every step)."""
        if not ws.penalty:
            ws.penalty = [np.empty_like(w) for w in self.weights]
        w, tmp = self.weights[l], ws.penalty[l]
        if not l1:
            return np.multiply(w, scale * l2, out=tmp)
        np.sign(w, out=tmp)
        if l2:  # (l1/l2 sign(W) + W) l2 scale: both terms in the one buffer
            tmp *= l1 / l2
            tmp += w
            tmp *= scale * l2
        else:
            tmp *= scale * l1
        return tmp

    def trace(self, x: np.ndarray, y: np.ndarray) -> Trace:
        """gradients(x, y), keeping every layer's z, a and delta (fresh copies, not the buffers)."""
        g = self.gradients(self._as_input(x), np.asarray(y, dtype=self.dtype))
        ws = self._workspaces[len(x)]
        acts = [a.copy() for a in ws.acts]
        # The forward pass overwrites z with f(z) in place; z itself is one product away.
        z = [F.add_bias(acts[l] @ w, b) for l, (w, b) in enumerate(zip(self.weights, self.biases))]
        return Trace(acts[0], z, acts[1:], [d.copy() for d in ws.deltas[1:]],
                     Gradients([w.copy() for w in g.weights], [b.copy() for b in g.biases]))

    def backward_to_input(self, x: np.ndarray, d_logits) -> np.ndarray:
        """Back-propagate dL/dz of the output layer (batch, n_out) down to dL/dx (batch, n_in)."""
        acts = self.forward(x, all_layers=True)
        delta = np.asarray(d_logits, dtype=self.dtype)
        for l in range(len(self.weights) - 1, -1, -1):
            delta = delta @ self.weights[l].T
            if l > 0:
                F.scale_by_derivative(self.arch.activation, acts[l], delta)
        return delta

    def input_gradient(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """dL_i/dx_i for each row i: the gradient of that example's own loss w.r.t. its input.

        This is what FGSM, PGD and saliency maps use. Shape (batch, n_in).
        """
        p = self.forward(x)
        delta = F.output_delta(self.arch.output, self.arch.loss, p, self.targets(labels))
        return self.backward_to_input(x, delta)

    def logit_gradient(self, x: np.ndarray, cls: int) -> np.ndarray:
        """d z_cls / dx for each row: how each input pixel moves the score of class cls."""
        d = np.zeros((len(x), self.sizes[-1]), dtype=self.dtype)
        d[:, cls] = 1
        return self.backward_to_input(x, d)
