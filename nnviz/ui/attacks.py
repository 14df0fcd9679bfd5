"""Session state of the Break page: remembered settings, the chosen digit, cached curves and models.

Widget state is dropped when the user switches pages, so the page's settings are copied into one
non-widget dict after every run and seeded back into the widgets on the next visit.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from nnviz.engine.model import MLP
from nnviz.lab.attacks import RobustnessCurve, robustness_curve, train_template_model
from nnviz.lab.pretrained import TrainedModel

from .session import bundled_digits, default_model

_SAVED = "nnviz_break_saved"  # {widget key: value}, survives page switches
_TEMPLATE = "nnviz_break_template"  # TrainedModel: the template network trained on this page
_ROBUST = "nnviz_break_robust"  # (TrainedModel, eps it was trained with, key of the model it copies)
_CURVES = "nnviz_break_curves"  # {model key: RobustnessCurve}

EPS_GRID = np.round(np.arange(0.0, 0.3001, 0.025), 3)  # 13 values, 0 .. 0.3
PGD_STEPS = 10
PGD_LIMIT = 500  # PGD on the first 500 held-out digits: 10x the work of FGSM per digit


def sticky(key: str, default) -> str:
    """Seed widget `key` from the saved settings (or `default`) before it is drawn; returns key."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(_SAVED, {}).get(key, default)
    return key


def setting(key: str, default):
    """A widget's current value, else its saved value, else `default` (for tabs that do not draw it)."""
    if key in st.session_state:
        return st.session_state[key]
    return st.session_state.get(_SAVED, {}).get(key, default)


def remember(*keys: str) -> None:
    """Save the current values of these widgets, so they come back after a page switch."""
    saved = st.session_state.setdefault(_SAVED, {})
    for k in keys:
        if k in st.session_state:
            saved[k] = st.session_state[k]


def random_index(key: str, n: int) -> None:
    """Button callback: put a random index in [0, n) into widget `key` (before it is drawn)."""
    rng = np.random.default_rng()
    st.session_state[key] = int(rng.integers(n))
    remember(key)


def model_key(model: MLP) -> str:
    """Identifies a model object for the caches of this session."""
    return f"{id(model)}:{model.sizes}"


@st.cache_resource(show_spinner=False)
def _default_model_curve() -> RobustnessCurve:
    """The default model's curve: the same for every session, so computed once per server."""
    data = bundled_digits()
    return robustness_curve(default_model().model, data.x_test, data.y_test, EPS_GRID, pgd_steps=PGD_STEPS,
                            pgd_limit=PGD_LIMIT)


@st.cache_resource(show_spinner=False)
def shared_template_model() -> TrainedModel:
    """The template network (784 -> 10) on the bundled digits: deterministic, so trained once per server."""
    return train_template_model(bundled_digits())


def curve_for(model: MLP, x: np.ndarray, y: np.ndarray) -> RobustnessCurve:
    """The robustness curve of `model` on the held-out digits x, y (~1 s), computed once per model and
    session; the default model's once per server."""
    if model is default_model().model:
        return _default_model_curve()
    cache = st.session_state.setdefault(_CURVES, {})
    key = model_key(model)
    if key not in cache:
        if len(cache) > 4:  # bounded: old models of this session are forgotten
            cache.clear()
        cache[key] = robustness_curve(model, x, y, EPS_GRID, pgd_steps=PGD_STEPS, pgd_limit=PGD_LIMIT)
    return cache[key]


def template_model() -> TrainedModel | None:
    return st.session_state.get(_TEMPLATE)


def set_template_model(trained: TrainedModel) -> None:
    st.session_state[_TEMPLATE] = trained


def robust_model(like: MLP) -> tuple[TrainedModel, float] | None:
    """The adversarially trained copy of `like`, with the eps it was trained with, if made."""
    entry = st.session_state.get(_ROBUST)
    if entry is None or entry[2] != model_key(like):
        return None
    return entry[0], entry[1]


def set_robust_model(trained: TrainedModel, eps: float, like: MLP) -> None:
    st.session_state[_ROBUST] = (trained, float(eps), model_key(like))
