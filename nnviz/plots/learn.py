"""The /learn page's figures: a neuron over the plane, the cost surface with descent paths, the
backprop diagram, and the loss landscape.

The neuron and the cost surface are Vega-Lite specs that a click sets a point on: a heatmap of
cells, and a click on a cell is a point selection named `pick` (fields u, v: the cell's centre). Their specs stay the same while the paths and points
(the `datasets`) change, so Play redraws in place (a Plotly chart would remount every frame).
The diagram and the landscape are Plotly figures (they change only on a click).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from nnviz.lab.backprop import BackpropStep
from nnviz.lab.landscape import Landscape

from .playground import _config
from .style import CLASS_COLOURS, DIVERGING, FONT_SIZE, PRESENT_FONT_SIZE, base_layout

PICK = "pick"  # the selection a click makes on a clickable plane
PATH_COLOURS = {"sgd": CLASS_COLOURS[0], "momentum": CLASS_COLOURS[1], "adam": CLASS_COLOURS[2]}
STEP_TITLES = ("1. Input", "2. Feedforward", "3. Output error", "4. Backpropagate", "5. Gradients", "Update")


# ----- a plane a click sets a point on ---------------------------------------------------------

def clickable_plane_spec(values: np.ndarray, u_axis: np.ndarray, v_axis: np.ndarray, colour: dict,
                         u_title: str, v_title: str, present: bool = False, size: int = 420,
                         layers: Sequence[dict] = (), live: dict | None = None) -> dict:
    """values (n_v, n_u) over the grid u_axis (n_u,) x v_axis (n_v,) (axis 0 along v) as a heatmap
    of cells, a square of `size` px; a click on a cell selects its centre (u, v) as PICK. `layers`
    are drawn on top (Vega-Lite layers over the fields u, v, their data named in `live`)."""
    big = PRESENT_FONT_SIZE if present else FONT_SIZE
    du, dv = u_axis[1] - u_axis[0], v_axis[1] - v_axis[0]
    u_range = [float(u_axis[0] - du / 2), float(u_axis[-1] + du / 2)]
    v_range = [float(v_axis[0] - dv / 2), float(v_axis[-1] + dv / 2)]
    axis = {"titleFontSize": big + 2, "labelFontSize": big, "grid": False, "tickCount": 5}
    x = {"type": "quantitative", "scale": {"domain": u_range, "nice": False, "zero": False}, "title": u_title,
         "axis": axis}
    y = {"type": "quantitative", "scale": {"domain": v_range, "nice": False, "zero": False}, "title": v_title,
         "axis": axis}
    cells = [{"u": round(float(u), 4), "v": round(float(v), 4), "u0": float(u - du / 2), "u1": float(u + du / 2),
              "v0": float(v - dv / 2), "v1": float(v + dv / 2), "c": float(values[i, j])}
             for i, v in enumerate(v_axis) for j, u in enumerate(u_axis)]
    base = {"data": {"values": cells},
            "params": [{"name": PICK, "select": {"type": "point", "on": "click", "fields": ["u", "v"],
                                                  "toggle": False, "clear": False}}],
            "mark": {"type": "rect", "cursor": "crosshair", "strokeWidth": 0.6},
            "encoding": {"x": {"field": "u0", **x}, "x2": {"field": "u1"}, "y": {"field": "v0", **y},
                         "y2": {"field": "v1"}, "color": colour,
                         "stroke": {**colour, "legend": None}}}  # stroked in its own colour: no seams
    over = [{**layer, "encoding": {"x": {"field": "u", "type": "quantitative"},
                                   "y": {"field": "v", "type": "quantitative"}, **layer.get("encoding", {})}}
            for layer in layers]
    return {"width": size, "height": size, "autosize": {"type": "pad"}, "config": _config(present),
            "layer": [base, *over],
            "datasets": dict(live or {})}


def neuron_spec(values: np.ndarray, axis: np.ndarray, activation: str, point: Sequence[float] | None,
                present: bool = False, size: int = 420) -> dict:
    """A neuron's output a (n, n) over axis x axis (axis 0 along x2): blue low, white the middle
    (0.5 for the sigmoid, else 0), red high; the clicked point marked with a cross."""
    big = PRESENT_FONT_SIZE if present else FONT_SIZE
    if activation == "sigmoid":
        domain = [0.0, 1.0]
    elif activation == "tanh":
        domain = [-1.0, 1.0]
    else:
        m = max(float(np.abs(values).max()), 1e-6)
        domain = [-m, m]
    colour = {"field": "c", "type": "quantitative", "title": "a",
              "scale": {"domain": domain, "range": [DIVERGING[0][1], "#F7F7F7", DIVERGING[-1][1]],
                        "domainMid": (domain[0] + domain[1]) / 2},
              "legend": {"orient": "right", "titleFontSize": big + 2, "labelFontSize": big - 2,
                         "gradientLength": size - 60}}
    marker = [{"u": float(point[0]), "v": float(point[1])}] if point is not None else []
    layer = {"data": {"name": "point"}, "mark": {"type": "point", "shape": "cross", "size": 600 if present else 400,
                                                 "strokeWidth": 4, "color": "#000000", "filled": False}}
    return clickable_plane_spec(values, axis, axis, colour, "x\u2081", "x\u2082", present, size, [layer],
                                {"point": marker})


def descent_spec(cost: np.ndarray, u_axis: np.ndarray, v_axis: np.ndarray, paths: dict[str, np.ndarray],
                 arrow: np.ndarray | None, labels: dict[str, str], present: bool = False, size: int = 440) -> dict:
    """The cost (n_v, n_u) over two weights (light: low, dark: high, banded on a log scale, so
    the bands are contours) with each optimiser's path (k, 2) (name -> points, in
    PATH_COLOURS), its current point, and the arrow -grad C from the first path's current
    point (arrow: (2, 2) from, to)."""
    rows = [{"u": float(p[0]), "v": float(p[1]), "step": i, "opt": labels[name]}
            for name, pts in paths.items() for i, p in enumerate(pts)]
    heads = [{"u": float(pts[-1][0]), "v": float(pts[-1][1]), "opt": labels[name]} for name, pts in paths.items()]
    arrows = [] if arrow is None else [{"u": float(arrow[0][0]), "v": float(arrow[0][1]),
                                        "u2": float(arrow[1][0]), "v2": float(arrow[1][1])}]
    starts = [{"u": float(pts[0][0]), "v": float(pts[0][1])} for pts in list(paths.values())[:1]]
    colour = {"field": "opt", "type": "nominal", "title": None,
              "scale": {"domain": [labels[n] for n in PATH_COLOURS if n in labels],
                        "range": [PATH_COLOURS[n] for n in PATH_COLOURS if n in labels]},
              "legend": {"orient": "top", "direction": "horizontal", "symbolStrokeWidth": 5}}
    width = 5 if present else 3.5
    layers = [
        {"data": {"name": "paths"}, "mark": {"type": "line", "strokeWidth": width, "clip": True, "point": False},
         "encoding": {"color": colour, "order": {"field": "step", "type": "quantitative"}, "detail": {"field": "opt"}}},
        {"data": {"name": "paths"}, "mark": {"type": "circle", "size": 50 if present else 30, "clip": True,
                                             "opacity": 1},
         "encoding": {"color": {**colour, "legend": None}}},
        {"data": {"name": "heads"}, "mark": {"type": "circle", "size": 320 if present else 220, "clip": True,
                                             "stroke": "#000000", "strokeWidth": 2, "opacity": 1},
         "encoding": {"color": {**colour, "legend": None}}},
        {"data": {"name": "start"}, "mark": {"type": "point", "shape": "square", "size": 300 if present else 200,
                                             "strokeWidth": 3, "color": "#000000", "clip": True}},
        {"data": {"name": "arrow"}, "mark": {"type": "rule", "strokeWidth": width + 1, "color": "#D55E00",
                                             "clip": True},
         "encoding": {"x2": {"field": "u2"}, "y2": {"field": "v2"}}},
        {"data": {"name": "arrow"}, "mark": {"type": "point", "shape": "triangle", "filled": True,
                                             "size": 320 if present else 200, "color": "#D55E00", "clip": True,
                                             "opacity": 1},
         "encoding": {"x": {"field": "u2", "type": "quantitative"}, "y": {"field": "v2", "type": "quantitative"},
                      "angle": {"field": "angle", "type": "quantitative", "scale": None}}},
    ]
    for a in arrows:  # the triangle points along the arrow (Vega angles: degrees clockwise from up)
        a["angle"] = float(np.degrees(np.arctan2(a["u2"] - a["u"], a["v2"] - a["v"])) % 360)
    banded = np.log10(np.maximum(cost - cost.min(), 0) + 1e-3 * max(float(np.ptp(cost)), 1e-12))
    shading = {"field": "c", "type": "quantitative", "legend": None,
               "scale": {"type": "quantize", "scheme": "yellowgreen", "count": 12, "nice": False}}
    return clickable_plane_spec(banded, u_axis, v_axis, shading, "w\u2081", "w\u2082", present, size, layers,
                                {"paths": rows, "heads": heads, "arrow": arrows, "start": starts})


# ----- the backprop diagram --------------------------------------------------------------------

def neuron_names(sizes: Sequence[int]) -> list[list[str]]:
    """Mazur's names: i1, i2 for the inputs, h1.. per hidden layer (h1, h2 / g1, g2), o1.. out."""
    letters = "hgfe"
    names = [[f"i{j + 1}" for j in range(sizes[0])]]
    for l in range(1, len(sizes) - 1):
        names.append([f"{letters[l - 1]}{j + 1}" for j in range(sizes[l])])
    names.append([f"o{j + 1}" for j in range(sizes[-1])])
    return names


