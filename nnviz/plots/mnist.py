"""Figures of the MNIST page: digit templates, first-layer weights, confusion matrix, mistakes.

Pure functions from arrays to go.Figure. Weight pictures use the diverging colour scale centred
at zero (blue negative, white zero, red positive) with ONE scale per figure, so two pictures in
the same frame compare directly.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .digits import GREYS, _square_axes, digit_grid, symmetric_range
from .style import DIVERGING, base_layout

GAP_COLOUR = "#5A5A5A"  # between the tiles of a mosaic: neither a weight colour nor white
CONFUSION_SCALE = [[0.0, "#FFFFFF"], [0.02, "#FDE7D6"], [0.3, "#F4A582"], [1.0, "#B2182B"]]


def template_figure(templates: np.ndarray, present: bool = False, cols: int = 5, cell_px: int = 120,
                    zmax: float | None = None) -> go.Figure:
    """Ten 28x28 weight pictures (10, 784) titled 0-9, one diverging scale centred at zero."""
    templates = np.asarray(templates, dtype=np.float64)
    fig = tile_figure(templates, [str(c) for c in range(len(templates))], cols=cols, diverging=True,
                      zmax=zmax, cell_px=cell_px, present=present)
    fig.update_annotations(font_size=24 if present else 19)
    return fig


def mosaic(images: np.ndarray, cols: int, gap: int = 2, gap_y: int | None = None) -> np.ndarray:
    """Tile k square images (k, s*s) into one array, row-major and top-down; the gaps are NaN.

    Result shape (rows*(s+gap_y)-gap_y, cols*(s+gap)-gap); gap_y defaults to gap.
    """
    images = np.asarray(images, dtype=np.float64)
    gap_y = gap if gap_y is None else gap_y
    k = len(images)
    side = int(round(np.sqrt(images.shape[1]))) if k else 28
    rows = max(1, -(-k // cols))
    out = np.full((rows * (side + gap_y) - gap_y, cols * (side + gap) - gap), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y0, x0 = r * (side + gap_y), c * (side + gap)
        out[y0:y0 + side, x0:x0 + side] = img.reshape(side, side)
    return out


def tile_figure(images: np.ndarray, titles: Sequence[str] | None = None, cols: int = 10,
                diverging: bool = True, zmax: float | None = None, cell_px: int = 100,
                present: bool = False, hover_label: str = "", colorbar: bool = True) -> go.Figure:
    """Many 28x28 pictures (k, 784) as ONE heatmap trace: a mosaic with a title above each tile.

    The same look as nnviz.plots.digits.digit_grid (one colour scale for the whole frame: diverging
    centred at zero, or grey 0..1 for digits), but a single trace instead of k subplots, so a live
    redraw every epoch stays cheap in the browser. Hover names the tile (its title, or
    hover_label + its number counting from 1).
    """
    images = np.asarray(images, dtype=np.float64)
    k = len(images)
    cols = max(1, min(cols, k)) if k else 1
    side = int(round(np.sqrt(images.shape[1]))) if k else 28
    gap = 2
    gap_y = 9 if titles else gap  # room for a title line above each row of tiles
    tiles = mosaic(images, cols, gap, gap_y)
    rows = max(1, -(-k // cols))
    names = list(titles) if titles else [f"{hover_label} {i + 1}".strip() for i in range(k)]
    ids = np.full(tiles.shape, "", dtype=object)
    for i in range(k):
        r, c = divmod(i, cols)
        ids[r * (side + gap_y):r * (side + gap_y) + side, c * (side + gap):c * (side + gap) + side] = names[i]
    if diverging:
        zmax = zmax or symmetric_range(images)
        zmin, scale = -zmax, DIVERGING
    else:
        zmin, zmax, scale = 0.0, zmax or 1.0, GREYS
    top_pad = gap_y if titles else 0
    height_units = tiles.shape[0] + top_pad
    # y runs upwards in a heatmap: flip so that tile row 0 is on top, and leave room for its title
    fig = go.Figure(go.Heatmap(
        z=tiles[::-1], customdata=ids[::-1], zmin=zmin, zmax=zmax, colorscale=scale, hoverongaps=False,
        showscale=colorbar and diverging, colorbar=dict(thickness=14, len=0.9),
        hovertemplate="%{customdata}: %{z:.3f}<extra></extra>"))
    for i, title in enumerate(titles or []):
        r, c = divmod(i, cols)
        fig.add_annotation(x=c * (side + gap) + (side - 1) / 2, y=tiles.shape[0] - r * (side + gap_y) - 0.5,
                           text=title, showarrow=False, yanchor="bottom", xanchor="center",
                           font=dict(size=18 if present else 14))
    _square_axes(fig)
    fig.update_xaxes(range=[-0.5, tiles.shape[1] - 0.5])
    fig.update_yaxes(range=[-0.5, height_units - 0.5])
    fig.update_layout(**base_layout(present, height=rows * cell_px + (cell_px // 4 if titles else 0) + 10,
                                    plot_bgcolor="rgba(0,0,0,0)", margin=dict(l=5, r=5, t=5, b=5)))
    return fig


def hidden_weights_figure(images: np.ndarray, cols: int = 10, present: bool = False,
                          cell_px: int = 68, zmax: float | None = None) -> go.Figure:
    """The weight pictures of first-layer neurons (k, 784): one mosaic, one diverging scale.

    Dark grey gaps between the tiles, so a white (zero) border never merges with its neighbour.
    """
    fig = tile_figure(images, None, cols=cols, diverging=True, zmax=zmax, cell_px=cell_px,
                      present=present, hover_label="neuron")
    fig.update_layout(plot_bgcolor=GAP_COLOUR)
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
                    cell_px: int = 110) -> go.Figure:
    """The wrongly classified digits (k, 784) in grey, titled true → predicted · confidence."""
    if len(images) == 0:
        fig = go.Figure()
        fig.add_annotation(text="No mistakes on the test digits", showarrow=False, font=dict(size=18))
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.update_layout(**base_layout(present, height=120))
        return fig
    return tile_figure(np.asarray(images), mistake_titles(true, predicted, confidence), cols=cols,
                       diverging=False, cell_px=cell_px, present=present)


def gallery_figure(images: np.ndarray, labels: Sequence[int], present: bool = False, cols: int = 10,
                   cell_px: int = 90) -> go.Figure:
    """Sample digits (k, 784) in grey (white ink on black), each titled with its label."""
    fig = digit_grid(np.asarray(images), [str(int(v)) for v in labels], cols=cols, diverging=False,
                     cell_px=cell_px, present=present)
    fig.update_annotations(font_size=19 if present else 15)
    return fig


# ----- raster pictures for the live view ---------------------------------------------------------
# While a network trains, the page redraws its pictures every epoch. Streamlit 1.67 gives a Plotly
# chart a new identity whenever its data change, so the browser rebuilds it and it blinks white;
# an st.image keeps its element and swaps the picture in place. These builders draw the same
# mosaics (same colours, titles, one scale per frame) as RGB pictures.
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
    """The mosaic of tile_figure as a PIL picture: tiles (k, 784) magnified px times, titles above.

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
