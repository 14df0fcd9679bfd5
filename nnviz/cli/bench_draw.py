"""Benchmark of the drawing preprocessing: does a digit drawn small, high or off-centre still read?

    python -m nnviz.cli.bench_draw [--n 2000] [--seed 0]

Each of the 2,000 held-out bundled digits is "drawn" on a 280x280 canvas the way a person would:
at a random size (40-90% of the canvas height), a random position, as a solid brush stroke made
thicker by a random amount. The canvas is encoded as the PNG the canvas component sends and goes
through the whole server path (decode, nnviz.lab.preprocess, forward pass). The default model's
accuracy on these is compared with its accuracy on the original 28x28 digits, and with a naive
resize of the whole canvas to 28x28 (what most demos do), and with MNIST's steps but without
our pen-width step.
"""
from __future__ import annotations

import argparse
import base64
import io
import time

import numpy as np
from PIL import Image

from nnviz.data.mnist import load_bundled
from nnviz.lab.explain import explain
from nnviz.lab.preprocess import (
    canvas_to_mnist,
    ink_bbox,
    ink_from_rgba,
    naive_resize,
    resize_ink,
    to_mnist,
)

CANVAS = 280


def _dilate(img: np.ndarray, k: int) -> np.ndarray:
    """Grey dilation with a k x k square (k odd): a thicker pen. (H, W) -> (H, W)."""
    if k <= 1:
        return img
    r = k // 2
    p = np.pad(img, r)
    win = np.lib.stride_tricks.sliding_window_view(p, k, axis=0).max(axis=-1)
    return np.lib.stride_tricks.sliding_window_view(win, k, axis=1).max(axis=-1)


def simulate_drawing(digit784: np.ndarray, rng: np.random.Generator, canvas: int = CANVAS) -> np.ndarray:
    """One MNIST digit (784,) -> a canvas drawing (canvas, canvas) uint8, white ink on black.

    Random height 40-90% of the canvas, random position, a solid stroke thickened by 0-16 px.
    """
    img = np.asarray(digit784, np.float32).reshape(28, 28)
    top, bottom, left, right = ink_bbox(img, 0.0)
    crop = img[top:bottom, left:right]
    h, w = crop.shape
    f = rng.uniform(0.4, 0.9) * canvas / h
    f = min(f, 0.95 * canvas / w)  # a wide digit must still fit
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    big = resize_ink(crop, nh, nw)
    stroke = (big > 0.5).astype(np.float32)  # a brush paints solid ink, not MNIST's grey fringe
    k = int(rng.integers(0, 9)) * 2 + 1  # thickening 1..17 px square
    out = np.zeros((canvas, canvas), np.float32)
    r0 = int(rng.integers(0, canvas - nh + 1))
    c0 = int(rng.integers(0, canvas - nw + 1))
    out[r0:r0 + nh, c0:c0 + nw] = stroke
    out = _dilate(out, k)
    return (out * 255).astype(np.uint8)


def to_data_url(canvas_u8: np.ndarray) -> str:
    """(H, W) uint8 ink -> the RGBA PNG data URL the canvas component sends (white on opaque black).

    The page gets the same PNG as bytes (CanvasResult.image_bytes); decoding the base64 is timed too.
    """
    rgba = np.dstack([canvas_u8, canvas_u8, canvas_u8, np.full_like(canvas_u8, 255)])
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def run(n: int = 2000, seed: int = 0, model=None) -> dict:
    """Accuracies on the original digits, on simulated drawings (our pipeline and naive resize)."""
    from nnviz.lab.pretrained import train_default_model

    data = load_bundled()
    model = model if model is not None else train_default_model().model
    x, y = data.x_test[:n], data.y_test[:n]
    mean = data.x_train[::31][:256]  # the reference digits of the page
    rng = np.random.default_rng(seed)
    ours, plain, naive = (np.empty((len(x), 784), np.float32) for _ in range(3))
    t_pipe, cpu_pipe = [], []
    for i, d in enumerate(x):
        drawing = simulate_drawing(d, rng)
        url = to_data_url(drawing)
        t0, c0 = time.perf_counter(), time.thread_time()
        v = canvas_to_mnist(url)
        explain(model, v, mean)  # timed like the page: decode + preprocess + forward + explanation
        t_pipe.append(time.perf_counter() - t0)
        cpu_pipe.append(time.thread_time() - c0)  # CPU time: what wall time is on an idle machine
        ours[i] = v
        ink = ink_from_rgba(drawing)
        plain[i] = to_mnist(ink, stroke=False)  # MNIST's steps only, without our pen-width step
        naive[i] = naive_resize(ink)
    acc = lambda xs: float((model.predict(xs) == y).mean())  # noqa: E731
    res = dict(n=len(x), original=acc(x), ours=acc(ours), plain=acc(plain), naive=acc(naive),
               ms_median=1000 * float(np.median(t_pipe)), ms_p95=1000 * float(np.percentile(t_pipe, 95)),
               cpu_ms_median=1000 * float(np.median(cpu_pipe)), cpu_ms_p95=1000 * float(np.percentile(cpu_pipe, 95)))
    for k in ("ours", "plain", "naive"):
        res[f"{k}_retained"] = res[k] / res["original"]
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    r = run(a.n, a.seed)
    print(f"{r['n']} held-out digits drawn on a {CANVAS}x{CANVAS} canvas (size 40-90%, random place, "
          f"thickened 1-17 px), default model:")
    print(f"  original 28x28 digits      : {r['original']:.2%}")
    print(f"  drawn, MNIST-like pipeline : {r['ours']:.2%}  ({r['ours_retained']:.1%} of the original)")
    print(f"  drawn, without the pen step: {r['plain']:.2%}  ({r['plain_retained']:.1%} of the original)")
    print(f"  drawn, naive canvas resize : {r['naive']:.2%}  ({r['naive_retained']:.1%} of the original)")
    print(f"  canvas PNG -> prediction + explanation: wall median {r['ms_median']:.1f} ms, 95th pct "
          f"{r['ms_p95']:.1f} ms; CPU median {r['cpu_ms_median']:.1f} ms, 95th pct {r['cpu_ms_p95']:.1f} ms")
    print(f"  (benchmark took {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
