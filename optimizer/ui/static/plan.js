// One action plan: efficacy, hosts before / after, the graph by stage, actions, live progress.
import { api, data, HeatMap, isAdmin, legend, notice, pct, refused, summaryOf } from "./console.js";

const uuid = document.getElementById("plan").dataset.uuid;
const ACTION_PAGE = 100, CHANGE_PAGE = 50;
const view = { offset: 0, state: "", changes: [], changeOffset: 0, planState: "" };

const el = (id) => document.getElementById(id);
const cells = (row, values) => {
  row.innerHTML = values.map(() => "<td></td>").join("");
  values.forEach((v, i) => { row.cells[i].textContent = v == null ? "" : String(v); });
  return row;
};

function gone(message) {
  notice(message || "This action plan no longer exists: it was deleted while you were viewing it.");
  for (const b of document.querySelectorAll("#plan button")) b.disabled = true;
  document.body.dataset.gone = "true";
}

function showIndicators(s) {
  const body = document.querySelector("#indicators tbody");
  body.replaceChildren(...s.indicators.map((i) => cells(document.createElement("tr"),
    [i.name, i.value == null ? "" : +i.value.toFixed(4), i.unit, i.description])));
  if (!s.indicators.length) body.innerHTML = "<tr><td colspan=4>No indicators.</td></tr>";
}

function showStages(stages) {
  const svg = el("stages"), width = svg.clientWidth || 800, height = 120;
  const bins = Math.min(stages.length, 300), per = Math.ceil(stages.length / Math.max(bins, 1));
  const values = [];
  for (let i = 0; i < stages.length; i += per) values.push(stages.slice(i, i + per).reduce((a, b) => a + b, 0));
  const top = Math.max(1, ...values), w = width / Math.max(values.length, 1);
  svg.innerHTML = values.map((v, i) => {
    const h = Math.max(1, (v / top) * (height - 20)), first = i * per + 1, last = Math.min(stages.length, (i + 1) * per);
    const label = first === last ? `stage ${first}` : `stages ${first}–${last}`;
    return `<rect x="${i * w}" y="${height - h}" width="${Math.max(1, w - 1)}" height="${h}" fill="#3e4a89"><title>${label}: ${v} action(s)</title></rect>`;
  }).join("");
  const firsts = stages.slice(0, 8).map((c, i) => `stage ${i + 1}: ${c}`).join(", ");
  el("stages-text").textContent = stages.length
    ? `${stages.length} stage(s) (${firsts}${stages.length > 8 ? ", …" : ""}).` : "No actions.";
  el("stages-text").dataset.stages = stages.length;
}

function showProgress(p) {
  const done = (p.states.SUCCEEDED || 0) + (p.states.SKIPPED || 0);
  const ended = done + (p.states.FAILED || 0) + (p.states.CANCELLED || 0);
  el("progress-bar").value = p.total ? ended / p.total : 0;
  const parts = Object.entries(p.states).map(([k, v]) => `${v} ${k}`).join(", ");
  el("progress-text").textContent = `${p.state}: ${ended} of ${p.total} actions ended (${parts || "none"}); `
    + `${p.states.ONGOING || 0} running, ${p.states.FAILED || 0} failed, ${p.retried} retried; `
    + `${p.moved_memory_gb} GB of memory moved.`;
  el("progress-text").dataset.total = p.total;
  const state = el("plan-state");
  state.textContent = p.state;
  state.className = `state s-${p.state}`;
  el("status-message").textContent = p.status_message || "";
  const lines = [...p.running.map((a) => `running #${a.index} ${a.type} ${a.what}`),
    ...p.failed.map((a) => `failed #${a.index} ${a.type} ${a.what}${a.message ? `: ${a.message}` : ""}`)];
  el("running").replaceChildren(...lines.map((t) => Object.assign(document.createElement("p"), { textContent: t })));
  const start = el("start"), cancel = el("cancel");
  if (start) start.hidden = p.state !== "RECOMMENDED";
  if (cancel) cancel.hidden = !["RECOMMENDED", "PENDING", "ONGOING", "PAUSED"].includes(p.state);
  view.planState = p.state;
}

