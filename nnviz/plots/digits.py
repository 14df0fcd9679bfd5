"""28x28 pictures: digits, weight templates, perturbations, saliency maps; and class probability bars."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import CLASS_COLOURS, DIVERGING, base_layout

GREYS = [[0.0, "#000000"], [1.0, "#FFFFFF"]]  # MNIST's own look: white ink on black


def _square(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img, dtype=np.float64)
    side = int(round(np.sqrt(img.size)))
    return img.reshape(side, side)


def symmetric_range(images: np.ndarray) -> float:
    """One colour scale for a whole frame: +-max|value| (never zero), so 0 is always white."""
    m = float(np.nanmax(np.abs(images))) if np.size(images) else 0.0
    return m if m > 0 else 1.0


def digit_figure(img: np.ndarray, title: str | None = None, diverging: bool = False,
                 zmax: float | None = None, height: int = 260, present: bool = False,
                 colorbar: bool = False) -> go.Figure:
    """One square picture. Grey (0 black .. 1 white) for digits; diverging centred at 0 for weights."""
    z = _square(img)[::-1]  # heatmap rows go bottom-up; digits are stored top-down
    if diverging:
        zmax = zmax or symmetric_range(z)
        trace = go.Heatmap(z=z, zmin=-zmax, zmax=zmax, zmid=0, colorscale=DIVERGING, showscale=colorbar,
                           hovertemplate="x %{x}, y %{y}: %{z:.3f}<extra></extra>")
    else:
        trace = go.Heatmap(z=z, zmin=0, zmax=zmax or 1, colorscale=GREYS, showscale=colorbar,
                           hovertemplate="x %{x}, y %{y}: %{z:.2f}<extra></extra>")
    fig = go.Figure(trace)
    _square_axes(fig)
    fig.update_layout(**base_layout(present, height=height, title=dict(text=title or "", x=0.5),
                                    margin=dict(l=5, r=5, t=35 if title else 5, b=5)))
    return fig


def digit_grid(images: np.ndarray, titles: Sequence[str], cols: int = 5, diverging: bool = True,
               zmax: float | None = None, cell_px: int = 120, present: bool = False) -> go.Figure:
    """Many 28x28 pictures (k, 784) in a grid with ONE shared colour scale (fixed within the frame)."""
    images = np.asarray(images, dtype=np.float64)
    k = len(images)
    rows = max(1, -(-k // cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles),
                        horizontal_spacing=0.01, vertical_spacing=0.06 if rows > 1 else 0.02)
    if diverging:
        zmax = zmax or symmetric_range(images)
        zmin, scale = -zmax, DIVERGING
    else:
        zmin, zmax, scale = 0.0, zmax or 1.0, GREYS
    for i, img in enumerate(images):
        fig.add_trace(go.Heatmap(z=_square(img)[::-1], zmin=zmin, zmax=zmax, colorscale=scale,
                                 showscale=(i == 0 and diverging), coloraxis=None,
                                 colorbar=dict(thickness=12, len=0.8) if i == 0 else None,
                                 hovertemplate=f"{titles[i] if i < len(titles) else ''}: %{{z:.3f}}<extra></extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    _square_axes(fig)
    fig.update_annotations(font_size=18 if present else 13)
    fig.update_layout(**base_layout(present, height=rows * cell_px + 40, margin=dict(l=5, r=5, t=30, b=5)))
    return fig


def probability_bars(probs: np.ndarray, highlight: int | None = None, title: str | None = None,
                     height: int = 240, present: bool = False) -> go.Figure:
    """Ten bars, one per digit (or class), the highlighted class in colour, the rest grey."""
    probs = np.asarray(probs, dtype=np.float64).ravel()
    colours = [CLASS_COLOURS[0] if i == highlight else "#B0B0B0" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=[str(i) for i in range(len(probs))], y=probs, marker_color=colours,
                           text=[f"{p:.0%}" if p >= 0.01 else "" for p in probs], textposition="outside", constraintext="none",
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", showgrid=True)
    fig.update_xaxes(type="category", title_text="class")
    fig.update_layout(**base_layout(present, height=height, title=dict(text=title or "", x=0.5),
                                    margin=dict(l=10, r=10, t=40 if title else 10, b=10)))
    return fig


def _square_axes(fig: go.Figure) -> None:
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x", constrain="domain")
    # every subplot keeps its own square aspect
    for i, ax in enumerate(a for a in fig.layout if a.startswith("yaxis")):
        xname = "x" if ax == "yaxis" else "x" + ax[5:]
        fig.layout[ax].scaleanchor = xname
