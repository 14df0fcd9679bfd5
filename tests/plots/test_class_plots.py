"""The class board's figures: every network placed by its figures, names escaped for Plotly."""
import json

import numpy as np

from nnviz.plots.classroom import attack_matrix_figure, board_scatter, plot_text


def test_plot_text_escapes_the_html_plotly_would_render():
    assert plot_text('<a href="http://x">Ann</a> & <b>') == '&lt;a href="http://x"&gt;Ann&lt;/a&gt; &amp; &lt;b&gt;'


def test_scatter_puts_students_and_each_reference_apart_in_percent():
    fig = board_scatter(["Ann", "<b>Bo</b>", "Reference: default model"], [0.9, 0.8, 0.95], [0.2, 0.1, 0.05],
                        [None, None, "default"], eps=0.1, present=True)
    students = next(t for t in fig.data if t.name == "students")
    assert list(students.x) == [90.0, 80.0] and list(students.y) == [20.0, 10.0]
    assert list(students.text) == ["Ann", "&lt;b&gt;Bo&lt;/b&gt;"]
    ref = next(t for t in fig.data if t.name == "default model")
    assert list(ref.x) == [95.0] and ref.marker.symbol == "diamond"
    assert "<b>Bo</b>" not in json.dumps(fig.to_plotly_json(), default=str)


def test_matrix_shows_each_count_on_its_cell():
    fooled = np.array([[3, 0], [20, 7]])
    fig = attack_matrix_figure(["Ann", "Bo"], ["Cy", "<i>Di</i>"], fooled, 20)
    heat = fig.data[0]
    assert np.array_equal(np.asarray(heat.z), fooled) and list(heat.text.ravel()) == ["3", "0", "20", "7"]
    assert list(heat.x) == ["Cy", "&lt;i&gt;Di&lt;/i&gt;"] and heat.zmax == 20


def test_a_pair_never_attacked_is_empty_not_zero():
    fig = attack_matrix_figure(["Ann"], ["Bo", "Cy"], np.array([[0, 5]]), 20, attacked=np.array([[False, True]]))
    heat = fig.data[0]
    assert np.isnan(np.asarray(heat.z, float)[0, 0]) and list(heat.text.ravel()) == ["", "5"]
