"""The default digit model: trained at first use on the bundled digits, the same every time."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.data.mnist import public_digits
from nnviz.engine.model import MLP
from nnviz.engine.training import TrainConfig, Trainer

DEFAULT_SIZES = (784, 100, 10)
DEFAULT_EPOCHS = 8
DEFAULT_SEED = 0


@dataclass(frozen=True)
class TrainedModel:
    model: MLP
    test_acc: float
    description: str


def train_default_model(epochs: int = DEFAULT_EPOCHS, seed: int = DEFAULT_SEED) -> TrainedModel:
    """[784, 100, 10] ReLU, softmax + cross-entropy, momentum SGD: 95.7% on the 1,000 public held-out digits, ~1 s."""
    rng = np.random.default_rng(seed)
    data = public_digits()
    model = MLP.create(DEFAULT_SIZES, "relu", "softmax", "cross_entropy", "he", rng)
    trainer = Trainer(model, data, TrainConfig("momentum", 0.05, 32), rng)
    for stats in trainer.epochs(epochs):
        pass
    return TrainedModel(model, stats.test_acc,
                        f"default model [784, 100, 10] ReLU, {epochs} epochs on the bundled digits")
