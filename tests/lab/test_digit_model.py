"""The one rule for a digit model from a file, shared by the /mnist upload and `attack --model`."""
import numpy as np
import pytest

from nnviz.engine.model import MLP, Architecture
from nnviz.engine.model_files import ModelFileError, model_to_bytes
from nnviz.lab.digit_model import MAX_DIGIT_PARAMS, digit_model_problem, load_digit_model


def _model(sizes, output="softmax", loss="cross_entropy", activation="relu") -> MLP:
    return MLP.create(sizes, activation, output, loss, "he", np.random.default_rng(0))


@pytest.mark.parametrize("output, loss", [("softmax", "cross_entropy"), ("sigmoid", "quadratic"),
                                          ("sigmoid", "cross_entropy")])
def test_softmax_and_sigmoid_digit_models_are_usable(output, loss):
    model = _model((784, 30, 10), output, loss)
    assert digit_model_problem(model) is None
    loaded = load_digit_model(model_to_bytes(model))
    assert loaded.sizes == (784, 30, 10) and loaded.arch.output == output


@pytest.mark.parametrize("sizes", [(784, 30, 9), (785, 10), (2, 4, 10)])
def test_wrong_shape_is_refused(sizes):
    assert "784 pixels" in digit_model_problem(_model(sizes))


def test_linear_output_is_refused():
    assert "softmax or sigmoid" in digit_model_problem(_model((784, 10), "linear", "quadratic"))


def test_the_biggest_network_the_mnist_page_builds_is_within_the_cap():
    assert _model((784, 500, 500, 10)).n_params <= MAX_DIGIT_PARAMS


def test_a_model_too_costly_to_train_is_refused_with_its_size():
    """The issue's 82 KB file declared [784, 3000, 3000, 3000, 10]: 31 s per epoch. Zeros keep it small."""
    sizes = (784, 3000, 3000, 10)
    model = MLP(Architecture(sizes, "relu", "softmax", "cross_entropy"),
                [np.zeros((a, b), np.float32) for a, b in zip(sizes[:-1], sizes[1:])],
                [np.zeros(b, np.float32) for b in sizes[1:]])
    data = model_to_bytes(model)
    assert len(data) < 200_000
    with pytest.raises(ModelFileError, match="parameters; the limit is 1,000,000") as err:
        load_digit_model(data)
    assert f"{model.n_params:,}" in str(err.value)


def test_outputs_that_overflow_on_real_digits_are_refused():
    """Finite float32 weights of 3e38: the file loads as numbers, the answers are NaN."""
    model = _model((784, 16, 10))
    model.weights[1][:] = 3e38
    model.weights[0][:] = np.abs(model.weights[0])  # every hidden unit active on a digit
    problem = digit_model_problem(model)
    assert problem and "overflow" in problem
