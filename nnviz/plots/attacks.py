"""Figures of the Break page: an attacked digit, the template explanation, robustness curves."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nnviz.lab.attacks import AttackOutcome, RobustnessCurve, TemplateExplanation

from .digits import GREYS, _square, _square_axes, symmetric_range
from .style import DIVERGING, base_layout

ORIGINAL_COLOUR = "#0072B2"  # blue: the network's answer on the untouched digit
FOOLED_COLOUR = "#D55E00"  # vermillion: its answer after the attack
NOISE_COLOUR = "#009E73"  # bluish green: random noise of the same size
NEUTRAL = "#B0B0B0"
METHOD_STYLE = {  # colour, dash, label
    "fgsm": ("#E69F00", "solid", "FGSM (one step)"),
    "pgd": ("#D55E00", "solid", "PGD (iterative)"),
    "noise": (NOISE_COLOUR, "dash", "random noise, same size"),
}


def _image(z: np.ndarray, diverging: bool = False, zmax: float | None = None, name: str = "") -> go.Heatmap:
    z = _square(z)[::-1]  # heatmap rows go bottom-up; digits are stored top-down
    if diverging:
        zmax = zmax or symmetric_range(z)
        return go.Heatmap(z=z, zmin=-zmax, zmax=zmax, zmid=0, colorscale=DIVERGING, showscale=False,
                          hovertemplate=f"{name}: %{{z:+.3f}}<extra></extra>")
    return go.Heatmap(z=z, zmin=0, zmax=1, colorscale=GREYS, showscale=False,
                      hovertemplate=f"{name}: %{{z:.2f}}<extra></extra>")


def _bars(probs: np.ndarray, highlight: int, colour: str, name: str, size: int = 13) -> go.Bar:
    colours = [colour if i == highlight else NEUTRAL for i in range(len(probs))]
    return go.Bar(x=[str(i) for i in range(len(probs))], y=probs, marker_color=colours, name=name,
                  text=[f"{p:.0%}" if p >= 0.05 else "" for p in probs], textposition="outside",
                  textfont=dict(size=size, color="#111111"),
                  cliponaxis=False, constraintext="none", showlegend=False,
                  hovertemplate=f"{name}, %{{x}}: %{{y:.1%}}<extra></extra>")


def attack_figure(out: AttackOutcome, eps: float | None = None, present: bool = False,
                  height: int = 430) -> go.Figure:
    """Top: original, perturbation (diverging, centred at 0), adversarial image, random noise of the
    same size. Bottom: the network's probabilities under each picture (the change: its sizes)."""
    p0, p1, pn = out.pred_before, out.pred_after, out.pred_noise
    scale = eps if eps else max(out.linf, 1e-6)  # full colour at +-eps: the change, amplified
    after_colour = FOOLED_COLOUR if out.fooled else ORIGINAL_COLOUR
    if out.linf == 0:
        change = "No change"
    else:
        change = f"Change (amplified {1 / scale:.0f}x)" if scale < 1 else "Change"
    titles = (f"Original: {p0} ({out.probs_before[p0]:.0%})", change,
              f"Adversarial: {p1} ({out.probs_after[p1]:.0%})",
              f"Noise: {pn} ({out.probs_noise[pn]:.0%})")
    fig = make_subplots(rows=2, cols=4, subplot_titles=titles, row_heights=[0.56, 0.44],
                        horizontal_spacing=0.04, vertical_spacing=0.1)
    fig.add_trace(_image(out.x, name="pixel"), row=1, col=1)
    fig.add_trace(_image(out.perturbation, diverging=True, zmax=scale, name="change"), row=1, col=2)
    fig.add_trace(_image(out.x_adv, name="pixel"), row=1, col=3)
    fig.add_trace(_image(out.x_noise, name="pixel"), row=1, col=4)
    fig.add_trace(_bars(out.probs_before, p0, ORIGINAL_COLOUR, "original", 17 if present else 13), row=2, col=1)
    fig.add_trace(_bars(out.probs_after, p1, after_colour, "adversarial", 17 if present else 13), row=2, col=3)
    noise_colour = NOISE_COLOUR if pn == p0 else FOOLED_COLOUR
    fig.add_trace(_bars(out.probs_noise, pn, noise_colour, "noise", 17 if present else 13), row=2, col=4)
    for col in (1, 3, 4):
        fig.update_yaxes(range=[0, 1.22], showticklabels=False, showgrid=False, row=2, col=col)
        fig.update_xaxes(type="category", tickmode="array", tickvals=[str(i) for i in range(len(out.probs_before))],
                         tickfont=dict(size=16 if present else 12), row=2, col=col)
    # Under the perturbation: its size, in words a class can check.
    fig.update_xaxes(visible=False, row=2, col=2)
    fig.update_yaxes(visible=False, row=2, col=2)
    verdict = "FOOLED" if out.fooled else "not fooled"
    fig.add_annotation(text=f"<b>{verdict}</b><br>largest pixel change<br>L\u221e = {out.linf:.3f}"
                            f"<br>L2 = {out.l2:.2f}",
                       # In the empty cell under the change, hanging from its top: centred, four
                       # lines in large type reached up into the picture on a wide screen.
                       xref="paper", yref="paper", showarrow=False, yanchor="top",
                       x=sum(fig.layout.xaxis6.domain) / 2, y=fig.layout.yaxis6.domain[1],
                       font=dict(size=20 if present else 15,
                                 color=FOOLED_COLOUR if out.fooled else "#333333"))
    for i in range(1, 5):  # square pictures in the top row
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain", row=1, col=i)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                         scaleanchor="x" if i == 1 else f"x{i}", row=1, col=i)
    for a in fig.layout.annotations[:4]:  # the subplot titles
        a.font.size, a.font.color = (19 if present else 15), "#111111"
    fig.update_layout(**base_layout(present, height=height, margin=dict(l=5, r=5, t=30, b=5), bargap=0.15))
    return fig


