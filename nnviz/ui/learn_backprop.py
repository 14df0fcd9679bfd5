"""/learn?section=backprop: one training example through a tiny network, Next and Back through
the slide's five steps and the update, each with its equation (the numbers substituted) and the
diagram of what it computes. Presets: Mazur's worked example, the talk notebook's network, or
your own sizes up to 2-4-4-2.

Session keys: learn_bp_stage (1-6); widget keys learn_w_bp_*. The URL keeps ?example= and ?step=.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from nnviz.lab.backprop import MAX_HIDDEN_LAYERS, MAX_WIDTH, backprop_step, custom, mazur, notebook
from nnviz.plots.learn import STEP_TITLES, network_figure, neuron_names
from nnviz.plots.learn_tex import STAGES, aligned, stage_tex
from nnviz.ui.learn import intro, seeded

STAGE, W = "learn_bp_stage", "learn_w_bp_"
EXAMPLES = {"mazur": "Mazur's 2-2-2 (sigmoid, quadratic cost)", "notebook": "The talk's 2-3-2 (tanh, softmax)",
            "custom": "Your own (up to 2-4-4-2)"}
COST_NOTE = ("The engine's quadratic cost is C = \u00bd \u03a3\u2c7c (a\u2c7c \u2212 y\u2c7c)\u00b2 per example, "
             "averaged over a batch: for one example it is Mazur's E_total exactly, so his numbers need no "
             "rescaling. The slide's C = 1/N \u03a3 (y_sim \u2212 y_des)\u00b2 has no \u00bd: its gradients are "
             "twice these.")



def _from_url(name: str, options, default):
    value = st.query_params.get(name)
    return value if value in options else default


def backprop_section(present: bool) -> None:
    intro(present, "Backpropagation computes $\\partial C/\\partial w$ for every weight in one sweep back "
                "through the network. **Next** and **Back** walk through its five steps on one training "
                "example; every number is the engine's own, beside a finite-difference check.")
    c1, c2 = st.columns([1.3, 2], vertical_alignment="bottom")
    name = c1.selectbox("Network", list(EXAMPLES), format_func=EXAMPLES.get,
                        key=seeded(W + "example", _from_url("example", EXAMPLES, "mazur")), on_change=_to_stage, args=(1,))
    example = _example(name, c2)
    if STAGE not in st.session_state:
        url_step = st.query_params.get("step", "1")
        st.session_state[STAGE] = int(url_step) if url_step in {str(i) for i in range(1, STAGES + 1)} else 1
    stage = st.session_state[STAGE]
    st.query_params["example"] = name
    st.query_params["step"] = str(stage)
    step = backprop_step(example)

    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.button("Back", icon=":material/arrow_back:", key=W + "back", disabled=stage == 1,
                  on_click=_to_stage, args=(stage - 1,))
        st.button("Next", icon=":material/arrow_forward:", key=W + "next", type="primary", disabled=stage == STAGES,
                  on_click=_to_stage, args=(stage + 1,))
        st.markdown(f"**Step {stage} of 5: {STEP_TITLES[stage - 1][3:]}**" if stage <= 5
                    else "**Then: the update, \u2212\u03b7\u2207C**")
    left, right = st.columns([0.85, 1.15], gap="medium")
    with left:
        height = 270 + 40 * max(example.model.sizes)
        st.plotly_chart(network_figure(step, stage, present, height), key=W + "diagram",
                        config={"displayModeBar": False, "staticPlot": True})
    digits = 9 if name == "mazur" else 4
    with right:
        with st.container(key="learn_bp_equations"):
            lines = stage_tex(step, stage, digits)
            st.latex(lines[0])  # the step in symbols
            if len(lines) > 1:
                st.latex(aligned(lines[1:]))  # and with the numbers, one line per neuron or link
    if stage == STAGES:
        m1, m2 = st.columns(2)
        m1.metric("Cost before", f"{step.cost_before:.9f}")
        m2.metric("Cost after one step", f"{step.cost_after:.9f}", delta=f"{step.cost_after - step.cost_before:.3g}",
                  delta_color="inverse")
    if stage == 5:
        st.dataframe(_gradient_table(step), hide_index=True)
    is_mazur = name == "mazur"
    st.caption(COST_NOTE + (" Mazur updates only the weights: the biases stay 0.35 and 0.60 here too."
                            if is_mazur else ""))


def _to_stage(stage: int) -> None:
    st.session_state[STAGE] = min(max(int(stage), 1), STAGES)


def _example(name: str, where):
    if name == "mazur":
        where.caption("Matt Mazur, \"A Step by Step Backpropagation Example\": inputs 0.05, 0.10; targets "
                      "0.01, 0.99; \u03b7 = 0.5. His w1..w8 are w\u00b9\u2081\u2081, w\u00b9\u2081\u2082, "
                      "w\u00b9\u2082\u2081, w\u00b9\u2082\u2082, w\u00b2\u2081\u2081, ... here.")
        return mazur()
    if name == "notebook":
        where.caption("2-3-2 tanh with a softmax output and cross-entropy, on one point of the two moons.")
        return notebook()
    cols = where.columns(5)
    n_layers = cols[0].number_input("Hidden layers", 0, MAX_HIDDEN_LAYERS, key=seeded(W + "layers", 1))
    sizes = tuple(int(cols[1 + l].number_input(f"Layer {l + 1}", 1, MAX_WIDTH, key=seeded(W + f"h{l}", 3)))
                  for l in range(int(n_layers)))
    activation = cols[3].selectbox("Activation", ("sigmoid", "tanh", "relu", "leaky_relu", "linear"),
                                   key=seeded(W + "activation", "sigmoid"))
    loss = cols[4].selectbox("Cost", ("quadratic", "cross_entropy"), key=seeded(W + "loss", "quadratic"),
                             format_func=lambda l: "quadratic (sigmoid out)" if l == "quadratic" else "cross-entropy (softmax)")
    seed = st.number_input("Random weights: seed", 0, 2**31 - 1, key=seeded(W + "seed", 0))
    return custom(sizes, activation, loss, int(seed))


def _gradient_table(step) -> pd.DataFrame:
    """Every weight's and bias's gradient beside its finite-difference estimate (plain text cells)."""
    sizes, t, num = step.example.model.sizes, step.trace, step.numeric
    names = neuron_names(sizes)
    rows = []
    for l in range(1, len(sizes)):
        for j in range(sizes[l]):
            for k in range(sizes[l - 1]):
                rows.append((f"w{l}_{j + 1}{k + 1}: {names[l - 1][k]} \u2192 {names[l][j]}",
                             t.grads.weights[l - 1][k, j], num.weights[l - 1][k, j]))
            rows.append((f"b{l}_{j + 1}: {names[l][j]}", t.grads.biases[l - 1][j], num.biases[l - 1][j]))
    df = pd.DataFrame(rows, columns=["parameter", "backprop", "finite difference"])
    df["difference"] = (df["backprop"] - df["finite difference"]).abs()
    return df
