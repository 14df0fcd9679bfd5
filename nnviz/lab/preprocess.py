"""Turn a drawing or a photo into a digit the way MNIST's were made (NumPy + Pillow only).

MNIST (LeCun et al.): each NIST digit was size-normalised to fit a 20x20 box keeping its aspect
ratio, anti-aliased to grey levels, then placed in a 28x28 field with its centre of mass at the
centre. A network trained on that never saw a small, high or off-centre digit, so a drawing must
go through the same steps; a naive resize of the whole canvas does not (see nnviz.cli.bench_draw).
One step is ours: the pen width is brought near MNIST's relative stroke width.

Images here are float arrays of "ink", (H, W) in [0, 1]: 1 = full ink, 0 = background.
"""
from __future__ import annotations

import base64
import binascii
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SIDE = 28  # the network's input is SIDE x SIDE
BOX = 20  # the longer side of the digit after size normalisation
# Centre of mass of the bundled MNIST digits, in pixel-index coordinates (row, col): (14.0, 14.0).
TARGET_COM = (14.0, 14.0)
MIN_INK = 0.02  # below this (times the pixel count of a 28x28 image) a picture counts as empty
# Stroke width relative to the digit's longer side: MNIST's median is ~0.10 (2 px of 20). A pen
# much thicker or thinner than that is brought back to it (nnviz.cli.bench_draw: accuracy retained on
# 2,000 simulated drawings 98.0% without this step, 99.2% with it).
STROKE_TARGET = 0.10
STROKE_TOLERANCE = (0.075, 0.125)

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # 40 MP declared: any phone photo; more is refused before decoding
# What is decoded at full size: a JPEG decodes at 1/2, 1/4 or 1/8 scale (draft) and costs little;
# a PNG cannot, and 169 KB of PNG can declare 36 MP (144 MB of RGBA, 1 GB at the peak of the
# conversions). 12.5 MP holds a 12 MP phone picture (4032 x 3024) at about 50 MB, decoded once.
MAX_DECODED_PIXELS = 12_500_000
PHOTO_WORK_SIDE = 560  # photos are shrunk to this longer side before any other work
PHOTO_FORMATS = ("PNG", "JPEG")


# ----- the MNIST procedure --------------------------------------------------------------------
def ink_bbox(ink: np.ndarray, threshold: float = 0.0, trim: float = 0.0) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), bottom/right exclusive, of the pixels with ink > threshold.

    trim > 0 drops that fraction of the ink mass at each end of each axis (stray specks in photos).
    None when no pixel has ink.
    """
    mask = ink > threshold
    if not mask.any():
        return None
    if trim <= 0:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    w = np.where(mask, ink, 0.0)
    out = []
    for profile in (w.sum(axis=1), w.sum(axis=0)):
        c = np.cumsum(profile) / profile.sum()
        lo = int(np.searchsorted(c, trim, side="right"))
        hi = int(np.searchsorted(c, 1 - trim, side="left")) + 1
        out += [lo, max(hi, lo + 1)]
    return out[0], out[1], out[2], out[3]


def resize_ink(ink: np.ndarray, height: int, width: int) -> np.ndarray:
    """Anti-aliased resize of a float image: area averaging when shrinking, bilinear when growing."""
    h, w = ink.shape
    shrink = height <= h and width <= w
    img = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32), mode="F")
    out = img.resize((width, height), Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels of a binary image: 2 x area / perimeter (a long thin stroke)."""
    m = np.pad(mask, 1).astype(np.int8)
    perimeter = np.count_nonzero(np.diff(m, axis=0)) + np.count_nonzero(np.diff(m, axis=1))
    return 2.0 * float(m.sum()) / max(perimeter, 1)


def _rank_filter(img: np.ndarray, k: int, op, pad: str = "constant") -> np.ndarray:
    """Grey erosion (op=np.min), dilation (np.max) or blur (np.mean) with a k x k square, k odd.

    (H, W) -> (H, W); outside the image counts as 0 (pad="constant") or as its edge (pad="edge").
    """
    r = k // 2
    p = np.pad(img, r, mode=pad)
    win = op(np.lib.stride_tricks.sliding_window_view(p, k, axis=0), axis=-1)
    return op(np.lib.stride_tricks.sliding_window_view(win, k, axis=1), axis=-1)


def normalise_stroke(crop: np.ndarray) -> np.ndarray:
    """Thin a fat pen or thicken a thin one towards MNIST's relative stroke width. (h, w) -> (h, w)."""
    side = max(crop.shape)
    width = stroke_width(crop > 0.5)
    rel = width / side
    if STROKE_TOLERANCE[0] <= rel <= STROKE_TOLERANCE[1]:
        return crop
    r = int(round(abs(width - STROKE_TARGET * side) / 2))  # pixels to remove/add on each side
    if rel > STROKE_TOLERANCE[1]:
        r = min(r, int(width / 2) - 1)  # never erase a stroke
        return _rank_filter(crop, 2 * r + 1, np.min) if r >= 1 else crop
    return _rank_filter(np.pad(crop, r), 2 * r + 1, np.max) if r >= 1 else crop  # grows by r each side


