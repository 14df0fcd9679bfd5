"""The Draw page without a browser (AppTest): a drawing injected as the canvas's value."""
import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "draw.py")
CANVAS_KEY = "draw_canvas_0"


def drawing(draw_fn) -> dict:
    """What the canvas component stores: Fabric.js objects and the RGBA PNG it rendered (white on black)."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    draw_fn(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}}


def one(d):  # a small "1" high up on the left: a naive resize would misread it
    d.line([(60, 20), (60, 120)], fill="white", width=12)


def zero(d):
    d.ellipse((90, 60, 190, 220), outline="white", width=16)


def seven(d):
    d.line([(80, 60), (200, 60), (120, 230)], fill="white", width=16, joint="curve")


@pytest.fixture
def at():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


def predicted(app) -> str | None:
    return app.header[0].value if len(app.header) else None


def test_empty_canvas_asks_for_a_digit(at):
    assert any("Draw a digit" in i.value for i in at.info)
    assert predicted(at) is None
    assert any("held-out digits" in c.value for c in at.caption)  # which model, and how good


@pytest.mark.parametrize("fn, digit", [(one, "1"), (zero, "0"), (seven, "7")])
def test_drawing_is_predicted_and_handed_to_the_break_page(at, fn, digit):
    at.session_state[CANVAS_KEY] = drawing(fn)
    at.run()
    assert not at.exception and not at.error
    assert predicted(at) == digit
    x = at.session_state["nnviz_drawn_digit"]
    assert x.shape == (784,) and x.max() == pytest.approx(1.0)
    assert len(at.get("plotly_chart")) == 5  # input, naive resize, probabilities, attribution, template
    assert any("as most demos do" in m.value for m in at.markdown)
    assert any("Why" in h.value for h in at.subheader)
    timing = [c.value for c in at.caption if "to prediction on the server" in c.value]
    assert timing and float(timing[0].split("server: ")[1].split(" ms")[0]) < 1000


def test_test_digit_button_and_clear(at):
    at.button[2].click().run()  # "Show me a test digit"
    assert at.button[2].label == "Show me a test digit"
    caption = next(c.value for c in at.caption if "Held-out MNIST digit" in c.value)
    x = at.session_state["nnviz_drawn_digit"]
    from nnviz.ui.session import default_model
    model = default_model().model  # the page's own model, from the cache (no second training)
    assert predicted(at) == str(int(model.predict(x[None])[0]))
    assert "true label" in caption
    at.button[1].click().run()  # Clear
    assert predicted(at) is None and any("Draw a digit" in i.value for i in at.info)


@pytest.mark.parametrize("data", ["data:image/png;base64,AAAA", "data:image/png,no-base64", "data:;base64,A"])
def test_unreadable_canvas_picture_gives_a_message_not_a_traceback(at, data):
    at.session_state[CANVAS_KEY] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": data}}
    at.run()
    assert not at.exception
    assert at.error and "unreadable" in at.error[0].value and predicted(at) is None


def test_no_strokes_means_empty_even_with_a_picture(at):
    state = drawing(one)
    state["drawing"]["raw"]["objects"] = []  # the canvas after Reset: a black picture, no objects
    at.session_state[CANVAS_KEY] = state
    at.run()
    assert predicted(at) is None and any("Draw a digit" in i.value for i in at.info)


def photo_of_a_seven() -> bytes:
    """A JPEG "photo": a dark-pen 7 on off-white paper, off-centre."""
    img = Image.new("RGB", (640, 480), (225, 222, 215))
    ImageDraw.Draw(img).line([(150, 80), (330, 80), (220, 400)], fill=(35, 35, 50), width=22, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def test_photo_upload_is_inverted_and_predicted(at):
    at.file_uploader[0].set_value(("seven.jpg", photo_of_a_seven(), "image/jpeg")).run()
    assert not at.exception and not at.error
    assert predicted(at) == "7"
    assert any(c.value == "Your photo" for c in at.caption)


def test_bad_photo_gets_a_message(at):
    at.file_uploader[0].set_value(("digit.png", b"this is not a picture", "image/png")).run()
    assert not at.exception
    assert at.error and "PNG or JPEG" in at.error[0].value and predicted(at) is None


def test_the_sessions_own_model_is_used_and_named(at):
    """A model trained on the MNIST page (here: a no-hidden-layer one) replaces the default."""
    from nnviz.engine.model import MLP
    from nnviz.lab.pretrained import TrainedModel

    own = MLP.create((784, 10), rng=np.random.default_rng(0))
    at.session_state["nnviz_digit_model"] = TrainedModel(own, 0.123, "my tiny model")
    at.session_state[CANVAS_KEY] = drawing(seven)
    at.run()
    assert not at.exception
    assert any("Your model from the MNIST page: my tiny model; 12.3%" in c.value for c in at.caption)
    x = at.session_state["nnviz_drawn_digit"]
    assert predicted(at) == str(int(own.predict(x[None])[0]))
    assert any("(its weights)" in m.value for m in at.markdown)
