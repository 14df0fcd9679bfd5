"""The Playground's pictures, as compact data for its canvas views (nnviz/ui/playground_canvas.js):
the decision boundary over the plane, a neuron's output over the plane, the network diagram in
which every neuron is drawn as its own small picture, and the loss and accuracy curves. The race's
curves and the evolution's population row are Vega-Lite specs (drawn by st.vega_lite_chart).

A frame of training changes every picture, so pictures travel as palette indices: one byte per
pixel (base64), rows top first (the first row is y = +EXTENT), and a small colour table per kind
(`palettes`, 3 bytes an entry) that the browser looks the bytes up in. The decision boundary of a
100 x 100 grid is 10 kB, a PNG of it was 24 kB, and the browser draws it with one putImageData.
Everything here is plain JSON (lists, numbers, strings): no numpy left.
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


_DIV_POS = np.array([s for s, _ in DIVERGING])
_DIV_RGB = np.array([_rgb(c) for _, c in DIVERGING])
# The palette sampled at 255 levels (odd, so 0 is exactly white): one table lookup per pixel.
_DIV_LUT = np.stack([np.interp(np.linspace(0, 1, 255), _DIV_POS, _DIV_RGB[:, c]) for c in range(3)],
                    axis=-1).round().astype(np.uint8)


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


def class_names(n_classes: int, labels: Sequence[str] | None = None) -> list[str]:
    return list(labels) if labels else [f"class {c}" for c in range(n_classes)]


def node_name(layer: int, index: int, n_layers: int, feature_labels: Sequence[str],
              class_labels: Sequence[str]) -> str:
    """A neuron's name for hover text and titles; layer 0 = inputs, n_layers = output."""
    if layer == 0:
        return f"Input {feature_labels[index]}"
    if layer == n_layers:
        return f"Output: {class_labels[index]}"
    return f"Hidden layer {layer}, neuron {index + 1}"


# ----- pictures as palette indices ---------------------------------------------------------------

def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


def picture(index: np.ndarray, palette: str) -> dict:
    """An (r, r) uint8 index image, row 0 at y = -EXTENT -> {"r", "px", "pal"}: px the bytes
    base64, rows top first (y = +EXTENT first, as a canvas draws them); pal names its colour table."""
    return {"r": int(index.shape[0]), "px": _b64(index[::-1]), "pal": palette}


def decode(pic: dict, palettes: dict[str, str]) -> np.ndarray:
    """What the browser draws for a picture: (r, r, 3) uint8, row 0 at y = -EXTENT (for tests and
    for anyone reading the data)."""
    r = pic["r"]
    idx = np.frombuffer(base64.b64decode(pic["px"]), dtype=np.uint8).reshape(r, r)[::-1]
    table = np.frombuffer(base64.b64decode(palettes[pic["pal"]]), dtype=np.uint8).reshape(-1, 3)
    return table[idx]


def boundary_levels(k: int) -> int:
    """Shades of confidence per class in the boundary's table (256 entries for all k classes)."""
    return 256 // max(k, 1)


def boundary_palette(k: int, discretize: bool = False) -> np.ndarray:
    """The decision boundary's colour table (n, 3) uint8: for class c, entries c * L .. c * L + L - 1
    go from white (unsure) to 88% of its colour (certain), alpha growing as the square root of the
    confidence (a hesitant network already shows a tint); discretize: one flat 60% tint per class."""
    colours = np.array([_rgb(CLASS_COLOURS[c % len(CLASS_COLOURS)]) for c in range(k)])
    if discretize:
        alpha = np.full((k, 1), 0.6)
    else:
        levels = boundary_levels(k)
        alpha = np.tile(0.88 * np.linspace(0, 1, levels), (k, 1))
    rgb = _WHITE * (1 - alpha[..., None]) + colours[:, None, :] * alpha[..., None]
    return rgb.reshape(-1, 3).round().astype(np.uint8)


def boundary_index(probs: np.ndarray, discretize: bool = False) -> np.ndarray:
    """Class probabilities (r, r, k) -> indices (r, r) uint8 into boundary_palette(k, discretize):
    the winning class, and (unless discretize) how sure the network is."""
    k = probs.shape[-1]
    win = probs.argmax(axis=-1)
    if discretize:
        return win.astype(np.uint8)
    levels = boundary_levels(k)
    conf = (probs.max(axis=-1) - 1.0 / k) / (1.0 - 1.0 / k)  # 0 on the boundary, 1 when certain
    level = np.rint(np.sqrt(np.clip(np.nan_to_num(conf), 0, 1)) * (levels - 1)).astype(np.intp)
    return (win * levels + level).astype(np.uint8)


