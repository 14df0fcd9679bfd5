"""The MNIST page's maths (nnviz.lab.templates) and figure builders (nnviz.plots.mnist), without Streamlit."""
import numpy as np
import pytest

from nnviz.data.mnist import load_bundled
from nnviz.engine.model import MLP
from nnviz.engine.training import Dataset, EpochStats
from nnviz.lab.templates import (
    confident_mistakes,
    confusion_matrix,
    effective_templates,
    first_layer_images,
    output_templates,
)
from nnviz.plots.digits import GREYS
from nnviz.plots.mnist import (
    colourise,
    confusion_rows,
    confusion_spec,
    curve_rows,
    curve_spec,
    gallery_figure,
    mistake_titles,
    tile_picture,
)
from nnviz.plots.style import DIVERGING, TEST_COLOUR, TRAIN_COLOUR


def small_digits(n_train=2000, n_test=500) -> Dataset:
    d = load_bundled()
    return Dataset(d.x_train[:n_train], d.y_train[:n_train], d.x_test[:n_test], d.y_test[:n_test], 10, "small")


# ----- templates ------------------------------------------------------------------------------------
def test_output_templates_are_the_weights_into_each_output():
    model = MLP.create((784, 10), rng=np.random.default_rng(0))
    t = output_templates(model)
    assert t.shape == (10, 784)
    np.testing.assert_array_equal(t[3], model.weights[0][:, 3])
    with pytest.raises(ValueError):
        output_templates(MLP.create((784, 5, 10), rng=np.random.default_rng(0)))


def test_effective_template_without_hidden_layer_is_the_weight_picture():
    model = MLP.create((784, 10), rng=np.random.default_rng(1))
    x = np.random.default_rng(2).random(784)
    np.testing.assert_allclose(effective_templates(model, x), output_templates(model), rtol=1e-5, atol=1e-6)


def test_effective_template_of_a_linear_network_is_the_product_of_its_weights():
    model = MLP.create((784, 20, 10), activation="linear", rng=np.random.default_rng(3), dtype=np.float64)
    x = np.random.default_rng(4).random((5, 784))
    expected = (model.weights[0] @ model.weights[1]).T  # z = x W1 W2 + ..., so dz_c/dx = (W1 W2)[:, c]
    np.testing.assert_allclose(effective_templates(model, x), expected, rtol=1e-9, atol=1e-12)


def test_effective_template_is_the_score_gradient_by_finite_differences():
    rng = np.random.default_rng(5)
    model = MLP.create((784, 16, 10), activation="tanh", rng=rng, dtype=np.float64)
    x = rng.random(784)
    t = effective_templates(model, x)
    eps = 1e-6
    for c in (0, 7):
        for pixel in (100, 400, 650):
            up, down = x.copy(), x.copy()
            up[pixel] += eps
            down[pixel] -= eps
            numeric = (model.logits(up[None])[0, c] - model.logits(down[None])[0, c]) / (2 * eps)
            assert t[c, pixel] == pytest.approx(numeric, rel=1e-5, abs=1e-9)


def test_first_layer_images_are_columns_of_the_first_weight_matrix():
    model = MLP.create((784, 50, 10), rng=np.random.default_rng(6))
    imgs = first_layer_images(model, 30)
    assert imgs.shape == (30, 784)
    np.testing.assert_array_equal(imgs[29], model.weights[0][:, 29])
    assert first_layer_images(model).shape == (50, 784)


# ----- confusion and mistakes -----------------------------------------------------------------------
def test_confusion_matrix_counts_each_pair():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    cm = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.sum() == len(y_true) and np.trace(cm) == 4


def test_confident_mistakes_are_wrong_and_sorted_by_confidence():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95], [0.7, 0.3]])
    y = np.array([0, 0, 1, 1, 1])  # wrong: rows 1 (0.8), 2 (0.6), 4 (0.7)
    m = confident_mistakes(probs, y, limit=2)
    np.testing.assert_array_equal(m.index, [1, 4])
    np.testing.assert_array_equal(m.true, [0, 1])
    np.testing.assert_array_equal(m.predicted, [1, 0])
    np.testing.assert_allclose(m.confidence, [0.8, 0.7])
    assert len(confident_mistakes(probs[[0, 3]], y[[0, 3]]).index) == 0


# ----- figures --------------------------------------------------------------------------------------
def test_mistake_titles_read_true_arrow_answer_confidence():
    assert mistake_titles([7, 4], [2, 9], [0.98, 0.5]) == ["7 → 2 · 98%", "4 → 9 · 50%"]
    assert mistake_titles([1], [7], [0.123]) == ["1 → 7 · 12%"]


def test_gallery_figure_shows_digits_with_their_labels():
    d = load_bundled()
    fig = gallery_figure(d.x_train[:20], d.y_train[:20])
    assert len(fig.data) == 20
    assert [a.text for a in fig.layout.annotations] == [str(int(v)) for v in d.y_train[:20]]
    assert fig.data[0].zmin == 0 and fig.data[0].zmax == 1


