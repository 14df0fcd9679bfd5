"""State of the MNIST page: its settings, presets, and the training run of this browser session.

Everything that must survive a page switch lives under our own keys (Streamlit drops the state
of widgets when the user opens another page): the Settings under SETTINGS_KEY, the Run (trainer,
curves, messages) under RUN_KEY. Widgets are seeded from the Settings on every render.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import streamlit as st

from nnviz.data import mnist
from nnviz.engine.model import MLP
from nnviz.engine.model_files import ModelFileError
from nnviz.engine.training import (
    Dataset,
    EpochStats,
    TrainConfig,
    Trainer,
    TrainingDiverged,
)
from nnviz.lab.digit_model import load_digit_model
from nnviz.lab.learning import diagnose

from .owner import owned
from .session import bundled_digits, set_digit_model
from .text import plain

SETTINGS_KEY = "mnist_settings"
RUN_KEY = "mnist_run"
PENDING_KEY = "mnist_pending_widgets"  # widget values to set before the widgets are drawn
UPLOAD_SEEN_KEY = "mnist_upload_seen"  # (file_id, error message or None) of the last upload
WIDGET_PREFIX = "mnist_w_"
TICK_S = 0.2  # the live view's redraw interval while training (nnviz.ui.pacing: longer when the server is busy)
CHUNK_EXAMPLES = 20_000  # on the full set, redraw within an epoch after about this many examples (3 frames an epoch)
HEALTH_SAMPLE = 500  # test digits used to look for dead or saturated neurons

# Choices offered by the widgets (the presets use only these values).
HIDDEN_SIZES = (10, 16, 30, 50, 100, 200, 300, 500)
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 0.5, 1.0, 3.0, 10.0, 30.0, 100.0)
BATCH_SIZES = (1, 10, 32, 64, 128, 256)
EPOCH_CHOICES = (1, 2, 3, 5, 10, 20, 30, 50, 100)
L2_CHOICES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUTS = ("softmax", "sigmoid")
LOSSES = ("cross_entropy", "quadratic")
OPTIMIZERS = ("sgd", "momentum", "adam")
INITS = ("normal", "glorot", "he")
DATA = ("bundled", "full")
LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU",
          "softmax": "softmax", "cross_entropy": "cross-entropy", "quadratic": "quadratic",
          "sgd": "SGD", "momentum": "momentum SGD", "adam": "Adam", "normal": "N(0, 1)",
          "glorot": "Glorot uniform", "he": "He normal", "bundled": "bundled 10,000 digits",
          "full": "full MNIST, 70,000 digits"}


@dataclass(frozen=True)
class Settings:
    """Everything the user can choose. Changes to the network fields need a Reset to apply."""

    hidden_layers: int = 0
    hidden_size: int = 100
    activation: str = "relu"
    output: str = "softmax"
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.1
    batch_size: int = 32
    epochs: int = 10
    l2: float = 1e-4
    init: str = "glorot"
    seed: int = 0
    data: str = "bundled"

    # Applied to a running trainer at once; every other field defines a new network.
    LIVE = ("lr", "batch_size", "epochs", "l2")

    @property
    def sizes(self) -> tuple[int, ...]:
        return (784, *[self.hidden_size] * self.hidden_layers, 10)

    def network_key(self) -> tuple:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in self.LIVE)

    def changed_network_fields(self, other: "Settings") -> list[str]:
        return [f.name for f in dataclasses.fields(self)
                if f.name not in self.LIVE and getattr(self, f.name) != getattr(other, f.name)]

    def describe(self) -> str:
        """'[784, 30, 10] sigmoid, sigmoid output + quadratic loss, SGD eta 3, batch 10'."""
        act = f" {LABELS[self.activation]}" if self.hidden_layers else ""
        decay = f", \u03bb {self.l2:g}" if self.l2 else ""
        return (f"{list(self.sizes)}{act}, {self.output} output + {LABELS[self.loss]} loss, "
                f"{LABELS[self.optimizer]} \u03b7 {self.lr:g}, batch {self.batch_size}{decay}")


# One click each. Every preset sets all network and training fields (the data choice stays).
PRESETS = {
    "network.py": ("network.py",
                   "Nielsen's network.py: [784, 30, 10], sigmoid neurons, quadratic cost, plain SGD "
                   "with mini-batches of 10, \u03b7 = 3.0, weights and biases drawn from N(0, 1), 30 epochs.",
                   dict(hidden_layers=1, hidden_size=30, activation="sigmoid", output="sigmoid",
                        loss="quadratic", optimizer="sgd", lr=3.0, batch_size=10, epochs=30, l2=0.0,
                        init="normal", seed=0)),
    "templates": ("Templates",
                  "No hidden layer: 784 pixels straight into 10 softmax outputs. The weights into "
                  "each output are a 28x28 picture: the network's template of that digit.",
                  dict(hidden_layers=0, activation="relu", output="softmax", loss="cross_entropy",
                       optimizer="sgd", lr=0.1, batch_size=32, epochs=10, l2=1e-4, init="glorot", seed=0)),
    "modern": ("Modern",
               "[784, 100, 10] with ReLU, softmax + cross-entropy, Adam (\u03b7 = 0.001), batches of "
               "64, He initialisation, a little weight decay (\u03bb = 0.001: cleaner weight pictures).",
               dict(hidden_layers=1, hidden_size=100, activation="relu", output="softmax",
                    loss="cross_entropy", optimizer="adam", lr=0.001, batch_size=64, epochs=10,
                    l2=1e-3, init="he", seed=0)),
}
DEFAULT_SETTINGS = dataclasses.replace(Settings(), **PRESETS["templates"][2])


# ----- settings <-> widgets --------------------------------------------------------------
def widget_key(name: str) -> str:
    return WIDGET_PREFIX + name


def settings() -> Settings:
    """This session's settings (the defaults until the user changes something)."""
    if SETTINGS_KEY not in st.session_state:
        st.session_state[SETTINGS_KEY] = DEFAULT_SETTINGS
    return st.session_state[SETTINGS_KEY]


