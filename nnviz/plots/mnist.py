"""Figures of the MNIST page: digit templates, first-layer weights, confusion matrix, mistakes.

Pure functions from arrays to go.Figure. Weight pictures use the diverging colour scale centred
at zero (blue negative, white zero, red positive) with ONE scale per figure, so two pictures in
the same frame compare directly.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .digits import _square_axes, digit_grid, symmetric_range
from .style import DIVERGING, base_layout

GAP_COLOUR = "#5A5A5A"  # between the tiles of a mosaic: neither a weight colour nor white
CONFUSION_SCALE = [[0.0, "#FFFFFF"], [0.02, "#FDE7D6"], [0.3, "#F4A582"], [1.0, "#B2182B"]]


def template_figure(templates: np.ndarray, present: bool = False, cols: int = 5, cell_px: int = 130,
                    zmax: float | None = None) -> go.Figure:
    """Ten 28x28 weight pictures (10, 784) labelled 0-9, one diverging scale centred at zero."""
    templates = np.asarray(templates, dtype=np.float64)
    titles = [str(c) for c in range(len(templates))]
    fig = digit_grid(templates, titles, cols=cols, diverging=True, zmax=zmax, cell_px=cell_px,
                     present=present)
    fig.update_annotations(font_size=22 if present else 17)
    return fig


def mosaic(images: np.ndarray, cols: int, gap: int = 2) -> np.ndarray:
    """Tile k square images (k, s*s) into one (rows*(s+gap)-gap, cols*(s+gap)-gap) array; gaps NaN.

    Row-major, top-down like the images themselves (row 0 of the result is the top).
    """
    images = np.asarray(images, dtype=np.float64)
    k = len(images)
    side = int(round(np.sqrt(images.shape[1]))) if k else 28
    rows = max(1, -(-k // cols))
    step = side + gap
    out = np.full((rows * step - gap, cols * step - gap), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * step:r * step + side, c * step:c * step + side] = img.reshape(side, side)
    return out


def hidden_weights_figure(images: np.ndarray, cols: int = 10, present: bool = False,
                          cell_px: int = 68, zmax: float | None = None, first: int = 1) -> go.Figure:
    """The weight pictures of first-layer neurons (k, 784) as ONE heatmap mosaic.

    One trace instead of k subplots keeps a live update cheap; hover shows the neuron number
    (counting from `first`). One diverging colour scale for all tiles, centred at zero.
    """
    images = np.asarray(images, dtype=np.float64)
    k = len(images)
    cols = max(1, min(cols, k))
    tiles = mosaic(images, cols)
    rows = max(1, -(-k // cols))
    side = int(round(np.sqrt(images.shape[1]))) if k else 28
    step = side + 2
    # neuron number under each cell (for hover); gaps get -1 and show nothing useful
    ids = np.full(tiles.shape, -1, dtype=np.int64)
    for i in range(k):
        r, c = divmod(i, cols)
        ids[r * step:r * step + side, c * step:c * step + side] = i + first
    zmax = zmax or symmetric_range(images)
    fig = go.Figure(go.Heatmap(
        z=tiles[::-1], customdata=ids[::-1], zmin=-zmax, zmax=zmax, zmid=0, colorscale=DIVERGING,
        colorbar=dict(thickness=14, len=0.9), hoverongaps=False,
        hovertemplate="neuron %{customdata}: %{z:.3f}<extra></extra>"))
    _square_axes(fig)
    fig.update_layout(**base_layout(present, height=rows * cell_px + 20, plot_bgcolor=GAP_COLOUR,
                                    margin=dict(l=5, r=5, t=10, b=5)))
    return fig


def confusion_figure(counts: np.ndarray, present: bool = False, height: int = 380) -> go.Figure:
    """Confusion matrix (k, k): rows the true digit, columns the predicted one; counts written in.

    Colour is the share of the row (so a rare digit's errors show as clearly as a common one's).
    """
    counts = np.asarray(counts, dtype=np.int64)
    k = len(counts)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    labels = [str(i) for i in range(k)]
    text = [[str(v) if v else "" for v in row] for row in counts]
    fig = go.Figure(go.Heatmap(
        z=share, x=labels, y=labels, text=text, texttemplate="%{text}",
        textfont=dict(size=15 if present else 11), colorscale=CONFUSION_SCALE, zmin=0, zmax=1,
        showscale=False, customdata=counts,
        hovertemplate="true %{y}, predicted %{x}: %{customdata} (%{z:.1%} of the %{y}s)<extra></extra>"))
    fig.update_xaxes(title_text="predicted", type="category", side="bottom", showgrid=False)
    fig.update_yaxes(title_text="true digit", type="category", autorange="reversed", showgrid=False,
                     scaleanchor="x", constrain="domain")
    fig.update_layout(**base_layout(present, height=height, margin=dict(l=10, r=10, t=10, b=10)))
    return fig


def mistake_titles(true: Sequence[int], predicted: Sequence[int], confidence: Sequence[float]) -> list[str]:
    """'7 → 2 · 98%': the true digit, what the network said, and how sure it was."""
    return [f"{t} → {p} · {c:.0%}" for t, p, c in zip(true, predicted, confidence)]


def mistakes_figure(images: np.ndarray, true: Sequence[int], predicted: Sequence[int],
                    confidence: Sequence[float], present: bool = False, cols: int = 5,
                    cell_px: int = 120) -> go.Figure:
    """The wrongly classified digits (k, 784) in grey, titled true → predicted · confidence."""
    titles = mistake_titles(true, predicted, confidence)
    if len(images) == 0:
        fig = go.Figure()
        fig.add_annotation(text="No mistakes on the test digits", showarrow=False, font=dict(size=18))
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.update_layout(**base_layout(present, height=120))
        return fig
    fig = digit_grid(np.asarray(images), titles, cols=cols, diverging=False, cell_px=cell_px, present=present)
    fig.update_annotations(font_size=19 if present else 14)
    return fig


def gallery_figure(images: np.ndarray, labels: Sequence[int], present: bool = False, cols: int = 10,
                   cell_px: int = 90) -> go.Figure:
    """Sample digits (k, 784) in grey (white ink on black), each titled with its label."""
    fig = digit_grid(np.asarray(images), [str(int(v)) for v in labels], cols=cols, diverging=False,
                     cell_px=cell_px, present=present)
    fig.update_annotations(font_size=19 if present else 15)
    return fig
