"""The Playground's pictures as the browser gets them (nnviz.plots.playground): the plane's
picture against the model's own forward pass, the points, the network's links and neuron pictures,
the curves and the headline. Pure functions, no Streamlit."""
import base64
import json
from dataclasses import replace

import numpy as np
import pytest

from nnviz.lab.playground import DEFAULT, FEATURES, PlaygroundRun, feature_map, grid, plane_view
from nnviz.plots.playground import (
    DIVERGING_PALETTE,
    MAX_LINKS,
    boundary_levels,
    boundary_plane,
    curves_data,
    decode,
    headline,
    network_data,
    neuron_index,
    neuron_plane,
    probability_rgb,
)
from nnviz.plots.style import CLASS_COLOURS

R = 60  # grid points per side


def _hex(c):
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)])


def _state(**kw):
    return replace(DEFAULT, **kw)


def _indices(pic) -> np.ndarray:
    """The picture's bytes as the browser reads them: (r, r), row 0 at the top (y = +EXTENT)."""
    return np.frombuffer(base64.b64decode(pic["px"]), dtype=np.uint8).reshape(pic["r"], pic["r"])


def test_probability_colours_fade_to_white_on_the_boundary():
    p = np.array([[[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]]])
    rgb = probability_rgb(p)
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert np.abs(rgb[0, 1] - _hex(CLASS_COLOURS[0])).max() < 60  # strong class-0 colour
    assert np.abs(rgb[0, 2] - _hex(CLASS_COLOURS[1])).max() < 60


