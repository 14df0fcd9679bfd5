"""Loss and accuracy over epochs, train and test, as one figure with two panels."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nnviz.engine.training import EpochStats

from .style import TEST_COLOUR, TRAIN_COLOUR, base_layout


def training_curves(history: Sequence[EpochStats], present: bool = False, height: int = 300,
                    max_epochs: float | None = None, marker_epoch: float | None = None) -> go.Figure:
    """Left: loss; right: accuracy (0-1); solid = train, dashed = test.

    max_epochs fixes the x range (so nothing jumps while training); marker_epoch draws a vertical
    line there (the rewind slider's position).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.12)
    epochs = [s.epoch for s in history]
    for col, (train_key, test_key) in enumerate((("train_loss", "test_loss"), ("train_acc", "test_acc")), start=1):
        for key, colour, dash, name in ((train_key, TRAIN_COLOUR, "solid", "train"),
                                        (test_key, TEST_COLOUR, "dash", "test")):
            fig.add_trace(go.Scatter(x=epochs, y=[getattr(s, key) for s in history], name=name,
                                     mode="lines+markers" if len(history) < 40 else "lines",
                                     line=dict(color=colour, dash=dash, width=3 if present else 2),
                                     legendgroup=name, showlegend=col == 1), row=1, col=col)
    x_max = max(max_epochs or 0, epochs[-1] if epochs else 0, 1)
    fig.update_xaxes(title_text="epoch", range=[0, x_max * 1.02])
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    if marker_epoch is not None:
        for col in (1, 2):
            fig.add_vline(x=marker_epoch, line=dict(color="#555", dash="dot"), row=1, col=col)
    fig.update_layout(**base_layout(present, height=height,
                                    legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0)))
    return fig
