"""The MNIST page's views (pages/mnist.py composes them): settings, the live pictures, samples, the model file.

The run state and its callbacks are in nnviz/ui/mnist.py; the maths in nnviz/lab/templates.py.
"""
from __future__ import annotations

import io

import numpy as np
import streamlit as st

from nnviz.data.download import DownloadError
from nnviz.engine.model_files import model_to_bytes
from nnviz.lab.templates import (
    confident_mistakes,
    confusion_matrix,
    effective_templates,
    first_layer_images,
    output_templates,
)
from nnviz.plots.mnist import (
    confusion_rows,
    confusion_spec,
    curve_rows,
    curve_spec,
    gallery_figure,
    mistake_titles,
    tile_picture,
)
from nnviz.ui import mnist as ui
from nnviz.ui.layout import controls
from nnviz.ui.text import plain

HIDDEN_SHOWN = 40  # first-layer neurons drawn (a 300-neuron grid would not read on a projector)
CONFIG = {"displaylogo": False, "displayModeBar": False}


def settings(s: ui.Settings, present: bool) -> None:
    """The settings panel: the network, the optimiser, the data (with the full-MNIST download)."""
    L = ui.LABELS.get
    with controls(f"Settings: {s.describe()}, {s.epochs} epochs per Train", present=present, expanded=False):
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            st.radio("Hidden layers", (0, 1, 2), key=ui.widget_key("hidden_layers"), horizontal=True,
                     format_func=lambda n: "none" if n == 0 else str(n),
                     help="None: 784 pixels straight into the 10 outputs, whose weights are the digit templates.")
            hidden = st.session_state[ui.widget_key("hidden_layers")] > 0
            st.select_slider("Neurons per hidden layer", ui.HIDDEN_SIZES, key=ui.widget_key("hidden_size"),
                             disabled=not hidden)
            st.selectbox("Activation", ui.ACTIVATIONS, key=ui.widget_key("activation"), format_func=L,
                         disabled=not hidden)
        with c2:
            st.selectbox("Output layer", ui.OUTPUTS, key=ui.widget_key("output"), format_func=L)
            st.selectbox("Loss", ui.LOSSES, key=ui.widget_key("loss"), format_func=L)
            st.selectbox("Initial weights", ui.INITS, key=ui.widget_key("init"), format_func=L)
        with c3:
            st.selectbox("Optimiser", ui.OPTIMIZERS, key=ui.widget_key("optimizer"), format_func=L)
            st.select_slider("Learning rate \u03b7", ui.LEARNING_RATES, key=ui.widget_key("lr"),
                             format_func=lambda v: f"{v:g}", help="Applies at once, even while training.")
            st.select_slider("Batch size", ui.BATCH_SIZES, key=ui.widget_key("batch_size"))
        with c4:
            st.select_slider("Epochs per Train", ui.EPOCH_CHOICES, key=ui.widget_key("epochs"))
            st.select_slider("L2 weight decay \u03bb", ui.L2_CHOICES, key=ui.widget_key("l2"),
                             format_func=lambda v: f"{v:g}")
            st.number_input("Seed", 0, 99_999, key=ui.widget_key("seed"), step=1)

        st.divider()
        full_ready = ui.full_digits() is not None
        d1, d2 = st.columns([1, 1.4])
        d1.radio("Train on", ui.DATA, key=ui.widget_key("data"), format_func=L,
                 help="The bundled digits need no network: 8,000 to train on, 1,000 to test on (the other 1,000 are kept private for the class challenge). The full "
                      "MNIST is 60,000 + 10,000 (an 11.6 MB download, once per server).")
        with d2:
            if full_ready:
                st.success("Full MNIST is here: 60,000 training and 10,000 test digits.", icon=":material/check:")
            else:
                if st.session_state[ui.widget_key("data")] == "full":
                    st.info("Full MNIST is not downloaded yet; training uses the bundled digits until it is.",
                            icon=":material/info:")
                if st.button("Download full MNIST (11.6 MB)", icon=":material/download:", key="mnist_download"):
                    bar = st.progress(0.0, text="Starting the download")
                    try:
                        ui.download_full(lambda f, msg: bar.progress(min(max(float(f), 0.0), 1.0), text=msg))
                    except DownloadError as e:
                        bar.empty()
                        st.session_state["mnist_download_error"] = str(e)
                    else:
                        st.session_state.pop("mnist_download_error", None)
                        ui.set_later(data="full")
                        if ui.current_run().epoch == 0:
                            st.session_state.pop(ui.RUN_KEY, None)
                        st.rerun()
                if st.session_state.get("mnist_download_error"):
                    st.error(f"{st.session_state['mnist_download_error']} The bundled digits keep working.",
                             icon=":material/cloud_off:")