def neuron_index(values: np.ndarray, activation: str) -> np.ndarray:
    """A neuron's output over the plane -> indices into DIVERGING_PALETTE (blue -1, white 0 at
    index 127, red +1), scaled by neuron_scale."""
    t = np.nan_to_num(np.asarray(neuron_scale(values, activation), dtype=np.float32), nan=0.0)
    return np.rint((np.clip(t, -1, 1) + 1) * 127).astype(np.uint8)


def tint_palette(cls: int) -> np.ndarray:
    """An output unit's colour table (256, 3): probability 0 white .. 1 at 90% of its class colour."""
    alpha = 0.9 * np.linspace(0, 1, 256)[:, None]
    return (_WHITE * (1 - alpha) + _rgb(CLASS_COLOURS[cls % len(CLASS_COLOURS)]) * alpha).round().astype(np.uint8)


def tint_index(p: np.ndarray) -> np.ndarray:
    """One output unit's probability (r, r) in [0, 1] -> indices (r, r) into tint_palette."""
    return np.rint(np.clip(np.nan_to_num(p), 0, 1) * 255).astype(np.uint8)


DIVERGING_PALETTE = _DIV_LUT


# ----- the plane -------------------------------------------------------------------------------

def _points(points: Dataset | None, show_test: bool) -> dict:
    """The points, columns: x, y (3 decimals), c (class), the first n_train of them training points."""
    if points is None:
        return {"x": [], "y": [], "c": [], "n_train": 0}
    sets = [(points.x_train, points.y_train)] + ([(points.x_test, points.y_test)] if show_test else [])
    xy = np.round(np.concatenate([np.asarray(x, dtype=np.float64).reshape(-1, 2) for x, _ in sets]), 3)
    cls = np.concatenate([np.asarray(y).ravel() for _, y in sets]).astype(int)
    return {"x": xy[:, 0].tolist(), "y": xy[:, 1].tolist(), "c": cls.tolist(), "n_train": int(len(points.y_train))}


def _plane(pic: dict, palettes: dict, points: Dataset | None, show_test: bool,
           labels: Sequence[str] | None) -> dict:
    k = points.n_classes if points is not None else 0
    return {"picture": pic, "palettes": palettes, "points": _points(points, show_test),
            "classes": class_names(k, labels), "colours": [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)],
            "show_test": bool(show_test), "extent": float(EXTENT)}


def boundary_plane(probs: np.ndarray, points: Dataset, show_test: bool = False, discretize: bool = False,
                   labels: Sequence[str] | None = None) -> dict:
    """The decision boundary for the plane view: probs (r, r, k) over the plane, shaded by
    confidence (or flat, discretize), with the training points (circles) and, when show_test, the
    test points (diamonds), coloured by class. labels: the classes' names (user text)."""
    k = probs.shape[-1]
    return _plane(picture(boundary_index(probs, discretize), "boundary"),
                  {"boundary": _b64(boundary_palette(k, discretize))}, points, show_test, labels)


def neuron_plane(values: np.ndarray, activation: str, points: Dataset | None = None, show_test: bool = False,
                 labels: Sequence[str] | None = None) -> dict:
    """One neuron's output over the plane, values (r, r): blue negative, white 0, red positive."""
    return _plane(picture(neuron_index(values, activation), "div"), {"div": _b64(DIVERGING_PALETTE)},
                  points, show_test, labels)


def headline(title: str, stats: EpochStats) -> list[list]:
    """'**Output** · test loss **0.123** · training loss **0.101** · accuracy **95%**' (TensorFlow
    Playground's headline) as [text, bold] pieces; the title may hold user text (class labels)."""
    parts = [[title, True]]
    if stats.test_loss == stats.test_loss:  # NaN when there is no test set
        parts += [[" \u00b7 test loss ", False], [f"{stats.test_loss:.3f}", True]]
    parts += [[" \u00b7 training loss ", False], [f"{stats.train_loss:.3f}", True]]
    acc = stats.test_acc if stats.test_acc == stats.test_acc else stats.train_acc
    parts += [[" \u00b7 accuracy ", False], [f"{acc:.0%}", True]]
    return parts


# ----- the network -----------------------------------------------------------------------------

