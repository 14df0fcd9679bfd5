"""The Playground's state and data, with no UI: one frozen dataclass of every setting (the URL
query string is its serialisation), the input features, uploaded-CSV parsing and the run itself
(a model, its trainer and per-epoch snapshots for the rewind slider).

Everything here is pure NumPy and testable without Streamlit; the page (pages/playground.py)
only turns widgets into a PlaygroundState and draws what a PlaygroundRun computes.
"""
from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from nnviz.data.toy import EXTENT, GENERATORS, N_CLASSES, train_test_split
from nnviz.engine.evolution import EvolutionConfig, make_evolution
from nnviz.engine.model import MLP
from nnviz.engine.training import (
    Dataset,
    EpochStats,
    TrainConfig,
    Trainer,
    TrainingDiverged,
)
from nnviz.lab.learning import Verdict, diagnose

# ----- the settings ---------------------------------------------------------------------------

DATASETS = ("moons", "circles", "xor", "gauss", "spiral", "spiral3", "blobs")
CUSTOM = "custom"  # an uploaded CSV: lives in the session, never in the URL
DATASET_LABELS = {"moons": "Moons", "circles": "Circles", "xor": "XOR", "gauss": "Two blobs",
                  "spiral": "Spiral", "spiral3": "Spiral, 3 classes", "blobs": "4 blobs, 4 classes",
                  CUSTOM: "Uploaded CSV"}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "linear")
