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


def base_layout(present: bool = False, **extra) -> dict:
    """Layout defaults shared by all figures; present=True enlarges text for a projector."""
    layout = dict(font=dict(size=PRESENT_FONT_SIZE if present else FONT_SIZE),
                  margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
    layout.update(extra)
    return layout
