"""The Draw page's state: which input is on show (the canvas, a test digit or a photo) and the canvas.

One dict per session under a non-widget key (it survives page switches):
    source: "canvas" | "test" | "photo"
    x: (784,) float32 in [0, 1] or None (nothing to predict yet)
    naive: (784,) the whole canvas shrunk to 28x28 (for comparison), or None
    caption, error: what to say about the input
    canvas_rev: bumped by Clear (a new canvas key = a fresh, empty canvas)
    seen: fingerprints of the last canvas picture and photo, so each is processed once
"""
from __future__ import annotations

import hashlib
import time

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from nnviz.lab.preprocess import (
    decode_canvas,
    ink_from_rgba,
    load_photo,
    naive_resize,
    to_mnist,
)

from .session import bundled_digits

_STATE = "nnviz_draw"
CANVAS_PX = 280  # MNIST's 28 x 10; the preprocessing works at any size
PRESENT_CANVAS_PX = 360  # projector mode: a bigger target for the lecturer's mouse


def state() -> dict:
    if _STATE not in st.session_state:
        st.session_state[_STATE] = dict(source="canvas", x=None, naive=None, caption="", error=None,
                                        canvas_rev=0, undo_rev=0, initial=None, objects=[], seen_canvas=None,
                                        seen_photo=None, ms_preprocess=None, rng=np.random.default_rng())
    return st.session_state[_STATE]


def canvas_key() -> str:
    return f"draw_canvas_{state()['canvas_rev']}"


@st.cache_resource
def reference_digits(n: int = 256) -> np.ndarray:
    """(n, 784) training digits, the same for everybody: the effective template averages over them."""
    x = bundled_digits().x_train[:: len(bundled_digits().x_train) // n][:n].copy()
    x.flags.writeable = False
    return x


def _fingerprint(data: bytes | None) -> str | None:
    return hashlib.blake2b(data, digest_size=16).hexdigest() if data else None


# ----- callbacks ----------------------------------------------------------------------------
def clear() -> None:
    """A fresh empty canvas (new key) and nothing on show."""
    s = state()
    st.session_state.pop(canvas_key(), None)
    s.update(canvas_rev=s["canvas_rev"] + 1, initial=None, objects=[], source="canvas", x=None, naive=None,
             caption="", error=None, seen_canvas=None)


def undo() -> None:
    """Remove the last stroke: reload the canvas with all strokes but the last.

    The canvas reloads when its initial drawing changes (hence the counter) and then sends the
    new picture back, which reruns the page with it.
    """
    s = state()
    if not s["objects"]:
        return
    s["undo_rev"] += 1
    s["initial"] = {"objects": s["objects"][:-1], "nnviz_undo": s["undo_rev"]}
    s["source"] = "canvas"


def show_test_digit() -> None:
    """Put a random held-out MNIST digit on show."""
    s = state()
    data = bundled_digits()
    i = int(s["rng"].integers(len(data.x_test)))
    s.update(source="test", x=np.array(data.x_test[i]), error=None,
             caption=f"Held-out MNIST digit #{i} (its true label: {int(data.y_test[i])})",
             label=int(data.y_test[i]), ms_preprocess=None)


# ----- widgets ------------------------------------------------------------------------------
def canvas(stroke_width: int, size: int = CANVAS_PX) -> None:
    """The drawing canvas (white ink on black), size x size px; a new picture becomes the input on show."""
    s = state()
    if canvas_key() not in st.session_state:
        # A canvas made afresh (first visit, or back from another page: Streamlit dropped its state)
        # starts empty, not with the strokes an earlier Undo reloaded.
        s["initial"] = None
    result = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF", background_color="#000000",
                       height=size, width=size, drawing_mode="freedraw",
                       initial_drawing=s["initial"], return_image_data=True, key=canvas_key())
    s["objects"] = list((result.json_data or {}).get("objects", []))
    try:
        png = result.image_bytes if s["objects"] else None  # no strokes = empty, whatever the picture
    except ValueError:  # not a base64 data URL (binascii.Error is a ValueError)
        png = b"unreadable"  # decoding it below gives the user a message
    fp = _fingerprint(png)
    if fp == s["seen_canvas"]:
        return
    s["seen_canvas"] = fp
    t0 = time.perf_counter()
    x = naive = None
    try:
        ink = ink_from_rgba(decode_canvas(png)) if png else None
        x = to_mnist(ink) if ink is not None else None
        s.update(error=None)
    except ValueError as e:
        s.update(error=str(e))
    ms = 1000 * (time.perf_counter() - t0)
    if x is not None:  # for comparison only (not timed): what most demos feed their network
        naive = naive_resize(ink)
    s.update(source="canvas", x=x, naive=naive, caption="Your drawing", label=None, ms_preprocess=ms)


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
    s.update(source="photo", x=x, error=err, caption="Your photo", label=None,
             ms_preprocess=1000 * (time.perf_counter() - t0))
