"""The drawing/photo preprocessing does what MNIST's did: crop, 20 px box, aspect kept, centred by mass."""
import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nnviz.data.mnist import load_bundled
from nnviz.engine.model import MLP
from nnviz.lab import explain as E
from nnviz.lab import preprocess as P


def canvas_with(draw_fn, size=280) -> np.ndarray:
    """A black canvas (size, size) with white strokes drawn by draw_fn(ImageDraw) -> ink in [0, 1]."""
    img = Image.new("L", (size, size), 0)
    draw_fn(ImageDraw.Draw(img))
    return np.asarray(img, np.float32) / 255


def extent(img784: np.ndarray, thr: float = 0.05) -> tuple[int, int]:
    """(height, width) of the ink's bounding box in a 28x28 image."""
    t, b, l, r = P.ink_bbox(img784.reshape(28, 28), thr)
    return b - t, r - l


def png_bytes(img: Image.Image, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("box", [(20, 30, 80, 120), (150, 160, 270, 275), (100, 60, 200, 260)])
def test_centred_by_mass_and_scaled_to_20px_wherever_drawn(box):
    """A blob drawn small, in a corner or large ends up the same: 20 px tall, mass at the centre."""
    ink = canvas_with(lambda d: d.ellipse(box, fill=255))
    x = P.to_mnist(ink)
    assert x.shape == (784,) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() == pytest.approx(1.0)
    cr, cc = P.center_of_mass(x.reshape(28, 28))
    assert abs(cr - 14.0) <= 0.5 and abs(cc - 14.0) <= 0.5
    assert max(extent(x)) == 20


def test_aspect_ratio_kept():
    """A tall thin bar stays tall and thin (MNIST's "1"), a wide one stays wide."""
    tall = P.to_mnist(canvas_with(lambda d: d.rectangle((130, 40, 149, 239), fill=255)))  # 20 x 200
    h, w = extent(tall)
    assert h == 20 and w <= 4
    wide = P.to_mnist(canvas_with(lambda d: d.rectangle((40, 100, 239, 179), fill=255)), stroke=False)  # 200x80
    h, w = extent(wide)
    assert w == 20 and 7 <= h <= 9  # 80/200 * 20 = 8


def test_same_digit_at_two_places_and_sizes_gives_the_same_input():
    """The point of the pipeline: size and position of the drawing do not matter."""
    def seven(ox, oy, s):
        return lambda d: d.line([(ox, oy), (ox + 10 * s, oy), (ox + 4 * s, oy + 16 * s)], fill=255, width=2 * s)
    a = P.to_mnist(canvas_with(seven(20, 20, 6)))
    b = P.to_mnist(canvas_with(seven(150, 130, 8)))
    assert np.abs(a - b).mean() < 0.05


def test_empty_and_nearly_empty_input_is_none():
    assert P.to_mnist(np.zeros((280, 280))) is None
    speck = np.zeros((280, 280), np.float32)
    speck[5, 5] = 0.02  # a faint speck is not a digit
    assert P.to_mnist(speck) is None
    assert P.canvas_to_mnist(None) is None


def test_canvas_data_url_white_on_black_and_on_transparent():
    """The canvas sends an RGBA PNG; white ink counts on black or on a transparent ground."""
    for ground in [(0, 0, 0, 255), (0, 0, 0, 0)]:
        img = Image.new("RGBA", (280, 280), ground)
        ImageDraw.Draw(img).line([(140, 40), (140, 240)], fill=(255, 255, 255, 255), width=18)
        url = "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode()
        x = P.canvas_to_mnist(url)
        assert x is not None and extent(x)[0] == 20
        np.testing.assert_array_equal(P.canvas_to_mnist(png_bytes(img)), x)  # bytes work the same
    with pytest.raises(ValueError):
        P.canvas_to_mnist("data:image/png;base64,bm90IGEgcG5n")


def test_stroke_width_brought_near_mnist():
    """A very fat pen is thinned and a hairline thickened, towards MNIST's ~2 px of 20."""
    widths = []
    for w in (3, 20, 60):
        x = P.to_mnist(canvas_with(lambda d: d.ellipse((60, 30, 220, 250), outline=255, width=w)))
        widths.append(P.stroke_width(x.reshape(28, 28) > 0.5))
    assert all(1.2 <= w <= 4.0 for w in widths), widths
    fat = P.to_mnist(canvas_with(lambda d: d.ellipse((60, 30, 220, 250), outline=255, width=60)), stroke=False)
    assert P.stroke_width(fat.reshape(28, 28) > 0.5) > widths[2]


def test_naive_resize_keeps_position_our_pipeline_does_not():
    ink = canvas_with(lambda d: d.ellipse((10, 10, 60, 90), fill=255))
    naive = P.naive_resize(ink).reshape(28, 28)
    assert P.center_of_mass(naive)[0] < 6  # stays in the corner, tiny
    assert P.center_of_mass(P.to_mnist(ink).reshape(28, 28))[0] == pytest.approx(14.0, abs=0.5)


def _photo(ink_level: int, paper_level: int, size=(400, 300)) -> Image.Image:
    img = Image.new("L", size, paper_level)
    ImageDraw.Draw(img).line([(200, 40), (200, 260)], fill=ink_level, width=14)
    return img


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_photo_dark_ink_on_light_paper_is_inverted(fmt):
    """Dark pen on grey-white paper and light chalk on a dark board give the same white-on-black input."""
    a = P.load_photo(png_bytes(_photo(40, 200).convert("RGB"), fmt))
    b = P.load_photo(png_bytes(_photo(230, 30), fmt))
    for x in (a, b):
        assert x is not None
        img = x.reshape(28, 28)
        assert img[14, 14] > 0.8 and img[2, 2] == 0  # ink white, paper black
        assert extent(x)[0] == 20
    assert np.abs(a - b).mean() < 0.05


def test_photo_uneven_lighting_and_blank_page():
    """A shadow across the paper is not ink; a blank sheet is no digit."""
    g = np.tile(np.linspace(230, 120, 400), (300, 1)).astype(np.uint8)  # light falls off to the right
    img = Image.fromarray(g)
    ImageDraw.Draw(img).line([(120, 40), (120, 260)], fill=20, width=14)
    x = P.load_photo(png_bytes(img))
    assert x is not None and extent(x)[1] <= 5  # just the stroke, not the shadow
    assert P.load_photo(png_bytes(Image.new("L", (300, 300), 215))) is None


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims width x height pixels (its data is a few bytes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("raw, words", [
    (b"%PDF-1.4 definitely not a picture", "not a picture"),
    (b"", "empty"),
    (_png_header_only(100_000, 100_000), "enormous"),  # PIL's own bomb check, before ours
    (_png_header_only(9_000, 9_000), "too large"),  # 81 MP: refused before decoding
    (png_bytes(Image.new("L", (50, 50))).replace(b"IEND", b"IENX")[:60], "damaged"),
])
def test_bad_uploads_get_a_clear_message(raw, words):
    with pytest.raises(ValueError, match=words):
        P.load_photo(raw)


def test_sixteen_bit_greyscale_photo_is_scaled_by_its_real_range():
    """Ink 8,000 on paper 40,000 of 65,535: convert("L") clipped both to 255, a white page."""
    eight = _photo(40, 200)
    a = np.asarray(eight, dtype=np.float64)
    sixteen = Image.fromarray(np.round(8000 + (a - 40) * (32000 / 160)).astype(np.uint16))
    assert sixteen.mode == "I;16"
    raw = png_bytes(sixteen)
    assert Image.open(io.BytesIO(raw)).mode == "I;16"  # it stays 16-bit in the file
    x16, x8 = P.load_photo(raw), P.load_photo(png_bytes(eight))
    assert x16 is not None and x16.reshape(28, 28)[14, 14] > 0.8
    assert np.abs(x16 - x8).mean() < 0.02  # the same digit as its 8-bit version


def test_a_flat_sixteen_bit_page_is_blank():
    assert P.load_photo(png_bytes(Image.fromarray(np.full((200, 200), 40000, np.uint16)))) is None


def test_a_small_png_declaring_many_pixels_is_refused_before_decoding():
    """169 KB of PNG for 6000 x 6000 RGBA took the server from 198 MB to 1.17 GB."""
    raw = png_bytes(Image.new("RGBA", (6000, 6000), (255, 255, 255, 0)))
    assert len(raw) < 400_000
    with pytest.raises(ValueError, match=r"too large to read \(6000 x 6000 pixels, 36 megapixels\); the limit"):
        P.load_photo(raw)


def test_a_large_jpeg_is_decoded_reduced_and_a_png_at_the_cap_is_reduced_at_once():
    big_jpeg = _photo(40, 200, size=(400, 300)).resize((5000, 3750))  # 18.75 MP: over the cap, but a JPEG
    img = P._open_image(png_bytes(big_jpeg, "JPEG"))
    assert max(img.size) <= 2 * P.PHOTO_WORK_SIDE * 2  # decoded at 1/4 or 1/8 (draft), then reduced
    assert P.load_photo(png_bytes(big_jpeg, "JPEG")) is not None
    at_cap = _photo(40, 200).resize((4000, 3000))  # 12 MP
    img = P._open_image(png_bytes(at_cap))
    assert max(img.size) <= 2 * P.PHOTO_WORK_SIDE + P.PHOTO_WORK_SIDE  # what the conversions work on


def test_gif_is_refused_with_a_message():
    with pytest.raises(ValueError, match="PNG or JPEG"):
        P.load_photo(png_bytes(Image.new("L", (50, 50)), "GIF"))


def test_explanation_maths():
    """Gradient x input of a no-hidden-layer network is x * W[:, c]; its template is W[:, c]."""
    rng = np.random.default_rng(0)
    lin = MLP.create((784, 10), rng=rng, dtype=np.float64)
    x = rng.uniform(0, 1, 784)
    e = E.explain(lin, x)
    assert e.predicted == int(np.argmax(lin.logits(x[None])[0]))
    np.testing.assert_allclose(e.attribution, x * lin.weights[0][:, e.predicted], rtol=1e-10)
    np.testing.assert_allclose(e.template, lin.weights[0][:, e.predicted])
    assert e.probs.sum() == pytest.approx(1.0) and e.runner_up != e.predicted
    # A bias-free ReLU network: the attribution sums exactly to the logit (Euler's theorem).
    deep = MLP.create((784, 16, 10), rng=rng, dtype=np.float64)
    c = E.explain(deep, x, load_bundled().x_train[:50]).predicted
    assert E.gradient_x_input(deep, x, c).sum() == pytest.approx(deep.logits(x[None])[0, c], rel=1e-9)
    assert E.certainty_words(0.99) == "very sure" and E.certainty_words(0.3) == "guessing"


def test_reading_a_png_at_the_pixel_cap_costs_a_bounded_peak_of_memory(tmp_path):
    """In a fresh process (nnviz.cli.bench_uploads): the kernel's peak RSS, reset before reading.
    A 12 MP RGBA PNG is 48 MB decoded; before the reduce step the conversions took several copies."""
    import os
    import subprocess
    import sys

    from nnviz.cli.bench_uploads import PHOTO_CHILD, _picture
    path = tmp_path / "p.png"
    path.write_bytes(_picture((4000, 3000), "RGBA", "PNG"))
    out = subprocess.run([sys.executable, "-c", PHOTO_CHILD, str(path)], capture_output=True, text=True,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, check=True, timeout=120)
    before, peak, _, outcome = out.stdout.strip().split("\t", 3)
    assert outcome == "read"
    assert (int(peak) - int(before)) / 1024 < 120  # MB; 48 MB of decoded RGBA and little more
