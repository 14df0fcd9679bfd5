"""/learn's figures and equations without Streamlit: the clickable planes' specs, the diagram's
labels per stage, the landscape figure, and the numbers written into the LaTeX."""
import numpy as np
import pytest

from nnviz.lab.backprop import backprop_step, custom, mazur
from nnviz.lab.descent import NeuronOnMoons
from nnviz.lab.landscape import landscape
from nnviz.lab.playground import PlaygroundRun, PlaygroundState
from nnviz.plots.learn import PICK, descent_spec, landscape_figure, network_figure, neuron_spec
from nnviz.plots.learn_tex import STAGES, aligned, fac, neuron_tex, num, sig, stage_tex


def test_neuron_plane_is_clickable_cells_with_the_point_marked():
    axis = np.linspace(-1.8, 1.8, 5)
    spec = neuron_spec(np.zeros((5, 5)) + 0.5, axis, "sigmoid", (0.5, 0.3))
    base = spec["layer"][0]
    assert base["params"][0]["name"] == PICK and base["params"][0]["select"]["fields"] == ["u", "v"]
    cells = base["data"]["values"]
    assert len(cells) == 25 and cells[0]["u0"] == pytest.approx(-2.25) and cells[-1]["v1"] == pytest.approx(2.25)
    assert spec["datasets"]["point"] == [{"u": 0.5, "v": 0.3}]
    assert base["encoding"]["color"]["scale"]["domain"] == [0.0, 1.0]


def test_descent_spec_carries_every_path_and_an_arrow_along_minus_the_gradient():
    m = NeuronOnMoons("linear")
    s = m.surface(11)
    paths = {"sgd": np.array([[0.0, 0.0], [0.5, -0.5]]), "adam": np.array([[0.0, 0.0]])}
    spec = descent_spec(s.cost, s.w1, s.w2, paths, np.array([[0.5, -0.5], [1.0, -0.5]]),
                        {"sgd": "Gradient descent", "adam": "Adam"})
    assert len(spec["datasets"]["paths"]) == 3 and len(spec["datasets"]["heads"]) == 2
    assert spec["datasets"]["start"] == [{"u": 0.0, "v": 0.0}]
    assert spec["datasets"]["arrow"][0]["angle"] == pytest.approx(90)  # pointing right
    assert len(spec["layer"][0]["data"]["values"]) == 121


@pytest.mark.parametrize("stage", range(1, STAGES + 1))
def test_the_diagram_labels_every_link_with_what_the_stage_computes(stage):
    step = backprop_step(mazur())
    fig = network_figure(step, stage)
    labels = [a.text for a in fig.layout.annotations]
    assert len(labels) == 8  # one per weight
    if stage == 5:
        assert any("0.08217" in t for t in labels)  # dC/dw5
    elif stage == 6:
        assert "0.3589" in labels  # w5 after the update
    else:
        assert "0.4" in labels  # w5 itself
    text = " ".join(str(t) for trace in fig.data for t in (trace.text or []))
    assert ("0.5933" in text) == (stage == 2)


def test_equations_have_the_numbers_and_a_line_per_neuron_or_link():
    step = backprop_step(custom((4, 3), "tanh", "cross_entropy", seed=1))
    assert len(stage_tex(step, 2)) == 1 + 2 * (4 + 3 + 2) + 1  # z and a per neuron, then the cost
    assert len(stage_tex(step, 4)) == 1 + 3 + 4
    assert len(stage_tex(step, 5)) == 1 + 8 + 12 + 6
    assert aligned(["a = 1", "b = 2"]) == r"\begin{aligned}a &= 1 \\[3pt] b &= 2\end{aligned}"
    assert neuron_tex(0.8, -1.2, 0.1, "sigmoid", 0.5, 0.3, 0.535) == (
        r"a = \sigma(0.8 \cdot 0.5 - 1.2 \cdot 0.3 + 0.1) = \sigma(0.14) = \mathbf{0.535}")
    assert num(-0.0000001) == "0" and num(0.150000) == "0.15" and num(-2.5, 2) == "{-}2.5"
    assert sig(0.000438568) == "0.0004386" and fac(-0.5) == "({-}0.5)"


def test_landscape_figure_marks_the_trained_point_and_the_path():
    run = PlaygroundRun(PlaygroundState(hidden=(3,), n_points=100))
    run.step(3)
    epochs = run.snapshots.epochs
    land = landscape(run.model, run.data.x_train, run.data.y_train,
                     [run.snapshots.model_at(e, run.model).params() for e in epochs], epochs, resolution=11)
    fig = landscape_figure(land)
    assert fig.data[0].type == "contour" and len(fig.data[1].x) == len(epochs)
    assert fig.data[-1].name.startswith("trained: loss")
