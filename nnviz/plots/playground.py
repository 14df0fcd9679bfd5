"""The Playground's pictures: the decision boundary over the plane, a neuron's picture over the
plane, the network diagram in which every neuron is drawn as its own small picture, and the
loss and accuracy curves.

These are Vega-Lite specs (plain dicts, drawn by st.vega_lite_chart), not Plotly figures: in
Streamlit 1.67 a Plotly chart whose figure changes is mounted afresh (a blank flash, and a full
Plotly.newPlot) on every frame, while a Vega-Lite chart whose spec stays the same only swaps its
datasets in place. So everything that changes while training plays lives in the `datasets`, and the
spec itself depends only on what stays put (the architecture, the classes, the sizes).

Pictures over the plane are PNG images (a few kB) under the points, not 100x100 numbers as JSON.
Axes are fixed to [-EXTENT, EXTENT]^2, so nothing moves between frames.
"""
from __future__ import annotations

import base64
import io
from typing import Sequence

import numpy as np
from PIL import Image

from nnviz.data.toy import EXTENT
from nnviz.engine.model import MLP
from nnviz.engine.training import Dataset, EpochStats
from nnviz.lab.playground import PlaneView

from .style import (
    CLASS_COLOURS,
    DIVERGING,
    FONT_SIZE,
    PRESENT_FONT_SIZE,
    TEST_COLOUR,
    TRAIN_COLOUR,
)

NEG_COLOUR, POS_COLOUR = DIVERGING[0][1], DIVERGING[-1][1]  # link colours: weight < 0, weight > 0
MAX_LINKS = 800  # links drawn at most (the strongest), so a frame stays cheap for the browser
THUMB_MAX, THUMB_MIN = 34, 12  # a neuron's picture in pixels: 34 for a few neurons a column, 12 for 32
_WHITE = np.array([255.0, 255.0, 255.0])


# ----- colours and images ----------------------------------------------------------------------

def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)


def probability_rgb(probs: np.ndarray, discretize: bool = False) -> np.ndarray:
    """Class probabilities (r, r, k) -> colours (r, r, 3) uint8.

    The winning class's colour, faded to white as the network gets unsure (white where all classes
    are equally likely: that is the boundary). discretize: one flat tint per predicted class.
    """
    k = probs.shape[-1]
    win = probs.argmax(axis=-1)
    colours = np.array([_rgb(CLASS_COLOURS[c % len(CLASS_COLOURS)]) for c in range(k)])[win]
    if discretize:
        alpha = np.full(win.shape, 0.6)
    else:
        conf = (probs.max(axis=-1) - 1.0 / k) / (1.0 - 1.0 / k)  # 0 on the boundary, 1 when certain
        alpha = 0.88 * np.clip(conf, 0, 1) ** 0.5  # square root: a hesitant network already shows a tint
    rgb = _WHITE * (1 - alpha[..., None]) + colours * alpha[..., None]
    return rgb.round().astype(np.uint8)


def class_tint_rgb(p: np.ndarray, cls: int) -> np.ndarray:
    """One output unit's probability (r, r) in [0, 1] -> white .. its class colour (r, r, 3) uint8."""
    alpha = 0.9 * np.clip(p, 0, 1)[..., None]
    rgb = _WHITE * (1 - alpha) + _rgb(CLASS_COLOURS[cls % len(CLASS_COLOURS)]) * alpha
    return rgb.round().astype(np.uint8)


_DIV_POS = np.array([s for s, _ in DIVERGING])
_DIV_RGB = np.array([_rgb(c) for _, c in DIVERGING])
# The palette sampled at 255 levels (odd, so 0 is exactly white): one table lookup per pixel.
_DIV_LUT = np.stack([np.interp(np.linspace(0, 1, 255), _DIV_POS, _DIV_RGB[:, c]) for c in range(3)],
                    axis=-1).round().astype(np.uint8)