def test_the_boundary_picture_is_the_models_forward_pass():
    run = PlaygroundRun(_state(dataset="spiral3", hidden=(6,)))
    run.step(5)
    probs = run.model.forward(feature_map(grid(R), run.state.features)).reshape(R, R, 3)  # row 0: y = -EXTENT
    plane = boundary_plane(plane_view(run.model, run.state.features, R).probs, run.points)
    idx = _indices(plane["picture"])[::-1]  # row 0 at the bottom again
    levels = boundary_levels(3)
    # the winning class and how sure the network is, pixel by pixel
    np.testing.assert_array_equal(idx // levels, probs.argmax(axis=-1))
    conf = (probs.max(axis=-1) - 1 / 3) / (1 - 1 / 3)
    np.testing.assert_array_equal(idx % levels, np.rint(np.sqrt(np.clip(conf, 0, 1)) * (levels - 1)))
    # and the colours the browser looks up are the confidence shading, within the table's steps
    drawn = decode(plane["picture"], plane["palettes"]).astype(int)
    assert np.abs(drawn - probability_rgb(probs)).max() <= 4
    json.dumps(plane)  # plain JSON, nothing numpy left


def test_discretize_draws_one_flat_tint_per_predicted_class():
    run = PlaygroundRun(DEFAULT)
    probs = plane_view(run.model, DEFAULT.features, R).probs
    flat = decode(boundary_plane(probs, run.points, discretize=True)["picture"],
                  boundary_plane(probs, run.points, discretize=True)["palettes"])
    win = probs.argmax(axis=-1)
    for c in (0, 1):
        assert len({tuple(v) for v in flat[win == c]}) == 1
    np.testing.assert_array_equal(flat, probability_rgb(probs, discretize=True))


def test_the_points_train_first_then_test_with_their_classes_and_colours():
    run = PlaygroundRun(DEFAULT)
    probs = plane_view(run.model, DEFAULT.features, R).probs
    pts = run.points
    without = boundary_plane(probs, pts)["points"]
    assert len(without["x"]) == without["n_train"] == len(pts.y_train)
    plane = boundary_plane(probs, pts, show_test=True, labels=["<b>a</b>", "b"])
    p = plane["points"]
    assert len(p["x"]) == len(pts.y_train) + len(pts.y_test) and p["n_train"] == len(pts.y_train)
    np.testing.assert_allclose(p["x"][:3], pts.x_train[:3, 0], atol=5e-4)
    np.testing.assert_allclose(p["y"][-1], pts.x_test[-1, 1], atol=5e-4)
    assert p["c"] == pts.y_train.tolist() + pts.y_test.tolist()
    assert plane["classes"] == ["<b>a</b>", "b"]  # user text as it is: the browser sets it as text
    assert plane["colours"] == CLASS_COLOURS[:2] and plane["show_test"] is True


def test_a_neuron_picture_is_blue_below_zero_and_red_above():
    v = np.linspace(-1, 1, 400).reshape(20, 20)
    plane = neuron_plane(v, "tanh")
    rgb = decode(plane["picture"], plane["palettes"]).astype(int)
    assert (rgb[v < -0.1][:, 2] > rgb[v < -0.1][:, 0]).all() and (rgb[v > 0.1][:, 0] > rgb[v > 0.1][:, 2]).all()
    assert DIVERGING_PALETTE[neuron_index(np.zeros(1), "tanh")[0]].tolist() == [247, 247, 247]  # 0 is white
    assert neuron_index(np.array([np.nan]), "linear").tolist() == [127]
    assert plane["points"]["x"] == []  # no points given


def test_network_nodes_links_and_the_selected_neuron():
    s = _state(hidden=(3, 2), features=("x1", "x2", "x1x2"))
    run = PlaygroundRun(s)
    view = plane_view(run.model, s.features, R)
    net = network_data(run.model, view, ["a", "b", "c"], selected=(1, 2))
    assert net["sizes"] == [3, 3, 2, 2] and len(net["nodes"]) == 3 + 3 + 2 + 2
    assert [(n["layer"], n["index"]) for n in net["nodes"]][:4] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert net["nodes"][3]["name"] == "Hidden layer 1, neuron 1" and net["nodes"][3]["bias"].startswith("bias ")
    assert net["selected"] == [1, 2]
    # every link, coloured by sign, as wide as its weight over the largest one
    w = np.concatenate([x.ravel() for x in run.model.weights])
    links = net["links"]
    assert len(links["f"]) == 3 * 3 + 3 * 2 + 2 * 2
    np.testing.assert_allclose(links["f"], w / np.abs(w).max(), atol=5e-4)
    assert max(abs(f) for f in links["f"]) == 1.0
    first = run.model.weights[0]
    assert (links["l"][1], links["i"][1], links["j"][1]) == (0, 0, 1) and links["f"][1] == pytest.approx(
        first[0, 1] / np.abs(w).max(), abs=5e-4)
    assert net["heads"] == ["Input", "Hidden 1", "Hidden 2", "Output"] and net["subs"][1] == "3 neurons"
    json.dumps(net)


def test_each_neuron_is_drawn_as_its_own_output_over_the_plane():
    s = _state(hidden=(4,), activation="tanh")
    run = PlaygroundRun(s)
    run.step(3)
    net = network_data(run.model, plane_view(run.model, s.features, R), ["x1", "x2"])
    acts = run.model.forward(feature_map(grid(R), s.features), all_layers=True)
    for node in net["nodes"]:
        l, i = node["layer"], node["index"]
        rgb = decode(node["pic"], net["palettes"]).astype(int)
        side = node["pic"]["r"]
        pick = np.unique(np.linspace(0, R - 1, side).round().astype(int))
        values = acts[l].reshape(R, R, -1)[..., i][np.ix_(pick, pick)]
        if l == 2:  # an output: white .. its class colour as its probability grows
            assert np.corrcoef(values.ravel(), -rgb[..., :].sum(axis=-1).ravel())[0, 1] > 0.9
        else:  # red where the neuron is positive, blue where negative
            strong = np.abs(values) > 0.05 * np.abs(values).max()
            assert ((rgb[..., 0] > rgb[..., 2]) == (values > 0))[strong].all(), (l, i)


def test_a_big_network_draws_only_its_strongest_links():
    s = _state(hidden=(32, 32, 32), features=tuple(FEATURES))
    run = PlaygroundRun(s)
    net = network_data(run.model, plane_view(run.model, s.features, 40), [str(f) for f in FEATURES])
    f = np.abs(net["links"]["f"])
    assert len(f) == MAX_LINKS
    w = np.sort(np.abs(np.concatenate([x.ravel() for x in run.model.weights])))
    assert f.min() == pytest.approx(w[-MAX_LINKS] / w[-1], abs=6e-4)
    assert max(n["pic"]["r"] for n in net["nodes"]) == 12  # small pictures for tall columns
    deep = PlaygroundRun(_state(hidden=(2, 2, 2, 2)))
    heads = network_data(deep.model, plane_view(deep.model, DEFAULT.features, 20), ["x1", "x2"])["heads"]
    assert heads[1] == "H1"  # more than 3 hidden layers: short titles, or they would run together


def test_curves_train_and_test_and_the_rewind_marker():
    run = PlaygroundRun(DEFAULT)
    run.step(4)
    c = curves_data(run.history, marker_epoch=2)
    assert c["epochs"] == [0, 1, 2, 3, 4] and c["marker"] == 2.0 and c["step"] == "epoch"
    assert c["loss"]["train"] == pytest.approx([s.train_loss for s in run.history], rel=1e-4)
    assert len(c["loss"]["test"]) == 5 and all(0 <= a <= 1 for a in c["accuracy"]["train"])
    no_test = curves_data(PlaygroundRun(_state(test_ratio=0.0)).history, step="generation")
    assert no_test["loss"]["test"] is None and no_test["marker"] is None and no_test["step"] == "generation"
    json.dumps(c)


def test_headline_pieces():
    run = PlaygroundRun(DEFAULT)
    parts = headline("Output", run.history[-1])
    text = "".join(t for t, _ in parts)
    assert text.startswith("Output \u00b7 test loss ") and "training loss" in text and text.endswith("%")
    assert [b for _, b in parts] == [True, False, True, False, True, False, True]
    no_test = headline("Output", PlaygroundRun(_state(test_ratio=0.0)).history[-1])
    assert "test loss" not in "".join(t for t, _ in no_test)
