"""blas.add_product_tn (c += alpha a^T b in one BLAS call) gives NumPy's numbers, refuses what it
cannot take without touching c. The SGD step that uses it: test_fast_paths.py."""
import numpy as np
import pytest

from nnviz.engine import blas, threads

OPENBLAS = any(lib.get("internal_api") == "openblas" for lib in threads.blas_info())


def test_numpys_openblas_is_found():
    """With NumPy's own OpenBLAS (as pip installs it) the one-call path is there: without it every
    step would quietly take the two passes again."""
    if not OPENBLAS:
        pytest.skip("NumPy uses another BLAS here; the NumPy path is used instead")
    assert blas.available(np.float32) and blas.available(np.float64)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("k,m,n", [(1, 16384, 1), (128, 784, 100), (7, 300, 61), (33, 129, 128)])
def test_add_product_tn_is_numpys_product(dtype, rtol, k, m, n):
    if not blas.available(dtype):
        pytest.skip("no one-call GEMM with this BLAS")
    rng = np.random.default_rng(k + m + n)
    a = rng.standard_normal((k, m)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    want = c.astype(np.float64) - 0.37 * (a.astype(np.float64).T @ b.astype(np.float64))
    assert blas.add_product_tn(a, b, c, -0.37)
    np.testing.assert_allclose(c, want, rtol=rtol, atol=rtol * np.sqrt(k) * 4)


def _operands(dtype=np.float32, k=4, m=128, n=128):
    rng = np.random.default_rng(1)
    return (rng.standard_normal((k, m)).astype(dtype), rng.standard_normal((k, n)).astype(dtype),
            rng.standard_normal((m, n)).astype(dtype))


@pytest.mark.parametrize("case", ["small", "strided_a", "strided_c", "transposed_c", "mixed_dtype", "float16",
                                  "shape", "aliased", "read_only", "empty"])
def test_add_product_tn_refuses_and_leaves_c_alone(case):
    a, b, c = _operands()
    if case == "small":
        a, b, c = _operands(m=100, n=10)  # under MIN_SIZE: the caller's own passes are faster
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
    assert not blas.add_product_tn(a, b, c, -1.0)
    np.testing.assert_array_equal(c, before)
