"""Draw (/draw): draw a digit, get a live prediction, and see what the network sees and why."""
import time

import streamlit as st

from nnviz.lab.explain import certainty_words, explain
from nnviz.plots.digits import digit_figure, symmetric_range
from nnviz.ui import draw, live_views
from nnviz.ui.layout import page_header
from nnviz.ui.session import digit_model, has_own_model, set_drawn_digit
from nnviz.ui.text import plain

# Constant CSS (no user text): the predicted digit big enough to read from the back of a hall.
st.html("""<style>
.st-key-prediction h2 { font-size: 7.5rem !important; line-height: 1 !important; padding: 0 !important;
  font-weight: 800 !important; }
.st-key-prediction [data-testid="stMarkdownContainer"] p { font-size: 1.35rem; }
@media (max-width: 700px) {  /* a phone: the answer right under the canvas, the 28x28 picture after it */
  .st-key-draw_input, div:has(> .st-key-draw_input) { width: 100% !important; flex: 1 1 100% !important; }
  .st-key-draw_pred, div:has(> .st-key-draw_pred) { order: 1; flex: 1 1 100% !important; }
  .st-key-draw_seen, div:has(> .st-key-draw_seen) { order: 2; flex: 1 1 100% !important; } }
</style>""")

present = page_header("Draw a digit", "White ink on the black square, with the mouse or a finger. "
                      "The drawing is cropped, scaled and centred like MNIST's digits, then the network answers.")
trained = digit_model()
whose = "Your model from the MNIST page" if has_own_model() else "Model"
st.caption(f":material/memory: {whose}: {plain(trained.description)}; "
           f"{trained.test_acc:.1%} right on the 1,000 public held-out digits.")
s = draw.state()


@st.fragment
def live_view() -> None:
    """The canvas, what the network sees and its answer: rerun alone while the pen moves."""
    # The canvas has a fixed pixel size: give it a fixed-width box; the rest wraps below it on a phone.
    row = st.container(horizontal=True, gap="medium")
    canvas_px = draw.PRESENT_CANVAS_PX if present else draw.CANVAS_PX
    col_draw = row.container(width=canvas_px + 24, key="draw_input")  # the canvas and a row of 3 buttons
    col_seen = row.container(key="draw_seen")
    col_pred = row.container(key="draw_pred")
    with col_draw:
        draw.canvas(stroke_width=st.session_state.get("draw_brush", 20), size=canvas_px)
        with st.container(horizontal=True):
            st.button("Undo", icon=":material/undo:", on_click=draw.undo, disabled=not s["strokes"])
            st.button("Clear", icon=":material/delete:", on_click=draw.clear)
            with st.popover("Brush", icon=":material/brush:"):
                st.slider("Brush width (px)", 6, 40, 20, 2, key="draw_brush")
        st.button("Show me a test digit", icon=":material/casino:", on_click=draw.show_test_digit)

    seen_view = col_seen.container()  # filled below, once the input is known; the uploader under it
    with col_seen:  # read before the view is computed: a new photo becomes the input of this very run
        with st.expander("Upload a photo of a digit", icon=":material/photo_camera:"):
            draw.photo_uploader()

    x = s["x"]
    s["result"] = None
    if x is not None:
        t0 = time.perf_counter()
        s["result"] = explain(trained.model, x, draw.reference_digits())
        s["ms_explain"] = 1000 * (time.perf_counter() - t0)
        set_drawn_digit(x.astype("float32"))  # the Break page attacks the last digit shown here
    result = s["result"]

    with col_pred:  # first: the answer reaches the screen before the pictures
        if s["error"]:
            st.error(s["error"], icon=":material/error:")
        if result is None:
            if not s["error"]:
                st.info("Draw a digit on the black square (or show a test digit).", icon=":material/draw:")
        else:
            with st.container(key="prediction"):
                st.header(str(result.predicted), anchor=False)
                # With the number of the canvas's send this answers, for tests and tests/draw_latency.py.
                st.markdown(f"**{certainty_words(result.confidence)}**: {result.confidence:.0%} "  # safe-html: numbers
                            f"(next: {result.runner_up}, {result.probs[result.runner_up]:.0%})"
                            f'<span hidden data-drawing-seq="{s["drawing_seq"] or 0:d}"></span>',
                            unsafe_allow_html=True)
            live_views.probability_bars(result.probs, highlight=result.predicted, height=250 if present else 230,
                                        present=present, key="draw_bars")

    with seen_view:
        if x is not None:
            st.markdown("**What the network sees** (28 x 28)")
            live_views.pixels(x, size=300 if present else 240, label="what the network sees", key="draw_seen_px")
            st.caption(s["caption"])
        else:
            st.markdown("**What the network sees (28 x 28)** appears here.")
    draw.follow_with_whole_page()


live_view()
result = s["result"]
draw.explained()

if result is not None:
    c = result.predicted
    st.subheader(f"Why {c}?", anchor=False)
    why_map, why_template, why_text = st.columns([1, 1, 1.15], gap="medium")
    with why_map:
        st.markdown(f"**Ink that pushed for {c}** (red) **or against** (blue)")
        st.plotly_chart(digit_figure(result.attribution, diverging=True, zmax=symmetric_range(result.attribution),
                                     height=260, present=present), config={"displayModeBar": False})
    with why_template:
        kind = "its weights" if len(trained.model.weights) == 1 else "effective weights, mean over digits"
        st.markdown(f"**What {c} looks for** ({kind})")
        st.plotly_chart(digit_figure(result.template, diverging=True, height=260, present=present),
                        config={"displayModeBar": False})
    with why_text:
        st.markdown(
            f"The left map is **gradient x input**: each inked pixel times how much it raises the score "
            f"of {c}. Red ink made the network say {c}; blue ink spoke against it. The right map is what "
            f"{c} looks for everywhere: red where ink helps {c}, blue where ink argues for another digit.")
        total = (s["ms_preprocess"] or 0.0) + s["ms_explain"]
        what = {"canvas": "Canvas", "photo": "Photo", "test": "Test digit"}[s["source"]]
        st.caption(f":material/timer: {what} to prediction on the server: {total:.1f} ms "
                   f"(preprocessing + forward pass + explanation).")
        if s["source"] == "canvas" and s.get("naive") is not None:
            with st.expander("Without the MNIST steps", icon=":material/compare:"):
                naive = trained.model.predict_proba(s["naive"][None])[0]
                st.markdown(f"The whole canvas shrunk to 28 x 28, as most demos do: the network would say "
                            f"**{int(naive.argmax())}** ({naive.max():.0%}).")
                st.plotly_chart(digit_figure(s["naive"], height=200, present=present),
                                config={"displayModeBar": False})

