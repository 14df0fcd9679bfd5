"""One look for every chart: colour-blind-safe palettes and sizes that read on a projector."""
from __future__ import annotations

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
CLASS_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                 "#000000", "#999999", "#882255"]
# Diverging, centred at zero: blue negative, white zero, orange-red positive (no red/green pair).
DIVERGING = [[0.0, "#2166AC"], [0.25, "#92C5DE"], [0.5, "#F7F7F7"], [0.75, "#F4A582"], [1.0, "#B2182B"]]
SEQUENTIAL = "Viridis"
TRAIN_COLOUR, TEST_COLOUR = "#0072B2", "#D55E00"
FONT_SIZE = 14
PRESENT_FONT_SIZE = 20
PRESENT_HEIGHT_SCALE = 1.2  # projector mode: charts this much taller (1280x720 still fits one)


def base_layout(present: bool = False, **extra) -> dict:
    """Layout defaults shared by all figures; present=True sizes them for a projector.

    Projector mode: larger text everywhere (ticks, legend, hover labels, titles), a little more
    room at the top for the larger title, and ``height`` (when given) scaled by
    PRESENT_HEIGHT_SCALE. Dict-valued ``extra`` entries (font, margin, legend, ...) are merged
    one level deep into the defaults, so a caller's ``margin=dict(t=30)`` keeps the other margins
    and a caller's ``font=dict(color=...)`` keeps the projector font size.
    """
    size = PRESENT_FONT_SIZE if present else FONT_SIZE
    layout = dict(font=dict(size=size), margin=dict(l=10, r=10, t=50 if present else 40, b=10),
                  template="plotly_white", hoverlabel=dict(font=dict(size=size)),
                  legend=dict(font=dict(size=size)))
    if present:
        layout["title"] = dict(font=dict(size=round(size * 1.2)))
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    if present and isinstance(layout.get("height"), (int, float)):
        layout["height"] = int(round(layout["height"] * PRESENT_HEIGHT_SCALE))
    return layout
