"""The MNIST page's maths (nnviz.templates) and figure builders (nnviz.plots.mnist), without Streamlit."""
import numpy as np
import pytest

from nnviz.mnist import load_bundled
from nnviz.model import MLP
from nnviz.plots.digits import GREYS
from nnviz.plots.mnist import (colourise, confusion_figure, gallery_figure, hidden_weights_figure, mistake_titles,
                               mistakes_figure, mosaic, template_figure, tile_figure, tile_picture)
from nnviz.plots.style import DIVERGING
from nnviz.templates import (confident_mistakes, confusion_matrix, effective_templates, first_layer_images,
                             health, output_templates)
from nnviz.training import Dataset, TrainConfig, Trainer


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


# ----- health: a network that cannot learn any more --------------------------------------------------
def train(sizes, activation, output, loss, init, lr, batch, epochs=1):
    data = small_digits()
    rng = np.random.default_rng(0)
    model = MLP.create(sizes, activation, output, loss, init, rng)
    trainer = Trainer(model, data, TrainConfig("sgd", lr, batch), rng)
    initial = trainer.measure(0, 0, 0, True).train_loss
    with np.errstate(all="ignore"):
        for stats in trainer.epochs(epochs):
            pass
        return health(model, data.x_test, stats.test_acc, stats.train_loss, initial, 10)


@pytest.mark.parametrize("sizes,activation,output,loss,init", [
    ((784, 30, 10), "sigmoid", "sigmoid", "quadratic", "normal"),  # network.py at eta 100
    ((784, 100, 10), "relu", "softmax", "cross_entropy", "he"),
])
def test_learning_rate_100_is_diagnosed_as_failed(sizes, activation, output, loss, init):
    h = train(sizes, activation, output, loss, init, lr=100.0, batch=10)
    assert h.failed and h.at_chance and h.reasons


def test_a_learning_network_is_healthy():
    h = train((784, 30, 10), "sigmoid", "sigmoid", "quadratic", "normal", lr=3.0, batch=10)
    assert not h.failed and not h.at_chance


def test_a_slow_network_is_at_chance_but_not_failed():
    h = train((784, 30, 10), "sigmoid", "sigmoid", "quadratic", "normal", lr=0.0003, batch=10)
    assert h.at_chance and not h.failed


# ----- figures --------------------------------------------------------------------------------------
def test_mosaic_places_tiles_row_major_with_nan_gaps():
    imgs = np.arange(3 * 4, dtype=float).reshape(3, 4)  # three 2x2 images
    m = mosaic(imgs, cols=2, gap=1)
    assert m.shape == (5, 5)
    np.testing.assert_array_equal(m[0:2, 0:2], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(m[0:2, 3:5], [[4, 5], [6, 7]])
    np.testing.assert_array_equal(m[3:5, 0:2], [[8, 9], [10, 11]])
    assert np.isnan(m[2]).all() and np.isnan(m[:, 2]).all() and np.isnan(m[3:, 3:]).all()


def test_template_figure_one_diverging_scale_centred_at_zero():
    t = np.random.default_rng(0).normal(size=(10, 784))
    t[4, 10] = -9.0  # the largest magnitude sets the scale of the whole frame
    fig = template_figure(t)
    assert len(fig.data) == 1
    h = fig.data[0]
    assert h.zmax == pytest.approx(9.0) and h.zmin == pytest.approx(-9.0)
    assert [list(c) for c in h.colorscale] == [list(c) for c in DIVERGING]
    assert [a.text for a in fig.layout.annotations] == [str(c) for c in range(10)]
    # top-left tile is digit 0 with its first row on top (heatmap rows run upwards)
    z = np.array(h.z, dtype=float)
    np.testing.assert_allclose(z[-1, :28], t[0, :28])


def test_tile_figure_digits_in_grey_from_zero_to_one():
    imgs = np.random.default_rng(1).random((6, 784))
    fig = tile_figure(imgs, [f"t{i}" for i in range(6)], cols=3, diverging=False)
    h = fig.data[0]
    assert (h.zmin, h.zmax) == (0.0, 1.0)
    assert [list(c) for c in h.colorscale] == [list(c) for c in GREYS]
    assert len(fig.layout.annotations) == 6


def test_hidden_weights_figure_names_each_neuron_on_hover():
    w = np.random.default_rng(2).normal(size=(12, 784))
    fig = hidden_weights_figure(w, cols=5)
    h = fig.data[0]
    names = {v for row in h.customdata for v in row if v}
    assert names == {f"neuron {i}" for i in range(1, 13)}
    assert h.zmin == -h.zmax == pytest.approx(-np.abs(w).max())


def test_confusion_figure_colours_by_row_share_and_writes_counts():
    cm = np.array([[8, 2], [1, 1]])
    fig = confusion_figure(cm)
    h = fig.data[0]
    np.testing.assert_allclose(np.array(h.z), [[0.8, 0.2], [0.5, 0.5]])
    assert [list(r) for r in h.text] == [["8", "2"], ["1", "1"]]


def test_mistakes_figure_titles_and_empty_case():
    imgs = np.random.default_rng(3).random((2, 784))
    fig = mistakes_figure(imgs, [7, 4], [2, 9], [0.98, 0.5])
    assert [a.text for a in fig.layout.annotations] == ["7 → 2 · 98%", "4 → 9 · 50%"]
    assert mistake_titles([1], [7], [0.123]) == ["1 → 7 · 12%"]
    empty = mistakes_figure(np.zeros((0, 784)), [], [], [])
    assert "No mistakes" in empty.layout.annotations[0].text


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
