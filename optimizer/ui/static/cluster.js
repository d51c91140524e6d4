// The cluster page: CPU load and memory allocation heat maps, host and server group search.
import { data, HeatMap, legend, notice, pct, summaryOf } from "./console.js";

function flagText(f, bits) {
  return [f & bits.disabled && "disabled", f & bits.down && "down", f & bits.empty && "empty"]
    .filter(Boolean).join(", ");
}

async function main() {
  let c;
  try { c = await data("cluster"); } catch (e) { notice(`The cluster could not be read: ${e.message}`); return; }
  const bits = c.flag_bits, n = c.hosts.length;
  const count = (bit) => c.flags.filter((f) => f & bit).length;
  const cpu = summaryOf(c.cpu), mem = summaryOf(c.memory);
  const text = `${n} hosts: ${count(bits.disabled)} disabled, ${count(bits.down)} down, `
    + `${count(bits.empty)} empty; median CPU load ${pct(cpu.median)}, ${cpu.over} above 100%; `
    + `median memory allocated ${pct(mem.median)}, ${mem.over} above 100%; `
    + `${c.groups.length} server groups.`;
  const summary = document.getElementById("cluster-summary");
  summary.textContent = text;
  summary.dataset.hosts = n;
  const detail = document.getElementById("host-detail");
  const describe = (h) => {
    const flags = flagText(c.flags[h], bits);
    detail.textContent = `${c.hosts[h]}${c.zones[h] ? ` (zone ${c.zones[h]})` : ""}: CPU load `
      + `${pct(c.cpu[h])}, memory allocated ${pct(c.memory[h])}, ${c.instances[h]} instances`
      + (flags ? `; ${flags}` : "");
  };
  const maps = [
    new HeatMap(document.getElementById("cpu-map"), c.cpu, c.flags, bits, describe),
    new HeatMap(document.getElementById("memory-map"), c.memory, c.flags, bits, describe),
  ];
  document.getElementById("cpu-map").setAttribute("aria-label", `CPU load of ${n} hosts: ${text}`);
  document.getElementById("memory-map").setAttribute("aria-label", `Memory allocated on ${n} hosts: ${text}`);
  legend(document.getElementById("legend"));
  const index = new Map(c.hosts.map((h, i) => [h, i]));
  const list = document.createElement("datalist");
  list.id = "host-names";
  list.innerHTML = c.hosts.slice(0, 2000).map((h) => `<option value="${h}">`).join("");
  document.body.append(list);
  document.getElementById("host-find").addEventListener("change", (e) => {
    const h = index.get(e.target.value.trim());
    if (h === undefined) { detail.textContent = `No host named ${e.target.value}.`; return; }
    maps.forEach((m) => m.select(h));
  });
  const body = document.querySelector("#groups tbody");
  const showGroups = (needle) => {
    const found = c.groups.filter((g) => g.name.toLowerCase().includes(needle.toLowerCase()));
    body.replaceChildren(...found.slice(0, 200).map((g) => {
      const row = document.createElement("tr");
      const hosts = g.hosts.map((h) => c.hosts[h]);
      row.innerHTML = "<td></td><td></td><td></td><td></td>";
      [g.name, g.policy, String(g.instances), hosts.slice(0, 20).join(", ")
        + (hosts.length > 20 ? ` … (${hosts.length})` : "")].forEach((v, i) => { row.cells[i].textContent = v; });
      return row;
    }));
    if (!found.length) body.innerHTML = `<tr><td colspan="4">No server group matches.</td></tr>`;
  };
  document.getElementById("group-find").addEventListener("input", (e) => showGroups(e.target.value));
  showGroups("");
  document.body.dataset.ready = "cluster";
}

main();
