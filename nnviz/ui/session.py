"""Per-browser-session state shared between pages, and read-only resources shared by all sessions.

One digit model per session: the MNIST page sets it, the Draw and Break pages use it. Until the
session trains its own, everybody gets the default model (trained once per server, read-only).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from nnviz.data.mnist import public_digits
from nnviz.engine.model import MLP
from nnviz.lab.pretrained import TrainedModel, train_default_model

_MODEL_KEY = "nnviz_digit_model"  # TrainedModel of this session, set by the MNIST page
_DRAWING_KEY = "nnviz_drawn_digit"  # (784,) float32 in [0, 1]: the Draw page's last input


@st.cache_resource(show_spinner="Training the default digit model (a few seconds, once per server)...")
def default_model() -> TrainedModel:
    return train_default_model()


@st.cache_resource
def bundled_digits():
    """The bundled digits with the public held-out half (read-only, shared by all sessions); the
    private half is only for the class challenge's rating (nnviz.data.mnist.held_out_halves)."""
    return public_digits()


def digit_model() -> TrainedModel:
    """This session's digit model: the one trained on the MNIST page, else the default one."""
    return st.session_state.get(_MODEL_KEY) or default_model()


def has_own_model() -> bool:
    return _MODEL_KEY in st.session_state


def set_digit_model(model: MLP, test_acc: float, description: str) -> None:
    """Make `model` the digit model of this session (a copy: later training does not leak in)."""
    st.session_state[_MODEL_KEY] = TrainedModel(model.copy(), float(test_acc), description)


def clear_digit_model() -> None:
    st.session_state.pop(_MODEL_KEY, None)


def drawn_digit() -> np.ndarray | None:
    """The last digit drawn on the Draw page, as the network sees it (784,), or None."""
    return st.session_state.get(_DRAWING_KEY)


def set_drawn_digit(x: np.ndarray | None) -> None:
    st.session_state[_DRAWING_KEY] = x