# ----- raster pictures (the live view) ----------------------------------------------------------------
def test_colourise_centres_the_diverging_scale_at_white():
    rgb = colourise(np.array([-2.0, 0.0, 2.0, 5.0, np.nan]), DIVERGING, -2.0, 2.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (5, 3)
    assert tuple(rgb[0]) == (0x21, 0x66, 0xAC)  # most negative: the blue end
    assert tuple(rgb[1]) == (0xF7, 0xF7, 0xF7)  # zero: white
    assert tuple(rgb[2]) == tuple(rgb[3]) == (0xB2, 0x18, 0x2B)  # beyond the scale: clipped to red
    grey = colourise(np.array([0.0, 0.5, 1.0]), GREYS, 0.0, 1.0)
    assert [tuple(g) for g in grey] == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]


def test_tile_picture_draws_each_tile_magnified_with_one_scale():
    imgs = np.zeros((3, 784))
    imgs[0, 0] = 4.0  # top-left pixel of tile 0: the largest value, pure red
    imgs[2, 783] = -1.0  # bottom-right pixel of tile 2: a quarter of the way to blue
    pic = np.asarray(tile_picture(imgs, None, cols=2, px=3, gap=5, colorbar=False))
    pad, tile = 2, 28 * 3
    assert pic.shape == (2 * tile + 5 + 2 * pad, 2 * tile + 5 + 2 * pad, 3)
    np.testing.assert_array_equal(pic[pad:pad + 3, pad:pad + 3], np.full((3, 3, 3), (0xB2, 0x18, 0x2B)))
    assert tuple(pic[pad + 10, pad + 10]) == (0xF7, 0xF7, 0xF7)  # zero is white
    y, x = pad + (tile + 5) + tile - 1, pad + tile - 1  # last pixel of tile 2 (second row, first column)
    expected = colourise(np.array([-1.0]), DIVERGING, -4.0, 4.0)[0]
    assert tuple(pic[y, x]) == tuple(expected)


def test_tile_picture_titles_and_colour_bar_add_room():
    imgs = np.random.default_rng(4).normal(size=(10, 784))
    plain = tile_picture(imgs, None, cols=5, colorbar=False)
    titled = tile_picture(imgs, [str(c) for c in range(10)], cols=5, colorbar=True)
    assert titled.size[0] == plain.size[0] and titled.size[1] > plain.size[1]
    digits = tile_picture(np.random.default_rng(5).random((4, 784)), ["7 → 2 · 98%"] * 4, cols=4, diverging=False)
    assert digits.size[0] == 4 * 28 * 5 + 3 * 10 + 4


# ----- Vega-Lite charts -------------------------------------------------------------------------------
def stats(epoch, loss, acc, end=True):
    return EpochStats(epoch, loss, loss * 1.1, acc, acc - 0.01, 0.1, 0, end)


def test_curve_rows_are_long_format_train_and_test():
    history = [stats(0, 2.3, 0.1), stats(0.5, 0.9, 0.7, end=False), stats(1, 0.5, 0.9)]
    loss = curve_rows(history, "loss")
    assert [(r["epoch"], r["split"]) for r in loss] == [(0, "train"), (0, "test"), (0.5, "train"), (0.5, "test"),
                                                         (1, "train"), (1, "test")]
    assert loss[1]["value"] == pytest.approx(2.3 * 1.1)
    acc = curve_rows(history, "accuracy")
    assert [r["value"] for r in acc if r["split"] == "train"] == [0.1, 0.7, 0.9]
    assert curve_rows([stats(0, float("nan"), 0.1)], "loss") == []  # NaN never reaches the chart


def test_curve_spec_fixes_the_axes_and_colours():
    spec = curve_spec("accuracy", 30, present=True)
    enc = spec["encoding"]
    assert enc["x"]["scale"]["domain"] == [0, 30.0]  # the x axis does not jump while training
    assert enc["y"]["scale"]["domain"] == [0, 1] and enc["y"]["axis"]["format"] == ".0%"
    assert enc["color"]["scale"] == {"domain": ["train", "test"], "range": [TRAIN_COLOUR, TEST_COLOUR]}
    assert enc["strokeDash"]["scale"]["range"][1] != [1, 0]  # test is dashed
    assert spec["height"] > curve_spec("accuracy", 30, present=False)["height"]
    assert curve_spec("loss", 0.2)["encoding"]["x"]["scale"]["domain"] == [0, 1.0]
    assert curve_spec("loss", 5)["encoding"]["y"]["scale"] == {"zero": True}


def test_confusion_rows_share_of_each_true_digit():
    rows = confusion_rows(np.array([[8, 2], [0, 0]]))
    assert rows[0] == {"true": "0", "predicted": "0", "count": 8, "share": 0.8, "label": "8"}
    assert rows[1]["share"] == pytest.approx(0.2)
    assert rows[2]["label"] == "" and rows[2]["share"] == 0.0  # an empty row divides by one, not zero
    spec = confusion_spec(10)
    assert spec["encoding"]["x"]["sort"] == [str(i) for i in range(10)]
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rect", "text"]