def chart(fig, key: str) -> None:
    """A Plotly chart in a container with a stable key (class st-key-<key>_box: tests find it)."""
    with st.container(key=f"{key}_box"):
        st.plotly_chart(fig, config=CONFIG, theme=None, key=key)


def status_line(run: ui.Run) -> str:
    """'**Epoch 3 of 10** (training) · **test accuracy 91.2%** · train accuracy 91.9% · 0.05 s per epoch'."""
    last = run.curve[-1]
    state = "training" if run.running else ("stopped" if run.error else "paused" if run.epoch else "ready")
    epoch = f"{last.epoch:g}" if last.end_of_epoch else f"{last.epoch:.2f}"
    target = f" of {run.target_epoch}" if run.running else ""
    sec = f" · {np.median(run.seconds_per_epoch):.2f} s per epoch" if run.seconds_per_epoch else ""
    return (f"**Epoch {epoch}{target}** ({state}) · **test accuracy {last.test_acc:.1%}** · "
            f"train accuracy {last.train_acc:.1%}{sec}")


# Pictures are rasters (see nnviz.plots.mnist.tile_picture): redrawn in place every epoch, no blink.
# Their height follows the window's (vh), so 1280x720 and 1920x1080 both show them whole.
PICTURE_CSS = """<style>
.st-key-mnist_templates_box img { max-height: 44vh; }
.st-key-mnist_hidden_box img { max-height: 52vh; }
.st-key-mnist_mistakes_box img { max-height: 40vh; }
[class*="st-key-mnist_"][class*="_box"] img { width: auto !important; max-width: 100%; object-fit: contain; }
</style>"""
# Projector mode: the ten weight pictures are the point of the page. Drawn large (PRESENT_TILE), they
# fill their column, as tall as a screen under a heading allows (44vh left 40% of a 1080p width).
PRESENT_PICTURE_CSS = """<style>
.st-key-mnist_templates_box img { max-height: calc(100vh - 8rem); }
</style>"""
PRESENT_TILE = dict(px=9, font_px=44)  # 1,304 px wide: shrunk to the column, never blown up


def picture(key: str, image) -> None:
    """A PIL picture in a keyed container (class st-key-<key>_box: the CSS above and the tests find it).

    Encoded here, at zlib level 1: st.image's own encoding (level 6) took 30% of a training frame's
    server time, level 1 takes half that, for about 10% more bytes on these flat-coloured tiles."""
    png = io.BytesIO()
    image.save(png, format="PNG", compress_level=1)
    with st.container(key=f"{key}_box"):
        st.image(png.getvalue(), output_format="PNG")  # "auto" would re-encode the bytes as JPEG


