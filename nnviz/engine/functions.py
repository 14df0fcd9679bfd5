"""Activation functions, output functions and losses, written in place on NumPy arrays.

Every hidden activation's derivative is expressed through its *output* a = f(z), so the
forward pass keeps only the activations (the per-neuron pictures need them anyway), never z.
"""
from __future__ import annotations

import numpy as np

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
OUTPUTS = ("softmax", "sigmoid", "linear")
LOSSES = ("cross_entropy", "quadratic")
LEAKY_SLOPE = 0.01
SHIFT_SPAN = 60.0  # softmax over a batch: see output()


# NumPy broadcasts and reduces over a short last axis one row at a time, which is slow for a tall,
# narrow array (a 200x200 grid through a 2-8-8-2 network has 40,000 rows of 2 to 8 values). From
# COLUMNWISE_ROWS rows per column on, the helpers below work on whole columns or long rows instead.
COLUMNWISE_ROWS = 64


def _tall(z: np.ndarray) -> bool:
    return z.shape[0] >= COLUMNWISE_ROWS * z.shape[1]


def add_bias(z: np.ndarray, b: np.ndarray) -> np.ndarray:
    """z += b in place for z (batch, n) and b (n,); returns z."""
    n, k = z.shape
    if n < COLUMNWISE_ROWS * k or k >= 64 or not z.flags.c_contiguous:
        z += b
        return z
    # Tall and narrow: r consecutive rows side by side form one long row, (n, k) -> (n / r, r k),
    # and b is tiled r times.
    r = 8192 // k  # long rows: NumPy's inner loop then runs thousands of elements at a time
    n0 = n - n % r
    block = z[:n0].reshape(-1, r * k)  # a view: z is C-contiguous
    np.add(block, np.tile(b, r), out=block)
    z[n0:] += b  # the last n % r rows
    return z


def _row_max(z: np.ndarray) -> np.ndarray:
    """max over each row of a tall z (batch, k), column by column. Returns (batch,)."""
    m = z[:, 0].copy()
    for j in range(1, z.shape[1]):
        np.maximum(m, z[:, j], out=m)
    return m


def _columns(op, z: np.ndarray, v: np.ndarray) -> None:
    """z[:, j] = op(z[:, j], v) for every column j, in place; v (batch,)."""
    for j in range(z.shape[1]):
        op(z[:, j], v, out=z[:, j])


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """Apply hidden activation `name` to z in place and return it."""
    if name == "sigmoid":
        # 1 / (1 + exp(-z)); exp overflow to inf gives exactly 0, which is the right limit.
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        np.reciprocal(z, out=z)
    elif name == "tanh":
        np.tanh(z, out=z)
    elif name == "relu":
        np.maximum(z, 0.0, out=z)
    elif name == "leaky_relu":
        np.maximum(z, LEAKY_SLOPE * z, out=z)
    elif name != "linear":
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(HIDDEN_ACTIVATIONS)}")
    return z


def scale_by_derivative(name: str, a: np.ndarray, delta: np.ndarray, tmp: np.ndarray | None = None) -> None:
    """delta *= f'(z), with f'(z) written through a = f(z). Modifies delta in place."""
    if name == "sigmoid":  # a (1 - a)
        tmp = np.subtract(1.0, a, out=tmp)
        tmp *= a
        delta *= tmp
    elif name == "tanh":  # 1 - a^2
        tmp = np.multiply(a, a, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        delta *= tmp
    elif name == "relu":
        delta *= a > 0
    elif name == "leaky_relu":
        delta *= np.where(a > 0, 1.0, LEAKY_SLOPE).astype(delta.dtype, copy=False)
    elif name != "linear":
        raise ValueError(f"unknown activation {name!r}")


def output(name: str, z: np.ndarray) -> np.ndarray:
    """Apply output function `name` to the logits z (batch, k) in place and return it."""
    if name == "softmax":
        if z.shape[0] == 1 and z.shape[1] <= 32:  # one example (a drawn digit): the fewest NumPy calls
            top = max(z.tolist()[0])
            if not -7.0 < top < 69.0:  # unshifted, exp could overflow or the sum come near 0
                z -= top
            np.exp(z, out=z)
            return np.multiply(z, 1.0 / sum(z.tolist()[0]), out=z)
        if _tall(z):  # same maths, column by column; the row sums as one matrix-vector product
            _columns(np.subtract, z, _row_max(z))
            np.exp(z, out=z)
            _columns(np.divide, z, z @ np.ones(z.shape[1], z.dtype))
            return z
        # Shifting every row by the batch's own maximum is the same softmax and costs one fast
        # reduction instead of a row-wise one (3 times slower over rows of 10). While the batch spans
        # less than SHIFT_SPAN, every exp lies in [e^-60, 1]: no overflow and no underflow. Wider
        # (or not finite), each row by its own maximum.
        top = float(np.maximum.reduce(z, axis=None))
        if top - float(np.minimum.reduce(z, axis=None)) < SHIFT_SPAN:
            np.subtract(z, top, out=z)
            np.exp(z, out=z)
            sums = np.matmul(z, np.ones(z.shape[1], z.dtype))  # the row sums, as one product
            np.divide(z, sums.reshape(-1, 1), out=z)
            return z
        z -= np.maximum.reduce(z, axis=1, keepdims=True)  # exp never overflows
        np.exp(z, out=z)
        z /= np.add.reduce(z, axis=1, keepdims=True)
        return z
    if name == "sigmoid":
        return activate("sigmoid", z)
    if name == "linear":
        return z
    raise ValueError(f"unknown output {name!r}; choose from {', '.join(OUTPUTS)}")


def check_pairing(output_name: str, loss: str) -> None:
    """Cross-entropy needs probabilities: softmax (one class of k) or sigmoid (independent yes/no)."""
    if output_name not in OUTPUTS:
        raise ValueError(f"unknown output {output_name!r}; choose from {', '.join(OUTPUTS)}")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    if loss == "cross_entropy" and output_name == "linear":
        raise ValueError("cross_entropy needs a softmax or sigmoid output, not linear")


def output_delta(output_name: str, loss: str, a: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """dL/dz for one example per row: a = output(z), y the one-hot targets, L summed over rows.

    Cross-entropy fused with softmax or sigmoid gives a - y exactly, with no division by a.
    """
    delta = np.subtract(a, y, out=out)
    if loss == "cross_entropy" or output_name == "linear":
        return delta
    # Quadratic cost C = 1/2 |a - y|^2: chain rule through the output function.
    if output_name == "sigmoid":
        delta *= a * (1.0 - a)
    else:  # softmax Jacobian-vector product: a * (d - <d, a>)
        delta -= (delta * a).sum(axis=1, keepdims=True)
        delta *= a
    return delta


def loss_per_example(output_name: str, loss: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Loss of each row from the logits z (batch, k), stable for any z. Returns (batch,)."""
    if loss == "cross_entropy":
        if output_name == "softmax":  # logsumexp(z) - <y, z>
            m = z.max(axis=1, keepdims=True)
            lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
            return lse - (y * z).sum(axis=1)
        # independent sigmoids: softplus(z) - y z per output
        return (np.logaddexp(0.0, z) - y * z).sum(axis=1)
    a = output(output_name, z.copy())
    return 0.5 * ((a - y) ** 2).sum(axis=1)
