// The console's shared helpers: calls to the API, notices, and heat maps on canvas.
// No build step: a plain ES module, served from the package.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";
export const isAdmin = () => meta("console-role") === "admin";

export function notice(text, kind = "error") {
  const box = document.getElementById("notice");
  if (!box) return;
  box.textContent = text;
  box.className = kind;
  box.hidden = !text;
}

function toLogin() {
  location.assign(`/ui/login?next=${encodeURIComponent(location.pathname)}`);
}

// JSON from the console's own read endpoints; a lost session goes back to the login form.
export async function data(path) {
  const answer = await fetch(`/ui/data/${path}`, { credentials: "same-origin" });
  if (answer.status === 401) { toLogin(); throw new Error("login needed"); }
  const body = await answer.json();
  if (!answer.ok) { const e = new Error(body.error || answer.statusText); e.body = body; throw e; }
  return body;
}

// A call of the /v1 API with the session's identity; errors come back as their message.
export async function api(method, path, body) {
  const answer = await fetch(`/ui/api/${path}`, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Console-CSRF": meta("console-csrf") },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status === 401) { toLogin(); throw new Error("login needed"); }
  const text = await answer.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { raw: text }; }
  if (!answer.ok) {
    const e = new Error(faultOf(parsed) || `${answer.status} ${answer.statusText}`);
    e.status = answer.status;
    throw e;
  }
  return parsed;
}

function faultOf(body) {
  if (!body) return "";
  if (body.error) return body.error;
  try { return JSON.parse(body.error_message).faultstring; } catch { return body.error_message || ""; }
}

// Refusals are shown as such: 403 names the missing role, the rest the API's message.
export function refused(error) {
  const text = error.status === 403 ? `Refused by the API (admin role needed): ${error.message}`
    : `The API refused: ${error.message}`;
  notice(text);
}

export const pct = (x) => (x == null ? "" : `${(x * 100).toFixed(1)}%`);

// Viridis, sampled: perceptually even and readable with every common colour-vision deficiency.
const VIRIDIS = ["#440154", "#482878", "#3e4a89", "#31688e", "#26828e", "#1f9e89",
  "#35b779", "#6ece58", "#b5de2b", "#fde725"];
export const OVER = "#d55e00";   // above 100 %: Okabe-Ito vermillion, apart from the scale
export function colour(x) {
  if (x > 1.0001) return OVER;
  const i = Math.max(0, Math.min(VIRIDIS.length - 1, Math.floor(x * VIRIDIS.length)));
  return VIRIDIS[i];
}

export function legend(box) {
  if (!box) return;
  const stops = VIRIDIS.map((c, i) => `<span class="sw" style="background:${c}"></span>${i === 0 ? "0%" : i === VIRIDIS.length - 1 ? "100%" : ""}`).join("");
  box.innerHTML = `${stops} <span class="sw" style="background:${OVER}"></span>above 100% · `
    + `<span class="sw disabled"></span>disabled · <span class="sw down"></span>down · `
    + `<span class="sw empty"></span>empty`;
}

// A heat map: one cell a host, flags drawn over the colour (hatched disabled, crossed down,
// hollow empty), a focus ring on the selected cell; arrows and the mouse select a host.
export class HeatMap {
  constructor(canvas, values, flags, bits, describe) {
    Object.assign(this, { canvas, values, flags, bits, describe, selected: -1 });
    const n = values.length;
    const width = Math.min(canvas.parentElement.clientWidth || 480, 520);
    this.cols = Math.max(1, Math.ceil(Math.sqrt(n * 1.6)));
    this.size = Math.max(2, Math.floor(width / this.cols));
    this.rows = Math.ceil(n / this.cols);
    canvas.width = this.cols * this.size;
    canvas.height = Math.max(this.rows * this.size, this.size);
    canvas.addEventListener("keydown", (e) => this.key(e));
    canvas.addEventListener("mousemove", (e) => this.point(e));
    canvas.addEventListener("click", (e) => this.point(e));
    this.draw();
  }

  draw() {
    const g = this.canvas.getContext("2d"), s = this.size, b = this.bits;
    const w = s >= 6 ? s - 1 : s;  // a gap between big cells, so hosts read as hosts
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (let h = 0; h < this.values.length; h++) {
      const x = (h % this.cols) * s, y = Math.floor(h / this.cols) * s, f = this.flags[h];
      if (f & b.empty) {
        g.fillStyle = "#f2f2f2"; g.fillRect(x, y, w, w);
      } else {
        g.fillStyle = colour(this.values[h]); g.fillRect(x, y, w, w);
      }
      if (s >= 4 && (f & (b.disabled | b.down))) {
        g.strokeStyle = f & b.down ? "#000" : "#fff"; g.lineWidth = 1; g.beginPath();
        g.moveTo(x, y + s); g.lineTo(x + s, y);
        if (f & b.down) { g.moveTo(x, y); g.lineTo(x + s, y + s); }
        g.stroke();
      }
    }
    if (this.selected >= 0) {
      const h = this.selected;
      g.strokeStyle = "#e7298a"; g.lineWidth = 2;
      g.strokeRect((h % this.cols) * s - 1, Math.floor(h / this.cols) * s - 1, s + 2, s + 2);
    }
  }

  select(h) {
    if (h < 0 || h >= this.values.length) return;
    this.selected = h;
    this.draw();
    this.describe(h);
  }

  key(e) {
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.cols, ArrowDown: this.cols,
      Home: -Infinity, End: Infinity }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const from = Math.max(this.selected, 0);
    const to = step === -Infinity ? 0 : step === Infinity ? this.values.length - 1 : from + step;
    this.select(Math.max(0, Math.min(this.values.length - 1, to)));
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    const col = Math.floor((e.clientX - r.left) / this.size);
    const row = Math.floor((e.clientY - r.top) / this.size);
    if (col < this.cols) this.select(row * this.cols + col);
  }
}

export function summaryOf(values) {
  const sorted = Float64Array.from(values).sort();
  const over = sorted.filter((x) => x > 1.0001).length;
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  return { over, median };
}
