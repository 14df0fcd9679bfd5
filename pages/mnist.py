"""MNIST (/mnist): train a digit classifier and watch its weight pictures change every epoch."""
import streamlit as st

from nnviz.ui import classroom as class_ui
from nnviz.ui import mnist as ui
from nnviz.ui import mnist_views as views
from nnviz.ui.layout import page_header, present_mode
from nnviz.ui.owner import live_frame, owner

CAPTION = ("Every output neuron weighs the 784 pixels: red weights count for its digit, blue against, white "
           "not at all. Press Train and watch the pictures form.")
# Projector mode: the lecturer says the caption, and the pictures get its line (1280x720 is short).
present = page_header("MNIST: a network learns to read digits", None if present_mode() else CAPTION)
ui.seed_widgets()

s = ui.store_widgets()
changed = ui.sync_run(s)
run = ui.current_run()

# ----- controls ------------------------------------------------------------------------------
b = st.columns([1.1, 1.15, 1.1, 1.2, 0.1, 1.4, 1.25, 1.1], vertical_alignment="center")
b[0].button("Train", key="mnist_train", icon=":material/play_arrow:", type="primary", on_click=ui.train,
            disabled=run.running or bool(run.error), width="stretch")
b[1].button("Pause", key="mnist_pause", icon=":material/pause:", on_click=ui.pause, disabled=not run.running,
            width="stretch")
b[2].button("Step", key="mnist_step", icon=":material/skip_next:", on_click=ui.step,
            disabled=run.running or bool(run.error), help="One more epoch.", width="stretch")
b[3].button("Reset", key="mnist_reset", icon=":material/restart_alt:", on_click=ui.reset,
            help="A new network from the settings.", width="stretch")
for col, (name, (label, help_text, _)) in zip(b[5:], ui.PRESETS.items()):
    col.button(label, key=f"mnist_preset_{name}", help="Preset: " + help_text, on_click=ui.apply_preset,
               args=(name,), width="stretch")

# ----- settings ----------------------------------------------------------------------------
views.settings(s, present)

if run.error:
    st.error(run.error, icon=":material/error:")
if changed:
    st.info("Changed since this network was built: " + ", ".join(f.replace("_", " ") for f in changed)
            + ". Press Reset to build a new network with them.", icon=":material/restart_alt:")


@st.fragment(run_every=ui.TICK_S if run.running else None)
def live() -> None:
    if not ui.current_run().running:
        with owner():
            views.draw(ui.current_run(), present)
        return
    with live_frame("mnist_frame_started", ui.TICK_S):
        run = ui.current_run()  # a click may have replaced or paused it while this frame waited
        if run.running:
            ui.advance(run)
        if not run.running:  # finished, failed or paused: a full rerun stops the timer, updates the buttons
            st.rerun()
        views.draw(run, present)


live()

class_ui.mnist_submit_button()  # only while this session is in a class whose round 1 is open
views.samples(run, present)
views.model_file(run)
