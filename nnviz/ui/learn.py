"""/learn: how a network learns, in four sections a lecturer links one by one from the slides
(?section=neuron|descent|backprop|landscape). This module holds the section picker, the shared
pieces (one lock per session, the click on a plane), "a neuron is a function" and "the cost and
gradient descent"; backprop and the landscape live in learn_backprop.py and learn_landscape.py.

Session keys (plain keys, they survive a page switch): learn_section; learn_neuron_point (x1, x2);
learn_gd_start (w1, w2), learn_gd_steps (int), learn_gd_playing (bool). The session's one lock
(nnviz.ui.owner) guards them: the descent's fragment and its buttons' callbacks both change the
step count, and the landscape section trains the Playground's run.
Widget keys start with learn_w_.
"""
from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from nnviz.data.toy import EXTENT
from nnviz.lab.backprop import neuron
from nnviz.lab.descent import MAX_STEPS, MODELS, OPTIMIZER_LABELS, NeuronOnMoons, descend, make
from nnviz.plots.learn import PICK, descent_spec, neuron_spec
from nnviz.plots.learn_tex import neuron_tex
from nnviz.ui import owner

SECTIONS = {"neuron": "A neuron is a function", "descent": "The cost and gradient descent",
            "backprop": "Backpropagation, step by step", "landscape": "The loss landscape"}
SECTION, W = "learn_section", "learn_w_"
POINT, START, STEPS, PLAYING = ("learn_neuron_point", "learn_gd_start", "learn_gd_steps",
                                "learn_gd_playing")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
LR_CHOICES = (0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 1.5, 2.0, 2.2, 2.4, 3.0, 5.0, 10.0)
ADAM_CHOICES = (0.01, 0.03, 0.1, 0.3, 1.0)
FRAME_SECONDS = 0.3


def session_lock() -> threading.RLock:
    """This session's one lock (nnviz.ui.owner): whoever changes the descent's steps, or trains the
    Playground's run from the landscape section, holds it, the same lock as the Playground's."""
    return owner.session_lock()