def diverging_rgb(values: np.ndarray) -> np.ndarray:
    """Values (...) in [-1, 1] -> the diverging palette (blue -1, white 0, red +1): (..., 3) uint8."""
    t = np.asarray(values, dtype=np.float32)
    if not np.isfinite(t).all():
        t = np.nan_to_num(t, nan=0.0)
    idx = np.rint((np.clip(t, -1, 1) + 1) * 127).astype(np.intp)
    return _DIV_LUT[idx]


def neuron_scale(values: np.ndarray, activation: str) -> np.ndarray:
    """A neuron's output over the plane -> [-1, 1] for colouring: tanh as it is, sigmoid around
    0.5, the unbounded ones (relu, linear, inputs) divided by their own largest |value|."""
    if activation == "tanh":
        return values
    if activation == "sigmoid":
        return 2 * values - 1
    m = float(np.abs(values).max()) if values.size else 0.0
    return values / m if m > 0 else values


def png_uri(rgb: np.ndarray, frame: str | None = None) -> str:
    """RGB (h, w, 3) uint8 with row 0 at y = -EXTENT -> a PNG data URI (row 0 drawn at the bottom).

    frame: a hex colour for a 1-pixel border (the neuron boxes of the network diagram)."""
    img = np.ascontiguousarray(rgb[::-1])
    if frame:
        img = img.copy()
        c = _rgb(frame).astype(np.uint8)
        img[0, :], img[-1, :], img[:, 0], img[:, -1] = c, c, c, c
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ----- shared look -------------------------------------------------------------------------------

def _config(present: bool) -> dict:
    """Fonts that read on a projector; no frame around the view."""
    big = PRESENT_FONT_SIZE if present else FONT_SIZE
    return {"view": {"stroke": None}, "font": "Source Sans Pro, sans-serif",
            "axis": {"labelFontSize": big - 2, "titleFontSize": big, "titleFontWeight": "normal",
                     "labelColor": "#333333", "titleColor": "#111111", "tickColor": "#888888",
                     "domainColor": "#888888"},
            "legend": {"labelFontSize": big - 1, "titleFontSize": big - 1, "symbolSize": 120 if present else 90},
            "title": {"fontSize": big + 1, "fontWeight": "bold", "anchor": "start"}}


def _live_only(spec: dict, live: set[str]) -> dict:
    """Keep in spec["datasets"] only the data that changes every frame (`live`); everything else
    goes inline into its layers (same name). Streamlit sends each dataset as Arrow every frame,
    and only the datasets may change without the chart being rebuilt: so the inline data is the
    part that must stay put while training plays (labels, points, frame), the datasets the rest."""
    datasets = spec.pop("datasets")
    for layer in spec["layer"]:
        name = layer["data"]["name"]
        if name not in live:
            layer["data"] = {"name": name, "values": datasets[name]}
    spec["datasets"] = {k: v for k, v in datasets.items() if k in live}
    return spec


def dataset(spec: dict, name: str) -> list:
    """The rows named `name` in a spec, whether a live dataset or inline in a layer."""
    if name in spec.get("datasets", {}):
        return spec["datasets"][name]
    for layer in spec["layer"]:
        if layer["data"].get("name") == name and "values" in layer["data"]:
            return layer["data"]["values"]
    raise KeyError(name)


def _q(field: str, domain=None, axis=None, **extra) -> dict:
    """A quantitative position channel; a given domain is fixed (no nice rounding, no zero)."""
    enc = {"field": field, "type": "quantitative", **extra}
    if domain is not None:
        enc["scale"] = {"domain": list(domain), "nice": False, "zero": False}
    if axis is not False:
        enc["axis"] = axis  # None hides it; False leaves it to another layer of the same chart
    return enc


# ----- the plane -------------------------------------------------------------------------------

def class_names(n_classes: int, labels: Sequence[str] | None = None) -> list[str]:
    return list(labels) if labels else [f"class {c}" for c in range(n_classes)]


