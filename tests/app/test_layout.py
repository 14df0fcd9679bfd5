"""Projector mode through AppTest (no browser): the toggle, ?present=1, page switches, the URL,
collapsed controls; and the figure defaults it feeds (base_layout)."""
from pathlib import Path

import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from nnviz.plots.style import (
    FONT_SIZE,
    PRESENT_FONT_SIZE,
    PRESENT_HEIGHT_SCALE,
    base_layout,
)

ROOT = Path(__file__).resolve().parents[2]


def _present_css_on(at: AppTest) -> bool:
    return any("font-size: 20px" in h.proto.body for h in at.get("html"))


def test_toggle_survives_page_switches_and_writes_the_url():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    toggle = at.toggle(key="nnviz_present_toggle")
    assert toggle.value is False and "present" not in at.query_params and not _present_css_on(at)
    toggle.set_value(True).run()
    assert at.query_params["present"] in ("1", ["1"])
    assert _present_css_on(at)
    at.switch_page("pages/mnist.py").run()  # widget state is dropped on a switch; the mode is not
    assert not at.exception
    assert at.toggle(key="nnviz_present_toggle").value is True and _present_css_on(at)
    at.toggle(key="nnviz_present_toggle").set_value(False).run()
    assert "present" not in at.query_params and not _present_css_on(at)


def test_a_link_with_present_1_starts_in_projector_mode():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["present"] = "1"
    at.run().switch_page("pages/mnist.py").run()
    assert not at.exception
    assert at.toggle(key="nnviz_present_toggle").value is True and _present_css_on(at)


def _page_with_controls():
    import streamlit as st

    from nnviz.ui.layout import controls, page_header
    page_header("A page")
    with controls():
        st.slider("Learning rate", 0.0, 1.0, 0.1)


def test_controls_are_open_normally_and_collapsed_in_projector_mode():
    normal = AppTest.from_function(_page_with_controls).run()
    assert normal.expander[0].proto.expanded is True and normal.slider[0].label == "Learning rate"
    present = AppTest.from_function(_page_with_controls)
    present.query_params["present"] = "1"
    present.run()
    assert present.expander[0].proto.expanded is False and present.slider[0].label == "Learning rate"


def test_base_layout_sizes_figures_for_a_projector():
    normal, present = base_layout(False, height=300), base_layout(True, height=300)
    assert normal["font"]["size"] == FONT_SIZE < PRESENT_FONT_SIZE == present["font"]["size"]
    assert present["height"] == round(300 * PRESENT_HEIGHT_SCALE) > normal["height"] == 300
    assert present["legend"]["font"]["size"] == present["hoverlabel"]["font"]["size"] == PRESENT_FONT_SIZE
    # A caller's partial dicts merge into the defaults instead of replacing them.
    merged = base_layout(True, margin=dict(t=5), font=dict(color="#000"), legend=dict(orientation="h"))
    assert merged["margin"]["t"] == 5 and merged["margin"]["l"] == 10
    assert merged["font"] == {"size": PRESENT_FONT_SIZE, "color": "#000"}
    assert merged["legend"]["orientation"] == "h" and merged["legend"]["font"]["size"] == PRESENT_FONT_SIZE
    go.Figure(layout=merged)  # plotly accepts it