async function showActions() {
  let page;
  try {
    page = await data(`plans/${uuid}/actions?offset=${view.offset}&limit=${ACTION_PAGE}`
      + (view.state ? `&state=${view.state}` : ""));
  } catch (e) { if (e.body?.gone) gone(e.message); return; }
  const body = document.querySelector("#actions tbody"), admin = isAdmin();
  body.replaceChildren(...page.actions.map((a) => {
    const row = cells(document.createElement("tr"), [`#${a.index}`, a.stage, a.type, a.subject, a.change,
      a.state, a.parents.map((p) => `#${p}`).join(", "), a.attempts, a.message]);
    row.dataset.uuid = a.uuid;
    row.dataset.state = a.state;
    if (admin) {
      const cell = row.insertCell();
      if (a.state === "PENDING") {
        cell.innerHTML = `<input class="reason" aria-label="reason for skipping action #${a.index}" placeholder="reason"> <button class="skip">Skip</button>`;
        cell.querySelector("button").addEventListener("click", () => skip(a, cell.querySelector("input").value));
      }
    }
    return row;
  }));
  if (!page.actions.length) body.innerHTML = `<tr><td colspan="10">No actions${view.state ? ` in state ${view.state}` : ""}.</td></tr>`;
  const last = Math.min(page.total, view.offset + page.actions.length);
  el("actions-page").textContent = `${page.total ? view.offset + 1 : 0}–${last} of ${page.total}`;
  el("actions-prev").disabled = view.offset === 0;
  el("actions-next").disabled = last >= page.total;
}

async function skip(action, reason) {
  if (!reason.trim()) { notice("Give a reason for skipping the action."); return; }
  try {
    await api("PATCH", `actions/${action.uuid}`, [
      { op: "replace", path: "/state", value: "SKIPPED" },
      { op: "replace", path: "/status_message", value: reason.trim() }]);
    notice(`Action #${action.index} skipped.`, "ok");
    showActions();
  } catch (error) { refused(error); }
}

function showChanges() {
  const rows = view.changes.slice(view.changeOffset, view.changeOffset + CHANGE_PAGE);
  const pair = (v, f) => (v ? `${f(v[0])} → ${f(v[1])}` : "");
  const pc = (x) => `${(+x).toFixed(1)}%`;
  document.querySelector("#changes tbody").replaceChildren(...rows.map(([host, c]) =>
    cells(document.createElement("tr"), [host, pair(c.instances, String), pair(c.cpu_load, pct),
      pair(c.vcpus_allocated_pct, pc), pair(c.memory_allocated_pct, pc), c.service || "", c.power || ""])));
  const last = Math.min(view.changes.length, view.changeOffset + CHANGE_PAGE);
  el("changes-page").textContent = `${view.changes.length ? view.changeOffset + 1 : 0}–${last} of ${view.changes.length} host(s)`;
  el("changes-prev").disabled = view.changeOffset === 0;
  el("changes-next").disabled = last >= view.changes.length;
}

