// The Draw page's canvas (a Streamlit Components v2 module): white ink on black with a mouse, a pen
// or a finger. It keeps its strokes itself and sends all of them (canvas units, 0..UNITS) as the
// state value "drawing" while the pen moves and at once on pen-up; the server rasterises them,
// preprocesses and predicts (nnviz/lab/strokes.py). While the pen moves it sends at most every
// SEND_MS and waits for the server's answer to the last send (data.answered), so a slow server or
// network gets fewer, not piled-up, updates. data.rev changes when the server changed the drawing
// (Undo, Clear): the canvas then takes data.strokes.
const UNITS = 280;
const SEND_MS = 50;
const LOST_MS = 400; // an answer that has not come by then is taken as lost: send anyway
const MIN_STEP = 1.0; // canvas units between two kept points

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  // Called again on every rerun with new data: build the pad once per mount, then only update it.
  let pad = parentElement.__nnvizPad;
  if (!pad) {
    pad = createPad(parentElement);
    parentElement.__nnvizPad = pad;
  }
  pad.send = setStateValue;
  pad.update(data || {});
}

function createPad(root) {
  const canvas = document.createElement("canvas");
  canvas.className = "nnviz-pad";
  canvas.setAttribute("aria-label", "Drawing canvas: draw a digit");
  root.appendChild(canvas);
  const ctx = canvas.getContext("2d");
  const pad = {
    mount: Math.random().toString(36).slice(2), // tells this canvas's sends from an earlier one's
    strokes: [], rev: null, seq: 0, answered: 0, size: 0, brush: 20,
    current: null, dirty: false, lastSent: 0, timer: null, send: null,
  };

  function scale() { return canvas.width / UNITS; }

  function drawStroke(s, from) {
    const p = s.p;
    ctx.lineWidth = s.w;
    if (p.length === 2) { // a dot
      ctx.beginPath();
      ctx.arc(p[0], p[1], s.w / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    const i0 = Math.max(0, from - 2);
    ctx.beginPath();
    ctx.moveTo(p[i0], p[i0 + 1]);
    for (let i = i0 + 2; i < p.length; i += 2) ctx.lineTo(p[i], p[i + 1]);
    ctx.stroke();
  }

  function redraw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const k = scale();
    ctx.setTransform(k, 0, 0, k, 0, 0);
    ctx.strokeStyle = ctx.fillStyle = "#fff";
    ctx.lineCap = ctx.lineJoin = "round";
    for (const s of pad.strokes) drawStroke(s, 0);
  }

  function resize(size) {
    pad.size = size;
    const dpr = window.devicePixelRatio || 1;
    canvas.style.width = canvas.style.height = size + "px";
    canvas.width = canvas.height = Math.round(size * dpr);
    redraw();
  }

  function toUnits(e) {
    const r = canvas.getBoundingClientRect();
    const x = (e.clientX - r.left) * UNITS / r.width;
    const y = (e.clientY - r.top) * UNITS / r.height;
    return [Math.round(Math.min(Math.max(x, 0), UNITS) * 10) / 10,
            Math.round(Math.min(Math.max(y, 0), UNITS) * 10) / 10];
  }

  function flush(done) {
    clearTimeout(pad.timer);
    pad.timer = null;
    pad.dirty = false;
    pad.seq += 1;
    pad.lastSent = performance.now();
    if (pad.send) {
      pad.send("drawing", { mount: pad.mount, seq: pad.seq, rev: pad.rev, done: done, strokes: pad.strokes });
    }
  }

  function schedule() {
    if (pad.timer !== null || !pad.dirty) return;
    let due = pad.lastSent + SEND_MS;
    if (pad.answered < pad.seq) due = Math.max(due, pad.lastSent + LOST_MS); // update() brings it forward
    pad.timer = setTimeout(() => { pad.timer = null; if (pad.dirty) flush(false); },
                           Math.max(0, due - performance.now()));
  }

  function addPoint(e) {
    const [x, y] = toUnits(e);
    const p = pad.current.p;
    const n = p.length;
    if (Math.hypot(x - p[n - 2], y - p[n - 1]) < MIN_STEP) return false;
    p.push(x, y);
    return true;
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button > 0 || pad.current) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    pad.current = { w: pad.brush, p: toUnits(e) };
    pad.strokes.push(pad.current);
    drawStroke(pad.current, 0);
    pad.dirty = true;
    schedule();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!pad.current) return;
    const from = pad.current.p.length;
    let moved = false;
    const all = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of (all.length ? all : [e])) moved = addPoint(ev) || moved;
    if (!moved) return;
    drawStroke(pad.current, from);
    pad.dirty = true;
    schedule();
  });
  const end = (e) => {
    if (!pad.current) return;
    const from = pad.current.p.length;
    if (e.type === "pointerup" && addPoint(e)) drawStroke(pad.current, from);
    pad.current = null;
    flush(true);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  pad.update = (data) => {
    const size = Number(data.size) || 280;
    pad.brush = Number(data.brush) || pad.brush;
    if (size !== pad.size) resize(size);
    const answered = data.answered || {};
    if (answered.mount === pad.mount) pad.answered = Math.max(pad.answered, answered.seq || 0);
    if (data.rev !== pad.rev) { // the server changed the drawing (first mount, Undo, Clear)
      pad.rev = data.rev;
      pad.strokes = Array.isArray(data.strokes) ? data.strokes.map((s) => ({ w: s.w, p: s.p.slice() })) : [];
      pad.current = null;
      pad.dirty = false;
      redraw();
    }
    if (pad.dirty && pad.timer !== null && pad.answered >= pad.seq) { // the answer came: send the next now
      clearTimeout(pad.timer);
      pad.timer = null;
    }
    schedule();
  };
  return pad;
}