LOSSES = ("cross_entropy", "quadratic")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZERS = ("none", "l1", "l2")
LR_CHOICES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATE_CHOICES = (0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_CHOICES = (1, 2, 5, 10, 20, 30, 50, 100, 200)
SPEED_CHOICES = (1, 2, 5, 10, 20, 50)
# How the weights learn. A race runs backprop and an evolution (the rival) side by side.
METHODS = ("backprop", "ga", "es", "race")
METHOD_LABELS = {"backprop": "Backprop", "ga": "Genetic algorithm", "es": "Evolution strategies", "race": "Race"}
RIVALS = ("ga", "es")
POPULATION_CHOICES = (10, 20, 50, 100, 200, 500)
SIGMA_CHOICES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
MAX_LAYERS, MAX_NEURONS = 6, 32

# Hideable through ?hide=...: single controls, or a group name that hides a whole section.
HIDE_GROUPS = {
    "data": ("dataset", "noise", "n_points", "test_ratio", "data_seed", "upload"),
    "network": ("hidden", "activation", "loss", "init_seed"),
    "training": ("optimizer", "lr", "batch_size", "reg", "reg_rate", "speed"),
    "evolution": ("method", "rival", "population", "sigma", "elite"),
    "view": ("show_test", "discretize"),
    "controls": ("play", "step", "reset", "rewind"),
}
HIDEABLE = tuple(sorted({*HIDE_GROUPS, "features", *(c for g in HIDE_GROUPS.values() for c in g)}))


@dataclass(frozen=True)
class PlaygroundState:
    """Every setting of the page. The defaults are the seed's exercise: moons with noise 0.2."""

    dataset: str = "moons"
    noise: float = 0.2
    n_points: int = 300
    test_ratio: float = 0.5
    data_seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.1  # moons at 95% test accuracy in ~150 epochs (0.03 needs 300+)
    batch_size: int = 10
    reg: str = "none"
    reg_rate: float = 0.001
    init_seed: int = 0
    speed: int = 5
    show_test: bool = False
    discretize: bool = False
    hide: tuple[str, ...] = ()
    method: str = "backprop"  # METHODS
    rival: str = "ga"  # what races backprop
    population: int = 100  # as in hardmaru's neuroevolution playground
    sigma: float = 0.1
    elite: float = 0.1

    def hidden_control(self, name: str) -> bool:
        """True when ?hide= names this control or a group that contains it."""
        return name in self.hide or any(name in HIDE_GROUPS.get(g, ()) for g in self.hide)

    @property
    def train_config(self) -> TrainConfig:
        l1 = self.reg_rate if self.reg == "l1" else 0.0
        l2 = self.reg_rate if self.reg == "l2" else 0.0
        return TrainConfig(self.optimizer, self.lr, self.batch_size, l1, l2)

    @property
    def evolution_config(self) -> EvolutionConfig:
        """GA and ES settings; ES steps with the training settings' optimiser and learning rate."""
        cfg = self.train_config
        return EvolutionConfig(population=self.population, sigma=self.sigma, elite=self.elite,
                               optimizer=cfg.optimizer, lr=cfg.lr, l1=cfg.l1, l2=cfg.l2)

    def data_key(self) -> tuple:
        """The settings that define the points; a change regenerates them (and resets the run)."""
        return (self.dataset, self.noise, self.n_points, self.test_ratio, self.data_seed)

    def model_key(self) -> tuple:
        """The settings that define the network; a change resets the run."""
        return (self.features, self.hidden, self.activation, self.loss, self.init_seed)


DEFAULT = PlaygroundState()

# query key -> field; short keys keep a slide's link readable.
_QUERY_KEYS = {"dataset": "dataset", "noise": "noise", "n": "n_points", "test": "test_ratio",
               "seed": "data_seed", "features": "features", "hidden": "hidden",
               "activation": "activation", "loss": "loss", "optimizer": "optimizer", "lr": "lr",
               "batch": "batch_size", "reg": "reg", "reg_rate": "reg_rate", "init": "init_seed",
               "speed": "speed", "show_test": "show_test", "discretize": "discretize", "hide": "hide",
               "learn": "method", "rival": "rival", "pop": "population", "sigma": "sigma", "elite": "elite"}
QUERY_KEYS = tuple(_QUERY_KEYS)
_MAX_SEED = 2**31 - 1


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def to_query(state: PlaygroundState) -> dict[str, str]:
    """The settings that differ from the defaults, as URL query parameters (str -> str)."""
    out = {}
    for key, name in _QUERY_KEYS.items():
        value = getattr(state, name)
        if value != getattr(DEFAULT, name) and not (name == "dataset" and value == CUSTOM):
            out[key] = "none" if name == "hidden" and value == () else _fmt(value)
    return out


def _clamp(x, lo, hi):
    return min(max(x, lo), hi)


def _number(text: str, kind, lo, hi):
    value = kind(float(text)) if kind is int else float(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(text)
    return _clamp(value, lo, hi)


def _choice(options):
    def parse(text: str):
        text = text.strip().lower()
        if text not in options:
            raise ValueError(text)
        return text
    return parse


def _bool(text: str) -> bool:
    text = text.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _hidden(text: str) -> tuple[int, ...]:
    text = text.strip().lower()
    if text in ("", "0", "none", "-"):
        return ()
    sizes = tuple(_clamp(int(float(s)), 1, MAX_NEURONS) for s in text.split(",") if s.strip())
    if not sizes:
        raise ValueError(text)
    return sizes[:MAX_LAYERS]


def _features(text: str) -> tuple[str, ...]:
    wanted = {s.strip().lower() for s in text.split(",")}
    chosen = tuple(f for f in FEATURES if f in wanted)  # canonical order, unknown names dropped
    if not chosen:
        raise ValueError(text)
    return chosen


def _hide(text: str) -> tuple[str, ...]:
    wanted = {s.strip().lower() for s in text.split(",")}
    return tuple(h for h in HIDEABLE if h in wanted)


_PARSERS = {
    "dataset": _choice(DATASETS),
    "noise": lambda t: _number(t, float, 0.0, 0.6),
    "n_points": lambda t: _number(t, int, 20, 1000),
    "test_ratio": lambda t: _number(t, float, 0.0, 0.9),
    "data_seed": lambda t: _number(t, int, 0, _MAX_SEED),
    "features": _features,
    "hidden": _hidden,
    "activation": _choice(ACTIVATIONS),
    "loss": _choice(LOSSES),
    "optimizer": _choice(OPTIMIZERS),
    "lr": lambda t: _number(t, float, 1e-6, 100.0),
    "batch_size": lambda t: _number(t, int, 1, 500),
    "reg": _choice(REGULARIZERS),
    "reg_rate": lambda t: _number(t, float, 0.0, 10.0),
    "init_seed": lambda t: _number(t, int, 0, _MAX_SEED),
    "speed": lambda t: _number(t, int, 1, 100),
    "show_test": _bool,
    "discretize": _bool,
    "hide": _hide,
    "method": _choice(METHODS),
    "rival": _choice(RIVALS),
    "population": lambda t: _number(t, int, 4, 500),
    "sigma": lambda t: _number(t, float, 0.001, 2.0),
    "elite": lambda t: _number(t, float, 0.0, 0.9),
}


def from_query(params: Mapping[str, str | list[str]]) -> PlaygroundState:
    """Settings from URL query parameters. Never raises: a missing, unknown or bad value falls
    back to its default, and numbers are clamped into their range (n=10**9 -> 1000)."""
    values = {}
    for key, name in _QUERY_KEYS.items():
        raw = params.get(key) if hasattr(params, "get") else None
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else None
        if raw is None:
            continue
        try:
            values[name] = _PARSERS[name](str(raw)[:200])
        except (ValueError, TypeError, OverflowError):
            pass  # junk in a link: keep the default
    return replace(DEFAULT, **values)


def sanitize(state: PlaygroundState) -> PlaygroundState:
    """Round-trip through the query parser: whatever the widgets said, the state is valid."""
    clean = from_query(to_query(state))
    return replace(clean, dataset=CUSTOM) if state.dataset == CUSTOM else clean


# ----- input features ------------------------------------------------------------------------

# sin uses pi*x: on this plane ([-1.8, 1.8]) plain sin x is almost x itself; sin(pi x) makes the
# 1.5-2 waves across the plane that TensorFlow Playground's sin X1 makes across its [-6, 6].
FEATURES = {
    "x1": ("x\u2081", lambda x: x[:, 0]),
    "x2": ("x\u2082", lambda x: x[:, 1]),
    "x1sq": ("x\u2081\u00b2", lambda x: x[:, 0] ** 2),
    "x2sq": ("x\u2082\u00b2", lambda x: x[:, 1] ** 2),
    "x1x2": ("x\u2081x\u2082", lambda x: x[:, 0] * x[:, 1]),
    "sin1": ("sin(\u03c0x\u2081)", lambda x: np.sin(np.pi * x[:, 0])),
    "sin2": ("sin(\u03c0x\u2082)", lambda x: np.sin(np.pi * x[:, 1])),
}
FEATURE_LABELS = {k: v[0] for k, v in FEATURES.items()}


def feature_map(x: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """Points x (n, 2) -> the network's inputs (n, k), one column per chosen feature, float32."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2); got {x.shape}")
    if not features:
        raise ValueError("choose at least one input feature")
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r}; choose from {', '.join(FEATURES)}")
    return np.stack([FEATURES[f][1](x) for f in features], axis=1).astype(np.float32)


# ----- uploaded CSV --------------------------------------------------------------------------

MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 5_000
MAX_CLASSES = 8


@dataclass(frozen=True)
class CustomData:
    """Points from an uploaded CSV: x (n, 2) inside the plane, y (n,) labels 0..k-1."""

    x: np.ndarray
    y: np.ndarray
    n_classes: int
    name: str
    labels: tuple[int, ...]  # the file's own label of class 0, 1, ...
    note: str = ""  # e.g. that the points were rescaled to fit the plane


def parse_csv(data: bytes | str, name: str = "upload.csv") -> CustomData:
    """Parse `x1,x2,label` rows (a header line is optional). Raises ValueError with a message for
    the user: wrong columns, text or NaN/inf where a number belongs, too many rows or bytes, one
    class only, labels that are not small integers. Points that leave the plane are rescaled."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    check_csv_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The file is not a text CSV (it is not UTF-8).") from None
    reader = csv.reader(io.StringIO(text))
    rows, lines = [], []  # non-empty rows and their line numbers in the file
    try:
        for row in reader:
            if any(c.strip() for c in row):
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as e:
        raise ValueError(f"The file is not a valid CSV: {e}.") from None
    if not rows:
        raise ValueError("The file is empty: expected rows of x1,x2,label.")
    if not _is_number(rows[0][0]):  # a header line
        header = [c.strip().lower() for c in rows[0]]
        if len(header) != 3:
            raise ValueError(f"Expected 3 columns x1,x2,label; the header has {len(header)}: "
                             f"{', '.join(header[:6])[:80]}.")
        rows, lines = rows[1:], lines[1:]
    if len(rows) > MAX_CSV_ROWS:
        raise ValueError(f"The file has {len(rows):,} rows; the limit is {MAX_CSV_ROWS:,}.")
    if len(rows) < 4:
        raise ValueError(f"The file has {len(rows)} data rows; need at least 4 points.")
    values = np.empty((len(rows), 3))
    for i, (row, line) in enumerate(zip(rows, lines)):
        if len(row) != 3:
            raise ValueError(f"Row {line} has {len(row)} columns; expected 3: x1,x2,label.")
        for j, cell in enumerate(row):
            try:
                v = float(cell)
            except ValueError:
                raise ValueError(f"Row {line}, column {j + 1}: {cell.strip()[:20]!r} is not a number.") from None
            if not math.isfinite(v):
                raise ValueError(f"Row {line}, column {j + 1}: {cell.strip()[:20]} (NaN and infinity are not allowed).")
            values[i, j] = v
    raw_labels = values[:, 2]
    if not np.all(raw_labels == np.round(raw_labels)) or np.abs(raw_labels).max() > 1000:
        raise ValueError("The labels (third column) must be small integers such as 0 and 1.")
    classes = np.unique(raw_labels.astype(np.int64))
    if len(classes) < 2:
        raise ValueError(f"All points have label {classes[0]}: need at least two classes.")
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"The file has {len(classes)} different labels; at most {MAX_CLASSES} classes.")
    y = np.searchsorted(classes, raw_labels.astype(np.int64))
    x, note = _fit_plane(values[:, :2])
    return CustomData(x.astype(np.float32), y.astype(np.int64), len(classes), name,
                      tuple(int(c) for c in classes), note)


def check_csv_size(n_bytes: int) -> None:
    """Raise ValueError, with the file's real size, when a CSV of n_bytes is over the limit."""
    if n_bytes > MAX_CSV_BYTES:
        mb = math.ceil(n_bytes / 100_000) / 10  # rounded up: 1,000,001 bytes reads as 1.1, not 1.0
        raise ValueError(f"The file is {mb:.1f} MB; the limit is {MAX_CSV_BYTES // 1_000_000} MB "
                         f"({MAX_CSV_ROWS:,} rows).")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _fit_plane(x: np.ndarray, limit: float = 1.5) -> tuple[np.ndarray, str]:
    """Points already inside [-limit, limit]^2 stay; others are centred and scaled (one factor for
    both axes, so shapes keep their proportions) to fit. x (n, 2) finite float64, any magnitude
    up to the float maximum: nothing here overflows (a sum or difference of two 1.7e308 does)."""
    biggest = np.abs(x).max()
    if biggest <= limit:
        return x, ""
    lo, hi = x.min(axis=0), x.max(axis=0)
    centre = lo / 2 + hi / 2  # (lo + hi) / 2 overflows near the float maximum
    span = (hi / 2 - lo / 2).max()  # half the wider side
    # (x - centre) * limit / span, in an order where nothing overflows or becomes subnormal
    fitted = (x / 2 - centre / 2) / span * (2 * limit) if span > 0 else x - centre
    scale = limit / span if span > 0 else 1.0  # for the note
    note = (f"The points were shifted by ({-centre[0]:.3g}, {-centre[1]:.3g}) and "
            f"scaled by {scale:.3g} to fit the plane [-{limit}, {limit}]\u00b2.")
    if not np.isfinite(fitted).all() or np.abs(fitted).max() > limit * (1 + 1e-6):
        raise ValueError("The coordinates are too far apart to fit the plane; please rescale them.")
    return np.clip(fitted, -limit, limit), note


# ----- data, model and run ---------------------------------------------------------------------

def make_points(state: PlaygroundState, custom: CustomData | None = None) -> Dataset:
    """The points in the plane (x (n, 2)), split into train and test with the data seed."""
    rng = np.random.default_rng(state.data_seed)
    if state.dataset == CUSTOM and custom is not None:
        x, y, k, name = custom.x, custom.y, custom.n_classes, custom.name
    else:
        name = state.dataset if state.dataset in GENERATORS else DEFAULT.dataset
        x, y = GENERATORS[name](state.n_points, state.noise, rng)
        k = N_CLASSES[name]
    x_tr, y_tr, x_te, y_te = train_test_split(x, y, state.test_ratio, rng)
    return Dataset(x_tr, y_tr, x_te, y_te, k, name)


def featurize(points: Dataset, features: tuple[str, ...]) -> Dataset:
    """The same split with the network's inputs (n, k) in place of the points (n, 2)."""
    return replace(points, x_train=feature_map(points.x_train, features),
                   x_test=feature_map(points.x_test.reshape(-1, 2), features))


def build_model(state: PlaygroundState, n_classes: int) -> MLP:
    """(features, hidden..., classes): softmax + cross-entropy, or sigmoid + quadratic (the seed's)."""
    output = "softmax" if state.loss == "cross_entropy" else "sigmoid"
    sizes = (len(state.features), *state.hidden, n_classes)
    return MLP.create(sizes, state.activation, output, state.loss, init="glorot",
                      rng=np.random.default_rng(state.init_seed))


class Snapshots:
    """Model weights per epoch for the rewind slider, at most `limit` of them.

    Every epoch is kept until the limit; then the stride doubles (keep epochs 0, 2, 4, ...; then
    0, 4, 8, ...), so memory stays bounded while any earlier epoch has a snapshot nearby.
    The latest epoch is always kept.
    """

    def __init__(self, limit: int = 240):
        self.limit = max(int(limit), 4)
        self.stride = 1
        self._snaps: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}
        self._latest = -1

    def add(self, epoch: int, model: MLP) -> None:
        if self._latest >= 0 and self._latest % self.stride:
            self._snaps.pop(self._latest, None)  # only kept because it was the latest
        self._snaps[epoch] = ([w.copy() for w in model.weights], [b.copy() for b in model.biases])
        self._latest = epoch
        while len(self._snaps) > self.limit:
            self.stride *= 2
            self._snaps = {e: s for e, s in self._snaps.items() if e % self.stride == 0 or e == epoch}

    @property
    def epochs(self) -> list[int]:
        return sorted(self._snaps)

    def __len__(self) -> int:
        return len(self._snaps)

    def nearest(self, epoch: int) -> int:
        """The stored epoch closest to `epoch` (ties: the earlier)."""
        return min(self._snaps, key=lambda e: (abs(e - epoch), e))

    def model_at(self, epoch: int, like: MLP) -> MLP:
        """A copy of `like` with the weights stored at the nearest epoch to `epoch`."""
        w, b = self._snaps[self.nearest(epoch)]
        return MLP(like.arch, [a.copy() for a in w], [a.copy() for a in b])


