"""Random users: every page driven through AppTest with random widget values; no exception, ever.

Generic over the widgets a page shows: sliders and number inputs get values anywhere in their
declared [min, max] (edges included: the largest learning rate is a classic way to diverge),
option widgets any of their options, toggles and checkboxes either state, text inputs hostile
strings, buttons get clicked, file uploaders get hostile files (junk bytes, a pickled npz, a
truncated or huge-header PNG, a bad CSV). Then garbage in every query parameter a page reads.
Fixed seeds: a failure names its round and actions, and reruns the same way. No network: any
connection away from this machine fails here, as it would in a hall without internet.
"""
from __future__ import annotations

import io
import os
import random
import socket
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/home.py", "pages/playground.py", "pages/mnist.py", "pages/draw.py", "pages/break.py"]
SEED = int(os.environ.get("NNVIZ_FUZZ_SEED", 20261129))
ROUNDS = int(os.environ.get("NNVIZ_FUZZ_ROUNDS", 5))  # more, and other seeds, for a bug hunt
SKIP_BUTTONS = ("download",)  # would fetch the full MNIST: no network in tests, and slow
HOSTILE_TEXT = ["", " ", "<script>alert(1)</script>", "nan", "-1e309", "1" * 5000, "x,y;\n\0", "ümlaut ∞ 𝟘"]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels and carries no pixels (decompression-bomb shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def _pickled_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, weights=np.array([{"evil": 1}], dtype=object))
    return buf.getvalue()


HOSTILE_FILES = [
    ("junk", bytes(range(256)) * 8),
    ("pickle", _pickled_npz()),
    ("png-header", _png_header(60_000, 60_000)),
    ("png-truncated", _png_header(28, 28) + b"\x00" * 10),
    ("csv", b"x1,x2,label\n0.1,nan,0\n1e400,2,cat\n,,\n"),
    ("empty", b""),
]


def _all_pages_exist() -> bool:
    return all((ROOT / p).is_file() for p in PAGES)


def _open(page: str) -> AppTest:
    """The app at `page`, through the navigation when every page file exists."""
    if _all_pages_exist():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception, at.exception[0].message
        return at.switch_page(page).run()
    return AppTest.from_file(str(ROOT / page), default_timeout=60).run()  # while pages are being written


def _skip_unwritten(page: str) -> None:
    if not (ROOT / page).is_file():
        pytest.skip(f"{page} is not written yet")
    if page == "pages/home.py" and not _all_pages_exist():
        pytest.skip("home links to every page: waits for all of them")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and sock.family != socket.AF_UNIX:
            raise OSError("no network in tests")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def _force_state(widget, fill) -> None:
    """Make `widget` send the state `fill` writes on the next run: what a browser would send
    (the formatted option strings), whatever the page's format_func is."""
    ws = WidgetState()
    ws.id = widget.id
    fill(ws)
    cls = type(widget)
    widget.__class__ = type(f"Forced{cls.__name__}", (cls,), {"_widget_state": property(lambda self: ws)})


def _random_number(rng: random.Random, lo, hi, step, integer: bool):
    if rng.random() < 0.3:  # the edges are where the trouble is
        return rng.choice([lo, hi])
    if step and step > 0 and (hi - lo) / step < 1e7:
        v = lo + step * rng.randint(0, int((hi - lo) / step))
    else:
        v = rng.uniform(lo, hi)
    v = min(max(v, lo), hi)
    return int(round(v)) if integer else float(v)


def _drivable(at: AppTest) -> list:
    kinds = ["slider", "number_input", "selectbox", "radio", "multiselect", "select_slider", "checkbox",
             "toggle", "text_input", "text_area", "button", "button_group", "color_picker", "file_uploader"]
    out = []
    for kind in kinds:
        for w in at.get(kind):
            if getattr(w, "disabled", False) or getattr(w.proto, "disabled", False):
                continue
            if kind == "button" and any(s in w.label.lower() for s in SKIP_BUTTONS):
                continue
            out.append(w)
    return out