def center_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, col) of the centre of mass of a non-negative image (H, W)."""
    total = float(img.sum())
    r = float(img.sum(axis=1) @ np.arange(img.shape[0])) / total
    c = float(img.sum(axis=0) @ np.arange(img.shape[1])) / total
    return r, c


def to_mnist(ink: np.ndarray, threshold: float = 0.0, trim: float = 0.0,
             stroke: bool = True) -> np.ndarray | None:
    """Any ink image (H, W) in [0, 1] -> the network's input (784,) float32 in [0, 1], or None if empty.

    Crop to the ink's bounding box; with stroke=True bring the pen width near MNIST's (ours, not
    MNIST's: a canvas pen can be any width); scale the longer side to 20 px keeping the aspect
    ratio (anti-aliased); scale so the strongest ink is 1; place in 28x28 with the centre of mass
    at the centre (the 20 px box is kept inside the field).
    """
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2:
        raise ValueError(f"ink must be a 2-D image; got shape {ink.shape}")
    ink = np.clip(np.nan_to_num(ink), 0.0, 1.0)
    # "Empty" is judged on the scale of the result: less ink than MIN_INK of a 28x28 digit.
    scale = SIDE * SIDE / ink.size
    if ink.sum() * scale < MIN_INK or ink.max() < 0.05:
        return None
    box = ink_bbox(ink, threshold, trim)
    if box is None:
        return None
    top, bottom, left, right = box
    crop = ink[top:bottom, left:right]
    if stroke:
        crop = normalise_stroke(crop)
        box = ink_bbox(crop, max(threshold, 0.05))
        if box is None:
            return None
        crop = crop[box[0]:box[1], box[2]:box[3]]
    h, w = crop.shape
    f = BOX / max(h, w)
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    small = np.clip(resize_ink(crop, nh, nw), 0.0, None)  # (nh, nw)
    peak = small.max()
    if peak <= 0:
        return None
    small /= peak
    # Place the box so its centre of mass lands on TARGET_COM; keep all of it inside the field.
    cr, cc = center_of_mass(small)
    r0 = int(np.clip(round(TARGET_COM[0] - cr), 0, SIDE - nh))
    c0 = int(np.clip(round(TARGET_COM[1] - cc), 0, SIDE - nw))
    out = np.zeros((SIDE, SIDE), np.float32)
    out[r0:r0 + nh, c0:c0 + nw] = small
    return out.reshape(-1)


def naive_resize(ink: np.ndarray) -> np.ndarray:
    """The usual demo's mistake, for comparison: shrink the whole canvas to 28x28 (784,)."""
    small = resize_ink(np.asarray(ink, dtype=np.float32), SIDE, SIDE)
    return np.clip(small, 0.0, 1.0).reshape(-1)


# ----- the drawing canvas ---------------------------------------------------------------------
def ink_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """A canvas picture (H, W, 4|3) or (H, W) uint8, light ink on a dark or transparent ground -> ink (H, W).

    Ink = brightness x opacity, so white strokes count on a black or on a transparent background.
    """
    a = np.asarray(rgba)
    if a.ndim == 2:
        return a.astype(np.float32) / 255.0
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3|4) image; got shape {a.shape}")
    # Channel-wise maximum in uint8 (a reduction over a length-3 axis is ~10x slower).
    lum = np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2]).astype(np.float32)
    if a.shape[2] == 4:
        lum *= a[..., 3]
        return lum * np.float32(1 / 255**2)
    return lum * np.float32(1 / 255)


def decode_canvas(picture: bytes | str) -> np.ndarray:
    """The canvas's PNG, as bytes or as a "data:image/png;base64,..." URL -> RGBA uint8 (H, W, 4)."""
    if isinstance(picture, str):
        try:
            picture = base64.b64decode(picture.split(";base64,", 1)[1])
        except (IndexError, ValueError, binascii.Error) as e:
            raise ValueError("The canvas sent an unreadable picture.") from e
    try:
        img = _open_image(picture)
    except ValueError as e:
        raise ValueError(f"The canvas sent an unreadable picture. {e}") from e
    return np.asarray(img.convert("RGBA"))


def canvas_to_mnist(picture: bytes | str | None) -> np.ndarray | None:
    """The canvas's PNG (bytes or data URL) -> the network's input (784,) float32, or None if empty."""
    if not picture:
        return None
    return to_mnist(ink_from_rgba(decode_canvas(picture)))


