"""blas.plan products (an update added into W in one call, products split by rows of W over BLAS
threads) give NumPy's numbers, and NumPy takes over whatever they cannot take. The SGD step that
uses them: test_fast_paths.py."""
import numpy as np
import pytest

from nnviz.engine import blas, threads

OPENBLAS = any(lib.get("internal_api") == "openblas" for lib in threads.blas_info())
needs_blas = pytest.mark.skipif(not blas.available(np.float32), reason="no usable OpenBLAS: NumPy's path is used")


def test_numpys_openblas_is_found():
    """With NumPy's own OpenBLAS (as pip installs it) both calls are there: without them every
    step would quietly take the slower NumPy passes again."""
    if not OPENBLAS:
        pytest.skip("NumPy uses another BLAS here; the NumPy path is used instead")
    for dtype in (np.float32, np.float64):
        assert blas.available(dtype) and np.dtype(dtype) in blas._lib().batch


def _random(dtype, *shapes):
    rng = np.random.default_rng(sum(map(sum, shapes)))
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@needs_blas
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 3e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("parts", [1, 2, 3, 8])
@pytest.mark.parametrize("k,m,n", [(32, 784, 100), (128, 784, 100), (7, 16384, 1), (33, 1000, 61)])
def test_update_is_numpys_product(dtype, rtol, parts, k, m, n):
    """c += alpha a^T b, in one call or split by rows of c, whatever the split leaves (a part of
    7 x 1 x 2048 is too small for OpenBLAS's batched call, so that one is not split)."""
    a, b, c = _random(dtype, (k, m), (k, n), (m, n))
    want = c.astype(np.float64) - 2 * 0.37 * (a.astype(np.float64).T @ b.astype(np.float64))
    product = blas.plan("update", a, b, c, -0.37, parts)
    assert product is not None
    product()
    product()  # a plan runs again and again on its arrays
    np.testing.assert_allclose(c, want, rtol=rtol, atol=rtol * np.sqrt(k) * 8)


@needs_blas
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 3e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("m,k,n", [(32, 784, 100), (128, 784, 100), (40, 1500, 80)])
def test_forward_split_by_inputs_is_numpys_product(dtype, rtol, parts, m, k, n):
    a, w = _random(dtype, (m, k), (k, n))
    z = np.full((m, n), np.nan, dtype)  # every number is written
    product = blas.plan("forward", a, w, z, 1.0, parts)
    assert product is not None
    assert product() is z
    np.testing.assert_allclose(z, a.astype(np.float64) @ w.astype(np.float64), rtol=rtol,
                               atol=rtol * np.sqrt(k) * 8)


@needs_blas
def test_a_forward_on_one_part_is_left_to_numpy():
    a, w = _random(np.float32, (32, 784), (784, 100))
    assert blas.plan("forward", a, w, np.empty((32, 100), np.float32), 1.0, 1) is None
    a, w = _random(np.float32, (4, 784), (784, 100))  # 4 x 392 x 100 a part: too small to split
    assert blas.plan("forward", a, w, np.empty((4, 100), np.float32), 1.0, 2) is None


@pytest.mark.parametrize("case", ["small", "strided_a", "strided_c", "transposed_c", "mixed_dtype", "float16",
                                  "shape", "aliased", "read_only", "empty"])
def test_update_refuses_and_leaves_c_alone(case):
    a, b, c = _random(np.float32, (4, 128), (4, 128), (128, 128))
    if case == "small":
        a, b, c = _random(np.float32, (4, 100), (4, 10), (100, 10))  # under MIN_SIZE: NumPy is faster
    elif case == "strided_a":
        a = np.repeat(a, 2, axis=1)[:, ::2]
    elif case == "strided_c":
        c = np.repeat(c, 2, axis=1)[:, ::2]
    elif case == "transposed_c":
        c = np.ascontiguousarray(c.T).T
    elif case == "mixed_dtype":
        b = b.astype(np.float64)
    elif case == "float16":
        a, b, c = (v.astype(np.float16) for v in (a, b, c))
    elif case == "shape":
        b = b[:3]
    elif case == "aliased":
        a = c[:4]  # a is the first rows of c
    elif case == "read_only":
        c.flags.writeable = False
    else:
        a, b = a[:0], b[:0]
    before = c.copy()
    for parts in (1, 2):
        assert blas.plan("update", a, b, c, -1.0, parts) is None
    np.testing.assert_array_equal(c, before)


@needs_blas
@pytest.mark.parametrize("parts", [1, 2])
def test_a_step_after_the_weights_are_replaced_moves_the_new_ones(parts):
    """The workspace's plans point at the arrays they were built for: a weight array replaced
    (a rollback after divergence does that) gets a plan of its own, and the old one is left alone."""
    from nnviz.engine.model import MLP
    from nnviz.engine.optimizers import SGD
    rng = np.random.default_rng(3)
    a = MLP.create([784, 100, 10], rng=rng)
    x = rng.random((32, 784), dtype=np.float32)
    y = a.targets(rng.integers(0, 10, 32))
    with threads.BlasLimit(parts):
        assert a.sgd_step(x, y, 0.1)
        old = a.weights[0]
        a.weights[0] = old.copy()
        kept, b = old.copy(), a.copy()
        assert a.sgd_step(x, y, 0.1)
        g = b.gradients(x, y)
        SGD(0.1).step(b.params(), g.weights + g.biases)
    np.testing.assert_array_equal(old, kept)
    for p, q in zip(a.params(), b.params()):
        np.testing.assert_allclose(p, q, rtol=3e-5, atol=1e-6)


@needs_blas
def test_without_the_batched_call_an_update_is_still_one_call(monkeypatch):
    """An OpenBLAS without cblas_sgemm_batch: on two threads the update is one plain GEMM (and keeps
    fitting the two-thread request), the forward is NumPy's."""
    lib = blas._lib()
    monkeypatch.setattr(blas, "_library", blas._Library(lib.index, lib.gemm, {}, lib.scalar))
    a, b, c = _random(np.float32, (32, 784), (32, 100), (784, 100))
    want = c - a.T @ b
    product = blas.plan("update", a, b, c, -1.0, 2)
    assert product is not None
    product()
    np.testing.assert_allclose(c, want, rtol=3e-5, atol=1e-4)
    assert blas.plan("forward", b.T.copy(), c, np.empty((100, 100), np.float32), 1.0, 2) is None
