"""The Playground learning without gradients: the "Learn by" bar, the evolution settings, and the
race's live frame (backprop and an evolution side by side, from the same initial weights).

The race's frame is drawn from nnviz.ui.playground's live fragment (which trains one step and
then hands a RaceRun over to race_frame), so Play, Pause, Step, Reset, pacing and rewind work
the same way for every method.
"""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from nnviz.lab.playground import (
    METHOD_LABELS,
    METHODS,
    POPULATION_CHOICES,
    RIVALS,
    SIGMA_CHOICES,
    PlaygroundState,
    RaceRun,
    plane_view,
    sanitize,
)
from nnviz.plots.playground import boundary_plane, race_curve_spec
from nnviz.ui import playground_canvas as canvas
from nnviz.ui.playground import (
    RESOLUTION,
    _chart,
    _class_labels,
    _seed,
    _toggled,
    _view_toggles,
    _with_choice,
    population_row,
    rewind_slider,
    rewound_epoch,
)

# The race's two planes share the row: each box is a square as tall as the window allows.
RACE_CSS = """<style>
[data-testid="stLayoutWrapper"]:has(> .st-key-pg_race_left), [data-testid="stLayoutWrapper"]:has(> .st-key-pg_race_right)
  { height: clamp(280px, calc(100vh - 440px), 560px); }
.st-key-pg_race_left, .st-key-pg_race_right,
.st-key-pg_race_left [data-testid="stElementContainer"], .st-key-pg_race_right [data-testid="stElementContainer"],
.st-key-pg_race_left [data-testid="stElementContainer"] > div, .st-key-pg_race_right [data-testid="stElementContainer"] > div,
.st-key-pg_race_left [data-testid="stBidiComponentIsolated"], .st-key-pg_race_right [data-testid="stBidiComponentIsolated"]
  { height: 100%; min-height: 0; }
</style>"""


def method_bar(state: PlaygroundState) -> PlaygroundState:
    """Learn by: Backprop / Genetic algorithm / Evolution strategies / Race, above the Play bar."""
    if state.hidden_control("method"):
        return state
    label, bar = st.columns([0.09, 0.91], vertical_alignment="center")
    label.markdown("**Learn by**")
    method = bar.segmented_control("Learn by", METHODS, required=True, key=_seed("method", state.method),
                                  format_func=METHOD_LABELS.get, label_visibility="collapsed",
                                  help="Backprop follows the gradient; a genetic algorithm and evolution "
                                       "strategies only try weights and keep what works. A race runs "
                                       "backprop and one of them side by side from the same weights.")
    return sanitize(replace(state, method=method or state.method))


def settings(state: PlaygroundState) -> PlaygroundState:
    """The sidebar's Evolution section (only when something evolves): rival, population, sigma, elite."""
    if state.method == "backprop":
        return state
    hide, side, values = state.hidden_control, st.sidebar, {}
    if all(hide(c) for c in ("rival", "population", "sigma", "elite")):
        return state
    side.subheader(":material/genetics: Evolution", divider="gray")
    if state.method == "race" and not hide("rival"):
        values["rival"] = side.radio("Race backprop against", RIVALS, key=_seed("rival", state.rival),
                                     format_func=METHOD_LABELS.get, horizontal=True)
    evolving = values.get("rival", state.rival) if state.method == "race" else state.method
    if not hide("population"):
        values["population"] = side.select_slider(
            "Population", _with_choice(POPULATION_CHOICES, state.population),
            key=_seed("population", state.population),
            help="Individuals per generation: each one is a whole network, tried on every training point.")
    if not hide("sigma"):
        values["sigma"] = side.select_slider(
            "Sigma (mutation size)", _with_choice(SIGMA_CHOICES, state.sigma), key=_seed("sigma", state.sigma),
            help="GA: the standard deviation of the noise added to a child's weights (it shrinks 0.5% a "
                 "generation). ES: the size of the random steps around the mean.")
    if not hide("elite"):
        values["elite"] = side.slider("Elite share (GA)", 0.0, 0.5, step=0.05, format="%.2f",
                                      key=_seed("elite", state.elite), disabled=evolving != "ga",
                                      help="The best share of a generation goes into the next unchanged.")
    if evolving == "es":
        side.caption("ES steps with the optimiser and learning rate of the Training settings.")
    return sanitize(replace(state, **values))


def _headline(name: str, run, epoch: int, stats) -> str:
    """Three short lines that fit a third of a projector's width (so both planes start level):
    '**Backprop** · accuracy **95%**', 'epoch 40 · 0.05 s', '6,000 forward passes'."""
    step = "generation" if run.evolving else "epoch"
    acc = stats.test_acc if stats.test_acc == stats.test_acc else stats.train_acc
    return (f"**{METHOD_LABELS[name]}** \u00b7 accuracy **{acc:.0%}**  \n"
            f"{step} {epoch:,} \u00b7 {stats.total_seconds:.2f} s  \n{stats.forward_passes:,} forward passes")


def race_frame(race: RaceRun, state: PlaygroundState, slot, present: bool) -> None:
    """One frame of the race: both boundaries, then the loss race per forward pass and per second,
    in one row; below, the rival's best individuals and the rewind slider (both runs rewind together)."""
    from nnviz.ui.playground import PLAYING
    playing = bool(st.session_state.get(PLAYING))
    state = _toggled(state)
    rewind = not playing and race.epoch > 0 and not state.hidden_control("rewind")
    shown = rewound_epoch(race.epoch, race.nearest) if rewind else None
    epoch = race.epoch if shown is None else shown
    slot.metric("Step", f"{epoch:,}" if shown is None else f"{epoch:,} / {race.epoch:,}",
                help="Epochs of backprop and generations of evolution: the same number of each")
    st.html(RACE_CSS)
    labels = _class_labels(race.backprop)
    *plane_cols, curve_col = st.columns([1, 1, 1.2], gap="medium")
    for (method, run), col, side in zip(race.runs.items(), plane_cols, ("left", "right")):
        history = run.history
        stats = history[-1] if shown is None else next((s for s in history if s.epoch == shown), history[-1])
        probs = plane_view(run.model_at(shown), state.features, RESOLUTION).probs
        with col:
            st.markdown(_headline(method, run, epoch, stats))
            with st.container(key=f"pg_race_{side}"):
                canvas.plane(boundary_plane(probs, run.points, state.show_test, state.discretize, labels), present,
                             key=f"pg_w_race_{side}")
    names = {name: METHOD_LABELS[name] for name in race.runs}
    series = {name: run.history for name, run in race.runs.items()}
    with curve_col.container(key="pg_race_curves"):
        for x in ("forward_passes", "total_seconds"):
            first = x == "forward_passes"  # the legend once, above both
            _chart(st, race_curve_spec(series, names, x, shown, present, legend=first,
                                       height=(265 if present else 235) - (0 if first else 40)), width="stretch")
    low, high = st.columns([1, 1.2], gap="medium")
    with low:
        _view_toggles(state)
        if rewind:
            rewind_slider(race.epoch)
    with high:
        population_row(race.rival, shown, present)
