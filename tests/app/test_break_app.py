"""The Break page under AppTest: real attacks on the real default model, no browser."""
import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnviz.data.mnist import load_bundled, public_digits
from nnviz.engine.threads import BlasLimit

PAGE = "pages/break.py"


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    with BlasLimit(1):  # as app.py does for the server
        yield


def open_break() -> AppTest:
    at = AppTest.from_file("../../app.py", default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def chart_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(v) -> np.ndarray:
    """A plotly JSON array: a plain list, or a typed array {"dtype", "bdata" (base64)}."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


def chart_text(at) -> str:
    return " ".join(a.get("text", "") for spec in chart_specs(at) for a in spec["layout"].get("annotations", []))


def test_fgsm_flips_the_prediction_and_eps_zero_does_not():
    at = open_break()
    assert "default model" in texts(at.caption)
    assert "Fooled." in texts(at.error)  # FGSM eps 0.1 on public held-out digit #0
    assert f"Original: {public_digits().y_test[0]}" in chart_text(at) and "FOOLED" in chart_text(at)
    at.slider(key="break_eps").set_value(0.0).run()
    assert not at.error and "Not fooled" in texts(at.success)
    assert "L\u221e = 0.000" in chart_text(at)


def test_targeted_pgd_reaches_the_chosen_digit():
    at = open_break()
    at.segmented_control(key="break_method").set_value("PGD").run()
    at.toggle(key="break_targeted").set_value(True).run()
    at.selectbox(key="break_target").set_value(3).run()
    assert not at.exception
    assert "It now says **3**" in texts(at.error)
    label = int(public_digits().y_test[0])
    at.selectbox(key="break_target").set_value(label).run()  # the digit is already that
    assert f"already a {label}" in texts(at.info)


def test_drawing_input_without_and_with_a_drawing():
    at = open_break()
    at.segmented_control(key="break_source").set_value("Drawing").run()
    assert "Draw a digit on the Draw page first." in texts(at.info)
    assert not at.get("plotly_chart")
    at.session_state["nnviz_drawn_digit"] = load_bundled().x_test[5].copy()  # what the Draw page stores
    at.slider(key="break_eps").set_value(0.3).run()
    assert not at.exception
    assert "your drawing" in texts(at.caption) and "Fooled." in texts(at.error)


def test_settings_survive_a_page_switch():
    at = open_break()
    at.slider(key="break_eps").set_value(0.2).run()
    at.number_input(key="break_index").set_value(7).run()
    at.switch_page("pages/draw.py").run()
    at.switch_page(PAGE).run()
    assert at.slider(key="break_eps").value == 0.2
    assert at.number_input(key="break_index").value == 7
    assert "held-out digit #7" in texts(at.caption)


def test_fooling_images_and_why_it_works_tabs():
    at = open_break()
    at.session_state["break_tab"] = "Fooling images"
    at.run()
    assert "10 of 10 got there" in texts(at.markdown)
    titles = [a["text"] for a in chart_specs(at)[0]["layout"]["annotations"]]
    assert len(titles) == 10 and all(float(t.split(": ")[1].rstrip("%")) > 99 for t in titles)

    at.session_state["break_tab"] = "Why it works"
    at.run()
    assert not at.get("plotly_chart")  # the default model has a hidden layer: offer the template network
    at.button[0].click().run()
    assert not at.exception
    assert "of the pixels" in texts(at.markdown) and at.latex
    assert "Template of 9" in chart_text(at)


def test_robustness_curves_and_adversarial_training():
    at = open_break()
    at.session_state["break_tab"] = "Robustness and defence"
    at.run()
    cap = texts(at.caption)
    assert "At eps 0.1: FGSM" in cap
    spec = chart_specs(at)[0]
    curves = {d["name"].split(" ")[0]: values(d["y"]) for d in spec["data"]}
    fgsm, noise = curves["FGSM"], curves["random"]
    assert fgsm[0] > 0.9 and fgsm[-1] < 0.2 and min(noise) > 0.6  # measured, not written in
    next(b for b in at.button if b.label == "Train adversarially").click().run()
    assert not at.exception
    spec = chart_specs(at)[0]
    assert any("Adversarially trained, eps 0.1" in a["text"] for a in spec["layout"]["annotations"])
    after = [values(d["y"]) for d in spec["data"] if d["name"].startswith("FGSM")][1]
    i = int(np.argmin(np.abs(values(spec["data"][0]["x"]) - 0.1)))
    assert after[i] > fgsm[i] + 0.2  # FGSM at eps 0.1 hurts the hardened network much less


def test_a_template_network_as_the_session_model_is_explained_directly():
    from nnviz.lab.attacks import train_template_model
    from nnviz.lab.pretrained import TrainedModel

    tm = train_template_model(load_bundled(), epochs=2)
    at = open_break()
    at.session_state["nnviz_digit_model"] = TrainedModel(tm.model, tm.test_acc, "my template network")
    at.session_state["break_tab"] = "Why it works"
    at.run()
    assert not at.exception
    assert not at.button or all(b.label != "Train the template network" for b in at.button)
    assert "my template network" in texts(at.caption) and "of the pixels" in texts(at.markdown)
