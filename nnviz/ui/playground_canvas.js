// The Playground's live views (a Streamlit Components v2 module, no build step): the network
// diagram, the loss and accuracy curves, the headline and the plane (decision boundary or one
// neuron, with the points), each drawn on a canvas that is updated in place from compact data
// (nnviz/plots/playground.py: pictures as base64 palette indices, links and curves as numbers).
// data.parts says which of "network", "curves", "headline", "plane" this instance draws, top to
// bottom. A click on a neuron sends the trigger "select" {layer, index}; a double click {clear}.
// Every text that can come from the user (class labels from a CSV) is set with textContent or
// drawn with fillText, never parsed as HTML.
const FONT = '"Source Sans", "Source Sans Pro", sans-serif'; // the page's font (Streamlit 1.67)

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  // Called again on every rerun with new data: build the view once per mount, then only redraw.
  let view = parentElement.__nnvizPlayground;
  if (!view) {
    view = createView(parentElement);
    parentElement.__nnvizPlayground = view;
  }
  view.send = setTriggerValue;
  view.update(data || {});
}

// ----- helpers ---------------------------------------------------------------------------------

const decoded = new Map(); // base64 string -> bytes (palettes repeat frame after frame)

function bytes(b64) {
  let a = decoded.get(b64);
  if (a) return a;
  const s = atob(b64);
  a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  if (b64.length < 4096) { // keep colour tables, not pictures
    if (decoded.size > 64) decoded.clear();
    decoded.set(b64, a);
  }
  return a;
}

// A picture {r, px, pal} -> an r x r canvas (reused: `slot` keeps its canvas and ImageData).
function paint(slot, pic, palettes) {
  const r = pic.r;
  if (!slot.canvas || slot.canvas.width !== r) {
    slot.canvas = document.createElement("canvas");
    slot.canvas.width = slot.canvas.height = r;
    slot.image = new ImageData(r, r);
  }
  const idx = bytes(pic.px), pal = bytes(palettes[pic.pal]), out = slot.image.data;
  for (let i = 0, n = r * r; i < n; i++) {
    const p = 3 * idx[i], o = 4 * i;
    out[o] = pal[p]; out[o + 1] = pal[p + 1]; out[o + 2] = pal[p + 2]; out[o + 3] = 255;
  }
  slot.canvas.getContext("2d").putImageData(slot.image, 0, 0);
  return slot.canvas;
}

// Size a canvas to css px (sharp on any screen); returns its 2-D context in css px units.
function sized(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  const bw = Math.max(1, Math.round(w * dpr)), bh = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== bw || canvas.height !== bh) {
    canvas.width = bw;
    canvas.height = bh;
  }
  canvas.style.width = w + "px";
  canvas.style.height = h + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

function fit(ctx, text, width) { // text cut short with "..." to fit width px
  if (width <= 0) return "";
  if (ctx.measureText(text).width <= width) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(t + "\u2026").width > width) t = t.slice(0, -1);
  return t + "\u2026";
}

