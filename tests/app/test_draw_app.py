"""The Draw page without a browser (AppTest): a drawing injected as the canvas's value."""
import io
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "draw.py")
CANVAS_KEY = "draw_pad"


def strokes(*lines, width=14) -> list[dict]:
    """Strokes as the canvas sends them: canvas units (0..280), {"w": width, "p": [x0, y0, x1, y1, ...]}."""
    return [{"w": width, "p": [float(v) for xy in pts for v in xy]} for pts in lines]


def sent(the_strokes, seq=1, done=True, rev=0, mount="test") -> dict:
    """The canvas component's state after it sent a drawing."""
    return {"drawing": {"mount": mount, "seq": seq, "rev": rev, "done": done, "strokes": the_strokes}}


def oval(cx, cy, rx, ry, n=40):
    return [(cx + rx * math.sin(2 * math.pi * t / n), cy - ry * math.cos(2 * math.pi * t / n)) for t in range(n + 1)]


ONE = strokes([(60, 20), (60, 120)], width=12)  # a small "1" high up on the left: a naive resize would misread it
ZERO = strokes(oval(140, 140, 50, 80), width=16)
SEVEN = strokes([(80, 60), (200, 60), (120, 230)], width=16)


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


@pytest.mark.parametrize("drawn, digit", [(ONE, "1"), (ZERO, "0"), (SEVEN, "7")])
def test_drawing_is_predicted_and_handed_to_the_break_page(at, drawn, digit):
    at.session_state[CANVAS_KEY] = sent(drawn)
    at.run()
    assert not at.exception and not at.error
    assert predicted(at) == digit
    x = at.session_state["nnviz_drawn_digit"]
    assert x.shape == (784,) and x.max() == pytest.approx(1.0)
    assert len(at.get("plotly_chart")) == 3  # attribution, template, naive resize (the live views are light)
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


def test_a_drawing_while_the_pen_moves_then_undo_and_a_stale_send(at):
    """Each send is read once, live (pen down) or done; Undo drops the last stroke at once, and a send
    drawn on the canvas before it took the Undo (an older rev) is ignored."""
    at.session_state[CANVAS_KEY] = sent(ONE, seq=1, done=False)
    at.run()
    assert predicted(at) == "1" and at.session_state["nnviz_draw"]["live"]
    bar = strokes([(20, 22), (45, 21), (70, 20)], width=12)
    at.session_state[CANVAS_KEY] = sent(ONE + bar, seq=2, done=True)
    at.run()
    assert predicted(at) == "7" and not at.session_state["nnviz_draw"]["live"]
    undo = next(b for b in at.button if b.label == "Undo")
    undo.click().run()
    assert predicted(at) == "1"
    assert at.session_state["nnviz_draw"]["strokes_rev"] == 1
    at.session_state[CANVAS_KEY] = sent(ONE + bar + bar, seq=3, rev=0)  # sent before the canvas saw the Undo
    at.run()
    assert predicted(at) == "1"


@pytest.mark.parametrize("bad, words", [
    ("not a list", "not a list of strokes"),
    ([{"w": 10, "p": [1, 2, "x", 4]}], "not a list of numbers"),
    ([{"w": 10, "p": [1, 2, float("nan"), 4]}], "not a list of numbers"),
    ([{"w": 10, "p": [1, 2, 3]}], "missing coordinate"),
    ([{"w": 10, "p": [1.0, 2.0] * 20_001}], "more than 20,000 points"),
])
def test_a_bad_drawing_gives_a_message_not_a_traceback(at, bad, words):
    at.session_state[CANVAS_KEY] = sent(bad)
    at.run()
    assert not at.exception
    assert at.error and words in at.error[0].value and predicted(at) is None


def test_no_strokes_means_empty(at):
    at.session_state[CANVAS_KEY] = sent([])
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
    at.session_state[CANVAS_KEY] = sent(SEVEN)
    at.run()
    assert not at.exception
    assert any("Your model from the MNIST page: my tiny model; 12.3%" in c.value for c in at.caption)
    x = at.session_state["nnviz_drawn_digit"]
    assert predicted(at) == str(int(own.predict(x[None])[0]))
    assert any("(its weights)" in m.value for m in at.markdown)