def seed_widgets() -> None:
    """Give every settings widget its value from our Settings; call before drawing the widgets."""
    pending = st.session_state.pop(PENDING_KEY, {})
    s = settings()
    if pending:
        s = dataclasses.replace(s, **pending)
        st.session_state[SETTINGS_KEY] = s
    for f in dataclasses.fields(s):
        key = widget_key(f.name)
        if key not in st.session_state or f.name in pending:
            st.session_state[key] = getattr(s, f.name)


def store_widgets() -> Settings:
    """Read the widgets back into our Settings (after drawing them) and return them."""
    s = settings()
    values = {f.name: st.session_state.get(widget_key(f.name), getattr(s, f.name)) for f in dataclasses.fields(s)}
    new = Settings(**values)
    st.session_state[SETTINGS_KEY] = new
    return new


def set_later(**values) -> None:
    """Change settings and their widgets on the next run (a widget cannot change once drawn)."""
    st.session_state.setdefault(PENDING_KEY, {}).update(values)


@owned
def apply_preset(name: str) -> None:
    """Button callback: set every field of the preset, in the Settings and in the widgets."""
    values = PRESETS[name][2]
    st.session_state[SETTINGS_KEY] = dataclasses.replace(settings(), **values)
    for k, v in values.items():
        st.session_state[widget_key(k)] = v
    run = st.session_state.get(RUN_KEY)
    if run is not None and run.trainer.epoch == 0 and not run.mid_epoch:
        st.session_state.pop(RUN_KEY)  # nothing trained yet: build the preset's network now


# ----- data -------------------------------------------------------------------------------
@st.cache_resource
def _full_holder() -> dict:
    """Shared by all sessions: the full MNIST once some session has it (read-only arrays)."""
    return {}


def full_digits() -> Dataset | None:
    """The full MNIST if it is on disk (read once per server), else None."""
    holder = _full_holder()
    if "data" not in holder and mnist.full_is_cached():
        try:
            holder["data"] = mnist.load_full()
        except Exception:  # a damaged cache: the page offers the download again
            return None
    return holder.get("data")


def download_full(progress) -> Dataset:
    """Download (or read from the cache) the full MNIST; progress(fraction, message).

    Raises nnviz.data.download.DownloadError with a user-facing message.
    """
    data = mnist.load_full(progress=progress)
    _full_holder()["data"] = data
    return data


def dataset(name: str) -> Dataset:
    """The chosen data set; the bundled digits when the full set is not available."""
    if name == "full":
        full = full_digits()
        if full is not None:
            return full
    return bundled_digits()


# ----- the run: one trainer per session ----------------------------------------------------
@dataclass
class Run:
    """A network being trained, with what the page shows about it."""

    settings: Settings  # what the network was built with
    trainer: Trainer
    curve: list[EpochStats]  # epoch 0, then every report (within-epoch ones on the full set)
    initial_loss: float
    mean_image: np.ndarray  # (784,) mean training image: where effective templates are taken
    origin: str = ""  # "" for a fresh network, else e.g. "uploaded file my.npz"
    running: bool = False
    target_epoch: int = 0
    gen: Iterator[EpochStats] | None = field(default=None, repr=False)
    mid_epoch: bool = False
    error: str | None = None  # training failed: shown with a Reset button
    warning: str | None = None
    seconds_per_epoch: list[float] = field(default_factory=list)

    @property
    def model(self) -> MLP:
        return self.trainer.model

    @property
    def data(self) -> Dataset:
        return self.trainer.data

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    def description(self) -> str:
        what = self.origin or self.settings.describe()
        return f"{what}; {self.epoch} epoch{'s' if self.epoch != 1 else ''} on the {LABELS[self.data_name]}"

    @property
    def data_name(self) -> str:
        return "full" if len(self.data.x_train) > 10_000 else "bundled"


