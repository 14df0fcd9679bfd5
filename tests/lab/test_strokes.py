"""The canvas's strokes: what a browser may send is checked, and the strokes are drawn like the canvas does."""
import numpy as np
import pytest

from nnviz.lab.preprocess import ink_bbox, stroke_width
from nnviz.lab.strokes import MAX_POINTS, MAX_STROKES, UNITS, Stroke, parse_strokes, rasterize


def test_parse_clips_to_the_canvas_and_round_trips():
    strokes = parse_strokes([{"w": 12, "p": [10, 20, 30.5, 40, -5, 300]}, {"w": 500, "p": [7, 8]}])
    assert len(strokes) == 2
    np.testing.assert_array_equal(strokes[0].points, [[10, 20], [30.5, 40], [0, UNITS]])
    assert strokes[0].width == 12 and strokes[1].width == 80  # widths are bounded too
    again = parse_strokes([s.as_json() for s in strokes])
    for a, b in zip(strokes, again):
        assert a.width == b.width
        np.testing.assert_array_equal(a.points, b.points)


@pytest.mark.parametrize("raw, words", [
    ({"p": [1, 2]}, "not a list of strokes"),
    (["x"], "not a list of strokes"),
    ([{"w": 3}], "not a list of strokes"),
    ([{"w": 3, "p": []}], "missing coordinate"),
    ([{"w": 3, "p": [1, 2, 3]}], "missing coordinate"),
    ([{"w": 3, "p": [1, "2"]}], "not a list of numbers"),
    ([{"w": 3, "p": [1, [2, 3]]}], "not a list of numbers"),
    ([{"w": 3, "p": [1, float("inf")]}], "not a list of numbers"),
    ([{"w": "fat", "p": [1, 2]}], "not a list of numbers"),
    ([{"w": 3, "p": [1, 2]}] * (MAX_STROKES + 1), f"more than {MAX_STROKES} strokes"),
    ([{"w": 3, "p": [1, 2] * (MAX_POINTS // 2 + 1)}] * 2, "points"),
])
def test_bad_drawings_are_refused_with_a_message(raw, words):
    with pytest.raises(ValueError, match=words):
        parse_strokes(raw)


def test_a_line_is_drawn_where_it_is_with_its_width_and_round_caps():
    ink = rasterize([Stroke(20.0, np.array([[100, 60], [100, 200]], np.float32))])
    assert ink.shape == (UNITS, UNITS) and ink.dtype == np.float32 and ink.max() == 1.0
    top, bottom, left, right = ink_bbox(ink, 0.5)
    assert (top, bottom) == pytest.approx((50, 210), abs=1.5)  # the caps reach half a width past the ends
    assert (left, right) == pytest.approx((90, 110), abs=1.5)
    assert stroke_width(ink > 0.5) == pytest.approx(20, rel=0.15)


def test_a_dot_and_the_same_drawing_at_another_resolution():
    dot = rasterize([Stroke(10.0, np.array([[50, 50]], np.float32))])
    assert dot.sum() == pytest.approx(np.pi * 25, rel=0.25) and dot[50, 50] == 1.0
    seven = [Stroke(16.0, np.array([[80, 60], [200, 60], [120, 230]], np.float32))]
    small, big = rasterize(seven, 280), rasterize(seven, 560)
    # Canvas units, not pixels: twice the side, the same picture (4x the ink).
    assert big.sum() / small.sum() == pytest.approx(4, rel=0.05)
    assert rasterize([]).sum() == 0
