"""The Draw page's state: which input is on show (the canvas, a test digit or a photo) and the canvas.

One dict per session under a non-widget key (it survives page switches, and so does the drawing):
    source: "canvas" | "test" | "photo"
    x: (784,) float32 in [0, 1] or None (nothing to predict yet)
    naive: (784,) the whole canvas shrunk to 28x28 (for comparison), or None
    caption, error: what to say about the input
    strokes: the drawing, as the canvas sends it ({"w", "p"} dicts, nnviz.lab.strokes)
    strokes_rev: bumped when the server changes the drawing (Undo, Clear): the canvas then takes it
    seen_drawing: {"mount", "seq"} of the canvas's last send, so each is processed once (and answered)
    drawing_seq: the seq of the send on show (the prediction carries it, for tests and the benchmark)
    live: the pen is down (the canvas sends while it moves)
    x_rev, why_rev: the input's version, and the one the explanation below the live view shows
    result, ms_explain: nnviz.lab.explain's answer for x (the live view computes it, the page shows it)
    seen_photo: fingerprint of the last photo
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from nnviz.lab.preprocess import load_photo, naive_resize, to_mnist
from nnviz.lab.strokes import UNITS, parse_strokes, rasterize

from .session import bundled_digits

_STATE = "nnviz_draw"
CANVAS_KEY = "draw_pad"
CANVAS_PX = 280  # MNIST's 28 x 10; the strokes are in canvas units whatever the size on screen
PRESENT_CANVAS_PX = 360  # projector mode: a bigger target for the lecturer's mouse

# Inline module, no build step; the canvas is drawn by the browser, the digit read by the server.
_pad = st.components.v2.component(
    "nnviz_draw_pad", js=(Path(__file__).with_name("draw_canvas.js")).read_text(),
    css=".nnviz-pad { display: block; touch-action: none; cursor: crosshair; border-radius: 6px; "
        "background: #000; user-select: none; -webkit-user-select: none; }")


def state() -> dict:
    if _STATE not in st.session_state:
        st.session_state[_STATE] = dict(source="canvas", x=None, naive=None, caption="", error=None,
                                        strokes=[], strokes_rev=0, seen_drawing=None, drawing_seq=None, live=False,
                                        x_rev=0, why_rev=0, seen_photo=None, ms_preprocess=None,
                                        result=None, ms_explain=0.0,
                                        rng=np.random.default_rng())
    return st.session_state[_STATE]


@st.cache_resource
def reference_digits(n: int = 256) -> np.ndarray:
    """(n, 784) training digits, the same for everybody: the effective template averages over them."""
    x = bundled_digits().x_train[:: len(bundled_digits().x_train) // n][:n].copy()
    x.flags.writeable = False
    return x


def _fingerprint(data: bytes | None) -> str | None:
    return hashlib.blake2b(data, digest_size=16).hexdigest() if data else None


def _show(**what) -> None:
    """Put a new input on show (a new version: the explanation below follows it)."""
    s = state()
    s.update(what)
    s["x_rev"] += 1


def _show_strokes(raw) -> None:
    """The canvas's strokes (as sent) become the input on show: checked, rasterised, preprocessed."""
    s = state()
    t0 = time.perf_counter()
    x = ink = None
    try:
        strokes = parse_strokes(raw)
        s["strokes"] = [k.as_json() for k in strokes]
        ink = rasterize(strokes) if strokes else None
        x = to_mnist(ink) if ink is not None else None
        error = None
    except ValueError as e:
        error = str(e)
    ms = 1000 * (time.perf_counter() - t0)
    naive = naive_resize(ink) if x is not None else None  # for comparison only (not timed)
    _show(source="canvas", x=x, naive=naive, caption="Your drawing", label=None, error=error, ms_preprocess=ms,
          drawing_seq=None)


def follow_with_whole_page() -> None:
    """End of the live view: in a rerun of that fragment alone, once the pen is up and the input is new,
    rerun the whole page so the explanation below it shows the same input."""
    s = state()
    ctx = get_script_run_ctx()  # Streamlit's own record of this run: which fragments it reruns, if any
    if not s["live"] and s["x_rev"] != s["why_rev"] and ctx is not None and ctx.fragment_ids_this_run:
        st.rerun()


def explained() -> None:
    """The whole page has drawn the explanation of the input on show."""
    state()["why_rev"] = state()["x_rev"]


# ----- callbacks ----------------------------------------------------------------------------
def clear() -> None:
    """An empty canvas and nothing on show."""
    s = state()
    s.update(strokes=[], strokes_rev=s["strokes_rev"] + 1, live=False)
    _show(source="canvas", x=None, naive=None, caption="", error=None)


def undo() -> None:
    """Remove the last stroke: the canvas takes the shorter drawing, which is read at once."""
    s = state()
    if not s["strokes"]:
        return
    s.update(strokes_rev=s["strokes_rev"] + 1, live=False)
    _show_strokes(s["strokes"][:-1])


def show_test_digit() -> None:
    """Put a random held-out MNIST digit on show."""
    s = state()
    data = bundled_digits()
    i = int(s["rng"].integers(len(data.x_test)))
    _show(source="test", x=np.array(data.x_test[i]), error=None,
          caption=f"Held-out MNIST digit #{i} (its true label: {int(data.y_test[i])})",
          label=int(data.y_test[i]), ms_preprocess=None)


# ----- widgets ------------------------------------------------------------------------------
def canvas(stroke_width: int, size: int = CANVAS_PX) -> None:
    """The drawing canvas (white ink on black), size x size px; what it sends becomes the input on show.

    The canvas sends while the pen moves; each send is read here once, before the canvas is mounted,
    so the data it gets back in this very run answers that send.
    """
    s = state()
    sent = (st.session_state.get(CANVAS_KEY) or {}).get("drawing")
    if isinstance(sent, dict) and isinstance(sent.get("seq"), int) and isinstance(sent.get("mount"), str):
        mark = {"mount": sent["mount"][:32], "seq": sent["seq"]}
        if mark != s["seen_drawing"]:
            s["seen_drawing"] = mark
            if sent.get("rev") == s["strokes_rev"]:  # else drawn before an Undo or Clear the canvas had not seen
                s["live"] = not sent.get("done", True)
                _show_strokes(sent.get("strokes"))
                s["drawing_seq"] = mark["seq"]
    _pad(key=CANVAS_KEY, width=size, height=size, on_drawing_change=lambda: None,
         data={"size": size, "brush": stroke_width * UNITS / size, "rev": s["strokes_rev"],
               "strokes": s["strokes"], "answered": s["seen_drawing"]})


def photo_uploader() -> None:
    """Upload a photo of a handwritten digit (PNG/JPEG); a new file becomes the input on show."""
    s = state()
    f = st.file_uploader("Upload a photo of a digit (PNG or JPEG)", type=["png", "jpg", "jpeg"],
                         key="draw_photo", help="Dark ink on light paper is inverted automatically.")
    if f is None:
        s["seen_photo"] = None  # the same file uploaded again later is a new input
        return
    raw = f.getvalue()
    fp = _fingerprint(raw)
    if fp == s["seen_photo"]:
        return
    s["seen_photo"] = fp
    t0 = time.perf_counter()
    try:
        x = load_photo(raw)
        err = None if x is not None else "No digit found in the photo: the page looks blank."
    except ValueError as e:
        x, err = None, str(e)
    _show(source="photo", x=x, error=err, caption="Your photo", label=None,
          ms_preprocess=1000 * (time.perf_counter() - t0))