def _y(n: int, j: int) -> float:
    return (n - 1) / 2 - j


def network_figure(step: BackpropStep, stage: int, present: bool = False, height: int = 430) -> go.Figure:
    """The network with what stage (1-6) computes on every neuron and link: 1 the inputs and
    targets, 2 z and a, 3 the output delta, 4 the hidden deltas, 5 dC/dw on links and dC/db on
    neurons, 6 the weights after the update. The layers this stage computes are outlined."""
    model, t = step.example.model, step.trace
    sizes = model.sizes
    names = neuron_names(sizes)
    L = len(sizes) - 1
    big = PRESENT_FONT_SIZE if present else FONT_SIZE
    fig = go.Figure()
    active = {1: {0}, 2: set(range(1, L + 1)), 3: {L}, 4: set(range(1, L)), 5: set(range(1, L + 1)),
              6: set(range(1, L + 1))}[stage]
    # Links: weight (stages 1-4), its gradient (5), its new value (6).
    label_x, label_y, label_text = [], [], []
    for l in range(1, L + 1):
        w = model.weights[l - 1]
        g = t.grads.weights[l - 1]
        new = step.after.weights[l - 1]
        for k in range(sizes[l - 1]):
            for j in range(sizes[l]):
                x0, y0, x1, y1 = l - 1, _y(sizes[l - 1], k), l, _y(sizes[l], j)
                value = g[k, j] if stage == 5 else new[k, j] if stage == 6 else w[k, j]
                colour = "#B2182B" if value > 0 else "#2166AC"
                fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                                         line=dict(color=colour, width=1.5 + 4 * min(abs(w[k, j]), 1.5))))
                frac = 0.36 + 0.28 * (j / (sizes[l] - 1)) if sizes[l] > 1 else 0.5
                label_x.append(x0 + frac * (x1 - x0))
                label_y.append(y0 + frac * (y1 - y0))
                prefix = "\u2202C/\u2202w " if stage == 5 and sizes[l - 1] * sizes[l] <= 4 else ""
                label_text.append(f"{prefix}{value:.4g}")
    for x, y, text in zip(label_x, label_y, label_text):  # on a white box, readable over the lines
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, bgcolor="rgba(255,255,255,0.9)", borderpad=1,
                           font=dict(size=big - 3, color="#111111"))
    # Neurons, and what this stage shows beside each.
    for l in range(L + 1):
        xs, ys, text, hover = [], [], [], []
        for j in range(sizes[l]):
            xs.append(l)
            ys.append(_y(sizes[l], j))
            text.append(_neuron_text(step, stage, l, j))
            hover.append(names[l][j])
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers+text", text=names[l], textposition="middle center", showlegend=False,
            hovertext=hover, hoverinfo="text", textfont=dict(size=big, color="#000000"),
            marker=dict(size=56 if present else 46, color="#FFFFFF",
                        line=dict(width=5 if l in active else 2, color="#D55E00" if l in active else "#555555"))))
        fig.add_trace(go.Scatter(x=[x + 0.09 for x in xs], y=[y - 0.3 for y in ys], mode="text", text=text,
                                 textposition="bottom right", hoverinfo="skip", showlegend=False,
                                 textfont=dict(size=big - 1, color="#000000")))
    max_n = max(sizes)
    fig.update_layout(**base_layout(present, height=height, margin=dict(l=10, r=10, t=10, b=10)))
    fig.update_xaxes(visible=False, range=[-0.3, L + 0.75])
    fig.update_yaxes(visible=False, range=[-(max_n - 1) / 2 - 0.95, (max_n - 1) / 2 + 0.45])
    return fig