function niceStep(span, count) {
  const raw = span / Math.max(count, 1), mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

// ----- the view --------------------------------------------------------------------------------

function createView(root) {
  const host = root.host || root; // root: the component's shadow root; host: its element in the page
  const box = document.createElement("div");
  box.className = "pg-box";
  root.appendChild(box);
  const tip = document.createElement("div");
  tip.className = "pg-tip";
  box.appendChild(tip);
  const view = { data: {}, send: null, parts: {}, width: 0 };

  function showTip(text, x, y) {
    if (!text) { tip.style.display = "none"; return; }
    tip.textContent = text;
    tip.style.display = "block";
    const bw = box.clientWidth, tw = tip.offsetWidth;
    tip.style.left = Math.max(0, Math.min(x + 14, bw - tw - 2)) + "px";
    tip.style.top = (y + 14) + "px";
  }
  view.showTip = showTip;

  function part(name) {
    let p = view.parts[name];
    if (p) return p;
    const el = document.createElement("div");
    el.className = "pg-" + name;
    box.insertBefore(el, tip);
    p = view.parts[name] = { el, name };
    if (name === "network") makeNetwork(view, p);
    if (name === "curves") makeCurves(view, p);
    if (name === "plane") makePlane(view, p);
    return p;
  }

  view.draw = function () {
    const d = view.data, w = box.clientWidth;
    view.width = w;
    if (!w) return;
    for (const name of d.parts || []) {
      const p = part(name);
      if (name === "headline") drawHeadline(p, d.headline || []);
      else if (name === "network") drawNetwork(view, p, d.network, w, d.network_height, d.font);
      else if (name === "curves") drawCurves(view, p, d.curves, w, d.curves_height, d.font);
      else if (name === "plane") drawPlane(view, p, d.plane, w, planeHeight(d), d.font);
    }
  };

  function planeHeight(d) { // the plane takes its box's height, less the parts above it
    let used = 0;
    for (const name of d.parts || []) if (name !== "plane" && view.parts[name]) used += view.parts[name].el.offsetHeight;
    return Math.max(240, host.clientHeight - used);
  }

  view.update = function (data) {
    view.data = data;
    box.classList.toggle("pg-fill", !!data.fill); // fill: the box as tall as the page made the element
    box.style.fontSize = (data.font || 14) + "px";
    view.draw();
  };

  // Redraw at a new width or height (a window resize, the sidebar opening).
  const ro = new ResizeObserver(() => {
    if (box.clientWidth !== view.width || host.clientHeight !== view.height) {
      view.height = host.clientHeight;
      view.draw();
    }
  });
  ro.observe(host);
  return view;
}

// ----- headline --------------------------------------------------------------------------------

function drawHeadline(p, pieces) {
  const key = JSON.stringify(pieces);
  if (p.key === key) return;
  p.key = key;
  p.el.replaceChildren(...pieces.map(([text, bold]) => {
    const s = document.createElement(bold ? "b" : "span");
    s.textContent = String(text);
    return s;
  }));
}

// ----- the network -----------------------------------------------------------------------------

function makeNetwork(view, p) {
  p.canvas = document.createElement("canvas");
  p.canvas.setAttribute("role", "img");
  p.el.appendChild(p.canvas);
  p.slots = [];
  p.hits = [];
  const at = (e) => {
    const r = p.canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    return [x, y, p.hits.find((h) => Math.abs(x - h.x) <= h.half && Math.abs(y - h.y) <= h.half)];
  };
  p.canvas.addEventListener("mousemove", (e) => {
    const [x, y, hit] = at(e);
    p.canvas.style.cursor = hit ? "pointer" : "default";
    const off = p.el.offsetTop;
    view.showTip(hit ? hit.name + (hit.bias ? "\n" + hit.bias : "") : "", x, y + off);
  });
  p.canvas.addEventListener("mouseleave", () => view.showTip(""));
  p.canvas.addEventListener("click", (e) => {
    const hit = at(e)[2];
    if (hit && view.send) view.send("select", { layer: hit.layer, index: hit.index });
  });
  p.canvas.addEventListener("dblclick", () => view.send && view.send("select", { clear: true }));
}

function drawNetwork(view, p, net, w, h, font) {
  if (!net) return;
  const ctx = sized(p.canvas, w, h);
  p.canvas.setAttribute("aria-label", `network diagram: ${net.sizes.join(", ")} neurons`);
  const sizes = net.sizes, nL = sizes.length - 1, tallest = Math.max(...sizes);
  const top = (tallest - 1) / 2 + 0.5, headRoom = tallest <= 8 ? 1.2 : 0.5 + tallest * 0.07;
  const x0 = -0.85, x1 = nL + 0.85, y0 = -top - 0.05, y1 = top + headRoom;
  const X = (v) => ((v - x0) / (x1 - x0)) * w, Y = (v) => h - ((v - y0) / (y1 - y0)) * h;
  const rowY = (n, k) => (n - 1) / 2 - k; // top to bottom, centred on 0
  const side = Math.min((0.42 * w) / (x1 - x0), (0.84 * h) / (y1 - y0));
  const column = w / (x1 - x0) - 4;

  const L = net.links;
  ctx.lineCap = "round";
  for (let k = 0; k < L.l.length; k++) {
    const f = L.f[k], a = Math.abs(f), l = L.l[k];
    ctx.strokeStyle = f > 0 ? net.colours.positive : net.colours.negative;
    ctx.globalAlpha = 0.25 + 0.65 * a;
    ctx.lineWidth = 0.5 + net.thick * a;
    ctx.beginPath();
    ctx.moveTo(X(l), Y(rowY(sizes[l], L.i[k])));
    ctx.lineTo(X(l + 1), Y(rowY(sizes[l + 1], L.j[k])));
    ctx.stroke();
  }
  ctx.globalAlpha = 1;

  p.hits = [];
  ctx.imageSmoothingEnabled = true;
  net.nodes.forEach((node, n) => {
    const slot = p.slots[n] || (p.slots[n] = {});
    const cx = X(node.layer), cy = Y(rowY(sizes[node.layer], node.index));
    ctx.drawImage(paint(slot, node.pic, net.palettes), cx - side / 2, cy - side / 2, side, side);
    ctx.strokeStyle = "#9a9a9a";
    ctx.lineWidth = 1;
    ctx.strokeRect(cx - side / 2 + 0.5, cy - side / 2 + 0.5, side - 1, side - 1);
    p.hits.push({ x: cx, y: cy, half: side / 2, layer: node.layer, index: node.index, name: node.name, bias: node.bias });
  });
  p.slots.length = net.nodes.length;
  if (net.selected) {
    const [l, i] = net.selected;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 3;
    const s = side + 8;
    ctx.strokeRect(X(l) - s / 2, Y(rowY(sizes[l], i)) - s / 2, s, s);
  }

  ctx.fillStyle = "#31333f";
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  net.heads.forEach((t, l) => {
    ctx.font = `bold ${font + 1}px ${FONT}`;
    ctx.fillText(fit(ctx, t, column), X(l), Y(top + headRoom * 0.55));
  });
  ctx.fillStyle = "#444444";
  ctx.font = `${font - 1}px ${FONT}`;
  net.subs.forEach((t, l) => ctx.fillText(fit(ctx, t, column), X(l), Y(top + headRoom * 0.18)));
  ctx.fillStyle = "#31333f";
  ctx.font = `${tallest <= 8 ? font : font - 3}px ${FONT}`;
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  net.features.forEach((t, i) => ctx.fillText(fit(ctx, t, X(0) - side / 2 - 8), X(0) - side / 2 - 6, Y(rowY(sizes[0], i))));
  ctx.textAlign = "left";
  net.classes.forEach((t, i) =>
    ctx.fillText(fit(ctx, t, w - X(nL) - side / 2 - 8), X(nL) + side / 2 + 6, Y(rowY(sizes[nL], i))));
}

// ----- the curves ------------------------------------------------------------------------------

function makeCurves(view, p) {
  p.charts = ["loss", "accuracy"].map((metric) => {
    const c = document.createElement("canvas");
    c.setAttribute("role", "img");
    c.dataset.metric = metric;
    p.el.appendChild(c);
    const chart = { canvas: c, metric, hover: null };
    c.addEventListener("mousemove", (e) => {
      const r = c.getBoundingClientRect(), x = e.clientX - r.left;
      const g = chart.geometry;
      if (!g || !g.epochs.length) return;
      let best = 0;
      g.epochs.forEach((ep, k) => { if (Math.abs(g.X(ep) - x) < Math.abs(g.X(g.epochs[best]) - x)) best = k; });
      const fmt = (v) => (v == null ? "" : metric === "loss" ? v.toFixed(3) : (100 * v).toFixed(1) + "%");
      const s = g.series;
      const lines = [`${g.step} ${g.epochs[best].toLocaleString()}`, `train ${metric} ${fmt(s.train && s.train[best])}`];
      if (s.test) lines.push(`test ${metric} ${fmt(s.test[best])}`);
      view.showTip(lines.join("\n"), c.offsetLeft + x, c.offsetTop + e.clientY - r.top);
    });
    c.addEventListener("mouseleave", () => view.showTip(""));
    return chart;
  });
}

function drawCurves(view, p, curves, w, h, font) {
  if (!curves) return;
  const gap = 16, cw = (w - gap) / 2;
  p.charts.forEach((chart) => drawCurve(chart, curves, cw, h, font));
}

function drawCurve(chart, curves, w, h, font) {
  const ctx = sized(chart.canvas, w, h);
  const metric = chart.metric, series = curves[metric], epochs = curves.epochs;
  const loss = metric === "loss";
  chart.canvas.setAttribute("aria-label", `${metric} over ${curves.step}s`);
  const small = font - 2;
  ctx.font = `${small}px ${FONT}`;
  const left = (loss ? 34 : 40) + (font - 14) * 2 + font, top = font + 14, bottom = 2 * font + 10, right = font + 4;
  const pw = w - left - right, ph = h - top - bottom;
  const last = epochs.length ? epochs[epochs.length - 1] : 0;
  const xStep = niceStep(Math.max(last, 1), Math.max(2, Math.floor(pw / 70)));
  const xMax = Math.max(Math.ceil(Math.max(last, 1) / xStep) * xStep, 1);
  let yMax = 1, yTicks = [0, 0.25, 0.5, 0.75, 1];
  if (loss) {
    let m = 0;
    for (const s of [series.train, series.test]) if (s) for (const v of s) if (v != null && v > m) m = v;
    const st = niceStep(m || 1, 3);
    yMax = Math.max(Math.ceil((m || 1) / st) * st, st);
    yTicks = [];
    for (let v = 0; v <= yMax + 1e-9; v += st) yTicks.push(v);
  }
  const X = (v) => left + (v / xMax) * pw, Y = (v) => top + ph - (Math.min(Math.max(v, 0), yMax) / yMax) * ph;
  chart.geometry = { X, epochs, series, step: curves.step };

  ctx.strokeStyle = "#e6e6e6";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#333333";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of yTicks) {
    const y = Math.round(Y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
    ctx.fillText(loss ? String(+v.toFixed(3)) : Math.round(100 * v) + "%", left - 5, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.strokeStyle = "#888888";
  ctx.beginPath(); ctx.moveTo(left, top + ph + 0.5); ctx.lineTo(left + pw, top + ph + 0.5); ctx.stroke();
  for (let v = 0; v <= xMax + 1e-9; v += xStep) {
    const x = Math.round(X(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(x, top + ph); ctx.lineTo(x, top + ph + 4); ctx.stroke();
    ctx.fillText(Math.round(v).toLocaleString(), x, top + ph + 6);
  }
  ctx.fillStyle = "#111111";
  ctx.font = `${font}px ${FONT}`;
  ctx.fillText(curves.step, left + pw / 2, top + ph + 8 + small);
  ctx.save();
  ctx.translate(12, top + ph / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(metric, 0, 0);
  ctx.restore();

  ctx.save();
  ctx.beginPath(); ctx.rect(left, top - 2, pw, ph + 4); ctx.clip();
  const thick = font > 16 ? 3 : 2.2;
  for (const [kind, colour, dash] of [["train", curves.train_colour, []], ["test", curves.test_colour, [6, 3]]]) {
    const s = series[kind];
    if (!s) continue;
    ctx.strokeStyle = colour;
    ctx.lineWidth = thick;
    ctx.setLineDash(dash);
    ctx.lineJoin = "round";
    ctx.beginPath();
    let on = false;
    s.forEach((v, k) => {
      if (v == null) { on = false; return; }
      if (on) ctx.lineTo(X(epochs[k]), Y(v)); else ctx.moveTo(X(epochs[k]), Y(v));
      on = true;
    });
    ctx.stroke();
  }
  ctx.setLineDash([3, 3]);
  if (curves.marker != null) {
    ctx.strokeStyle = "#555555";
    ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(X(curves.marker), top); ctx.lineTo(X(curves.marker), top + ph); ctx.stroke();
  }
  ctx.restore();

  // the legend, top left: train solid, test dashed
  ctx.font = `${font - 1}px ${FONT}`;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  let x = left;
  for (const [kind, colour, dash] of [["train", curves.train_colour, []], ["test", curves.test_colour, [6, 3]]]) {
    if (!series[kind]) continue;
    ctx.strokeStyle = colour;
    ctx.lineWidth = thick;
    ctx.setLineDash(dash);
    ctx.beginPath(); ctx.moveTo(x, font / 2 + 2); ctx.lineTo(x + 22, font / 2 + 2); ctx.stroke();
    ctx.fillStyle = "#111111";
    ctx.fillText(kind, x + 27, font / 2 + 2);
    x += 34 + ctx.measureText(kind).width + 12;
  }
  ctx.setLineDash([]);
}

// ----- the plane -------------------------------------------------------------------------------

function makePlane(view, p) {
  p.canvas = document.createElement("canvas");
  p.canvas.setAttribute("role", "img");
  p.el.appendChild(p.canvas);
  p.slot = {};
  p.canvas.addEventListener("mousemove", (e) => {
    const g = p.geometry;
    if (!g) return;
    const r = p.canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    let best = -1, bestD = 81;
    const pts = g.points;
    for (let k = 0; k < pts.x.length; k++) {
      const dx = g.X(pts.x[k]) - x, dy = g.Y(pts.y[k]) - y, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = k; }
    }
    const off = p.el.offsetTop;
    if (best < 0) { view.showTip("", 0, 0); return; }
    const set = best < pts.n_train ? "train" : "test";
    view.showTip(`${g.classes[pts.c[best]]} \u00b7 ${set}\nx\u2081 ${pts.x[best].toFixed(2)}, x\u2082 ${pts.y[best].toFixed(2)}`,
                 x, y + off);
  });
  p.canvas.addEventListener("mouseleave", () => view.showTip(""));
}

function marker(ctx, kind, x, y, r) {
  ctx.beginPath();
  if (kind === "test") {
    const d = r * 1.3;
    ctx.moveTo(x, y - d); ctx.lineTo(x + d * 0.8, y); ctx.lineTo(x, y + d); ctx.lineTo(x - d * 0.8, y); ctx.closePath();
  } else {
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
}

function drawPlane(view, p, plane, w, h, font) {
  if (!plane) return;
  const ctx = sized(p.canvas, w, h);
  p.canvas.setAttribute("aria-label", "the plane: " + (plane.picture.pal === "boundary" ? "decision boundary" : "a neuron's output"));
  const small = font - 2, radius = font > 16 ? 5.9 : 4.7;
  // The legend above the square: the classes, then train (circle) and test (diamond).
  ctx.font = `${font - 1}px ${FONT}`;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  const items = plane.classes.map((name, c) => ({ name, fill: plane.colours[c], kind: "train", stroke: null }));
  items.push({ name: "train", fill: "#bbbbbb", kind: "train", stroke: "#ffffff" });
  items.push({ name: "test", fill: "#111111", kind: "test", stroke: "#111111" });
  const rows = [[]];
  let lx = 0;
  for (const it of items) {
    const iw = 2 * radius + 6 + Math.min(ctx.measureText(it.name).width, w / 2) + 14;
    if (lx + iw > w && rows[rows.length - 1].length) { rows.push([]); lx = 0; }
    rows[rows.length - 1].push(it);
    lx += iw;
  }
  const rowH = font + 6, legendH = rows.length * rowH + 6;
  const margin = { left: 2 * font + 12, bottom: 2 * font + 10 };
  const sideMax = Math.min(w - margin.left - 8, h - legendH - margin.bottom);
  const side = Math.max(sideMax, 40);
  const sx = margin.left + Math.max(0, (w - margin.left - 8 - side) / 2), sy = legendH;
  rows.forEach((row, k) => {
    const width = row.reduce((a, it) => a + 2 * radius + 6 + Math.min(ctx.measureText(it.name).width, w / 2) + 14, 0);
    let x = Math.max(0, Math.min(sx + (side - width) / 2, w - width)), y = k * rowH + rowH / 2 + 2;
    for (const it of row) {
      ctx.fillStyle = it.fill;
      marker(ctx, it.kind, x + radius, y, radius);
      ctx.fill();
      if (it.stroke) { ctx.strokeStyle = it.stroke; ctx.lineWidth = 1.2; ctx.stroke(); }
      ctx.fillStyle = "#111111";
      ctx.fillText(fit(ctx, it.name, w / 2), x + 2 * radius + 6, y);
      x += 2 * radius + 6 + Math.min(ctx.measureText(it.name).width, w / 2) + 14;
    }
  });

  const E = plane.extent;
  const X = (v) => sx + ((v + E) / (2 * E)) * side, Y = (v) => sy + side - ((v + E) / (2 * E)) * side;
  p.geometry = { X, Y, points: plane.points, classes: plane.classes };
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(paint(p.slot, plane.picture, plane.palettes), sx, sy, side, side);
  ctx.strokeStyle = "#777777";
  ctx.lineWidth = 1;
  ctx.strokeRect(sx + 0.5, sy + 0.5, side - 1, side - 1);

  ctx.fillStyle = "#333333";
  ctx.font = `${small}px ${FONT}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of [-1, 0, 1]) ctx.fillText(String(t), X(t), sy + side + 5);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of [-1, 0, 1]) ctx.fillText(String(t), sx - 5, Y(t));
  ctx.fillStyle = "#111111";
  ctx.font = `italic ${font}px ${FONT}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText("x\u2081", X(0.5), sy + side + 5);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText("x\u2082", sx - 5, Y(0.5));

  ctx.save();
  ctx.beginPath(); ctx.rect(sx, sy, side, side); ctx.clip();
  const pts = plane.points;
  ctx.lineWidth = 1.2;
  for (let k = 0; k < pts.x.length; k++) {
    const test = k >= pts.n_train;
    ctx.fillStyle = plane.colours[pts.c[k]] || "#555555";
    ctx.strokeStyle = test ? "#111111" : "#ffffff";
    marker(ctx, test ? "test" : "train", X(pts.x[k]), Y(pts.y[k]), radius);
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
}
