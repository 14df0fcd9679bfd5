"""The Break page's four tabs (pages/break.py composes them): attack a digit, fooling images, why it
works, robustness and defence. The attacks themselves are in nnviz/lab/attacks.py.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from nnviz.engine.model import MLP
from nnviz.engine.training import Dataset, TrainingDiverged
from nnviz.lab import attacks as A
from nnviz.lab.pretrained import TrainedModel
from nnviz.plots.attacks import attack_figure, robustness_figure, template_figure
from nnviz.plots.digits import digit_grid
from nnviz.ui import attacks as ui
from nnviz.ui.owner import owner
from nnviz.ui.session import drawn_digit, set_digit_model
from nnviz.ui.text import plain

NO_BAR = {"displayModeBar": False}
METHODS = {"FGSM": "fgsm", "PGD": "pgd"}


def current_input(model: MLP, data: Dataset, source: str):
    """(image (784,), label, words) of the chosen input, or None when there is no drawing yet."""
    if source == "Drawing":
        x = drawn_digit()
        if x is None:
            return None
        label = int(model.predict(x[None])[0])
        return x, label, f"your drawing (the network says {label})"
    i = int(ui.setting("break_index", 0))
    return data.x_test[i], int(data.y_test[i]), f"held-out digit #{i}, a {int(data.y_test[i])}"


def no_drawing_message():
    st.info("Draw a digit on the Draw page first.", icon=":material/draw:")
    st.page_link("pages/draw.py", label="Go to the Draw page", icon=":material/draw:")


def attack_tab(model: MLP, data: Dataset, present: bool) -> None:
    """FGSM, PGD or a targeted attack on one digit, beside noise of the same size."""
    n_test = len(data.y_test)
    c_controls, c_result = st.columns([1.35, 3], gap="medium")
    with c_controls.container(border=True):
        source = st.segmented_control("Input", ["Test digit", "Drawing"], width="stretch",
                                      key=ui.sticky("break_source", "Test digit"), required=True)
        if source == "Test digit":
            with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
                st.number_input("Held-out digit no.", 0, n_test - 1, step=1, key=ui.sticky("break_index", 0))
                st.button("Random", icon=":material/casino:", on_click=ui.random_index,
                          args=("break_index", n_test))
        method_name = st.segmented_control(
            "Attack", list(METHODS), key=ui.sticky("break_method", "FGSM"), required=True, width="stretch",
            help="FGSM: one step of eps along the sign of the gradient. PGD: many small steps, "
                 "each kept within eps of the digit.")
        method = METHODS[method_name]
        eps = st.slider("eps: largest change of any pixel", 0.0, 0.5, step=0.01,
                        key=ui.sticky("break_eps", 0.1),
                        help="Pixels go from 0 (black) to 1 (white); no pixel may move by more than eps.")
        aimed = st.toggle("Targeted: choose its answer", key=ui.sticky("break_targeted", False),
                          help="Walk down the loss of the digit you choose instead of up the loss of the "
                               "true one.")
        if aimed:
            target = st.selectbox("Make it say", list(range(10)), key=ui.sticky("break_target", 3))
        if method == "pgd":
            steps = st.slider("Steps", 1, 100, key=ui.sticky("break_steps", 20))
            step = st.select_slider("Step size", ["auto", 0.002, 0.005, 0.01, 0.02, 0.05],
                                    key=ui.sticky("break_step", "auto"), help="auto: 2.5 x eps / steps")
            random_start = st.checkbox("Random start", key=ui.sticky("break_random", False),
                                       help="Begin at a random point within eps of the digit.")
        else:
            steps, step, random_start = 1, "auto", False
            st.caption("FGSM: one step, x + eps * sign(gradient of the loss)" +
                       (", towards your digit." if aimed else "."))
    ui.remember("break_source", "break_index", "break_method", "break_targeted", "break_target", "break_eps",
                "break_steps", "break_step", "break_random")

    picked = current_input(model, data, source)
    if picked is None:
        with c_result:
            no_drawing_message()
    else:
        x, label, words = picked
        with c_result:
            if aimed and method == "fgsm":  # one targeted step of size eps
                steps, step = 1, eps
            out = A.attack_one(model, x, label, "targeted" if aimed else method, eps, steps=steps,
                               step=None if step == "auto" else float(step), random_start=random_start,
                               target=target if aimed else None)
            # The figure first: at 1280x720 in projector mode the pictures and bars fit without scrolling.
            st.plotly_chart(attack_figure(out, eps=eps, present=present, height=340), config=NO_BAR)
            if aimed and out.target == label:
                st.info(f"It is already a {label}: choose another digit to make it say.", icon=":material/info:")
            elif out.fooled:
                st.error(f"**Fooled.** It now says **{out.pred_after}** "
                         f"({out.probs_after[out.pred_after]:.0%} sure); no pixel moved by more than "
                         f"{out.linf:.2f}.", icon=":material/heart_broken:")
            else:
                st.success(f"**Not fooled** (yet): it still says {out.pred_after}. "
                           f"Raise eps or use more steps.", icon=":material/shield:")
            st.caption(f"Input: {words}. The change is drawn with full colour at +-eps: red adds ink, blue "
                       f"removes it. Noise: random +-eps on every pixel, the same size of change.")


def fooling_tab(model: MLP, present: bool) -> None:
    """Ten images the network is over 99% sure are digits, grown from blank or noise."""
    c_start, c_text = st.columns([1, 3], gap="medium")
    with c_start:
        start = st.segmented_control("Start from", ["Blank", "Noise"], key=ui.sticky("break_fool_start", "Blank"),
                                     required=True)
        ui.remember("break_fool_start")
        seed = st.session_state.setdefault("nnviz_break_fool_seed", 0)
        if start == "Noise" and st.button("New noise", icon=":material/casino:"):
            seed = st.session_state["nnviz_break_fool_seed"] = seed + 1
    res = A.fooling_images(model, np.arange(10), start.lower(), rng=np.random.default_rng(seed))
    with c_text:
        st.markdown(f"Each picture started as a **{start.lower()}** image. Small steps (0.01 a pixel) raised the "
                    f"probability of one digit until the network was **over 99% sure**: "
                    f"{int(res.reached.sum())} of 10 got there, in {int(res.steps.min())} to "
                    f"{int(res.steps.max())} steps. None of them shows a digit to us.")
    titles = [f"{k}: {p:.2%}" for k, p in zip(range(10), res.probs)]
    grid = digit_grid(res.images, titles, cols=10 if present else 5, diverging=False, cell_px=140,
                      present=present)
    grid.update_annotations(font_color="#111111")  # the titles: black, not the theme's grey
    st.plotly_chart(grid, config=NO_BAR)


def why_tab(trained: TrainedModel, data: Dataset, present: bool) -> None:
    """The attack written in the weights: template of the runner-up minus template of the true digit."""
    model = trained.model
    source = ui.setting("break_source", "Test digit")
    if A.is_template_network(model):
        tmpl = trained
    else:
        tmpl = ui.template_model()
        if tmpl is None:
            st.info("This session's model has hidden layers, so its gradient mixes many pictures. The "
                    "**template network** (784 -> 10, no hidden layer) shows the idea plainly: train it here, "
                    "in about a second.", icon=":material/school:")
            if st.button("Train the template network", icon=":material/play_arrow:", type="primary"):
                with st.spinner("Training 784 -> 10 on the bundled digits..."):
                    ui.set_template_model(ui.shared_template_model())
                st.rerun()
    if tmpl is not None:
        picked = current_input(model, data, source)
        if picked is None:
            no_drawing_message()
        else:
            x, label, words = picked
            if source == "Drawing":  # no true label: explain the template network's own answer
                label = int(tmpl.model.predict(x[None])[0])
            e = A.template_explanation(tmpl.model, x, label)
            r = e.runner_up
            p_r = f"{e.probs[r]:.0%}" if e.probs[r] >= 0.01 else "under 1%"
            st.markdown(f"In the template network each digit $k$ has one weight picture $w_k$ (red: ink there "
                        f"counts for $k$). Input: {words}; runner-up **{r}** ({p_r}).")
            st.plotly_chart(template_figure(e, x, present=present, height=230), config=NO_BAR)
            st.latex(r"\nabla_x L \;=\; \sum_k p_k\, w_k \;-\; w_y \;=\; \sum_{k \neq y} p_k\,(w_k - w_y)"
                     r"\;\approx\; p_r\,(w_r - w_y)")
            st.markdown(f"With $y$ the true digit ({label}) and $r$ the runner-up ({r}): the FGSM direction agrees "
                        f"with the sign of *template of {r} minus template of {label}* on "
                        f"**{e.sign_agreement:.0%}** of the pixels. The attack adds ink where {r} wants it and "
                        f"removes it where {label} wants it: it is written in the weights.")
            st.caption(f"{plain(tmpl.description)}, {tmpl.test_acc:.1%} right on the held-out digits. Pixels at the "
                       f"border are never inked in training, so their weights keep their random start.")


def robustness_tab(trained: TrainedModel, data: Dataset, present: bool) -> None:
    """Accuracy against eps for FGSM, PGD and noise; adversarial training and the curves after it."""
    model = trained.model
    with st.spinner("Attacking all 1,000 public held-out digits at 13 sizes of eps..."):
        before = ui.curve_for(model, data.x_test, data.y_test)
    robust = ui.robust_model(model)
    c_fig, c_def = st.columns([3, 1], gap="medium")
    with c_def:
        st.markdown("**Defence: adversarial training.** Train the same network again with FGSM "
                    "versions replacing half of each mini-batch.")
        st.caption("Same layers, fresh weights; momentum SGD, learning rate 0.05, batches of 32, 8 epochs.")
        eps_train = st.slider("Training eps", 0.05, 0.3, step=0.05, key=ui.sticky("break_train_eps", 0.1))
        ui.remember("break_train_eps")
        if st.button("Train adversarially", icon=":material/shield:", type="primary"):
            bar = st.progress(0.0, text="Adversarial training...")
            epochs = 8

            def tick(stats):
                bar.progress(stats.epoch / epochs, text=f"Epoch {stats.epoch:g} of {epochs}: "
                                                        f"{stats.test_acc:.1%} held-out accuracy")
            try:
                with owner():  # a second click waits for the first run, which stops at its next tick
                    hardened = A.train_adversarially(model, data, eps_train, epochs=epochs, on_epoch=tick)
            except TrainingDiverged as err:
                st.error(str(err), icon=":material/error:")
            else:
                ui.set_robust_model(hardened, eps_train, model)
                robust = (hardened, eps_train)
            bar.empty()
        if robust is not None:
            st.caption(f"{plain(robust[0].description)}: {robust[0].test_acc:.1%} clean.")
            st.button("Attack it", icon=":material/swap_horiz:",
                      on_click=set_digit_model, args=(robust[0].model, robust[0].test_acc, robust[0].description),
                      help="Make the adversarially trained network this session's digit model, then try the "
                           "other tabs on it.")
    with c_fig:
        curves, titles = [before], [f"This model ({trained.test_acc:.1%} clean)"]
        if robust is not None:
            with st.spinner("Attacking the adversarially trained model..."):
                curves.append(ui.curve_for(robust[0].model, data.x_test, data.y_test))
            titles.append(f"Adversarially trained, eps {robust[1]:g} ({robust[0].test_acc:.1%} clean)")
        st.plotly_chart(robustness_figure(curves, titles, present=present, height=360,
                                          mark_eps=robust[1] if robust else None), config=NO_BAR)
    at = int(np.searchsorted(before.eps, 0.1))
    st.caption(f"Accuracy on the 1,000 public held-out digits; PGD ({ui.PGD_STEPS} steps, random start) on the first "
               f"{ui.PGD_LIMIT} only, to stay fast. At eps 0.1: FGSM {before.acc['fgsm'][at]:.0%}, "
               f"PGD {before.acc['pgd'][at]:.0%}, random noise {before.acc['noise'][at]:.0%}.")
