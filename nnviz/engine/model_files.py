"""Save and load a model as .npz: plain arrays only, never pickles.

A file from a user is untrusted: load_model checks the zip, every name, shape, dtype and value
before building anything, and raises ModelFileError with a sentence a person can act on.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from nnviz.engine.model import MLP, Architecture

FORMAT = "nnviz-mlp-1"
MAX_FILE_BYTES = 100 * 2**20  # uncompressed; a [784, 1000, 1000, 10] model is ~7 MB
MAX_LAYERS = 16
MAX_WIDTH = 10_000
# Subnormal float32 numbers lie below this. A product over a matrix with many of them runs ~30x
# slower (3.2 ms against 0.11 ms for a batch of 64 through 784 x 100): an uploaded file of them
# would make every evaluation and attack on it cost 30 of any other model's.
SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)


class ModelFileError(ValueError):
    """The file is not a valid nnviz model; the message says why."""


def model_to_bytes(model: MLP) -> bytes:
    """The .npz file's bytes (for a download button)."""
    arrays = {
        "format": np.array(FORMAT),
        "sizes": np.array(model.sizes, dtype=np.int64),
        "activation": np.array(model.arch.activation),
        "output": np.array(model.arch.output),
        "loss": np.array(model.arch.loss),
    }
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        arrays[f"W{l}"] = w
        arrays[f"b{l}"] = b
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def save_model(model: MLP, path: str | Path) -> None:
    Path(path).write_bytes(model_to_bytes(model))


def load_model(source: str | Path | bytes | BinaryIO) -> MLP:
    """Read a model written by save_model. Raises ModelFileError for anything else."""
    if isinstance(source, (str, Path)):
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            raise ModelFileError(f"cannot read {source}: {e.strerror}") from None
    elif isinstance(source, bytes):
        data = source
    else:
        data = source.read()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ModelFileError("not an nnviz model: the file is not an .npz archive") from None
    if sum(i.file_size for i in infos) > MAX_FILE_BYTES or len(infos) > 4 * MAX_LAYERS:
        raise ModelFileError("not an nnviz model: the archive is too large")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except ValueError as e:
        if "pickle" in str(e):  # object arrays need pickle, which is refused
            raise ModelFileError("not an nnviz model: it holds Python objects (pickles), which are never loaded") from None
        raise ModelFileError("not an nnviz model: the archive is damaged") from None
    except Exception:  # corrupt member, bad header, CRC error, ...
        raise ModelFileError("not an nnviz model: the archive is damaged") from None
    return _model_from_arrays(arrays)


def _text(arrays: dict, key: str) -> str:
    a = arrays.get(key)
    if a is None or a.shape != () or a.dtype.kind != "U":
        raise ModelFileError(f"not an nnviz model: missing or invalid '{key}'")
    return str(a)


def _model_from_arrays(arrays: dict) -> MLP:
    if arrays.get("format") is None or _text(arrays, "format") != FORMAT:
        raise ModelFileError(f"not an nnviz model: expected format '{FORMAT}'")
    sizes = arrays.get("sizes")
    if sizes is None or sizes.ndim != 1 or sizes.dtype.kind not in "iu" or not 2 <= len(sizes) <= MAX_LAYERS + 1:
        raise ModelFileError("not an nnviz model: 'sizes' must list 2 to 17 layer sizes")
    if sizes.min() < 1 or sizes.max() > MAX_WIDTH:
        raise ModelFileError(f"not an nnviz model: layer sizes must be between 1 and {MAX_WIDTH}")
    try:
        arch = Architecture(tuple(int(s) for s in sizes), _text(arrays, "activation"),
                            _text(arrays, "output"), _text(arrays, "loss"))
    except ValueError as e:
        raise ModelFileError(f"not an nnviz model: {e}") from None
    expected = {"format", "sizes", "activation", "output", "loss"}
    weights, biases = [], []
    for l, (n_in, n_out) in enumerate(zip(arch.sizes[:-1], arch.sizes[1:])):
        w, b = arrays.get(f"W{l}"), arrays.get(f"b{l}")
        expected |= {f"W{l}", f"b{l}"}
        if w is None or b is None:
            raise ModelFileError(f"not an nnviz model: layer {l + 1} has no weights")
        if w.shape != (n_in, n_out) or b.shape != (n_out,):
            raise ModelFileError(f"not an nnviz model: layer {l + 1} weights have shape {w.shape}, "
                                 f"expected {(n_in, n_out)}")
        if w.dtype not in (np.float32, np.float64) or b.dtype != w.dtype:
            raise ModelFileError(f"not an nnviz model: layer {l + 1} weights must be float32 or float64")
        with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf: refused below
            w, b = w.astype(np.float32), b.astype(np.float32)
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ModelFileError(f"not an nnviz model: layer {l + 1} has NaN or infinite weights "
                                 f"(as float32, whose largest number is about 3.4e38)")
        for a in (w, b):  # zero in all but name, and each costs the CPU ~30x in every product
            a[np.abs(a) < SMALLEST_NORMAL] = 0
        weights.append(w)
        biases.append(b)
    extra = set(arrays) - expected
    if extra:
        raise ModelFileError(f"not an nnviz model: unexpected entries {sorted(extra)[:3]}")
    model = MLP(arch, weights, biases)
    check_outputs(model, probe_inputs(arch.sizes[0]))
    return model


def probe_inputs(width: int, n: int = 32) -> np.ndarray:
    """(n + 2, width) inputs in [0, 1], the range of pixels: all 0, all 1 and n seeded random rows."""
    rng = np.random.default_rng(0)
    return np.vstack([np.zeros((1, width)), np.ones((1, width)), rng.random((n, width))]).astype(np.float32)


def check_outputs(model: MLP, x: np.ndarray) -> None:
    """Raise ModelFileError unless every output on x (n, n_in) is a number: finite weights can
    still overflow float32 in the forward pass (3e38 times a pixel), and NaN answers are no model."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = model.logits(x)
    if not np.isfinite(z).all():
        raise ModelFileError("not an nnviz model: its outputs overflow to infinity or NaN "
                             "(the weights are far too large)")
