"""Model files: an exact round trip, and every wrong or hostile file refused with ModelFileError.

A file a user uploads is untrusted: it must never crash the app, allocate without bound, or run code.
"""
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnviz.engine.model import MLP
from nnviz.engine.model_files import (
    MAX_FILE_BYTES,
    ModelFileError,
    load_model,
    model_to_bytes,
    save_model,
)


@pytest.fixture(scope="module")
def model():
    return MLP.create((6, 5, 4, 3), "tanh", "softmax", "cross_entropy", "glorot", np.random.default_rng(0))


@pytest.fixture(scope="module")
def members(model):
    """The good file's entries: name -> .npy bytes."""
    with zipfile.ZipFile(io.BytesIO(model_to_bytes(model))) as z:
        return {n: z.read(n) for n in z.namelist()}


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # np.savez pickles object arrays: the hostile files below need it
    return buf.getvalue()


def _arrays(model, **changes) -> dict:
    """The arrays of a valid file, with some replaced (value None: removed)."""
    with np.load(io.BytesIO(model_to_bytes(model)), allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def _refused(data, match=None) -> str:
    with pytest.raises(ModelFileError, match=match) as err:
        load_model(data)
    message = str(err.value)
    assert message.startswith("not an nnviz model") or message.startswith("cannot read")
    assert "\n" not in message
    return message


# ----- the good path --------------------------------------------------------------------------
def test_round_trip_is_exact(model, tmp_path):
    x = np.random.default_rng(1).standard_normal((9, 6)).astype(np.float32)
    path = tmp_path / "model.npz"
    save_model(model, path)
    for source in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        loaded = load_model(source)
        assert loaded.arch == model.arch
        for a, b in zip(loaded.params(), model.params()):
            assert a.dtype == b.dtype == np.float32
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert model_to_bytes(model) == model_to_bytes(load_model(path))


def test_float64_model_loads_as_float32(model):
    """The app runs in float32: a float64 file (from a gradient check) is cast on loading."""
    m64 = model.astype(np.float64)
    loaded = load_model(model_to_bytes(m64))
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded.weights[0], m64.weights[0].astype(np.float32))


def test_file_is_small_and_plain(model, members):
    assert set(members) == {"format.npy", "sizes.npy", "activation.npy", "output.npy", "loss.npy",
                            "W0.npy", "b0.npy", "W1.npy", "b1.npy", "W2.npy", "b2.npy"}
    assert len(model_to_bytes(model)) < 4 * model.n_params + 4096


def test_subnormal_weights_load_as_zero(model):
    """Subnormals are zero in all but name and slow every product ~30x: a file of them would make
    each evaluation cost that much more. The rest of the file is kept exactly."""
    w = model.weights[0].copy()
    w[::2] = 3e-40  # subnormal in float32 (and in a float64 file, after the cast)
    for dtype in (np.float32, np.float64):
        loaded = load_model(_npz(**_arrays(model, W0=w.astype(dtype), b0=model.biases[0].astype(dtype))))
        np.testing.assert_array_equal(loaded.weights[0][::2], 0)
        np.testing.assert_array_equal(loaded.weights[0][1::2], model.weights[0][1::2])
        np.testing.assert_array_equal(loaded.biases[0], model.biases[0])


