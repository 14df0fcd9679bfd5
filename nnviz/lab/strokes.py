"""Pen strokes from the Draw page's canvas -> an ink image the MNIST preprocessing takes.

The canvas sends its strokes, not a picture: a few kilobytes of points, many times a second while
the pen moves, instead of a PNG after the stroke. Coordinates are in canvas units, 0..UNITS on
both axes whatever size the canvas has on screen (280 px on a laptop, 360 in projector mode), so a
drawing reads the same at any size. A stroke is {"w": pen width in units, "p": [x0, y0, x1, y1, ...]}.

Everything a browser sends is checked here: wrong types, NaN or huge numbers and too many points are
refused with a message for the user (ValueError), so one request costs at most MAX_POINTS points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

UNITS = 280  # the canvas's coordinate range, MNIST's 28 x 10 (the preprocessing works at any size)
MAX_STROKES = 200
MAX_POINTS = 20_000  # points over all strokes: ~600 kB of JSON at most, a few ms to draw
WIDTH_RANGE = (1.0, 80.0)  # pen widths in units


@dataclass(frozen=True)
class Stroke:
    """One pen stroke: width in canvas units and its points (n, 2) float32, x then y."""

    width: float
    points: np.ndarray

    def as_json(self) -> dict:
        """What the canvas sends back and takes: {"w": width, "p": [x0, y0, ...]} rounded to 0.1 unit."""
        return {"w": round(self.width, 2), "p": [round(float(v), 1) for v in self.points.ravel()]}


_NOT_NUMBERS = "The canvas sent a drawing that is not a list of numbers."


def _numbers(values: list) -> np.ndarray:
    """A JSON list of numbers -> float32 (n,); ValueError for anything else (strings, NaN, nested lists)."""
    try:
        a = np.asarray(values)
    except ValueError:  # ragged nesting
        raise ValueError(_NOT_NUMBERS) from None
    if a.ndim != 1 or a.dtype.kind not in "iuf" or not np.isfinite(a).all():
        raise ValueError(_NOT_NUMBERS)
    return a.astype(np.float32)


def parse_strokes(raw) -> list[Stroke]:
    """The canvas's strokes (a list of {"w", "p"} dicts, as decoded from JSON) -> checked Strokes.

    Points are clipped to the canvas; a stroke with an odd number of coordinates or no points is
    refused, as is a drawing of more than MAX_STROKES strokes or MAX_POINTS points.
    """
    if not isinstance(raw, list):
        raise ValueError("The canvas sent a drawing that is not a list of strokes.")
    if len(raw) > MAX_STROKES:
        raise ValueError(f"The drawing has more than {MAX_STROKES} strokes: press Clear and draw it again.")
    strokes, total = [], 0
    for s in raw:
        if not isinstance(s, dict) or not isinstance(s.get("p"), list):
            raise ValueError("The canvas sent a drawing that is not a list of strokes.")
        flat = s["p"]
        total += len(flat) // 2
        if total > MAX_POINTS:
            raise ValueError(f"The drawing has more than {MAX_POINTS:,} points: press Clear and draw it again.")
        if not flat or len(flat) % 2:
            raise ValueError("The canvas sent a stroke with a missing coordinate.")
        width = float(np.clip(_numbers([s.get("w", 20)])[0], *WIDTH_RANGE))
        pts = _numbers(flat).reshape(-1, 2)
        np.clip(pts, 0.0, UNITS, out=pts)
        strokes.append(Stroke(width, pts))
    return strokes


def rasterize(strokes: list[Stroke], side: int = UNITS) -> np.ndarray:
    """Draw the strokes white on black, round caps and joins like the canvas: ink (side, side) in [0, 1]."""
    img = Image.new("L", (side, side), 0)
    pen = ImageDraw.Draw(img)
    scale = side / UNITS
    for s in strokes:
        pts = s.points * scale
        w = s.width * scale
        r = w / 2
        if len(pts) > 1:
            pen.line([tuple(p) for p in pts.tolist()], fill=255, width=max(1, round(w)), joint="curve")
        for x, y in (pts[0], pts[-1]):  # round caps (a single point is a dot)
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(img, dtype=np.float32) * np.float32(1 / 255)
