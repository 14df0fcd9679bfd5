"""Figures of the class challenge: clean against robust accuracy, and who fooled whom.

Names are students' own text. Plotly reads a few HTML tags in any text (<a href>, <b>, <br>), so
every name goes through plot_text, which escapes them: a name renders as exactly its characters.
"""
from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from nnviz.plots.style import CLASS_COLOURS, base_layout

STUDENT_COLOUR, REFERENCE_COLOUR = CLASS_COLOURS[0], CLASS_COLOURS[5]
REFERENCE_SYMBOLS = {"template": "square", "default": "diamond", "adversarial": "star"}
REFERENCE_NAMES = {"template": "template network", "default": "default model", "adversarial": "adversarially trained"}


def plot_text(text: object) -> str:
    """User text for a Plotly label or hover: its HTML escaped (Plotly decodes the entities)."""
    return html.escape(" ".join(str(text).split()), quote=False)


def board_scatter(names: Sequence[str], clean: Sequence[float], robust: Sequence[float],
                  references: Sequence[str | None], eps: float, present: bool = False,
                  height: int = 380) -> go.Figure:
    """Every network of the board as a point: clean accuracy (x) against robust accuracy (y).

    references[i] is None for a student's network, else the reference kind (marked apart).
    The diagonal is "no loss under attack": the gap to it is what the attack takes away.
    """
    clean, robust = np.asarray(clean, float), np.asarray(robust, float)
    student = np.array([r is None for r in references], bool)
    size = 16 if present else 11
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", line=dict(color="#999999", dash="dot"),
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(
        x=100 * clean[student], y=100 * robust[student], mode="markers", name="students",
        marker=dict(size=size, color=STUDENT_COLOUR, line=dict(width=1, color="white")),
        text=[plot_text(n) for n, s in zip(names, student) if s],
        hovertemplate="%{text}<br>clean %{x:.1f}%<br>robust %{y:.1f}%<extra></extra>"))
    for kind, symbol in REFERENCE_SYMBOLS.items():
        pick = np.array([r == kind for r in references], bool)
        if pick.any():
            fig.add_trace(go.Scatter(
                x=100 * clean[pick], y=100 * robust[pick], mode="markers", name=REFERENCE_NAMES[kind],
                marker=dict(size=size + 6, color=REFERENCE_COLOUR, symbol=symbol, line=dict(width=1, color="black")),
                hovertemplate=REFERENCE_NAMES[kind] + "<br>clean %{x:.1f}%<br>robust %{y:.1f}%<extra></extra>"))
    fig.update_layout(**base_layout(
        present, height=height, title=f"Clean against robust accuracy (eps {eps:g})",
        xaxis=dict(title="clean accuracy (%)", range=[0, 101], dtick=20),
        yaxis=dict(title=f"robust accuracy at eps {eps:g} (%)", range=[0, 101], dtick=20),
        legend=dict(orientation="h", y=-0.22, x=0), margin=dict(l=10, r=10, b=10)))
    return fig


def attack_matrix_figure(attackers: Sequence[str], networks: Sequence[str], fooled: np.ndarray,
                         n_digits: int, present: bool = False, height: int = 420,
                         attacked: np.ndarray | None = None) -> go.Figure:
    """The break round as a heatmap: fooled[i, j] challenge digits attacker i fooled on network j.
    Pairs not attacked (attacked[i, j] False) stay empty, apart from "attacked, none fooled"."""
    fooled = np.asarray(fooled, float).reshape(len(attackers), len(networks))
    if attacked is not None:
        fooled = np.where(np.asarray(attacked, bool).reshape(fooled.shape), fooled, np.nan)
    size = 18 if present else 12
    fig = go.Figure(go.Heatmap(
        z=fooled, x=[plot_text(n) for n in networks], y=[plot_text(a) for a in attackers],
        zmin=0, zmax=max(n_digits, 1), colorscale="Reds", xgap=2, ygap=2,
        text=np.where(np.isnan(fooled), "", np.nan_to_num(fooled).astype(int).astype(str)), texttemplate="%{text}", textfont=dict(size=size),
        colorbar=dict(title=dict(text="fooled"), thickness=14),
        hoverongaps=False,
        hovertemplate="%{y} fooled %{z:.0f} of " + str(n_digits) + " digits on %{x}<extra></extra>"))
    fig.update_layout(**base_layout(
        present, height=height, title=f"Who fooled whom: challenge digits fooled (of {n_digits})",
        xaxis=dict(title="network (its owner)", side="bottom", type="category", tickfont=dict(size=size)),
        yaxis=dict(title="attacker", autorange="reversed", type="category", tickfont=dict(size=size))))
    return fig