# ----- not a model at all ---------------------------------------------------------------------
@pytest.mark.parametrize("data", [b"", b"hello, world", bytes(range(256)) * 10, b"PK\x03\x04" + b"\0" * 100,
                                  b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}"])
def test_not_a_zip(data):
    _refused(data, "not an .npz")


def test_missing_path(tmp_path):
    _refused(tmp_path / "nope.npz", "cannot read")


def test_directory_path(tmp_path):
    _refused(tmp_path, "cannot read")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(model, keep):
    data = model_to_bytes(model)
    _refused(data[:int(len(data) * keep)])


def test_corrupt_member_crc(members):
    data = bytearray(_zip({k: v for k, v in members.items()}))
    # flip bytes in the middle of the compressed stream of the largest member
    data[len(data) // 3] ^= 0xFF
    data[len(data) // 3 + 1] ^= 0xFF
    _refused(bytes(data))


# ----- pickles: refused, never executed -------------------------------------------------------
class _Evil:
    """Unpickling this would create the marker file: proof of code execution."""

    marker: Path = None

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_object_array_pickle_is_refused_and_never_run(model, tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = marker
    evil = np.array([_Evil()], dtype=object)
    for key in ("W0", "format", "sizes", "extra"):
        _refused(_npz(**_arrays(model, **{key: evil})))
    assert not marker.exists()


def test_a_raw_pickle_is_not_loaded(tmp_path):
    import pickle
    marker = tmp_path / "pwned"
    _Evil.marker = marker
    _refused(pickle.dumps(_Evil()), "not an .npz")
    _refused(_zip({"W0.npy": pickle.dumps(_Evil())}))
    assert not marker.exists()


# ----- wrong contents -------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["format", "sizes", "activation", "output", "loss", "W0", "b1", "W2"])
def test_missing_entry(model, key):
    _refused(_npz(**_arrays(model, **{key: None})))


def test_extra_entry(model):
    _refused(_npz(**_arrays(model, W3=np.zeros((3, 3), np.float32))), "unexpected")


@pytest.mark.parametrize("changes", [
    dict(format=np.array("something-else")),
    dict(format=np.array([1, 2])),
    dict(activation=np.array("swish")),
    dict(activation=np.array(["tanh", "relu"])),
    dict(output=np.array("linear")),  # with cross_entropy: impossible pairing
    dict(loss=np.array(7)),
    dict(sizes=np.array([6.0, 5.0, 4.0, 3.0])),
    dict(sizes=np.array([6, 5, 4])),  # layers do not match the weights
    dict(sizes=np.array([6, 0, 4, 3])),
    dict(sizes=np.array([[6, 5], [4, 3]])),
    dict(W0=np.zeros((5, 6), np.float32)),  # transposed
    dict(b1=np.zeros((4, 1), np.float32)),
    dict(W1=np.zeros((5, 4), np.int32)),
    dict(W1=np.zeros((5, 4), np.complex64)),
    dict(b0=np.zeros(5, np.float64)),  # dtype differs from its W
])
def test_wrong_contents(model, changes):
    _refused(_npz(**_arrays(model, **changes)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights(model, bad):
    w = _arrays(model)["W1"].copy()
    w[2, 1] = bad
    _refused(_npz(**_arrays(model, W1=w)), "NaN or infinite")


def test_float64_weights_beyond_float32_are_refused_after_the_cast(model):
    """1e300 is a finite float64 but inf as float32, the dtype the model computes in."""
    arrays = {k: (v.astype(np.float64) if k[0] in "Wb" else v) for k, v in _arrays(model).items()}
    arrays["W0"][0, 0] = 1e300
    _refused(_npz(**arrays), "NaN or infinite")


def test_finite_weights_that_overflow_in_the_forward_pass_are_refused():
    """Every float32 weight is finite, but a pixel times 3e38, summed, overflows: NaN outputs."""
    relu = MLP.create((6, 5, 3), "relu", "softmax", "cross_entropy", "he", np.random.default_rng(0))
    arrays = _arrays(relu)
    arrays["W0"] = np.full_like(arrays["W0"], 3e38)
    message = _refused(_npz(**arrays), "overflow")
    assert "NaN" in message


# ----- size attacks ---------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [[6, 10**9, 3], [6, 2**62, 3], [6] + [5] * 40 + [3]])
def test_huge_declared_architecture(model, sizes):
    _refused(_npz(**_arrays(model, sizes=np.array(sizes, dtype=np.int64))))


def _npy_header(shape, descr="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("shape", [(10**7, 10**7), (2**40,), (5, 4)])
def test_npy_header_declaring_more_data_than_the_file_holds(members, shape):
    """A tiny member whose header claims a huge array: refused without allocating it for real."""
    _refused(_zip(dict(members, **{"W1.npy": _npy_header(shape) + b"\0" * 16})))


def test_too_many_entries(members):
    many = dict(members, **{f"junk{i}.npy": members["b0.npy"] for i in range(100)})
    _refused(_zip(many), "too large")


def _bomb(n_bytes: int) -> bytes:
    """A zip whose one .npy member inflates to n_bytes of zeros from ~n_bytes/1000 on disk."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("W0.npy", "w") as f:
            f.write(_npy_header((n_bytes // 4,)))
            zeros = bytes(1 << 22)
            for _ in range(n_bytes // len(zeros)):
                f.write(zeros)
    return buf.getvalue()


def _lie_about_size(data: bytes, size: int = 1024) -> bytes:
    """Rewrite the declared uncompressed size (local and central headers), as a hostile file might."""
    data = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(sig)
        data[at + offset:at + offset + 4] = size.to_bytes(4, "little")
    return bytes(data)


@pytest.fixture(scope="module")
def bomb():
    return _bomb(MAX_FILE_BYTES + (8 << 20))  # just over the limit: ~108 MiB inflated, ~100 kB on disk


def test_zip_bomb_is_refused_before_inflating(bomb):
    assert len(bomb) < 1 << 20
    _refused(bomb, "too large")


def test_zip_bomb_lying_about_its_size_is_refused(bomb):
    _refused(_lie_about_size(bomb))
