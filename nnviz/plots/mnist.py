"""Pictures and charts of the MNIST page: digit templates, first-layer weights, curves, confusion, mistakes.

Pure functions of arrays. The page redraws them every epoch while a network trains, and
Streamlit 1.67 rebuilds a Plotly chart from scratch whenever its data change (it blinks white on
a projector). So the live view uses what Streamlit updates in place:

- weight and digit pictures are rasters (PIL images, tile_picture): the diverging colour scale
  centred at zero (blue negative, white zero, red positive) of nnviz.plots.style, ONE scale per
  picture so tiles compare directly, a colour bar with its values, a title above each tile;
- curves and the confusion matrix are Vega-Lite specs (rows, spec) whose spec stays the same
  while only the rows change.

The static gallery of sample digits is a Plotly figure (nnviz.plots.digits.digit_grid).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .digits import GREYS, digit_grid, symmetric_range
from .style import DIVERGING, FONT_SIZE, PRESENT_FONT_SIZE, TEST_COLOUR, TRAIN_COLOUR

CONFUSION_SCALE = [[0.0, "#FFFFFF"], [0.02, "#FDE7D6"], [0.3, "#F4A582"], [1.0, "#B2182B"]]


def mistake_titles(true: Sequence[int], predicted: Sequence[int], confidence: Sequence[float]) -> list[str]:
    """'7 → 2 · 98%': the true digit, what the network said, and how sure it was."""
    return [f"{t} → {p} · {c:.0%}" for t, p, c in zip(true, predicted, confidence)]


def gallery_figure(images: np.ndarray, labels: Sequence[int], present: bool = False, cols: int = 10,
                   cell_px: int = 90) -> go.Figure:
    """Sample digits (k, 784) in grey (white ink on black), each titled with its label."""
    fig = digit_grid(np.asarray(images), [str(int(v)) for v in labels], cols=cols, diverging=False,
                     cell_px=cell_px, present=present)
    fig.update_annotations(font_size=19 if present else 15)
    return fig


# ----- raster pictures -------------------------------------------------------------------------------
def _hex_rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)


def colourise(values: np.ndarray, scale: Sequence, vmin: float, vmax: float) -> np.ndarray:
    """Map values (any shape) through a Plotly-style colour scale [[pos, '#rrggbb'], ...] to RGB uint8.

    Values are clipped to [vmin, vmax]; NaN becomes mid-grey (the gaps of a mosaic are set apart later).
    """
    values = np.asarray(values, dtype=np.float64)
    pos = np.array([p for p, _ in scale], dtype=np.float64)
    rgb = np.stack([_hex_rgb(c) for _, c in scale])  # (stops, 3)
    t = np.clip((values - vmin) / (vmax - vmin), 0.0, 1.0)
    t = np.where(np.isnan(t), 0.5, t)
    out = np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=-1)
    return np.round(out).astype(np.uint8)


def _font(size: int):
    """DejaVu Sans (has the arrow and the minus sign), else Pillow's own font; and whether it is DejaVu."""
    from PIL import ImageFont
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size), True
        except OSError:
            pass
    return ImageFont.load_default(size=size), False


def _ascii(text: str) -> str:
    return text.replace("\u2192", "->").replace("\u2212", "-")