def plane_spec(rgb: np.ndarray, points: Dataset | None = None, show_test: bool = False,
               labels: Sequence[str] | None = None, present: bool = False, size: int = 400) -> dict:
    """A picture over the plane (rgb (r, r, 3), row 0 at y = -EXTENT) with the points on top:
    training points as circles with a white edge, test points (when show_test) as diamonds with a
    dark edge. size: the chart's height in pixels; its width follows the container.

    The plane stays square whatever the container's width: both scales map [-EXTENT, EXTENT] onto
    a centred square of side min(width, height) (scale ranges given as expressions), so points,
    picture and frame never stretch and never move between frames.
    """
    side = "min(width, height)"
    x_range = [{"expr": f"(width - {side}) / 2"}, {"expr": f"(width + {side}) / 2"}]
    y_range = [{"expr": f"(height + {side}) / 2"}, {"expr": f"(height - {side}) / 2"}]
    ext = [-EXTENT, EXTENT]
    x_scale = {"domain": ext, "range": x_range, "nice": False, "zero": False}
    y_scale = {"domain": ext, "range": y_range, "nice": False, "zero": False}
    rows = []
    k = points.n_classes if points is not None else 0
    names = class_names(k, labels)
    if points is not None:
        sets = [("train", points.x_train, points.y_train)]
        if show_test:
            sets.append(("test", points.x_test, points.y_test))
        for kind, x, y in sets:
            xr = np.round(np.asarray(x, dtype=np.float64), 3)
            rows += [{"x1": float(a), "x2": float(b), "cls": names[int(c)], "set": kind}
                     for (a, b), c in zip(xr, y)]
    big = PRESENT_FONT_SIZE if present else FONT_SIZE
    marker = 110 if present else 70
    pos = lambda fx, fy: {"x": {"field": fx, "type": "quantitative", "scale": x_scale, "axis": None},
                          "y": {"field": fy, "type": "quantitative", "scale": y_scale, "axis": None}}
    # Tick labels drawn as text just outside the square's left and bottom edges (no axis lines
    # hanging off a wider chart).
    ticks = ([{"x": float(t), "y": -EXTENT, "text": f"{t:g}", "edge": "bottom"} for t in (-1, 0, 1)]
             + [{"x": -EXTENT, "y": float(t), "text": f"{t:g}", "edge": "left"} for t in (-1, 0, 1)]
             + [{"x": 0.5, "y": -EXTENT, "text": "x\u2081", "edge": "xtitle"},
                {"x": -EXTENT, "y": 0.5, "text": "x\u2082", "edge": "ytitle"}])
    layers = [
        {"data": {"name": "picture"},
         "mark": {"type": "image", "width": {"expr": side}, "height": {"expr": side}, "aspect": False},
         "encoding": {**pos("x", "y"), "url": {"field": "url", "type": "nominal"}}},
        {"data": {"name": "frame"},
         "mark": {"type": "rect", "fill": None, "stroke": "#777777", "strokeWidth": 1},
         "encoding": {**pos("x", "y"), "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
        {"data": {"name": "ticks"}, "transform": [{"filter": "datum.edge == 'bottom'"}],
         "mark": {"type": "text", "baseline": "top", "dy": 5, "fontSize": big - 2, "color": "#333333"},
         "encoding": {**pos("x", "y"), "text": {"field": "text"}}},
        {"data": {"name": "ticks"}, "transform": [{"filter": "datum.edge == 'left'"}],
         "mark": {"type": "text", "align": "right", "dx": -5, "fontSize": big - 2, "color": "#333333"},
         "encoding": {**pos("x", "y"), "text": {"field": "text"}}},
        {"data": {"name": "ticks"}, "transform": [{"filter": "datum.edge == 'xtitle'"}],
         "mark": {"type": "text", "baseline": "top", "dy": 5, "fontSize": big, "color": "#111111",
                  "fontStyle": "italic"},
         "encoding": {**pos("x", "y"), "text": {"field": "text"}}},
        {"data": {"name": "ticks"}, "transform": [{"filter": "datum.edge == 'ytitle'"}],
         "mark": {"type": "text", "align": "right", "dx": -5, "fontSize": big, "color": "#111111",
                  "fontStyle": "italic"},
         "encoding": {**pos("x", "y"), "text": {"field": "text"}}},
    ]
    if points is not None:
        layers.append({
            "data": {"name": "points"},
            "mark": {"type": "point", "filled": True, "opacity": 1, "strokeWidth": 1.2, "clip": True},
            "encoding": {
                **pos("x1", "x2"),
                "color": {"field": "cls", "type": "nominal", "title": None,
                          "scale": {"domain": names,
                                    "range": [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)]},
                          "legend": {"orient": "top", "direction": "horizontal"}},
                "shape": {"field": "set", "type": "nominal", "title": None,
                          "scale": {"domain": ["train", "test"], "range": ["circle", "diamond"]},
                          "legend": {"orient": "top", "direction": "horizontal", "values": ["train", "test"],
                                     "symbolFillColor": "#bbbbbb", "symbolStrokeColor": "#111111"}},
                "stroke": {"field": "set", "type": "nominal", "legend": None,
                           "scale": {"domain": ["train", "test"], "range": ["#ffffff", "#111111"]}},
                "size": {"value": marker},
                "tooltip": [{"field": "cls", "title": "class"}, {"field": "set", "title": "set"},
                            {"field": "x1", "title": "x\u2081", "format": ".2f"},
                            {"field": "x2", "title": "x\u2082", "format": ".2f"}]}})
    return _live_only({"width": "container", "height": size, "config": _config(present),
                       "datasets": {"picture": [{"x": 0.0, "y": 0.0, "url": png_uri(rgb)}], "points": rows,
                                    "frame": [{"x": -EXTENT, "y": -EXTENT, "x2": EXTENT, "y2": EXTENT}],
                                    "ticks": ticks},
                       "layer": layers}, {"picture"})


def boundary_spec(probs: np.ndarray, points: Dataset, show_test: bool = False, discretize: bool = False,
                  labels: Sequence[str] | None = None, present: bool = False, size: int = 400) -> dict:
    """The decision boundary: probs (r, r, k) over the plane, shaded by confidence, with the points."""
    return plane_spec(probability_rgb(probs, discretize), points, show_test, labels, present, size)


def neuron_spec(values: np.ndarray, activation: str, points: Dataset | None = None, show_test: bool = False,
                labels: Sequence[str] | None = None, present: bool = False, size: int = 400) -> dict:
    """One neuron's output over the plane, values (r, r): blue negative, white 0, red positive."""
    return plane_spec(diverging_rgb(neuron_scale(values, activation)), points, show_test, labels, present, size)


# ----- the network -----------------------------------------------------------------------------

def node_name(layer: int, index: int, n_layers: int, feature_labels: Sequence[str],
              class_labels: Sequence[str]) -> str:
    """A neuron's name for hover text and titles; layer 0 = inputs, n_layers = output."""
    if layer == 0:
        return f"Input {feature_labels[index]}"
    if layer == n_layers:
        return f"Output: {class_labels[index]}"
    return f"Hidden layer {layer}, neuron {index + 1}"


def network_spec(model: MLP, view: PlaneView, feature_labels: Sequence[str],
                 class_labels: Sequence[str] | None = None, selected: tuple[int, int] | None = None,
                 present: bool = False, height: int = 400) -> dict:
    """The network, a column per layer: every neuron drawn as a small picture of its output over
    the plane (inputs and hidden units: blue < 0 < red; outputs: white .. class colour); every
    link coloured by its weight's sign (red +, blue -), as wide and as opaque as its magnitude.

    Width follows the container. `selected` = (layer, index) gets a black frame. Hover names a
    neuron (with its bias); a click selects it (the point selection param "neuron", fields layer
    and index). The spec depends only on the architecture and labels: weights and pictures are
    datasets, so a frame of training swaps data and never rebuilds the chart.
    """
    sizes = model.sizes
    n_layers = len(sizes) - 1
    class_labels = class_names(sizes[-1], class_labels)
    tallest = max(sizes)
    ys = [np.arange(n)[::-1] - (n - 1) / 2 for n in sizes]  # top to bottom, centred on 0
    top = (tallest - 1) / 2 + 0.5
    head_room = 1.2 if tallest <= 8 else 0.5 + tallest * 0.07
    x_dom, y_dom = (-0.85, n_layers + 0.85), (-top - 0.05, top + head_room)
    # The side of a neuron's picture in pixels: 42% of a column's width, 84% of a row's height.
    box = (f"min(0.42 * width / {x_dom[1] - x_dom[0]:.4f}, "
           f"0.84 * height / {y_dom[1] - y_dom[0]:.4f})")

    wmax = max(float(np.abs(w).max()) for w in model.weights) or 1.0
    thick = 8.0 if present else 6.0
    # Every link, unless there are more than MAX_LINKS: then the strongest ones (a 32x6 network
    # has 5,000; drawing them all costs the browser ~0.3 s a frame and shows a grey mesh anyway).
    n_links = sum(w.size for w in model.weights)
    cut = np.sort(np.concatenate([np.abs(w).ravel() for w in model.weights]))[-MAX_LINKS] \
        if n_links > MAX_LINKS else -1.0
    links = []
    for l, w in enumerate(model.weights):
        i, j = np.nonzero(np.abs(w) >= cut) if cut >= 0 else np.nonzero(np.ones_like(w, dtype=bool))
        v = w[i, j]
        frac = np.abs(v) / wmax
        links += [{"x": l, "y": y, "x2": l + 1, "y2": y2, "sign": "positive" if x > 0 else "negative",
                   "w": width, "o": opacity}
                  for y, y2, x, width, opacity in zip(ys[l][i].tolist(), ys[l + 1][j].tolist(), v.tolist(),
                                                      np.round(0.5 + thick * frac, 2).tolist(),
                                                      np.round(0.25 + 0.65 * frac, 3).tolist())]

    r = view.probs.shape[0]
    # About 3 picture pixels per screen pixel is plenty: deep columns get small pictures (and
    # a 32x6 network stays ~200 small PNGs a frame, not ~200 big ones).
    side = int(np.clip(300 // tallest, THUMB_MIN, THUMB_MAX))
    pick = np.unique(np.linspace(0, r - 1, min(side, r)).round().astype(int))
    sub = np.ix_(pick, pick)
    act = model.arch.activation
    nodes = []
    for l, n in enumerate(sizes):
        for idx in range(n):
            if l == 0:
                rgb = diverging_rgb(neuron_scale(view.inputs[..., idx][sub], "linear"))
            elif l == n_layers:
                rgb = class_tint_rgb(view.probs[..., idx][sub], idx)
            else:
                rgb = diverging_rgb(neuron_scale(view.hidden[l - 1][..., idx][sub], act))
            name = node_name(l, idx, n_layers, feature_labels, class_labels)
            bias = "" if l == 0 else f"bias {float(model.biases[l - 1][idx]):+.3f}"
            nodes.append({"x": l, "y": float(ys[l][idx]), "layer": l, "index": idx, "name": name, "bias": bias,
                          "url": png_uri(rgb, frame="#9a9a9a")})
    chosen = [dict(x=n["x"], y=n["y"]) for n in nodes if selected == (n["layer"], n["index"])]

    many = n_layers + 1 > 5  # more than 3 hidden layers: short heads, or they run into each other
    heads = ["Input"] + [f"H{l}" if many else f"Hidden {l}" for l in range(1, n_layers)] + ["Output"]
    subs = [f"{sizes[0]}" if many else f"{sizes[0]} feature" + ("s" if sizes[0] > 1 else "")] + [
        f"{n}" if many else (f"{n} neurons" if n > 1 else "1 neuron") for n in sizes[1:-1]] + [model.arch.output]
    font = (PRESENT_FONT_SIZE if present else FONT_SIZE)
    label_font = font if tallest <= 8 else font - 3
    texts = ([{"x": l, "y": top + head_room * 0.55, "text": h, "kind": "head"} for l, h in enumerate(heads)]
             + [{"x": l, "y": top + head_room * 0.18, "text": s, "kind": "sub"} for l, s in enumerate(subs)])
    column_px = f"width / {x_dom[1] - x_dom[0]:.4f} - 4"  # text wider than a column is cut short ("...")
    side = ([{"x": 0, "y": float(ys[0][i]), "text": t, "kind": "feature"} for i, t in enumerate(feature_labels)]
            + [{"x": n_layers, "y": float(ys[-1][i]), "text": t, "kind": "class"} for i, t in enumerate(class_labels)])

    pos = {"x": _q("x", x_dom, None), "y": _q("y", y_dom, None)}
    layers = [
        {"data": {"name": "links"}, "mark": {"type": "rule", "strokeCap": "round"},
         "encoding": {**pos, "x2": {"field": "x2"}, "y2": {"field": "y2"},
                      "color": {"field": "sign", "type": "nominal", "legend": None,
                                "scale": {"domain": ["negative", "positive"], "range": [NEG_COLOUR, POS_COLOUR]}},
                      "strokeWidth": {"field": "w", "type": "quantitative", "scale": None},
                      "opacity": {"field": "o", "type": "quantitative", "scale": None}}},
        {"data": {"name": "nodes"},
         "mark": {"type": "image", "width": {"expr": "box"}, "height": {"expr": "box"}, "aspect": False},
         "encoding": {**pos, "url": {"field": "url", "type": "nominal"}}},
        {"data": {"name": "chosen"},
         "mark": {"type": "square", "filled": False, "stroke": "#000000", "strokeWidth": 3,
                  "size": {"expr": "pow(box + 8, 2)"}},
         "encoding": pos},
        {"data": {"name": "nodes"},  # invisible targets for hover and click
         "mark": {"type": "square", "size": {"expr": "box * box"}, "opacity": 0.001, "cursor": "pointer"},
         "params": [{"name": "neuron", "select": {"type": "point", "fields": ["layer", "index"], "on": "click",
                                                   "clear": "dblclick"}}],
         "encoding": {**pos, "color": {"value": "#ffffff"},
                      "tooltip": [{"field": "name", "title": "neuron"}, {"field": "bias", "title": " "}]}},
        {"data": {"name": "texts"}, "transform": [{"filter": "datum.kind == 'head'"}],
         "mark": {"type": "text", "fontWeight": "bold", "fontSize": font + 1, "baseline": "bottom",
                  "limit": {"expr": "column_px"}},
         "encoding": {**pos, "text": {"field": "text"}}},
        {"data": {"name": "texts"}, "transform": [{"filter": "datum.kind == 'sub'"}],
         "mark": {"type": "text", "fontSize": font - 1, "color": "#444444", "baseline": "bottom",
                  "limit": {"expr": "column_px"}},
         "encoding": {**pos, "text": {"field": "text"}}},
        {"data": {"name": "side"}, "transform": [{"filter": "datum.kind == 'feature'"}],
         "mark": {"type": "text", "fontSize": label_font, "align": "right", "dx": {"expr": "-box / 2 - 6"}},
         "encoding": {**pos, "text": {"field": "text"}}},
        {"data": {"name": "side"}, "transform": [{"filter": "datum.kind == 'class'"}],
         "mark": {"type": "text", "fontSize": label_font, "align": "left", "dx": {"expr": "box / 2 + 6"}},
         "encoding": {**pos, "text": {"field": "text"}}},
    ]
    # Sizes as params: computed once per resize, not once per mark item (Streamlit's Vega runs
    # expressions through its slow CSP-safe interpreter).
    params = [{"name": "box", "expr": box}, {"name": "column_px", "expr": column_px}]
    return _live_only({"width": "container", "height": height, "config": _config(present), "params": params,
                       "datasets": {"links": links, "nodes": nodes, "chosen": chosen, "texts": texts, "side": side},
                       "layer": layers}, {"links", "nodes"})


# ----- the curves ------------------------------------------------------------------------------

MAX_CURVE_POINTS = 400  # longer histories are thinned (evenly, keeping the last epoch)


def curve_spec(history: Sequence[EpochStats], metric: str = "loss", marker_epoch: float | None = None,
               present: bool = False, height: int = 220, step: str = "epoch") -> dict:
    """Train (solid) and test (dashed) loss or accuracy over epochs; width follows the container.
    The x axis grows with the data (no spec change while training); marker_epoch draws a dotted
    vertical line there (the rewind slider's position). step: the x axis' name ("generation")."""
    if metric not in ("loss", "accuracy"):
        raise ValueError("metric must be 'loss' or 'accuracy'")
    hist = list(history)
    if len(hist) > MAX_CURVE_POINTS:
        keep = np.unique(np.r_[np.linspace(0, len(hist) - 1, MAX_CURVE_POINTS).astype(int), len(hist) - 1])
        hist = [hist[i] for i in keep]
    rows = []
    for s in hist:
        for kind, value in (("train", s.train_loss if metric == "loss" else s.train_acc),
                            ("test", s.test_loss if metric == "loss" else s.test_acc)):
            if value == value and np.isfinite(value):  # NaN: no test set
                rows.append({"epoch": float(s.epoch), "value": float(value), "set": kind})
    y_axis = ({"title": "loss", "tickCount": 4} if metric == "loss"
              else {"title": "accuracy", "format": ".0%", "values": [0, 0.25, 0.5, 0.75, 1]})
    y = {"field": "value", "type": "quantitative", "axis": y_axis,
         "scale": {"zero": True} if metric == "loss" else {"domain": [0, 1], "nice": False}}
    x = {"field": "epoch", "type": "quantitative",
         "axis": {"title": step, "tickMinStep": 1, "grid": False, "format": "d"},
         "scale": {"domainMin": 0, "nice": True}}
    return _live_only({
        "width": "container", "height": height, "config": _config(present),
        "datasets": {"curve": rows, "marker": [] if marker_epoch is None else [{"epoch": float(marker_epoch)}]},
        "layer": [
            {"data": {"name": "curve"}, "mark": {"type": "line", "strokeWidth": 3 if present else 2.2, "clip": True},
             "encoding": {"x": x, "y": y,
                          "color": {"field": "set", "type": "nominal", "title": None,
                                    "scale": {"domain": ["train", "test"], "range": [TRAIN_COLOUR, TEST_COLOUR]},
                                    "legend": {"orient": "top", "direction": "horizontal"}},
                          "strokeDash": {"field": "set", "type": "nominal", "legend": None,
                                         "scale": {"domain": ["train", "test"], "range": [[1, 0], [6, 3]]}},
                          "tooltip": [{"field": "set"}, {"field": "epoch", "format": ",.0f"},
                                      {"field": "value", "title": metric,
                                       "format": ".3f" if metric == "loss" else ".1%"}]}},
            {"data": {"name": "marker"}, "mark": {"type": "rule", "strokeDash": [3, 3], "color": "#555555",
                                                  "strokeWidth": 1.5},
             "encoding": {"x": {"field": "epoch", "type": "quantitative"}}},
        ]}, {"curve"})


# ----- learning by evolution: the race and the population ----------------------------------------

METHOD_COLOURS = {"backprop": CLASS_COLOURS[0], "ga": CLASS_COLOURS[5], "es": CLASS_COLOURS[3]}
RACE_AXES = {"forward_passes": "forward passes (log scale)", "total_seconds": "seconds of learning"}


def race_curve_spec(series: dict[str, Sequence[EpochStats]], names: dict[str, str], x: str = "forward_passes",
                    marker_epoch: float | None = None, present: bool = False, height: int = 240,
                    legend: bool = True) -> dict:
    """Each method's test loss (training loss when there is no test set) on one chart, against its
    forward passes (log axis: evolution spends them ~100x faster) or its seconds of learning.
    series: method -> history (stats with forward_passes and total_seconds); names: method -> label.
    marker_epoch: a dot on each curve at that epoch (the rewind slider's position). legend: False
    for the second of two charts one above the other."""
    if x not in RACE_AXES:
        raise ValueError(f"x must be one of {', '.join(RACE_AXES)}")
    log = x == "forward_passes"
    test = all(np.isfinite(h[-1].test_loss) for h in series.values() if h)
    rows, marks = [], []
    for method, history in series.items():
        hist = list(history)
        if len(hist) > MAX_CURVE_POINTS:
            keep = np.unique(np.r_[np.linspace(0, len(hist) - 1, MAX_CURVE_POINTS).astype(int), len(hist) - 1])
            hist = [hist[i] for i in keep]
        for s in hist:
            pos, value = float(getattr(s, x)), s.test_loss if test else s.train_loss
            if (log and pos <= 0) or not np.isfinite(value):
                continue  # the start has used no forward passes: no place on a log axis
            rows.append({"x": pos, "loss": float(value), "method": names[method], "step": float(s.epoch)})
            if marker_epoch is not None and s.epoch == marker_epoch:
                marks.append(rows[-1])
    labels = [names[m] for m in series]
    colour = {"field": "method", "type": "nominal", "title": None,
              "scale": {"domain": labels, "range": [METHOD_COLOURS.get(m, "#555555") for m in series]},
              "legend": {"orient": "top", "direction": "horizontal"} if legend else None}
    x_enc = {"field": "x", "type": "quantitative",
             "axis": {"title": RACE_AXES[x], "grid": False, "tickCount": 5, "format": "~s" if log else ".2~f"},
             "scale": {"type": "log", "nice": False} if log else {"domainMin": 0, "nice": True}}
    y_enc = {"field": "loss", "type": "quantitative", "axis": {"title": "test loss" if test else "training loss",
                                                               "tickCount": 4},
             "scale": {"zero": True}}
    return _live_only({
        "width": "container", "height": height, "config": _config(present),
        "datasets": {"curve": rows, "marks": marks},
        "layer": [
            {"data": {"name": "curve"},
             "mark": {"type": "line", "strokeWidth": 3 if present else 2.2, "clip": True},
             "encoding": {"x": x_enc, "y": y_enc, "color": colour,
                          "tooltip": [{"field": "method"}, {"field": "step", "title": "epoch / generation"},
                                      {"field": "x", "title": RACE_AXES[x], "format": ",.3~f"},
                                      {"field": "loss", "format": ".3f"}]}},
            {"data": {"name": "marks"}, "mark": {"type": "point", "filled": True, "size": 90, "clip": True},
             "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "loss", "type": "quantitative"},
                          "color": {**colour, "legend": None}}},
        ]}, {"curve", "marks"})


def population_spec(probs: Sequence[np.ndarray], captions: Sequence[str], present: bool = False,
                    height: int = 150) -> dict:
    """The best few individuals of a population as small decision boundaries in a row, best first:
    probs[i] (r, r, k) over the plane, captions[i] under each (its rank and loss). The spec depends
    only on how many there are; the pictures and captions are the live data."""
    k = len(probs)
    pictures = [{"i": i, "url": png_uri(probability_rgb(p), frame="#777777"), "caption": str(c)}
                for i, (p, c) in enumerate(zip(probs, captions))]
    big = PRESENT_FONT_SIZE if present else FONT_SIZE
    caption_px = big + 8
    side = f"min(0.92 * width / {max(k, 1)}, height - {caption_px})"  # a square picture per slot
    x = {"field": "i", "type": "quantitative", "scale": {"domain": [-0.5, k - 0.5], "nice": False, "zero": False},
         "axis": None}
    return _live_only({
        "width": "container", "height": height, "config": _config(present),
        "params": [{"name": "side", "expr": side}],
        "datasets": {"pictures": pictures},
        "layer": [
            {"data": {"name": "pictures"},
             "mark": {"type": "image", "width": {"expr": "side"}, "height": {"expr": "side"}, "aspect": False,
                      "y": {"expr": "side / 2"}},
             "encoding": {"x": x, "url": {"field": "url", "type": "nominal"},
                          "tooltip": [{"field": "caption", "title": "individual"}]}},
            {"data": {"name": "pictures"},
             "mark": {"type": "text", "baseline": "top", "fontSize": big - 2, "color": "#111111",
                      "y": {"expr": "side + 4"}},
             "encoding": {"x": x, "text": {"field": "caption"}}},
        ]}, {"pictures"})
