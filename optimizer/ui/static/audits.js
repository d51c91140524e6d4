// The audits page: create an audit, suspend and resume one, through the /v1 API.
import { api, notice, refused } from "./console.js";

document.getElementById("audit-create")?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const body = { goal: form.get("goal"), audit_type: form.get("audit_type") };
  if (form.get("name")) body.name = form.get("name");
  if (form.get("strategy")) body.strategy = form.get("strategy");
  if (form.get("interval")) body.interval = form.get("interval");
  try {
    const audit = await api("POST", "audits", body);
    notice(`Audit ${audit.name} created (${audit.state}).`, "ok");
    setTimeout(() => location.reload(), 800);
  } catch (error) { refused(error); }
});

for (const button of document.querySelectorAll("button.audit-state")) {
  button.addEventListener("click", async () => {
    const uuid = button.closest("tr").dataset.uuid;
    try {
      await api("PATCH", `audits/${uuid}`, [{ op: "replace", path: "/state", value: button.dataset.state }]);
      location.reload();
    } catch (error) { refused(error); }
  });
}