# ----- photos -------------------------------------------------------------------------------------
def _open_image(raw: bytes) -> Image.Image:
    """Open and decode an image from bytes with size checks BEFORE decoding (no decompression bombs)."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(f"The file is too large ({len(raw) / 2**20:.0f} MB); the limit is "
                         f"{MAX_UPLOAD_BYTES // 2**20} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))  # reads the header only
            if img.format not in PHOTO_FORMATS:
                raise ValueError(f"Please upload a PNG or JPEG picture (this is {img.format or 'unknown'}).")
            w, h = img.size
            if w * h > MAX_PHOTO_PIXELS or max(w, h) > 20_000:
                raise ValueError(f"The picture is too large ({w} x {h} pixels); the limit is "
                                 f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels.")
            if img.format == "JPEG":
                img.draft("L", (PHOTO_WORK_SIDE, PHOTO_WORK_SIDE))  # decode at reduced size: fast
            dw, dh = img.size  # what decoding will really allocate
            if dw * dh > MAX_DECODED_PIXELS:
                raise ValueError(f"The picture is too large to read ({w} x {h} pixels, {w * h / 1e6:.0f} "
                                 f"megapixels); the limit for a {img.format} is "
                                 f"{MAX_DECODED_PIXELS / 1e6:g} megapixels. Please send a smaller copy.")
            img.load()
    except ValueError:  # ours, above: already a message for the user
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ValueError("The picture claims to be enormous (a decompression bomb?); refused.") from e
    except UnidentifiedImageError as e:
        raise ValueError("This file is not a picture Pillow can read; please upload a PNG or JPEG.") from e
    except Exception as e:  # truncated or corrupt data: OSError, SyntaxError, struct.error, ...
        raise ValueError("The picture is damaged or truncated and cannot be read.") from e
    return _reduced(_eight_bit(img))


def _eight_bit(img: Image.Image) -> Image.Image:
    """16- and 32-bit greyscale (modes I;16, I, F) -> "L", scaled by the range the pixels really use.

    Pillow's convert("L") clips these at 255: ink 8,000 on paper 40,000 (of 65,535) became a white
    page. Other modes are returned as they are.
    """
    if img.mode not in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return img
    a = np.asarray(img, dtype=np.float32)
    lo, hi = float(a.min()), float(a.max())
    if hi - lo < 1e-6 * max(abs(hi), 1.0):  # one flat grey: nothing to show
        grey = np.zeros(a.shape, np.uint8)
    else:
        grey = np.round((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)
    out = Image.fromarray(grey, mode="L")
    out.info.update(img.info)  # the EXIF orientation
    return out


def _reduced(img: Image.Image) -> Image.Image:
    """Shrink by an integer factor (box average, in C) towards 2 x PHOTO_WORK_SIDE, right after
    decoding, so the conversions that follow work on at most ~1 MP whatever the file's size."""
    factor = max(img.size) // (2 * PHOTO_WORK_SIDE)
    if factor < 2:
        return img
    if img.mode in ("P", "1"):  # palettes and bilevel cannot be averaged
        img = img.convert("RGBA" if "transparency" in img.info else "L")
    return img.reduce(factor)


def photo_to_ink(img: Image.Image) -> np.ndarray:
    """A photo of a handwritten digit -> ink (H, W) in [0, 1], longer side <= PHOTO_WORK_SIDE.

    Dark ink on light paper is inverted (decided by the median brightness of the border); uneven
    lighting is removed by subtracting a smooth estimate of the paper; contrast is stretched so
    the paper is 0 and the ink 1.
    """
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba)[..., 3]
        grey = np.asarray(rgba.convert("L"), dtype=np.float32)
        opaque = grey[alpha > 127]
        # Transparent ground: put it behind the ink in the opposite shade.
        ground = 255 if (opaque.size and np.median(opaque) < 128) else 0
        bg = Image.new("RGBA", rgba.size, (ground, ground, ground, 255))
        img = Image.alpha_composite(bg, rgba)
    img = img.convert("L")
    img.thumbnail((PHOTO_WORK_SIDE, PHOTO_WORK_SIDE), Image.Resampling.BOX)
    g = np.asarray(img, dtype=np.float32) / 255.0  # (H, W), 1 = white
    h, w = g.shape
    bw = max(1, min(h, w) // 20)
    border = np.concatenate([g[:bw].ravel(), g[-bw:].ravel(), g[:, :bw].ravel(), g[:, -bw:].ravel()])
    ink = 1.0 - g if np.median(border) > 0.5 else g
    # Paper level per region: the minimum of ink over windows wider than a stroke (7 blocks of
    # 8 px = 1/10 of the photo), smoothed.
    small = resize_ink(ink, max(1, h // 8), max(1, w // 8))
    paper = _rank_filter(_rank_filter(small, 7, np.min, "edge"), 5, np.mean, "edge")
    paper = resize_ink(paper, h, w)
    ink = np.clip(ink - paper, 0.0, None)
    hi = float(np.percentile(ink, 99.7))
    if hi < 0.08:  # a blank sheet: nothing stands out from the paper
        return np.zeros_like(ink)
    # Everything under a quarter of the ink's strength is noise of the paper or the camera.
    return np.clip((ink - 0.25 * hi) / (0.75 * hi), 0.0, 1.0)


def load_photo(raw: bytes) -> np.ndarray | None:
    """PNG/JPEG bytes of a handwritten digit -> the network's input (784,) float32, or None if blank.

    Raises ValueError with a message for the user for a non-image, a huge image or a bomb.
    """
    if not raw:
        raise ValueError("The file is empty.")
    ink = photo_to_ink(_open_image(bytes(raw)))
    return to_mnist(ink, threshold=0.3, trim=0.005)
