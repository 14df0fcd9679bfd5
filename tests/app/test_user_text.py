"""Every piece of user text on every page reaches the browser as plain text, never as Markdown.

One hostile string, made of every construct Streamlit's Markdown renders (an image the browser
would fetch, a link, a colour directive, KaTeX, bold, HTML), goes down each path by which user
text reaches a page: the Playground's CSV upload (file name, header cells, data cells), the MNIST
page's model upload (file name), and the description of the uploaded model on MNIST, Draw and
Break. After each step every Markdown element on the page is scanned: each construct must be there
escaped (so the text is shown) and never raw (so it is not rendered).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnviz.engine.model import MLP
from nnviz.engine.model_files import model_to_bytes

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(240)

# Each construct puts a Markdown mark right before the marker "zqx"; the marks are what must be escaped.
TOKENS = ["![zqx1](http://127.0.0.1:9/zqx.png)", "[zqx2](http://127.0.0.1:9/)", ":red[zqx3]", "$zqx4^2$",
          "**zqx5**", "<b>zqx6</b>", "_zqx7_", "`zqx8`"]
HOSTILE = " ".join(TOKENS)
MARKDOWN_KINDS = ("markdown", "caption", "error", "warning", "info", "success", "toast", "title", "header",
                  "subheader", "exception", "expander", "tab")
MARKER = re.compile(r"zqx\d", re.IGNORECASE)


def markdown_bodies(at: AppTest) -> list[str]:
    """The source text of every element Streamlit renders as Markdown (labels included)."""
    bodies = []
    for kind in MARKDOWN_KINDS:
        for element in at.get(kind):
            for attr in ("value", "label", "body", "message"):
                text = getattr(element, attr, None)
                if isinstance(text, str):
                    bodies.append(text)
    return bodies


def raw_markdown_around_user_text(bodies: list[str]) -> list[str]:
    """Each place where a Markdown mark right before a marker is not escaped with a backslash."""
    found = []
    for body in bodies:
        for m in MARKER.finditer(body):
            before = body[max(0, m.start() - 2):m.start()]
            if before and not before[-1].isalnum() and not before[-1].isspace() and not before.startswith("\\"):
                found.append(f"{before}{m.group()} in {body[:160]!r}")
    return found


def shown_markers(bodies: list[str]) -> set[str]:
    return {m.group().lower() for body in bodies for m in MARKER.finditer(body)}


def assert_plain(at: AppTest, must_show: int = 1) -> None:
    assert not at.exception, at.exception
    bodies = markdown_bodies(at)
    assert raw_markdown_around_user_text(bodies) == []
    assert len(shown_markers(bodies)) >= must_show, bodies  # the text is shown, not dropped


def test_the_detector_sees_raw_markdown_and_accepts_escaped_text():
    from nnviz.ui.text import plain
    assert len(raw_markdown_around_user_text([HOSTILE])) == len(TOKENS)
    assert raw_markdown_around_user_text([plain(HOSTILE), f":material/check: Loaded {plain(HOSTILE)}."]) == []


def test_playground_csv_name_and_cells_are_plain_text():
    at = AppTest.from_file(str(ROOT / "pages" / "playground.py"), default_timeout=60).run()
    upload = lambda name, data: at.file_uploader(key="pg_w_upload").set_value((name, data, "text/csv")).run()  # noqa: E731
    header = ",".join(TOKENS[:4]).encode()  # four header cells: the message quotes them
    upload(f"{HOSTILE}.csv", header + b"\n0,0,0\n1,1,1\n")
    assert_plain(at, must_show=3)
    upload("cells.csv", f"x1,x2,label\n0,0,0\n{TOKENS[1][:18]},1,1\n1,0,1\n0,1,0\n".encode())
    assert_plain(at)
    upload(f"{HOSTILE}.csv", b"0,0,0\n1,1,1\n0,1,0\n1,0,1\n")  # a good file: the success message names it
    assert_plain(at, must_show=len(TOKENS))
    assert at.session_state["pg_custom"].name == f"{HOSTILE}.csv"  # stored as typed, escaped when shown


def test_model_file_name_and_description_are_plain_text_on_every_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page("pages/mnist.py").run()
    upload = lambda name, data: at.file_uploader(key="mnist_upload").set_value(  # noqa: E731
        (name, data, "application/octet-stream")).run()
    upload(f"{HOSTILE}.npz", b"not a model")
    assert_plain(at, must_show=len(TOKENS))
    good = MLP.create((784, 10), "relu", "softmax", "cross_entropy", "glorot", np.random.default_rng(0))
    upload(f"{HOSTILE}.npz", model_to_bytes(good))
    assert_plain(at, must_show=len(TOKENS))  # "Loaded ..." and the run's description
    for page in ("pages/draw.py", "pages/break.py"):  # the model's description in their captions
        at.switch_page(page).run()
        assert_plain(at, must_show=len(TOKENS))