def draw(run: ui.Run, present: bool) -> None:
    """One frame of the live pictures: status, templates, curves, hidden weights, confusion, mistakes."""
    model, data = run.model, run.data
    st.html(PICTURE_CSS)
    if present:
        st.html(PRESENT_PICTURE_CSS)
    st.markdown(status_line(run))
    if run.origin:
        st.caption(plain(run.description()))
    if run.warning:
        st.warning(run.warning, icon=":material/hourglass_empty:")
    with np.errstate(all="ignore"):
        probs = model.predict_proba(data.x_test)
    no_hidden = len(model.weights) == 1
    left, right = st.columns([1.5, 1], gap="medium")
    with left:
        if no_hidden:
            st.subheader("Weights into each output", help="Output neuron c scores an image by the sum of pixel x weight; its 784 weights, drawn as a 28x28 picture, are its template of digit c.")
            templates = output_templates(model)
        else:
            st.subheader("Effective template of each digit")
            st.caption("The gradient of the digit's score with respect to the pixels, at the mean training "
                       "image: red pixels, inked more, raise the score; blue ones lower it."
                       + (" With N(0, 1) initial weights the pictures stay noisy: training moves each "
                          "weight only a fraction of its random start." if run.settings.init == "normal" else ""))
            templates = effective_templates(model, run.mean_image)
        picture("mnist_templates", tile_picture(templates, [str(c) for c in range(10)], cols=5,
                                                **(PRESENT_TILE if present else {})))
    with right:
        st.subheader("Loss and accuracy")
        span = max(run.target_epoch, run.epoch, 1)
        k1, k2 = st.columns(2, gap="small")
        for col, metric in ((k1, "loss"), (k2, "accuracy")):
            with col, st.container(key=f"mnist_{metric}_box"):
                spec = curve_spec(metric, span, present)
                st.vega_lite_chart(curve_rows(run.curve, metric), spec, width="stretch")
    if not no_hidden:
        n = min(HIDDEN_SHOWN, model.sizes[1])
        st.subheader(f"First hidden layer: weights into neurons 1-{n} (of {model.sizes[1]})")
        hidden = first_layer_images(model, n)
        picture("mnist_hidden", tile_picture(hidden, None, cols=10, px=4, gap=6, font_px=22))
    c1, c2 = st.columns([1, 1.5], gap="medium")
    with c1:
        st.subheader("Confusion matrix", help="Rows: the true digit; columns: the network's answer, on the test digits.")
        cm = confusion_matrix(data.y_test, probs.argmax(axis=1), 10)
        with st.container(key="mnist_confusion_box"):
            spec = confusion_spec(10, present)
            st.vega_lite_chart(confusion_rows(cm), spec, width=spec["width"] + 80, height=spec["height"] + 70)
    with c2:
        st.subheader("Most confident mistakes", help="Test digits the network gets wrong, the surest first: "
                     "true digit \u2192 its answer \u00b7 the probability it gave that answer.")
        m = confident_mistakes(probs, data.y_test, limit=10)
        picture("mnist_mistakes", tile_picture(data.x_test[m.index], mistake_titles(m.true, m.predicted, m.confidence),
                                               cols=5, diverging=False, font_px=22, gap=16))


@st.cache_resource(show_spinner=False)
def gallery(name: str, present: bool):
    """The first 20 training digits of a data set (the same for every session: built once)."""
    data = ui.dataset(name)
    return gallery_figure(data.x_train[:20], data.y_train[:20], present=present)


def samples(run: ui.Run, present: bool) -> None:
    """The sample-digit expander of the data set being trained on."""
    with st.expander(f"Sample digits from the {ui.LABELS[run.data_name]}", icon=":material/dataset:"):
        chart(gallery(run.data_name, present), "mnist_gallery")


def model_file(run: ui.Run) -> None:
    """Download this network as .npz, or upload one (it becomes the model of MNIST, Draw and Break)."""
    with st.expander("Model file: download this network, or upload one", icon=":material/save:"):
        f1, f2 = st.columns(2)
        model_now = run.model
        f1.download_button("Download the model (.npz)", data=lambda: model_to_bytes(model_now.copy()),
                           file_name="nnviz-digits.npz", mime="application/octet-stream", on_click="ignore",
                           icon=":material/download:", key="mnist_model_download")
        f1.caption("Plain NumPy arrays, no pickle: load it again here, or with nnviz.load_model.")
        upload = f2.file_uploader("Upload a model (.npz)", type=["npz"], key="mnist_upload",
                                  help="A 784-input, 10-output nnviz model. It becomes the model of this "
                                       "page, of Draw and of Break.")
        if upload is not None:
            seen = st.session_state.get(ui.UPLOAD_SEEN_KEY)
            if seen is None or seen[0] != upload.file_id:
                error = ui.load_uploaded(upload.getvalue(), upload.name)
                st.session_state[ui.UPLOAD_SEEN_KEY] = (upload.file_id, error)
                if error is None:
                    st.rerun()
            error = st.session_state[ui.UPLOAD_SEEN_KEY][1]
            if error:
                f2.error(error, icon=":material/block:")
            else:
                f2.success(f"Loaded {plain(upload.name)}.", icon=":material/check:")