def tile_picture(images: np.ndarray, titles: Sequence[str] | None = None, cols: int = 10,
                 diverging: bool = True, zmax: float | None = None, px: int = 5, gap: int = 10,
                 font_px: int = 28, colorbar: bool = True, gap_colour: str = "#FFFFFF"):
    """Many square pictures (k, 784) as one PIL picture: tiles magnified px times, row-major, titles above.

    One colour scale for all tiles (diverging: +-zmax centred at zero, default max|value|; else
    grey 0..1), and for diverging pictures a colour bar with its three values underneath.
    """
    from PIL import Image, ImageDraw
    images = np.asarray(images, dtype=np.float64)
    k = len(images)
    side = int(round(np.sqrt(images.shape[1]))) if k else 28
    cols = max(1, min(cols, k)) if k else 1
    rows = max(1, -(-k // cols))
    font, unicode_ok = _font(font_px)
    title_h = int(font_px * 1.35) if titles else 0
    tile = side * px
    bar_h = int(font_px * 2.6) if (colorbar and diverging) else 0
    pad = 2  # room for the tiles' outer edges
    width = cols * tile + (cols - 1) * gap + 2 * pad
    height = rows * (title_h + tile) + (rows - 1) * gap + bar_h + 2 * pad
    canvas = Image.new("RGB", (width, height), gap_colour)
    draw = ImageDraw.Draw(canvas)
    if diverging:
        zmax = zmax or symmetric_range(images)
        scale, vmin, vmax = DIVERGING, -zmax, zmax
    else:
        scale, vmin, vmax = GREYS, 0.0, zmax or 1.0
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        x0, y0 = pad + c * (tile + gap), pad + r * (title_h + tile + gap) + title_h
        rgb = colourise(img.reshape(side, side), scale, vmin, vmax)
        canvas.paste(Image.fromarray(rgb).resize((tile, tile), Image.NEAREST), (x0, y0))
        draw.rectangle((x0 - 1, y0 - 1, x0 + tile, y0 + tile), outline="#B0B0B0")  # white = 0 needs an edge
        if titles:
            text = titles[i] if unicode_ok else _ascii(titles[i])
            draw.text((x0 + tile / 2, y0 - 3), text, fill="#1A1A1A", font=font, anchor="md")
    if bar_h:
        bar_w = min(width - 2 * pad, 3 * tile)
        bar_x, bar_y = (width - bar_w) // 2, height - pad - bar_h + font_px // 3
        ramp = colourise(np.linspace(vmin, vmax, bar_w)[None, :].repeat(font_px // 2, axis=0), scale, vmin, vmax)
        canvas.paste(Image.fromarray(ramp), (bar_x, bar_y))
        minus = "\u2212" if unicode_ok else "-"
        for frac, text in ((0.0, f"{minus}{zmax:.2g}"), (0.5, "0"), (1.0, f"+{zmax:.2g}")):
            draw.text((bar_x + frac * (bar_w - 1), bar_y + font_px // 2 + 2), text, fill="#1A1A1A", font=font,
                      anchor={0.0: "la", 0.5: "ma", 1.0: "ra"}[frac])
    return canvas


# ----- Vega-Lite charts: st.vega_lite_chart(rows, spec) ----------------------------------------------
def _vega_config(present: bool) -> dict:
    size = PRESENT_FONT_SIZE if present else FONT_SIZE
    return {"axis": {"labelFontSize": size, "titleFontSize": size, "grid": True, "gridColor": "#E5E5E5"},
            "legend": {"labelFontSize": size, "titleFontSize": size, "symbolStrokeWidth": 3},
            "title": {"fontSize": round(size * 1.15), "fontWeight": "normal"},
            "view": {"stroke": None}}


def curve_rows(history: Sequence, metric: str) -> list[dict]:
    """Long-format rows {epoch, split, value} of one metric ('loss' or 'accuracy') for a curve chart."""
    keys = {"loss": ("train_loss", "test_loss"), "accuracy": ("train_acc", "test_acc")}[metric]
    rows = []
    for s in history:
        for split, key in zip(("train", "test"), keys):
            value = float(getattr(s, key))
            if np.isfinite(value):
                rows.append({"epoch": float(s.epoch), "split": split, "value": value})
    return rows


def curve_spec(metric: str, max_epochs: float, present: bool = False, height: int = 190) -> dict:
    """A Vega-Lite line chart of one metric over epochs: solid train, dashed test (Okabe-Ito colours).

    The x axis spans [0, max_epochs] so nothing jumps while training; accuracy runs 0-100%.
    """
    y = {"field": "value", "type": "quantitative", "title": metric}
    if metric == "accuracy":
        y.update(scale={"domain": [0, 1]}, axis={"format": ".0%", "tickCount": 5})
    else:
        y.update(scale={"zero": True}, axis={"tickCount": 5})
    splits = ["train", "test"]
    # One legend for the pair, where the accuracy curve leaves room. Colour and dash share it (same
    # field, same legend), so it shows a solid and a dashed line, not a dashed circle.
    legend = ({"orient": "bottom-right", "fillColor": "#FFFFFFCC", "padding": 4, "symbolType": "stroke",
               "symbolStrokeWidth": 3 if present else 2, "symbolSize": 300}
              if metric == "accuracy" else None)
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "height": round(height * (1.2 if present else 1.0)),  # of the plot; the width fits the container
        "autosize": {"type": "fit-x", "contains": "padding"},
        "mark": {"type": "line", "point": {"size": 50 if present else 30}, "strokeWidth": 3 if present else 2,
                 "clip": True},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "epoch",
                  "scale": {"domain": [0, max(float(max_epochs), 1.0)], "nice": False}},
            "y": y,
            "color": {"field": "split", "type": "nominal", "title": None,
                      "scale": {"domain": splits, "range": [TRAIN_COLOUR, TEST_COLOUR]}, "legend": legend},
            "strokeDash": {"field": "split", "type": "nominal", "title": None, "legend": legend,
                           "scale": {"domain": splits, "range": [[1, 0], [7, 4]]}},
            "tooltip": [{"field": "split"}, {"field": "epoch", "format": ".2f"},
                        {"field": "value", "format": ".1%" if metric == "accuracy" else ".4f"}],
        },
        "config": _vega_config(present),
    }


def confusion_rows(counts: np.ndarray) -> list[dict]:
    """One row per cell {true, predicted, count, share (of the true digit's row), label}."""
    counts = np.asarray(counts, dtype=np.int64)
    totals = np.maximum(counts.sum(axis=1), 1)
    return [{"true": str(t), "predicted": str(p), "count": int(counts[t, p]),
             "share": float(counts[t, p] / totals[t]), "label": str(int(counts[t, p])) if counts[t, p] else ""}
            for t in range(len(counts)) for p in range(counts.shape[1])]


def confusion_spec(n_classes: int = 10, present: bool = False, size: int = 330) -> dict:
    """A Vega-Lite confusion matrix: rows the true digit, columns the answer, counts written in,
    colour the share of the row (so a rare digit's errors show as clearly as a common one's)."""
    labels = [str(i) for i in range(n_classes)]
    side = round(size * (1.2 if present else 1.0))
    stops = [c for _, c in CONFUSION_SCALE]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": side, "height": side,
        "encoding": {
            "x": {"field": "predicted", "type": "ordinal", "sort": labels, "title": "predicted",
                  "axis": {"labelAngle": 0, "orient": "bottom"}},
            "y": {"field": "true", "type": "ordinal", "sort": labels, "title": "true digit"},
        },
        "layer": [
            {"mark": {"type": "rect"},
             "encoding": {"color": {"field": "share", "type": "quantitative", "legend": None,
                                    "scale": {"domain": [p for p, _ in CONFUSION_SCALE], "range": stops}},
                          "tooltip": [{"field": "true", "title": "true"}, {"field": "predicted"},
                                      {"field": "count"}, {"field": "share", "format": ".1%", "title": "of the row"}]}},
            {"mark": {"type": "text", "fontSize": 15 if present else 12},
             "encoding": {"text": {"field": "label"},
                          "color": {"condition": {"test": "datum.share > 0.5", "value": "#FFFFFF"},
                                    "value": "#1A1A1A"}}},
        ],
        "config": _vega_config(present),
    }