def _randomise(w, rng: random.Random) -> str:
    """Give one widget a random legal value (or a hostile file); return what was done."""
    kind = w.type
    label = getattr(w, "label", "") or getattr(w.proto, "label", "")
    if kind == "slider":
        integer = w.proto.data_type == w.proto.DataType.INT
        if w.proto.data_type not in (w.proto.DataType.INT, w.proto.DataType.FLOAT):
            return f"skip {label}"
        lo, hi, step = w.proto.min, w.proto.max, w.proto.step
        value = w.value
        if isinstance(value, (list, tuple)):
            a, b = sorted(_random_number(rng, lo, hi, step, integer) for _ in range(2))
            w.set_range(a, b)
            return f"slider {label}={a, b}"
        v = _random_number(rng, lo, hi, step, integer)
        w.set_value(v)
        return f"slider {label}={v}"
    if kind == "number_input":
        integer = w.proto.data_type == w.proto.DataType.INT
        lo = w.min if w.min is not None else -1e12
        hi = w.max if w.max is not None else 1e12
        v = _random_number(rng, lo, hi, w.step, integer)
        w.set_value(v)
        return f"number {label}={v}"
    if kind in ("selectbox", "radio"):
        if not w.options:
            return f"skip {label}"
        s = rng.choice(w.options)
        _force_state(w, lambda ws: setattr(ws, "string_value", s))
        return f"{kind} {label}={s!r}"
    if kind in ("multiselect", "button_group", "select_slider"):
        if not w.options:
            return f"skip {label}"
        if kind == "select_slider":
            picked = sorted(rng.sample(range(len(w.options)), 2 if len(w.value if isinstance(w.value, (list, tuple)) else [0]) == 2 and len(w.options) > 1 else 1))
        elif kind == "button_group" and w.proto.click_mode == w.proto.ClickMode.SINGLE_SELECT:
            picked = [rng.randrange(len(w.options))]
        else:
            picked = sorted(rng.sample(range(len(w.options)), rng.randint(0, len(w.options))))
        strings = [w.options[i] for i in picked]
        _force_state(w, lambda ws: ws.string_array_value.data.extend(strings))
        return f"{kind} {label}={strings!r}"
    if kind in ("checkbox", "toggle"):
        v = rng.random() < 0.5
        w.set_value(v)
        return f"{kind} {label}={v}"
    if kind in ("text_input", "text_area"):
        v = rng.choice(HOSTILE_TEXT)
        if w.proto.max_chars:
            v = v[: w.proto.max_chars]
        w.set_value(v)
        return f"{kind} {label}={v[:20]!r}"
    if kind == "color_picker":
        v = "#%06x" % rng.randrange(1 << 24)
        w.set_value(v)
        return f"colour {label}={v}"
    if kind == "button":
        w.click()
        return f"click {label}"
    if kind == "file_uploader":
        name, content = rng.choice(HOSTILE_FILES)
        ext = (w.allowed_type or [".bin"])[0].lstrip(".")
        w.set_value((f"hostile.{ext}", content, "application/octet-stream"))
        return f"upload {label}: {name} as .{ext}"
    return f"skip {kind}"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("page", PAGES)
def test_random_widget_values_never_raise(page):
    _skip_unwritten(page)
    rng = random.Random(f"{SEED}:{page}")
    at = _open(page)
    assert not at.exception, at.exception[0].message
    log: list[str] = []
    for round_ in range(ROUNDS):
        widgets = _drivable(at)
        assert widgets or page == "pages/home.py", "no widget found: the test would prove nothing"
        for w in rng.sample(widgets, k=min(len(widgets), rng.randint(1, 4))):
            log.append(f"round {round_}: {_randomise(w, rng)}")
        t0 = time.perf_counter()
        at.run()
        log.append(f"round {round_}: {time.perf_counter() - t0:.2f} s")
        assert not at.exception, f"{page}\n" + "\n".join(log) + f"\n-> {at.exception[0].message}"
    print("\n".join(log))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("page", PAGES)
def test_garbage_query_parameters_never_raise(page):
    """A mangled link on a slide (every parameter the page writes to the URL, set to junk)."""
    _skip_unwritten(page)
    keys = set(_open(page).query_params) | {"present"}
    rng = random.Random(f"{SEED}:query:{page}")
    for junk in ("abc", "-1e309", ",,;%00"):  # a new session per link
        at = AppTest.from_file(str(ROOT / ("app.py" if _all_pages_exist() else page)), default_timeout=60)
        for k in keys:
            at.query_params[k] = junk if rng.random() < 0.8 else "1"
        at.run()
        if _all_pages_exist():
            at.switch_page(page).run()
        assert not at.exception, f"{page} with {dict(at.query_params)} -> {at.exception[0].message}"



def _release_openblas_control() -> None:
    """threadpoolctl lets only one live thread set OpenBLAS's (process-wide) thread count, and
    silently ignores the others; free it, as on a fresh server where no thread has set it yet."""
    import threadpoolctl
    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


def test_app_caps_blas_threads_for_a_hall_of_sessions():
    """Every session is a thread of one server process: app.py caps BLAS at one thread per product
    (set from the first session's script thread, as in `streamlit run`)."""
    from nnviz.engine.threads import _blas, blas_threads
    before = blas_threads()
    if before is None:
        pytest.skip("no BLAS library visible to threadpoolctl")
    try:
        _release_openblas_control()
        _blas().limit(limits=2)  # as on a fresh 2-core server
        assert blas_threads() == 2
        _release_openblas_control()
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert blas_threads() == 1
    finally:
        _release_openblas_control()
        _blas().limit(limits=before)
        _release_openblas_control()


NASTY_BY_TYPE = {"npz": _pickled_npz(), "png": _png_header(60_000, 60_000), "jpg": _png_header(60_000, 60_000),
                 "jpeg": _png_header(60_000, 60_000), "csv": b"x1,x2,label\nfoo,bar,baz\n", "txt": b"\x00\xff" * 100}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("page", PAGES)
def test_every_uploader_refuses_hostile_files_with_a_message(page):
    """Junk bytes, and for each uploader a nasty file of its own type (a pickled .npz, a PNG whose
    header claims 3.6 gigapixels, a CSV of words): a clear message on the page, no exception."""
    _skip_unwritten(page)
    at = _open(page)
    uploaders = at.get("file_uploader")
    if not uploaders:
        pytest.skip(f"{page} has no file uploader")
    for i in range(len(uploaders)):
        ext = (uploaders[i].allowed_type or [".bin"])[0].lstrip(".")
        for name, content in (("junk", bytes(range(256)) * 8), ("nasty", NASTY_BY_TYPE.get(ext, b""))):
            at = _open(page)
            at.get("file_uploader")[i].set_value((f"{name}.{ext}", content, "application/octet-stream"))
            at.run()
            assert not at.exception, f"{page}: {name}.{ext} -> {at.exception[0].message}"
            messages = [e.value for e in at.error] + [w.value for w in at.warning]
            assert messages, f"{page}: {name}.{ext} was taken without a word"