# Evolution stops stepping within one call (a frame) after this long: with 500 individuals of a
# 32x6 network on 900 points one generation is 4.7 GFLOP, and a frame must stay a frame.
EVOLUTION_FRAME_SECONDS = 0.5
RECENT_EPOCHS = 20  # "still at chance" judges the best accuracy of these last epochs
HISTORY_LIMIT = 2_000  # per-epoch stats kept for the curves (older ones thinned out): < 1 MB a session


class PlaygroundRun:
    """One training run: points, inputs, model, trainer, history and snapshots.

    The UI keeps one in its session and calls step(); settings that only change how training
    proceeds (learning rate, optimiser, batch, regularisation) apply without a reset.
    """

    def __init__(self, state: PlaygroundState, custom: CustomData | None = None, snapshot_limit: int = 240):
        self.state = state
        self.custom = custom  # the upload these points came from (a new upload means a new run)
        self.points = make_points(state, custom)
        self.data = featurize(self.points, state.features)
        self.model = build_model(state, self.points.n_classes)
        self.trainer = make_learner(state, self.model, self.data)
        self.snapshots = Snapshots(snapshot_limit)
        self.snapshots.add(0, self.model)
        self.initial = self.trainer.measure(0, 0.0, 0, True)  # the untrained network, epoch 0
        self.diverged: str | None = None
        self.learning: Verdict | None = None  # after each step: is it still learning, and if not, why

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def history(self) -> list[EpochStats]:
        return [self.initial, *self.trainer.history]

    def needs_reset(self, state: PlaygroundState) -> bool:
        return (state.data_key() != self.state.data_key() or state.model_key() != self.state.model_key()
                or state.method != self.state.method)

    @property
    def evolving(self) -> bool:
        return self.state.method in RIVALS

    def update(self, state: PlaygroundState) -> None:
        """Apply training settings to this run (call needs_reset first for the others)."""
        old, self.state = self.state, state
        if self.evolving:
            self.trainer.reconfigure(state.evolution_config)  # population, sigma, lr... apply live
            return
        if state.train_config == old.train_config:
            return
        if replace(state.train_config, lr=old.lr) == old.train_config:
            self.trainer.lr = state.lr  # keeps the optimiser's momentum
            return
        trainer = Trainer(self.model, self.data, state.train_config, self.trainer.rng)
        trainer.epoch, trainer.history = self.trainer.epoch, self.trainer.history
        self.trainer = trainer

    def step(self, epochs: int = 1) -> EpochStats:
        """Train `epochs` more epochs, snapshotting each. TrainingDiverged propagates (the model
        is rolled back; self.diverged keeps the message)."""
        stats = self.history[-1]
        t0 = time.perf_counter()
        for k in range(max(int(epochs), 1)):
            if k and self.evolving and time.perf_counter() - t0 > EVOLUTION_FRAME_SECONDS:
                break  # a big population on a big network: fewer generations this frame
            try:
                stats = self.trainer.train_epoch()
            except TrainingDiverged as e:
                self.diverged = str(e)
                raise
            self.snapshots.add(self.trainer.epoch, self.model)
        history = self.trainer.history
        if len(history) > HISTORY_LIMIT:  # an hour of playing: keep memory bounded, halve the old part
            self.trainer.history = [*history[:-1:2], history[-1]]
        # The rule reads a gradient learner's symptoms (and its remedy, the learning rate): backprop only.
        self.learning = None if self.evolving else self._diagnose(stats)
        return stats

    def _diagnose(self, stats: EpochStats) -> Verdict:
        """The shared rule (nnviz.lab.learning) on the training points (at most 900 rows), with the
        best accuracy of the last RECENT_EPOCHS: a network that swings between 55% and 70% from one
        frame to the next is not still at chance whenever it dips."""
        tested = len(self.data.y_test) > 0
        recent = [s.test_acc if tested else s.train_acc for s in self.trainer.history[-RECENT_EPOCHS:]]
        return diagnose(self.model, self.data.x_train, self.data.y_test if tested else self.data.y_train,
                        stats.test_acc if tested else stats.train_acc, stats.train_loss,
                        self.initial.train_loss, self.epoch, len(self.data.y_train), self.trainer.lr,
                        recent_best=max((a for a in recent if a == a), default=None),  # NaN left out
                        was_at_chance=self.learning is not None and self.learning.at_chance)

    def model_at(self, epoch: int | None) -> MLP:
        """The live model (epoch None or the latest), else the nearest stored snapshot."""
        if epoch is None or epoch >= self.epoch:
            return self.model
        return self.snapshots.model_at(epoch, self.model)


