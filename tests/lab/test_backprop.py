"""The step-by-step backprop example: Mazur's published figures to 8 decimal places, the other
presets against finite differences, and the update the engine's SGD makes."""
import numpy as np
import pytest

from nnviz.lab.backprop import as_dict, backprop_step, custom, mazur, notebook

# Matt Mazur, "A Step by Step Backpropagation Example" (2015), as published.
MAZUR_HIDDEN = (0.593269992, 0.596884378)
MAZUR_OUTPUT = (0.75136507, 0.772928465)
MAZUR_ERROR = 0.298371109
MAZUR_AFTER = {"w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229,
               "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121}


def mazur_weights(weights):
    """His w1..w8 from the engine's (n_in, n_out) matrices: w1 i1->h1, w2 i2->h1, w3 i1->h2, ..."""
    (w_h, w_o) = weights
    return {"w1": w_h[0][0], "w2": w_h[1][0], "w3": w_h[0][1], "w4": w_h[1][1],
            "w5": w_o[0][0], "w6": w_o[1][0], "w7": w_o[0][1], "w8": w_o[1][1]}


def same_to_8_places(ours, his):
    assert round(ours, 8) == round(his, 8), (ours, his)


def test_mazur_reproduces_his_published_figures_to_8_decimal_places():
    step = backprop_step(mazur())
    for ours, his in zip(step.trace.a[0][0], MAZUR_HIDDEN):
        same_to_8_places(ours, his)
    for ours, his in zip(step.trace.a[1][0], MAZUR_OUTPUT):
        same_to_8_places(ours, his)
    # The engine's quadratic cost is 1/2 sum (a - y)^2 per example: his E_total, no rescaling.
    same_to_8_places(step.cost_before, MAZUR_ERROR)
    after = mazur_weights(step.after.weights)
    for name, his in MAZUR_AFTER.items():
        same_to_8_places(after[name], his)
    # He updates only the weights: the shared biases stay 0.35 and 0.60.
    np.testing.assert_array_equal(step.after.biases[0], [0.35, 0.35])
    np.testing.assert_array_equal(step.after.biases[1], [0.60, 0.60])
    assert step.cost_after < step.cost_before
    # His intermediate figures on the way: dE/dw5 = 0.082167041, delta_o1 = 0.138498562.
    same_to_8_places(step.trace.grads.weights[1][0, 0], 0.082167041)
    same_to_8_places(step.trace.delta[1][0, 0], 0.138498562)


@pytest.mark.parametrize("example", [mazur(), notebook(), custom((4, 4), "tanh", "cross_entropy", seed=3),
                                     custom((3,), "relu", "quadratic", seed=1), custom((), "sigmoid")])
def test_every_gradient_matches_its_finite_difference_and_the_update_is_minus_eta_grad(example):
    step = backprop_step(example)
    for analytic, numeric in zip([*step.trace.grads.weights, *step.trace.grads.biases],
                                 [*step.numeric.weights, *step.numeric.biases]):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-9)
    for before, g, after in zip(example.model.weights, step.trace.grads.weights, step.after.weights):
        np.testing.assert_allclose(after, before - example.eta * g)
    for before, g, after in zip(example.model.biases, step.trace.grads.biases, step.after.biases):
        np.testing.assert_allclose(after, before - example.eta * g if example.update_biases else before)


def test_the_notebook_preset_is_a_2_3_2_tanh_softmax_net_on_one_moons_point():
    ex = notebook()
    assert ex.model.sizes == (2, 3, 2) and ex.model.arch.activation == "tanh"
    assert ex.model.arch.output == "softmax" and ex.model.arch.loss == "cross_entropy"
    assert ex.y.sum() == 1 and set(ex.y[0]) == {0.0, 1.0}
    step = backprop_step(ex)
    np.testing.assert_allclose(step.trace.delta[-1], step.trace.a[-1] - ex.y)  # softmax + CE


def test_custom_sizes_are_bounded_with_a_message():
    with pytest.raises(ValueError, match="up to 2 hidden layers"):
        custom((4, 4, 4))
    with pytest.raises(ValueError, match="1 to 4 neurons"):
        custom((5,))


def test_as_dict_has_the_documented_keys_and_shapes():
    d = as_dict(backprop_step(custom((4, 3), "sigmoid", seed=2)))
    assert {"z", "a", "delta", "grad_w", "grad_b", "cost_before", "cost_after", "weights_after"} <= set(d)
    assert [len(z) for z in d["z"]] == [4, 3, 2]
    assert [np.shape(g) for g in d["grad_w"]] == [(2, 4), (4, 3), (3, 2)]  # (n_in, n_out)
    assert [np.shape(w) for w in d["weights_after"]] == [(2, 4), (4, 3), (3, 2)]