def network_data(model: MLP, view: PlaneView, feature_labels: Sequence[str],
                 class_labels: Sequence[str] | None = None, selected: tuple[int, int] | None = None,
                 present: bool = False) -> dict:
    """The network, a column per layer: every neuron as a small picture of its output over the
    plane (inputs and hidden units: blue < 0 < red; outputs: white .. class colour); every link
    coloured by its weight's sign (red +, blue -), as wide and as opaque as its magnitude.

    links: columns l (from layer l to l + 1), i (from neuron), j (to neuron) and f, the weight over
    the largest |weight| (signed, 3 decimals): width 0.5 + thick * |f| px, opacity 0.25 + 0.65 * |f|.
    Only the MAX_LINKS strongest links of a big network (a 32x6 one has 5,000: drawn all, they
    show a grey mesh). nodes: layer by layer, each with its name and bias (hover) and its picture;
    `selected` = (layer, index) is framed. heads/subs: the column titles.
    """
    sizes = model.sizes
    n_layers = len(sizes) - 1
    class_labels = class_names(sizes[-1], class_labels)
    tallest = max(sizes)
    wmax = max(float(np.abs(w).max()) for w in model.weights) or 1.0
    n_links = sum(w.size for w in model.weights)
    cut = np.sort(np.concatenate([np.abs(w).ravel() for w in model.weights]))[-MAX_LINKS] \
        if n_links > MAX_LINKS else -1.0
    links = {"l": [], "i": [], "j": [], "f": []}
    for l, w in enumerate(model.weights):
        i, j = np.nonzero(np.abs(w) >= cut) if cut >= 0 else np.nonzero(np.ones_like(w, dtype=bool))
        links["l"] += [l] * len(i)
        links["i"] += i.tolist()
        links["j"] += j.tolist()
        links["f"] += np.round(w[i, j] / wmax, 3).tolist()

    r = view.probs.shape[0]
    # About 3 picture pixels per screen pixel is plenty: deep columns get small pictures.
    side = int(np.clip(300 // tallest, THUMB_MIN, THUMB_MAX))
    pick = np.unique(np.linspace(0, r - 1, min(side, r)).round().astype(int))
    sub = np.ix_(pick, pick)
    act = model.arch.activation
    palettes = {"div": _b64(DIVERGING_PALETTE)}
    nodes = []
    for l, n in enumerate(sizes):
        for idx in range(n):
            if l == 0:
                pic = picture(neuron_index(view.inputs[..., idx][sub], "linear"), "div")
            elif l == n_layers:
                pal = f"tint{idx}"
                palettes[pal] = _b64(tint_palette(idx))
                pic = picture(tint_index(view.probs[..., idx][sub]), pal)
            else:
                pic = picture(neuron_index(view.hidden[l - 1][..., idx][sub], act), "div")
            nodes.append({"layer": l, "index": idx, "name": node_name(l, idx, n_layers, feature_labels, class_labels),
                          "bias": "" if l == 0 else f"bias {float(model.biases[l - 1][idx]):+.3f}", "pic": pic})

    many = n_layers + 1 > 5  # more than 3 hidden layers: short heads, or they run into each other
    heads = ["Input"] + [f"H{l}" if many else f"Hidden {l}" for l in range(1, n_layers)] + ["Output"]
    subs = [f"{sizes[0]}" if many else f"{sizes[0]} feature" + ("s" if sizes[0] > 1 else "")] + [
        f"{n}" if many else (f"{n} neurons" if n > 1 else "1 neuron") for n in sizes[1:-1]] + [model.arch.output]
    return {"sizes": list(sizes), "links": links, "nodes": nodes, "palettes": palettes,
            "selected": list(selected) if selected is not None else None,
            "heads": heads, "subs": subs, "features": list(feature_labels), "classes": class_labels,
            "colours": {"negative": NEG_COLOUR, "positive": POS_COLOUR}, "thick": 8.0 if present else 6.0}


# ----- the curves ------------------------------------------------------------------------------

MAX_CURVE_POINTS = 400  # longer histories are thinned (evenly, keeping the last epoch)


def _thinned(history: Sequence[EpochStats]) -> list[EpochStats]:
    hist = list(history)
    if len(hist) > MAX_CURVE_POINTS:
        keep = np.unique(np.r_[np.linspace(0, len(hist) - 1, MAX_CURVE_POINTS).astype(int), len(hist) - 1])
        hist = [hist[i] for i in keep]
    return hist


def _finite(values) -> list | None:
    """Values rounded to 5 significant digits, None where not finite; None if none is finite."""
    out = [float(f"{v:.5g}") if np.isfinite(v) else None for v in values]
    return out if any(v is not None for v in out) else None


def curves_data(history: Sequence[EpochStats], marker_epoch: float | None = None, step: str = "epoch") -> dict:
    """Loss and accuracy over the epochs for the two small charts: train (solid) and test (dashed;
    None when there is no test set). marker_epoch: a dotted vertical line there (the rewind
    slider's position). step: the x axis' name ("generation")."""
    hist = _thinned(history)
    return {"epochs": [int(s.epoch) for s in hist], "step": step,
            "marker": None if marker_epoch is None else float(marker_epoch),
            "loss": {"train": _finite([s.train_loss for s in hist]), "test": _finite([s.test_loss for s in hist])},
            "accuracy": {"train": _finite([s.train_acc for s in hist]), "test": _finite([s.test_acc for s in hist])},
            "train_colour": TRAIN_COLOUR, "test_colour": TEST_COLOUR}


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
        for s in _thinned(history):
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
