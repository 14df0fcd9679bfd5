"""Two light views for what updates many times a second (the Draw page while the pen moves).

A Plotly chart costs the browser tens of milliseconds each time it changes, several times that on
a busy laptop; these draw in well under one. Components v2, inline JavaScript, no build step:
* `pixels`: a (784,) picture in [0, 1] as 28 x 28 grey squares (white ink on black, like MNIST);
* `probability_bars`: one bar per class with its percentage, the highlighted class in colour.
They show numbers only (no user text), written with textContent.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from nnviz.plots.style import CLASS_COLOURS, FONT_SIZE, PRESENT_FONT_SIZE

_PIXELS_JS = """
export default function ({ data, parentElement }) {
  let c = parentElement.querySelector('canvas');
  if (!c) {
    c = document.createElement('canvas');
    c.width = c.height = 28;
    c.setAttribute('role', 'img');
    parentElement.appendChild(c);
  }
  c.setAttribute('aria-label', data.label || 'a 28 by 28 picture');
  c.style.maxWidth = data.size + 'px';
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = data.v[i] | 0;
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  c.getContext('2d').putImageData(img, 0, 0);
}
"""
_PIXELS_CSS = """
canvas { display: block; width: 100%; aspect-ratio: 1; image-rendering: pixelated; border-radius: 4px; }
"""

_BARS_JS = """
export default function ({ data, parentElement }) {
  let box = parentElement.querySelector('.bars');
  if (!box) {
    box = document.createElement('div');
    box.className = 'bars';
    box.setAttribute('role', 'img');
    parentElement.appendChild(box);
  }
  const n = data.p.length;
  while (box.children.length > n) box.lastChild.remove();
  while (box.children.length < n) {
    const col = document.createElement('div');
    col.className = 'col';
    for (const k of ['pct', 'track', 'label']) {
      const e = document.createElement('div');
      e.className = k;
      col.appendChild(e);
    }
    col.querySelector('.track').appendChild(document.createElement('div')).className = 'bar';
    box.appendChild(col);
  }
  box.style.height = data.height + 'px';
  box.style.fontSize = data.font + 'px';
  box.setAttribute('aria-label', 'probabilities: ' + data.p.map((p, i) => i + ' ' + Math.round(100 * p) + '%').join(', '));
  data.p.forEach((p, i) => {
    const col = box.children[i];
    col.querySelector('.pct').textContent = p >= 0.01 ? Math.round(100 * p) + '%' : '';
    col.querySelector('.label').textContent = String(i);
    const bar = col.querySelector('.bar');
    bar.style.height = (100 * Math.min(Math.max(p, 0), 1)) + '%';
    bar.style.background = i === data.highlight ? data.colour : '#B0B0B0';
  });
}
"""
_BARS_CSS = """
.bars { display: flex; gap: 4px; align-items: stretch; font-family: var(--st-font, sans-serif);
        color: var(--st-text-color, #31333f); }
.col { flex: 1 1 0; display: flex; flex-direction: column; align-items: center; min-width: 0; }
.pct { height: 1.4em; line-height: 1.4em; font-size: 0.85em; white-space: nowrap; }
.track { flex: 1 1 auto; width: 100%; display: flex; align-items: flex-end;
         border-bottom: 1px solid #888; }
.bar { width: 100%; border-radius: 3px 3px 0 0; min-height: 0; }
.label { height: 1.5em; line-height: 1.5em; font-weight: 600; }
"""

_pixels = st.components.v2.component("nnviz_pixels", js=_PIXELS_JS, css=_PIXELS_CSS)
_bars = st.components.v2.component("nnviz_probability_bars", js=_BARS_JS, css=_BARS_CSS)


def pixels(x: np.ndarray, size: int = 240, label: str = "", key: str | None = None) -> None:
    """A (784,) picture in [0, 1] (white = 1) as 28 x 28 squares, size px wide at most (less in a narrow column)."""
    v = np.clip(np.nan_to_num(np.asarray(x, dtype=np.float32).ravel()), 0.0, 1.0)
    if v.size != 784:
        raise ValueError(f"pixels takes a (784,) picture; got {v.size} values")
    grey = np.rint(v * 255).astype(np.uint8).tolist()
    _pixels(key=key, data={"v": grey, "size": int(size), "label": label})


def probability_bars(probs: np.ndarray, highlight: int | None = None, height: int = 230,
                     present: bool = False, key: str | None = None) -> None:
    """One bar per class (probs (k,) in [0, 1]) with its percentage; `highlight` in colour."""
    p = [round(float(v), 4) for v in np.nan_to_num(np.asarray(probs, dtype=np.float64).ravel())]
    _bars(key=key, height=height,
          data={"p": p, "highlight": -1 if highlight is None else int(highlight), "colour": CLASS_COLOURS[0],
                "height": height, "font": PRESENT_FONT_SIZE if present else FONT_SIZE})