def _neuron_text(step: BackpropStep, stage: int, l: int, j: int) -> str:
    t, ex = step.trace, step.example
    L = len(ex.model.sizes) - 1
    if l == 0:
        return f"x = {ex.x[0, j]:.4g}" if stage in (1, 2) else ""
    if stage == 1:
        return f"target {ex.y[0, j]:.4g}" if l == L else ""
    if stage == 2:
        return f"z = {t.z[l - 1][0, j]:.4g}<br>a = {t.a[l - 1][0, j]:.4g}"
    if stage in (3, 4):
        shown = (stage == 3 and l == L) or (stage == 4 and l < L)
        return f"\u03b4 = {t.delta[l - 1][0, j]:.4g}" if shown else ""
    if stage == 5:
        return f"\u2202C/\u2202b = {t.grads.biases[l - 1][j]:.4g}"
    return f"b = {step.after.biases[l - 1][j]:.4g}"


# ----- the loss landscape ----------------------------------------------------------------------

def landscape_figure(land: Landscape, present: bool = False, height: int = 520) -> go.Figure:
    """The loss over the plane (contours, log-spaced), the trained point at the centre and the
    training path projected onto the plane, labelled by epoch."""
    big = PRESENT_FONT_SIZE if present else FONT_SIZE
    z = np.log10(np.maximum(land.loss, 1e-6))
    fig = go.Figure(go.Contour(
        x=land.alpha, y=land.beta, z=z, colorscale="Viridis", ncontours=22, line=dict(width=1),
        colorbar=dict(title=dict(text="log\u2081\u2080 loss", font=dict(size=big)), tickfont=dict(size=big - 2)),
        hovertemplate="\u03b1 %{x:.2f}, \u03b2 %{y:.2f}<br>log\u2081\u2080 loss %{z:.3f}<extra></extra>"))
    if len(land.path) > 1:
        fig.add_trace(go.Scatter(
            x=land.path[:, 0], y=land.path[:, 1], mode="lines+markers", name="training path (projected)",
            line=dict(color="#FFFFFF", width=4 if present else 3), marker=dict(size=7, color="#FFFFFF"),
            customdata=np.c_[land.path_epochs, land.path_loss],
            hovertemplate="epoch %{customdata[0]:.0f}: loss %{customdata[1]:.4f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=land.path[:1, 0], y=land.path[:1, 1], mode="markers+text", text=["start"],
                                 textposition="top center", name="start", showlegend=False,
                                 textfont=dict(size=big, color="#FFFFFF"),
                                 marker=dict(size=16, symbol="square", color="#FFFFFF",
                                             line=dict(width=2, color="#000000"))))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", name=f"trained: loss {land.centre_loss:.4f}",
                             marker=dict(size=22 if present else 18, symbol="star", color="#E69F00",
                                         line=dict(width=2, color="#000000"))))
    fig.update_layout(**base_layout(present, height=height, margin=dict(l=10, r=10, t=10, b=10),
                                    legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0)))
    fig.update_xaxes(title_text="\u03b1 (direction 1)", title_font_size=big + 2, tickfont_size=big)
    fig.update_yaxes(title_text="\u03b2 (direction 2)", title_font_size=big + 2, tickfont_size=big,
                     scaleanchor="x" if land.kind == "random" else None)
    return fig