def seeded(key: str, value) -> str:
    """A widget key, its value seeded once (Streamlit drops widget state on a page switch)."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def section_picker() -> str:
    """The four sections as one control; the choice lives in the URL (?section=...), so each
    section has its own link."""
    if SECTION not in st.session_state:
        wanted = st.query_params.get("section", "neuron")
        st.session_state[SECTION] = wanted if wanted in SECTIONS else "neuron"
    st.session_state[W + "section"] = st.session_state[SECTION]
    st.segmented_control("Section", list(SECTIONS), key=W + "section", format_func=SECTIONS.get,
                         on_change=_on_section, label_visibility="collapsed", width="stretch")
    section = st.session_state[SECTION]
    if st.query_params.get("section") != section:
        st.query_params["section"] = section
    if section != "backprop":  # the backprop section's own keys: a link to another section has none
        for key in ("example", "step"):
            if key in st.query_params:
                del st.query_params[key]
    return section


def _on_section() -> None:
    choice = st.session_state.get(W + "section")
    if choice in SECTIONS:  # a click on the selected option deselects it: keep the section
        st.session_state[SECTION] = choice


def picked(key: str) -> tuple[float, float] | None:
    """The (u, v) a click on a clickable plane chose, or None."""
    event = st.session_state.get(key) or {}
    points = (event.get("selection") or {}).get(PICK) or []
    if points and "u" in points[0] and "v" in points[0]:
        return float(points[0]["u"]), float(points[0]["v"])
    return None


# ----- 1. a neuron is a function ---------------------------------------------------------------

def intro(present: bool, text: str) -> None:
    """A section's opening paragraph, for a student reading alone; in projector mode the lecturer
    says it, and the charts get the height."""
    if not present:
        st.markdown(text)


def neuron_section(present: bool) -> None:
    intro(present, "One neuron takes the inputs $x_1, x_2$, weighs them, adds its bias and applies "
                "its activation: $a = f(w_1 x_1 + w_2 x_2 + b)$. Over the whole plane it is a picture: "
                "**click anywhere** to see the formula with the numbers in it.")
    formula = st.container()  # above the sliders, filled once they have been read
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        w1 = st.slider("w\u2081", -3.0, 3.0, step=0.1, key=seeded(W + "w1", 0.8))
        w2 = st.slider("w\u2082", -3.0, 3.0, step=0.1, key=seeded(W + "w2", -1.2))
        b = st.slider("b (bias)", -3.0, 3.0, step=0.1, key=seeded(W + "b", 0.1))
        activation = st.selectbox("Activation f", ACTIVATIONS, key=seeded(W + "activation", "sigmoid"))
    point = st.session_state.get(POINT, (0.5, 0.3))
    axis = np.linspace(-EXTENT, EXTENT, 49)
    xx, yy = np.meshgrid(axis, axis)
    values = neuron(np.c_[xx.ravel(), yy.ravel()], w1, w2, b, activation).reshape(xx.shape)
    a = float(neuron(np.array([point]), w1, w2, b, activation)[0])
    with formula:
        st.latex(neuron_tex(w1, w2, b, activation, point[0], point[1], a))
    with left:
        st.caption(f"At the point x = ({point[0]:.2f}, {point[1]:.2f}), the cross. The colour turns where "
                   "w\u2081x\u2081 + w\u2082x\u2082 + b = 0: one neuron cuts the plane in two with a straight line.")
    with right:
        st.vega_lite_chart(neuron_spec(values, axis, activation, point, present, 400),
                           key=W + "neuron_plane", on_select=_on_neuron_click, selection_mode=PICK, width="content")


def _on_neuron_click() -> None:
    p = picked(W + "neuron_plane")
    if p is not None:
        st.session_state[POINT] = (round(p[0], 2), round(p[1], 2))


# ----- 2. the cost and gradient descent --------------------------------------------------------

@st.cache_resource
def _surface(kind: str):
    """The cost surface, computed once per server and shared read-only by every session."""
    surface = NeuronOnMoons(kind).surface(51)
    surface.cost.flags.writeable = False
    return surface


def _neuron_on_moons(kind: str):
    """This run's own model (its weights are written at every gradient) and the shared surface."""
    return NeuronOnMoons(kind), _surface(kind)


def descent_section(present: bool) -> None:
    intro(present, "Training adjusts $w$ and $b$ to make the cost $C$ small. Here one neuron on the two moons "
                "has **two weights free** (its bias fixed), so $C$ is a surface over $(w_1, w_2)$; each step "
                "goes against the gradient, $w \\leftarrow w - \\eta \\nabla C$. **Click the plot** to start "
                "somewhere else.")
    playing = bool(st.session_state.get(PLAYING))
    st.fragment(_descent_body, run_every=FRAME_SECONDS if playing else None)(playing, present)


def _descent_body(started_playing: bool, present: bool) -> None:
    """Controls, chart and numbers in one fragment: Step, a slider or a click redraws only this."""
    if bool(st.session_state.get(PLAYING)) != started_playing:
        st.rerun()  # Play or Pause: the whole page, to start or stop the fragment's timer
    left, right = st.columns([1.45, 1], gap="medium")
    with right:
        kind = st.selectbox("Model", list(MODELS), key=seeded(W + "gd_model", "linear"),
                            format_func=lambda k: MODELS[k][-1], on_change=_reset_descent)
        lr = st.select_slider("Learning rate \u03b7", LR_CHOICES, key=seeded(W + "gd_lr", 0.3), on_change=_restart)
        c1, c2 = st.columns(2)
        mu = c1.slider("Momentum \u03bc", 0.0, 0.99, step=0.01, key=seeded(W + "gd_mu", 0.9), on_change=_restart)
        adam_lr = c2.select_slider("Adam's step", ADAM_CHOICES, key=seeded(W + "gd_adam", 0.1), on_change=_restart)
        shown = st.pills("Optimisers", list(OPTIMIZER_LABELS), selection_mode="multi",
                         key=seeded(W + "gd_opts", list(OPTIMIZER_LABELS)), format_func=OPTIMIZER_LABELS.get,
                         label_visibility="collapsed")
        with st.container(horizontal=True, gap="small"):
            if started_playing:
                st.button("Pause", icon=":material/pause:", key=W + "gd_pause", type="primary",
                          on_click=_set_playing, args=(False,))
            else:
                st.button("Play", icon=":material/play_arrow:", key=W + "gd_play", type="primary",
                          on_click=_set_playing, args=(True,))
            st.button("Step", icon=":material/skip_next:", key=W + "gd_step", on_click=_advance, args=(1,))
            st.button("Reset", icon=":material/restart_alt:", key=W + "gd_reset", on_click=_restart)
    model, surface = _neuron_on_moons(kind)
    if START not in st.session_state:
        st.session_state[START] = _default_start(model)
    names = tuple(o for o in OPTIMIZER_LABELS if o in (shown or ()))
    _descent_view(left, right, model, surface, (lr, mu, adam_lr, names), present)