def new_run(s: Settings, model: MLP | None = None, origin: str = "") -> Run:
    """A fresh run for settings s: a new network (or `model`, e.g. an uploaded one)."""
    data = dataset(s.data)
    rng = np.random.default_rng(s.seed)
    if model is None:
        model = MLP.create(s.sizes, s.activation, s.output, s.loss, s.init, rng)
    trainer = Trainer(model, data, TrainConfig(s.optimizer, s.lr, s.batch_size, 0.0, s.l2), rng)
    with np.errstate(all="ignore"):
        start = trainer.measure(0.0, 0.0, 0, True)
    mean = np.asarray(data.x_train, dtype=np.float64).mean(axis=0)
    return Run(s, trainer, [start], start.train_loss, mean, origin)


@owned
def current_run() -> Run:
    """This session's run; built from the settings when there is none."""
    run = st.session_state.get(RUN_KEY)
    if run is None:
        run = st.session_state[RUN_KEY] = new_run(settings())
    return run


@owned
def sync_run(s: Settings) -> list[str]:
    """Apply settings to the run: live fields at once; a changed network rebuilds an untrained run.

    Returns the names of network fields that differ from a trained run's (they need a Reset).
    """
    run = current_run()
    changed = s.changed_network_fields(run.settings)
    if changed and run.epoch == 0 and not run.mid_epoch and not run.origin:
        run = st.session_state[RUN_KEY] = new_run(s)
        changed = []
    if run.trainer.lr != s.lr:
        run.trainer.lr = s.lr
    cfg = run.trainer.config
    if (cfg.batch_size, cfg.l2) != (s.batch_size, s.l2):
        run.trainer.config = dataclasses.replace(cfg, batch_size=s.batch_size, l2=s.l2)
    run.settings = dataclasses.replace(run.settings, lr=s.lr, batch_size=s.batch_size, epochs=s.epochs, l2=s.l2)
    return changed


@owned
def reset() -> None:
    """Button callback: a new network from the current settings."""
    st.session_state[RUN_KEY] = new_run(settings())


@owned
def train() -> None:
    """Button callback: train (or resume) until `epochs` epochs more than where a finished run stopped."""
    run = current_run()
    if run.error:
        return
    if run.epoch >= run.target_epoch:
        run.target_epoch = run.epoch + run.settings.epochs
    run.running = True


@owned
def pause() -> None:
    current_run().running = False


@owned
def step() -> None:
    """Button callback: exactly one more epoch (finishing the current one on the full set)."""
    run = current_run()
    run.running = False
    if run.error:
        return
    while advance(run) and run.mid_epoch:
        pass


def every_batches(run: Run) -> int | None:
    """Within-epoch reports on a large set, after about CHUNK_EXAMPLES examples: the epoch split
    into equal chunks. (20,000 // 64 = 312 batches a chunk left 2 of an epoch's 938 for a fourth
    frame, which cost a whole tick: 1.0 s an epoch instead of 0.8.)"""
    n = len(run.data.x_train)
    if n <= 2 * CHUNK_EXAMPLES:
        return None
    n_batches = -(-n // min(run.trainer.config.batch_size, n))
    chunks = max(1, round(n / CHUNK_EXAMPLES))
    return max(1, -(-n_batches // chunks))


def advance(run: Run) -> bool:
    """Train one chunk (one epoch on the bundled digits). False when training failed.

    After an epoch: check the network's health, publish it as this session's digit model, and
    stop when the target epoch is reached.
    """
    if run.gen is None:
        run.gen = run.trainer.epochs(None, every_batches(run))
    try:
        with np.errstate(all="ignore"):
            stats = next(run.gen)
    except TrainingDiverged as e:
        fail(run, str(e) + " Press Reset to start again.")
        return False
    run.curve.append(stats)
    run.mid_epoch = not stats.end_of_epoch
    if stats.end_of_epoch:
        run.seconds_per_epoch.append(stats.seconds)
        verdict = diagnose(run.model, run.data.x_test[:HEALTH_SAMPLE], run.data.y_test, stats.test_acc,
                           stats.train_loss, run.initial_loss, run.epoch, len(run.data.y_train), run.trainer.lr)
        if verdict.failed:
            fail(run, verdict.message)
            return False
        run.warning = verdict.message
        set_digit_model(run.model, stats.test_acc, run.description())
        if run.epoch >= run.target_epoch:
            run.running = False
    return True


def fail(run: Run, message: str) -> None:
    run.error = message
    run.running = False
    run.gen = None
    run.mid_epoch = False


@owned
def load_uploaded(data: bytes, name: str) -> str | None:
    """Validate an uploaded model and make it the run (and the session's digit model).

    Returns an error message (and changes nothing) when the file is not a 784-in, 10-out model.
    """
    try:
        model = load_digit_model(data)
    except ModelFileError as e:
        return f"{plain(name)} was not loaded: {plain(e)}."
    run = new_run(settings(), model=model, origin=f"uploaded file {name} {list(model.sizes)}")
    st.session_state[RUN_KEY] = run
    set_digit_model(run.model, run.curve[0].test_acc, run.description())
    return None