def make_learner(state: PlaygroundState, model: MLP, data: Dataset):
    """What changes `model`: the trainer (backprop) or an evolution (ga, es). Both have the same
    interface (train_epoch, measure, epoch, history, lr) and yield stats with forward passes."""
    rng = np.random.default_rng([state.init_seed, 1])
    if state.method in RIVALS:
        return make_evolution(state.method, model, data, state.evolution_config, rng)
    return Trainer(model, data, state.train_config, rng)


class RaceRun:
    """Backprop against an evolution (state.rival): two PlaygroundRuns on the same points and the
    same network from the same initial weights, stepped together (an epoch of one, a generation of
    the other), so their curves can be compared per forward pass and per second."""

    learning = None  # the 'not learning' rule reads one backprop run's symptoms: a race has none

    def __init__(self, state: PlaygroundState, custom: CustomData | None = None, snapshot_limit: int = 240):
        self.state, self.custom = state, custom
        self.runs = {name: PlaygroundRun(replace(state, method=name), custom, snapshot_limit)
                     for name in ("backprop", state.rival)}

    @property
    def backprop(self) -> PlaygroundRun:
        return self.runs["backprop"]

    @property
    def rival(self) -> PlaygroundRun:
        return self.runs[self.state.rival]

    @property
    def points(self) -> Dataset:
        return self.backprop.points

    @property
    def epoch(self) -> int:
        return self.backprop.epoch

    @property
    def diverged(self) -> str | None:
        """The first message of a run that diverged (the race stops: both must step together)."""
        return next((f"{METHOD_LABELS[n]}: {r.diverged}" for n, r in self.runs.items() if r.diverged), None)

    @diverged.setter
    def diverged(self, value: str | None) -> None:
        for run in self.runs.values():
            run.diverged = value

    def needs_reset(self, state: PlaygroundState) -> bool:
        return (state.method != "race" or state.rival != self.state.rival
                or self.backprop.needs_reset(replace(state, method="backprop")))

    def update(self, state: PlaygroundState) -> None:
        self.state = state
        for name, run in self.runs.items():
            run.update(replace(state, method=name))

    def step(self, steps: int = 1) -> None:
        """Each run `steps` more epochs or generations (fewer after EVOLUTION_FRAME_SECONDS; always
        the same number for both); TrainingDiverged propagates."""
        t0 = time.perf_counter()
        for k in range(max(int(steps), 1)):
            if k and time.perf_counter() - t0 > EVOLUTION_FRAME_SECONDS:
                break
            for run in self.runs.values():
                run.step(1)

    def nearest(self, epoch: int) -> int:
        return self.backprop.snapshots.nearest(epoch)


