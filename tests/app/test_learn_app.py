"""/learn through AppTest (no browser): each section from its own link, the neuron's formula,
gradient descent's Step / Play / Reset and divergence message, backprop's Next and Back with
Mazur's numbers, and the landscape of the Playground's network."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "learn.py")
pytestmark = pytest.mark.timeout(120)


def open_page(**query) -> AppTest:
    """/learn?<query> through app.py's navigation (the page links to the Playground)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    return at.switch_page(PAGE).run()


def clean(at):
    assert not at.exception, at.exception
    return at


def latex(at) -> str:
    return "\n".join(e.value for e in at.latex)


def test_neuron_section_shows_the_formula_with_the_numbers_and_follows_the_sliders():
    at = clean(open_page(section="neuron"))
    assert at.query_params["section"] == "neuron"
    # The example: sigmoid(0.8 * 0.5 - 1.2 * 0.3 + 0.1) = sigmoid(0.14) = 0.535
    assert r"\sigma(0.8 \cdot 0.5 - 1.2 \cdot 0.3 + 0.1) = \sigma(0.14) = \mathbf{0.535}" in latex(at)
    at.slider(key="learn_w_b").set_value(-0.5).run()
    clean(at)
    assert r"- 0.5) = \sigma({-}0.46)" in latex(at)
    at.selectbox(key="learn_w_activation").set_value("tanh").run()
    assert r"\tanh(" in latex(at)
    # A click on the plane (the selection Streamlit would receive) moves the point.
    at.session_state["learn_neuron_point"] = (-1.0, 1.0)
    at.run()
    assert r"0.8 \cdot ({-}1) - 1.2 \cdot 1" in latex(at)


def test_descent_steps_plays_resets_and_a_too_large_rate_diverges_with_a_message():
    at = clean(open_page(section="descent"))
    at.button(key="learn_w_gd_step").click().run()
    at.button(key="learn_w_gd_step").click().run()
    clean(at)
    assert at.session_state["learn_gd_steps"] == 2
    assert at.metric[0].value == "2"
    lines = [m.value for m in at.markdown if "C = " in m.value]
    assert len(lines) == 3  # gradient descent, momentum and Adam side by side
    at.button(key="learn_w_gd_play").click().run()  # the fragment's body runs once per at.run()
    at.run()
    assert at.session_state["learn_gd_steps"] >= 4
    at.button(key="learn_w_gd_pause").click().run()
    at.button(key="learn_w_gd_reset").click().run()
    assert at.session_state["learn_gd_steps"] == 0
    # Above 2 / lambda_max (2.28 for this bowl) plain descent diverges: a message, no crash.
    at.select_slider(key="learn_w_gd_lr").set_value(3.0).run()
    for _ in range(12):
        at.button(key="learn_w_gd_step").click().run()
    clean(at)
    assert any("diverged after" in e.value and "Gradient descent" in e.value for e in at.error)
    assert any("2/\u03bb_max = 2.28" in c.value for c in at.caption)


def test_descent_starts_where_the_click_chose():
    at = clean(open_page(section="descent"))
    at.session_state["learn_gd_start"] = (1.5, -1.0)  # what the click's callback stores
    at.button(key="learn_w_gd_reset").click().run()
    shown = " ".join(m.value for m in at.markdown)
    assert shown.count("at w = (1.50, -1.00)") == 3  # all three optimisers start there
    at.button(key="learn_w_gd_step").click().run()
    assert "at w = (1.50, -1.00)" not in " ".join(m.value for m in at.markdown)


def test_backprop_mazur_next_and_back_through_the_five_steps_and_the_update():
    at = clean(open_page(section="backprop"))
    assert at.query_params["example"] == "mazur" and at.query_params["step"] == "1"
    assert r"\left(0.05,\ 0.1\right)" in latex(at)
    seen = {}
    for stage in range(2, 7):
        at.button(key="learn_w_bp_next").click().run()
        clean(at)
        assert at.session_state["learn_bp_stage"] == stage
        seen[stage] = latex(at)
    assert r"\mathbf{0.593269992}" in seen[2] and r"\mathbf{0.75136507}" in seen[2]
    assert r"\mathbf{0.298371109}" in seen[2]
    assert r"\mathbf{0.138498562}" in seen[3]
    assert r"\mathbf{0.008771355}" in seen[4]
    assert r"\mathbf{0.082167041} \quad (0.082167041)" in seen[5]  # beside its finite difference
    for w in ("0.35891648", "0.408666186", "0.51130127", "0.561370121", "0.149780716", "0.199561432"):
        assert rf"\mathbf{{{w}}}" in seen[6]
    assert at.metric[0].value == "0.298371109"
    assert at.button(key="learn_w_bp_next").disabled
    at.button(key="learn_w_bp_back").click().run()
    assert at.session_state["learn_bp_stage"] == 5 and at.query_params["step"] == "5"
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 12  # 8 weights, 4 biases


def test_backprop_step_link_notebook_and_custom_sizes():
    at = clean(open_page(section="backprop", example="notebook", step="3"))
    assert at.session_state["learn_bp_stage"] == 3
    assert r"a^L - y" in latex(at)
    at.selectbox(key="learn_w_bp_example").set_value("custom").run()
    clean(at)
    at.number_input(key="learn_w_bp_layers").set_value(2).run()
    at.number_input(key="learn_w_bp_h0").set_value(4).run()
    at.number_input(key="learn_w_bp_h1").set_value(4).run()
    clean(at)
    at.session_state["learn_bp_stage"] = 5
    at.run()
    assert len(at.dataframe[0].value) == (8 + 4) + (16 + 4) + (8 + 2)  # a 2-4-4-2 network


def test_landscape_of_the_playgrounds_network_and_its_centre():
    at = clean(open_page(section="landscape"))
    run = at.session_state["pg_run"]  # the Playground's run, made from its settings
    key, land, seconds = at.session_state["learn_land"]
    assert land.loss.shape == (51, 51)
    assert land.centre_loss == pytest.approx(run.model.loss(run.data.x_train, run.data.y_train))
    assert any("2,601 networks" in c.value for c in at.caption)
    at.button(key="learn_w_land_train").click().run()
    clean(at)
    assert at.session_state["pg_run"].epoch == 50
    _, trained, _ = at.session_state["learn_land"]
    assert len(trained.path) > 2 and trained.centre_loss < land.centre_loss
    at.radio(key="learn_w_land_kind").set_value("pca").run()
    clean(at)
    assert at.session_state["learn_land"][1].kind == "pca"


def test_a_bad_section_in_the_link_falls_back_to_the_first():
    at = clean(open_page(section="<b>nope</b>", step="99", example="x"))
    assert at.session_state["learn_section"] == "neuron"


def test_an_uploaded_files_name_never_reaches_the_landscapes_markdown():
    from dataclasses import replace

    from nnviz.lab.playground import DEFAULT, PlaygroundRun, parse_csv

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    custom = parse_csv("x1,x2,label\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n0.5,0.5,1\n", "**evil** <b>name</b>.csv")
    state = replace(DEFAULT, dataset="custom", test_ratio=0.0)
    at.session_state["pg_custom"] = custom
    at.session_state["pg_state"] = state
    at.session_state["pg_run"] = PlaygroundRun(state, custom)
    at.query_params["section"] = "landscape"
    clean(at.switch_page(PAGE).run())
    shown = " ".join(m.value for m in at.markdown)
    assert "Uploaded CSV" in shown and "evil" not in shown