def template_figure(e: TemplateExplanation, x: np.ndarray | None = None, present: bool = False,
                    height: int = 250) -> go.Figure:
    """[digit], template of the true class, template of the runner-up, their difference, and the
    sign of the input gradient (the FGSM direction). Each weight picture has its own +-scale."""
    y, r = e.label, e.runner_up
    panels = []
    if x is not None:
        panels.append((x, False, f"Digit ({y})"))
    panels += [(e.w_label, True, f"Template of {y}"), (e.w_runner_up, True, f"Template of {r}"),
               (e.template_difference, True, f"{r} minus {y}"),
               (np.sign(e.gradient), True, "FGSM direction")]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[t for *_, t in panels],
                        horizontal_spacing=0.02)
    for i, (img, div, title) in enumerate(panels, start=1):
        fig.add_trace(_image(img, diverging=div, name=title), row=1, col=i)
    _square_axes(fig)
    fig.update_annotations(font_size=18 if present else 15, font_color="#111111")
    fig.update_layout(**base_layout(present, height=height, margin=dict(l=5, r=5, t=35, b=5)))
    return fig


def robustness_figure(curves: Sequence[RobustnessCurve], titles: Sequence[str], present: bool = False,
                      height: int = 340, mark_eps: float | None = None) -> go.Figure:
    """Held-out accuracy against eps, one panel per curve (e.g. before / after adversarial
    training), same axes, so the panels compare at a glance."""
    fig = make_subplots(rows=1, cols=len(curves), subplot_titles=list(titles), shared_yaxes=True,
                        horizontal_spacing=0.06)
    width = 4 if present else 2.5
    for col, curve in enumerate(curves, start=1):
        for m, acc in curve.acc.items():
            colour, dash, label = METHOD_STYLE.get(m, ("#000000", "solid", m))
            if m == "pgd":
                label = f"PGD ({curve.pgd_steps} steps, {curve.n[m]:,} digits)"
            fig.add_trace(go.Scatter(x=curve.eps, y=acc, name=label, mode="lines+markers",
                                     line=dict(color=colour, dash=dash, width=width),
                                     legendgroup=m, showlegend=col == 1,
                                     hovertemplate=f"{label}<br>eps %{{x:.3f}}: %{{y:.1%}}<extra></extra>"),
                          row=1, col=col)
        if mark_eps is not None:
            fig.add_vline(x=mark_eps, line=dict(color="#555555", dash="dot"), row=1, col=col)
    fig.update_xaxes(title_text="eps (largest change of any pixel)")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", showgrid=True)
    fig.update_yaxes(title_text="held-out accuracy", row=1, col=1)
    fig.update_annotations(font_size=18 if present else 15, font_color="#111111")
    fig.update_layout(**base_layout(present, height=height,
                                    legend=dict(orientation="h", yanchor="bottom", y=1.12, x=0),
                                    margin=dict(t=80 if present else 70)))
    return fig