def new_run(state: PlaygroundState, custom: CustomData | None = None) -> PlaygroundRun | RaceRun:
    """A fresh run for these settings: a race, or one learner."""
    return RaceRun(state, custom) if state.method == "race" else PlaygroundRun(state, custom)


# ----- the plane as the network sees it -------------------------------------------------------

def grid(resolution: int) -> np.ndarray:
    """(r*r, 2) points on a regular grid over [-EXTENT, EXTENT]^2; row i has y = ys[i] ascending,
    column j has x = xs[j] ascending (so reshape(r, r) puts y on the first axis)."""
    axis = np.linspace(-EXTENT, EXTENT, resolution)
    xx, yy = np.meshgrid(axis, axis)
    return np.c_[xx.ravel(), yy.ravel()]


@dataclass(frozen=True)
class PlaneView:
    """What the network computes over the plane: probs (r, r, classes), inputs (r, r, features),
    hidden[l] (r, r, n_l) the activations of hidden layer l; axis 0 is y ascending."""

    probs: np.ndarray
    inputs: np.ndarray
    hidden: list[np.ndarray]


def plane_view(model: MLP, features: tuple[str, ...], resolution: int = 100) -> PlaneView:
    """One forward pass over a grid of the plane, keeping every layer."""
    pts = grid(resolution)
    acts = model.forward(feature_map(pts, features), all_layers=True)
    r = resolution
    shaped = [a.reshape(r, r, -1) for a in acts]
    probs = shaped[-1]
    if model.arch.output == "sigmoid":  # independent sigmoids: normalise for the picture
        probs = probs / np.maximum(probs.sum(axis=2, keepdims=True), 1e-12)
    return PlaneView(probs, shaped[0], shaped[1:-1])
