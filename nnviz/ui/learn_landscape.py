"""/learn?section=landscape: the loss landscape of this session's Playground network (trained or
not) on a plane through its weights, with the training path projected onto it.

Reads the Playground's run (nnviz.ui.playground's session keys) and never changes its weights,
except through the run's own step() when the user presses Train here. The picture is kept in
learn_land = (key, Landscape, seconds) and recomputed when the network, its epoch, the
directions or their seed change.
"""
from __future__ import annotations

import time

import streamlit as st

from nnviz.engine.training import TrainingDiverged
from nnviz.lab.landscape import landscape
from nnviz.lab.playground import DATASET_LABELS
from nnviz.plots.learn import landscape_figure
from nnviz.ui import playground as pg
from nnviz.ui.learn import intro, seeded, session_lock

LAND, W = "learn_land", "learn_w_land_"
RESOLUTION = 51
KIND_LABELS = {"random": "Two random directions, filter-normalised (Li et al.)",
               "pca": "The two directions the training path moved most (PCA)"}



def _run():
    """This session's Playground run; a fresh (untrained) one from its settings if there is none."""
    run = st.session_state.get(pg.RUN)
    return run if run is not None else pg.ensure_run(pg.current_state())


def landscape_section(present: bool) -> None:
    run = _run()
    state = run.state
    sizes = "-".join(map(str, run.model.sizes))
    data = DATASET_LABELS[state.dataset]  # our label, never an uploaded file's name (that is user text)
    intro(present, f"The cost of **your Playground network** ({sizes}, {state.activation}, {data}, "
                f"epoch {run.epoch:,}) on a plane through its weights: the star is the network as it is now, "
                "the white line the way training came, projected onto the plane. Li et al. (2018), "
                "\"Visualizing the Loss Landscape of Neural Nets\".")
    left, right = st.columns([2.3, 1], gap="medium")
    with right:
        st.markdown(f"**{sizes} {state.activation}**, {data}, epoch **{run.epoch:,}**")
        kind = st.radio("Plane", list(KIND_LABELS), format_func=KIND_LABELS.get, key=seeded(W + "kind", "random"))
        with st.container(horizontal=True, gap="small"):
            st.button("New directions", icon=":material/casino:", key=W + "reroll", on_click=_reroll,
                      disabled=kind != "random")
            st.button("Train 50 epochs", icon=":material/model_training:", key=W + "train", on_click=_train,
                      help="Trains the Playground's network here, as Play would there")
        st.page_link("pages/playground.py", label="Change it on the Playground", icon=":material/arrow_back:")
    if run.diverged:
        st.error(run.diverged + " Change the settings on the Playground to carry on.", icon=":material/error:")
    seed = st.session_state.get(W + "seed", 0)
    key = (id(run), run.epoch, kind, seed)
    kept = st.session_state.get(LAND)
    if kept is None or kept[0] != key:
        t0 = time.perf_counter()
        with st.spinner("Computing the landscape..."):
            model = run.model.copy()
            epochs = run.snapshots.epochs
            path = [run.snapshots.model_at(e, model).params() for e in epochs]
            land = landscape(model, run.data.x_train, run.data.y_train, path, epochs, kind, RESOLUTION, seed=seed)
        kept = st.session_state[LAND] = (key, land, time.perf_counter() - t0)
    _, land, seconds = kept
    left.plotly_chart(landscape_figure(land, present, height=470 if present else 520), key=W + "figure")
    sample = (f" on a fixed sample of {land.n_points:,} of the {land.n_total:,} training points"
              if land.n_points < land.n_total else f" on the {land.n_total:,} training points")
    right.caption(f"{RESOLUTION} \u00d7 {RESOLUTION} = {RESOLUTION ** 2:,} networks evaluated{sample} in {seconds:.2f} s. "
               f"Centre: the loss of the network itself, {land.centre_loss:.4f} (data loss, no regularisation). "
               "Random directions: one Gaussian vector per neuron, scaled to the norm of that neuron's weights; "
               "the biases stay put. The path mostly leaves a random plane, so its projection is short: choose "
               "PCA to see the plane it moves in.")


def _reroll() -> None:
    st.session_state[W + "seed"] = st.session_state.get(W + "seed", 0) + 1


def _train() -> None:
    with session_lock():  # the Playground's lock too: its live frame may be training this run
        run = st.session_state.get(pg.RUN)
        if run is None:
            return
        try:
            run.step(50)
        except TrainingDiverged:
            pass  # run.diverged holds the message; the section shows it
