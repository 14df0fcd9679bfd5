"""The Playground's live views in the browser: one Components v2 module (playground_canvas.js,
inline, no build step) that draws the network diagram, the curves, the headline and the plane on
canvases and updates them in place from the data of nnviz.plots.playground.

A frame re-sends two elements (the left and the right view) of compact data, and the browser
redraws them in a few milliseconds: Vega-Lite charts, which these replace, cost it ~100 ms a frame.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import streamlit as st

from nnviz.plots.style import FONT_SIZE, PRESENT_FONT_SIZE

_CSS = """
:host { display: block; }
.pg-box { position: relative; color: #31333f; }
.pg-box.pg-fill { height: 100%; overflow: hidden; }
canvas { display: block; }
.pg-curves { display: flex; gap: 16px; margin-top: 1rem; }
.pg-headline { line-height: 1.6; padding-bottom: 0.5rem; font-size: 1rem; overflow-wrap: anywhere; }
.pg-headline b { font-weight: 600; }
.pg-tip { display: none; position: absolute; z-index: 10; pointer-events: none; white-space: pre;
          background: rgba(255, 255, 255, 0.96); border: 1px solid #bbb; border-radius: 4px;
          padding: 4px 8px; font-size: 0.9em; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.15); color: #111; }
"""

_view = st.components.v2.component("nnviz_playground",
                                   js=Path(__file__).with_name("playground_canvas.js").read_text(), css=_CSS)


def _font(present: bool) -> int:
    return PRESENT_FONT_SIZE if present else FONT_SIZE


def network_and_curves(network: dict, curves: dict, present: bool, network_height: int, curves_height: int,
                       key: str, on_select: Callable[[], None]) -> None:
    """The left view: the network diagram (click a neuron: on_select, with the trigger "select"
    in st.session_state[key]) and, under it, the loss and accuracy curves side by side."""
    _view(key=key, on_select_change=on_select,
          data={"parts": ["network", "curves"], "network": network, "curves": curves,
                "network_height": network_height, "curves_height": curves_height, "font": _font(present)})


def plane(plane: dict, present: bool, key: str, headline: list | None = None) -> None:
    """The plane with its points, under the headline (when given), as tall as its box (the page's
    CSS gives the box its height)."""
    _view(key=key, height="stretch",
          data={"parts": (["headline"] if headline is not None else []) + ["plane"], "plane": plane,
                "headline": headline, "fill": True, "font": _font(present)})


def selected(key: str) -> tuple[int, int] | None | bool:
    """The neuron that a click in the diagram chose: (layer, index), None after a double click
    (back to the output), False when the trigger carries neither."""
    event = (st.session_state.get(key) or {}).get("select")
    if not isinstance(event, dict):
        return False
    if event.get("clear"):
        return None
    try:
        return int(event["layer"]), int(event["index"])
    except (KeyError, TypeError, ValueError):
        return False