async function showHosts() {
  let h;
  try { h = await data(`plans/${uuid}/hosts`); } catch (e) { if (e.body?.gone) gone(e.message); return; }
  const bits = { disabled: 1, down: 2, empty: 4 };
  const n = h.hosts.length, changed = h.changed.reduce((a, b) => a + b, 0);
  const used = (xs) => xs.filter((x) => x > 0).length;
  const cb = summaryOf(h.cpu_before), ca = summaryOf(h.cpu_after);
  const text = `${n} hosts, ${changed} changed by the plan. Hosts with load: ${used(h.cpu_before)} before, `
    + `${used(h.cpu_after)} after; above 100% CPU: ${cb.over} before, ${ca.over} after; `
    + `median CPU load ${pct(cb.median)} before, ${pct(ca.median)} after.`;
  const summary = el("hosts-summary");
  summary.textContent = text;
  Object.assign(summary.dataset, { hosts: n, changed });
  const emptyAfter = h.hosts.map((_, i) => (h.flags[i] & ~bits.empty) | (h.memory_after[i] === 0 ? bits.empty : 0));
  const emptyBefore = h.hosts.map((_, i) => (h.flags[i] & ~bits.empty) | (h.memory_before[i] === 0 ? bits.empty : 0));
  const detail = el("host-detail");
  const describe = (i) => {
    detail.textContent = `${h.hosts[i]}: CPU load ${pct(h.cpu_before[i])} → ${pct(h.cpu_after[i])}, memory allocated `
      + `${pct(h.memory_before[i])} → ${pct(h.memory_after[i])}${h.changed[i] ? " (changed by the plan)" : " (unchanged)"}`;
  };
  const maps = [["cpu-before", h.cpu_before, emptyBefore], ["cpu-after", h.cpu_after, emptyAfter],
    ["memory-before", h.memory_before, emptyBefore], ["memory-after", h.memory_after, emptyAfter]]
    .map(([id, values, flags]) => {
      el(id).setAttribute("aria-label", `${id.replace("-", " ")} of ${n} hosts. ${text}`);
      return new HeatMap(el(id), values, flags, bits, (i) => { maps.forEach((m) => m.selected = i); maps.forEach((m) => m.draw()); describe(i); });
    });
  legend(el("legend"));
  view.changes = Object.entries(h.changes);
  showChanges();
}

async function showRails() {
  try {
    const r = await data(`plans/${uuid}/rails`);
    el("rails").textContent = !r.applies ? "Guard rails decide only whether a RECOMMENDED plan may start by itself."
      : r.reasons.length ? `Held back from starting by itself: ${r.reasons.join("; ")}.`
        : "No guard rail holds this plan back: active mode may start it.";
  } catch (e) { if (e.body?.gone) gone(e.message); }
}

let refreshing = null;
function live() {
  const stream = new EventSource(`/ui/events/plans/${uuid}`);
  let seen = null;
  stream.onmessage = (m) => {
    const p = JSON.parse(m.data), states = JSON.stringify(p.states);
    showProgress(p);
    // the table is drawn again only when actions changed state: a reason being typed stays
    if (seen !== null && states !== seen) {
      refreshing ??= setTimeout(() => { refreshing = null; showActions(); }, 1000);
    }
    seen = states;
  };
  stream.addEventListener("gone", () => { stream.close(); gone(); });
  stream.addEventListener("done", () => { stream.close(); setTimeout(showActions, 200); });
  stream.onerror = async () => {
    if (stream.readyState !== EventSource.CLOSED) return;
    try { await data(`plans/${uuid}`); } catch (e) { if (e.body?.gone) gone(e.message); }
  };
}

async function main() {
  let s;
  try { s = await data(`plans/${uuid}`); } catch (e) { if (e.body?.gone) gone(e.message); else notice(e.message); return; }
  showIndicators(s);
  showStages(s.stages);
  showProgress(s);
  // guard rails are checked over every action of the plan: they come last, without holding
  // the rest of the page back
  const rails = showRails();
  await Promise.all([showActions(), showHosts()]);
  live();
  document.body.dataset.ready = "plan";
  await rails;
  document.body.dataset.rails = "shown";
}

el("action-state").addEventListener("change", (e) => { view.state = e.target.value; view.offset = 0; showActions(); });
el("actions-prev").addEventListener("click", () => { view.offset = Math.max(0, view.offset - ACTION_PAGE); showActions(); });
el("actions-next").addEventListener("click", () => { view.offset += ACTION_PAGE; showActions(); });
el("changes-prev").addEventListener("click", () => { view.changeOffset = Math.max(0, view.changeOffset - CHANGE_PAGE); showChanges(); });
el("changes-next").addEventListener("click", () => { view.changeOffset += CHANGE_PAGE; showChanges(); });
el("start")?.addEventListener("click", async () => {
  try { await api("POST", `action_plans/${uuid}/start`); notice("Plan started.", "ok"); } catch (error) { refused(error); }
});
el("cancel")?.addEventListener("click", async () => {
  try { await api("PATCH", `action_plans/${uuid}`, [{ op: "replace", path: "/state", value: "CANCELLED" }]); notice("Cancel requested.", "ok"); } catch (error) { refused(error); }
});
main();
