"""The Playground's canvas views (nnviz.ui.playground_canvas): the module writes user text as text
only, and a click in the diagram is read back as the neuron it hit."""
from pathlib import Path

import pytest

from nnviz.ui import playground_canvas

JS = (Path(playground_canvas.__file__).with_name("playground_canvas.js")).read_text()


@pytest.mark.parametrize("sink", ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                                  "new Function"])
def test_the_module_never_parses_data_as_html_or_code(sink):
    """Class labels come from uploaded CSVs: they are set with textContent or drawn with fillText."""
    assert sink not in JS


@pytest.mark.parametrize("event, chosen", [
    ({"select": {"layer": 1, "index": 2}}, (1, 2)),
    ({"select": {"clear": True}}, None),  # a double click: back to the output
    ({"select": None}, False),  # no click in this run
    ({"select": {"layer": "x", "index": 0}}, False),
    ({}, False),
    (None, False),
])
def test_a_click_is_read_as_the_neuron_it_hit(monkeypatch, event, chosen):
    monkeypatch.setattr(playground_canvas.st, "session_state", {"k": event})
    assert playground_canvas.selected("k") == chosen