def _default_start(model: NeuronOnMoons) -> tuple[float, float]:
    return (model.centre[0] - 0.8 * model.span, model.centre[1] + 0.8 * model.span)


def _set_playing(on: bool) -> None:
    st.session_state[PLAYING] = on


def _advance(n: int) -> None:
    with session_lock():
        st.session_state[STEPS] = min(st.session_state.get(STEPS, 0) + n, MAX_STEPS)


def _restart() -> None:
    with session_lock():
        st.session_state[STEPS] = 0
        st.session_state[PLAYING] = False


def _reset_descent() -> None:
    st.session_state.pop(START, None)
    _restart()


def _on_descent_click() -> None:
    p = picked(W + "gd_plane")
    if p is not None:
        st.session_state[START] = p
        _restart()


def _descent_view(left, right, model: NeuronOnMoons, surface, settings, present: bool) -> None:
    lr, mu, adam_lr, names = settings
    if st.session_state.get(PLAYING):
        _advance(1)
    steps = st.session_state.get(STEPS, 0)
    start = st.session_state[START]
    paths = {name: descend(model.gradient, model.cost, start, make(name, adam_lr if name == "adam" else lr, mu),
                           steps) for name in names}
    points = {name: p.points for name, p in paths.items()}
    arrow = None
    if names:
        here = points[names[0]][-1]
        g = model.gradient(here)
        norm = float(np.linalg.norm(g))
        if norm > 1e-9:
            arrow = np.array([here, here - g / norm * 0.3 * model.span])
    labels = {n: OPTIMIZER_LABELS[n] for n in names}
    size = 400
    left.vega_lite_chart(descent_spec(surface.cost, surface.w1, surface.w2, points, arrow, labels, present, size),
                         key=W + "gd_plane", on_select=_on_descent_click, selection_mode=PICK, width="content")
    with right:
        stable = model.stable_lr()
        if stable is not None:
            st.caption(f"An exact bowl: its Hessian X\u1d40X/N has \u03bb_max = {2 / stable:.3f}, so plain gradient "
                       f"descent converges for \u03b7 < 2/\u03bb_max = {stable:.2f} and diverges above it.")
        st.metric("Step", f"{steps}")
        for method, p in paths.items():
            w = p.points[-1]
            st.markdown(f"**{OPTIMIZER_LABELS[method]}**: C = {p.cost[-1]:.4f} at w = ({w[0]:.2f}, {w[1]:.2f})")
        if arrow is not None:
            st.caption(f"Orange arrow: the direction \u2212\u2207C at {OPTIMIZER_LABELS[names[0]]}'s current point "
                       f"(|\u2207C| = {norm:.3f}). Square: the start.")
        for method, p in paths.items():
            if p.diverged:
                st.error(f"{OPTIMIZER_LABELS[method]} {p.diverged}. Lower the learning rate and press Reset.",
                         icon=":material/error:")
        if not names:
            st.info("Choose at least one optimiser above.", icon=":material/info:")
    done = steps >= MAX_STEPS or (paths and all(p.diverged for p in paths.values()))
    if st.session_state.get(PLAYING) and done:
        st.session_state[PLAYING] = False
        st.rerun()  # the whole page: stops the fragment's timer and shows Play again
