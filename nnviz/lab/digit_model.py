"""The one rule for a model from a file to be the digit model, in the app (the upload on /mnist,
then Draw and Break) and in `python -m nnviz attack --model`.

A digit model takes the 784 pixels of a 28x28 digit and gives 10 outputs, softmax or sigmoid
(Nielsen's network.py ends in sigmoids); it is small enough that one epoch on the bundled
8,000 digits costs a second or two of a core (an 82 KB file can declare 20 million weights,
31 s per epoch); and its answers on real digits are numbers (finite weights can still overflow).
"""
from __future__ import annotations

from nnviz.data.mnist import public_digits
from nnviz.engine.model import MLP
from nnviz.engine.model_files import ModelFileError, check_outputs, load_model

N_PIXELS, N_DIGITS = 784, 10
DIGIT_OUTPUTS = ("softmax", "sigmoid")
# The largest network the MNIST page builds, [784, 500, 500, 10], has 648,010 parameters; one
# epoch costs about 1.5 microseconds of a core per parameter (python -m nnviz.cli.bench_uploads).
MAX_DIGIT_PARAMS = 1_000_000
PROBE_DIGITS = 500  # held-out digits run through an uploaded model before it is accepted


def digit_model_problem(model: MLP) -> str | None:
    """Why `model` cannot be the digit model (one sentence, no trailing period), or None if it can."""
    sizes = list(model.sizes)
    if sizes[0] != N_PIXELS or sizes[-1] != N_DIGITS:
        return (f"it is a {sizes} network; a digit model takes {N_PIXELS} pixels and gives "
                f"{N_DIGITS} outputs")
    if model.arch.output not in DIGIT_OUTPUTS:
        return f"its output layer is {model.arch.output}; a digit model needs softmax or sigmoid"
    if model.n_params > MAX_DIGIT_PARAMS:
        return (f"it has {model.n_params:,} parameters; the limit is {MAX_DIGIT_PARAMS:,}, so that an epoch "
                f"on the bundled digits takes a second or two ([784, 500, 500, 10] has 648,010)")
    try:
        check_outputs(model, public_digits().x_test[:PROBE_DIGITS])
    except ModelFileError:
        return "its outputs on the held-out digits overflow to infinity or NaN (the weights are far too large)"
    return None


def load_digit_model(source) -> MLP:
    """A model file (path, bytes or file) that passes digit_model_problem; else ModelFileError."""
    model = load_model(source)
    problem = digit_model_problem(model)
    if problem:
        raise ModelFileError(f"not a usable digit model: {problem}")
    return model

